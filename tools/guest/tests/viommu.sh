#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# viommu test (tests/integration/linux_viommu.sh): Linux's virtio-iommu
# driver (found through the ACPI VIOT) in front of an in-VMM virtio disk
# and a vfu-blk disk, in strict mode (iommu.strict=1: every I/O maps and
# unmaps). Prints the IOMMU groups' devices, then for each disk
#   VIOMMU-BLK <serial> <what was read back>
# after a dd write at byte 8192 and a direct read. The host checks the
# pattern in both files.
# With VIOMMU=intel (vtd.sh) the tag is VTD and the kernel's DMAR lines and
# each group's domain type are printed too.
rc=0
tag=VIOMMU
if [ "${VIOMMU:-virtio}" = intel ]; then
    tag=VTD
    re="DMAR: (IOMMU enabled|Host address width|dmar[0-9]|Intel\(R\) Virt)"
    dmesg | grep -E "$re" |
        sed 's/^\[[^]]*\] //; s/^/VTD-DMESG /'
fi
for d in /sys/kernel/iommu_groups/*/devices/*; do
    [ -e "$d" ] || continue
    type=
    [ "$tag" = VTD ] && read -r type < "${d%/devices/*}/type"
    echo "IOMMU-GROUP-DEV ${d#/sys/kernel/iommu_groups/}${type:+ $type}"
done
for b in /sys/block/vd*; do
    dev=/dev/${b##*/}
    read -r serial < "$b/serial"
    printf 'MINIVMM-LINUX-%s-%s\n' "$tag" "$serial" |
        dd of="$dev" bs=4096 seek=2 conv=sync,fsync 2>/dev/null || rc=1
    got=$(dd if="$dev" bs=4096 skip=2 count=1 iflag=direct 2>/dev/null |
          head -n 1)
    echo "$tag-BLK $serial $got"
    [ "$got" = "MINIVMM-LINUX-$tag-$serial" ] || rc=1
done
exit $rc
