#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# viommu test (tests/integration/linux_viommu.sh): Linux's virtio-iommu
# driver (found through the ACPI VIOT) in front of an in-VMM virtio disk
# and a vfu-blk disk, in strict mode (iommu.strict=1: every I/O maps and
# unmaps). Prints the IOMMU groups' devices, then for each disk
#   VIOMMU-BLK <serial> <what was read back>
# after a dd write at byte 8192 and a direct read. The host checks the
# pattern in both files.
rc=0
for d in /sys/kernel/iommu_groups/*/devices/*; do
    [ -e "$d" ] && echo "IOMMU-GROUP-DEV ${d#/sys/kernel/iommu_groups/}"
done
for b in /sys/block/vd*; do
    dev=/dev/${b##*/}
    read -r serial < "$b/serial"
    printf 'MINIVMM-LINUX-VIOMMU-%s\n' "$serial" |
        dd of="$dev" bs=4096 seek=2 conv=sync,fsync 2>/dev/null || rc=1
    got=$(dd if="$dev" bs=4096 skip=2 count=1 iflag=direct 2>/dev/null |
          head -n 1)
    echo "VIOMMU-BLK $serial $got"
    [ "$got" = "MINIVMM-LINUX-VIOMMU-$serial" ] || rc=1
done
exit $rc
