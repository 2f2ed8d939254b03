#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 700
# A Linux guest (the kit kernel with VIRTIO_IOMMU and ACPI_VIOT) boots with
# --viommu virtio, an in-VMM virtio disk and a vfu-blk disk, in strict mode
# (iommu.strict=1). Guest side: tools/guest/tests/viommu.sh lists
# /sys/kernel/iommu_groups/*/devices/* (both disks must be there) and dd's
# a pattern through each disk; the host checks the pattern in both files.
# VIOMMU=intel runs it behind the VT-d unit instead (linux_vtd.sh, which
# says what more is checked there).
# KIT (default build/kit) must be a kit built with the current
# tools/guest/kernel.config (skipped when its kernel lacks VIRTIO_IOMMU, or
# INTEL_IOMMU).
: "${VIOMMU:=virtio}"
case "$VIOMMU" in
virtio) name=linux_viommu tag=VIOMMU config=CONFIG_VIRTIO_IOMMU ;;
intel)  name=linux_vtd tag=VTD config=CONFIG_INTEL_IOMMU ;;
*)      echo "VIOMMU=$VIOMMU: virtio or intel" >&2; exit 2 ;;
esac
. "$(dirname "$0")/lib_linux.sh"
need_linux vfu-blk
[ "$VIOMMU" = virtio ] || "$BUILD/minivmm" --help 2>&1 | grep -qw intel ||
    skip "minivmm has no --viommu intel"
kit_has "$config"
linux_dir
truncate -s 64M "$dir/vfu.img"
truncate -s 64M "$dir/disk.img"

if [ "$VIOMMU" = virtio ]; then
    start_vfu "$dir/vfu.img"
    run_linux 600 --viommu virtio \
        --disk path="$dir/disk.img",id=vdisk \
        --vfio-user socket="$dir/s.sock",id=vfioblk \
        --cmdline "console=ttyS0 iommu.strict=1 minivmm.test=viommu $(host_args)"
    stop_vfu
    grep -E "IOMMU-GROUP-DEV|VIOMMU-BLK|MINIVMM-TEST-DONE|virtio_iommu|iommu" \
        "$dir/log" | head -n 20 >&2
    [ "$(grep -c "^IOMMU-GROUP-DEV " "$dir/log")" -ge 2 ] ||
        note "fewer than two devices in /sys/kernel/iommu_groups"
else
    start_vfu "$dir/vfu.img" --iova-bits 39
    # 1. aw-bits=48 over a 39-bit server: refused before the guest runs.
    "$BUILD/minivmm" --kernel "$KIT/vmlinux" --initrd "$KIT/initrd.cpio" \
        --memory 512M --viommu intel,aw-bits=48 --serial file:"$dir/serial1" \
        --vfio-user socket="$dir/s.sock",id=vfioblk </dev/null >"$dir/err1" 2>&1
    rc=$?
    cat "$dir/err1" >&2
    [ "$rc" -eq 2 ] || fail "aw-bits=48 over a 39-bit server exited $rc, want 2"
    line=$(grep "vfioblk" "$dir/err1")
    [ "$(echo "$line" | wc -l)" -eq 1 ] || fail "want one line naming vfioblk"
    for w in 48 39; do
        echo "$line" | grep -q "$w" || fail "the refusal does not name $w"
    done
    [ ! -s "$dir/serial1" ] || fail "the guest ran before the refusal"
    # 2. aw-bits=39: Linux drives the unit.
    run_linux 600 --viommu intel,aw-bits=39 \
        --disk path="$dir/disk.img",id=vdisk \
        --vfio-user socket="$dir/s.sock",id=vfioblk \
        --cmdline "console=ttyS0 intel_iommu=on minivmm.test=vtd $(host_args)"
    stop_vfu
    grep -E "VTD-|IOMMU-GROUP-DEV|MINIVMM-TEST-DONE|DMAR" "$dir/log" |
        head -n 30 >&2
    grep -q "DMAR: Host address width 39" "$dir/log" ||
        note "the guest did not read the DMAR table (host address width 39)"
    grep -q "DMAR: dmar0: reg_base_addr fed90000" "$dir/log" ||
        note "the guest did not find the unit at 0xfed90000"
    grep -q "Intel(R) Virtualization Technology for Directed I/O" "$dir/log" ||
        note "the guest's Intel IOMMU driver did not come up"
    [ "$(grep -c "^IOMMU-GROUP-DEV .* DMA$" "$dir/log")" -ge 2 ] ||
        note "fewer than two devices in translating (DMA) IOMMU groups"
    grep -q "DMAR: dmar0: Using Queued invalidation" "$dir/log" ||
        note "the guest does not use queued invalidation"
fi
[ "$rc" -eq 0 ] || note "minivmm exited $rc, want 0"
for s in vdisk vfu-blk; do
    grep -q "^$tag-BLK $s MINIVMM-LINUX-$tag-$s$" "$dir/log" ||
        note "no good $tag-BLK line for $s"
done
block_is "$dir/disk.img" 2 "MINIVMM-LINUX-$tag-vdisk" ||
    note "the pattern is not in the virtio disk's file at 8192"
block_is "$dir/vfu.img" 2 "MINIVMM-LINUX-$tag-vfu-blk" ||
    note "the pattern is not in vfu-blk's file at 8192"
grep -q "MINIVMM-TEST-DONE 0" "$dir/log" || note "guest test did not pass"
verdict 40 "$dir/log"
