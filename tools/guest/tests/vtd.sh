#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# vtd test (tests/integration/linux_vtd.sh): Linux's Intel IOMMU driver
# (intel_iommu=on, found through the ACPI DMAR table) in front of an
# in-VMM virtio disk and a vfu-blk disk. Prints the kernel's DMAR lines,
# the IOMMU groups' devices with their domain type (DMA: translated;
# identity: passed through), then for each disk
#   VTD-BLK <serial> <what was read back>
# after a dd write at byte 8192 and a direct read. The host checks the
# pattern in both files.
rc=0
re="DMAR: (IOMMU enabled|Host address width|dmar[0-9]|Intel\(R\) Virt)"
dmesg | grep -E "$re" |
    sed 's/^\[[^]]*\] //; s/^/VTD-DMESG /'
for d in /sys/kernel/iommu_groups/*/devices/*; do
    [ -e "$d" ] || continue
    read -r type < "${d%/devices/*}/type"
    echo "IOMMU-GROUP-DEV ${d#/sys/kernel/iommu_groups/} $type"
done
for b in /sys/block/vd*; do
    dev=/dev/${b##*/}
    read -r serial < "$b/serial"
    printf 'MINIVMM-LINUX-VTD-%s\n' "$serial" |
        dd of="$dev" bs=4096 seek=2 conv=sync,fsync 2>/dev/null || rc=1
    got=$(dd if="$dev" bs=4096 skip=2 count=1 iflag=direct 2>/dev/null |
          head -n 1)
    echo "VTD-BLK $serial $got"
    [ "$got" = "MINIVMM-LINUX-VTD-$serial" ] || rc=1
done
exit $rc
