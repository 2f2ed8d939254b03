#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 700
# A Linux guest (the kit kernel with VIRTIO_IOMMU and ACPI_VIOT) boots with
# --viommu virtio, an in-VMM virtio disk and a vfu-blk disk, in strict mode
# (iommu.strict=1). Guest side: tools/guest/tests/viommu.sh lists
# /sys/kernel/iommu_groups/*/devices/* (both disks must be there) and dd's
# a pattern through each disk; the host checks the pattern in both files.
# KIT (default build/kit) must be a kit built with the current
# tools/guest/kernel.config (skipped when its kernel lacks VIRTIO_IOMMU).
: "${BUILD:=build}"
: "${KIT:=build/kit}"
name=linux_viommu
skip() { echo "$name: SKIP: $*" >&2; exit 77; }
fail() { echo "$name: FAIL: $*" >&2; exit 1; }

[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "/dev/kvm not usable"
[ -x "$BUILD/minivmm" ] || fail "$BUILD/minivmm not built"
[ -x "$BUILD/vfu-blk" ] || skip "$BUILD/vfu-blk not built"
tools/guest/build-kit.sh --out "$KIT" >&2 || fail "build-kit.sh failed"
grep -q "^CONFIG_VIRTIO_IOMMU=y" "$KIT/kernel.config" ||
    skip "$KIT's kernel has no CONFIG_VIRTIO_IOMMU"
dir=$(mktemp -d) || exit 1
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
truncate -s 64M "$dir/vfu.img"
truncate -s 64M "$dir/disk.img"
"$BUILD/vfu-blk" --socket-path="$dir/s.sock" --disk "$dir/vfu.img" \
    >"$dir/srv.log" 2>&1 &
srv=$!
for i in $(seq 50); do [ -S "$dir/s.sock" ] && break; sleep 0.1; done
[ -S "$dir/s.sock" ] || fail "vfu-blk did not start"
log=$BUILD/$name.log
hostargs=$(tools/guest/host-cmdline.sh)
start=$(date +%s)
timeout -k 5 600 "$BUILD/minivmm" --kernel "$KIT/vmlinux" \
    --initrd "$KIT/initrd.cpio" --cpus 1 --memory 512M --viommu virtio \
    --disk path="$dir/disk.img",id=vdisk \
    --vfio-user socket="$dir/s.sock",id=vfioblk \
    --cmdline "console=ttyS0 iommu.strict=1 minivmm.test=viommu $hostargs" \
    </dev/null >"$log" 2>&1
rc=$?
kill -TERM "$srv"; wait "$srv" 2>/dev/null; srv=
tr -d '\r' <"$log" >"$dir/log"
echo "$name: minivmm exited $rc after $(( $(date +%s) - start ))s" \
     "(log: $log)" >&2
grep -E "IOMMU-GROUP-DEV|VIOMMU-BLK|MINIVMM-TEST-DONE|virtio_iommu|iommu" \
    "$dir/log" | head -n 20 >&2
problems=
note() { problems="$problems
  $*"; }
[ "$rc" -eq 0 ] || note "minivmm exited $rc, want 0"
[ "$(grep -c "^IOMMU-GROUP-DEV " "$dir/log")" -ge 2 ] ||
    note "fewer than two devices in /sys/kernel/iommu_groups"
for s in vdisk vfu-blk; do
    grep -q "^VIOMMU-BLK $s MINIVMM-LINUX-VIOMMU-$s$" "$dir/log" ||
        note "no good VIOMMU-BLK line for $s"
done
[ "$(dd if="$dir/disk.img" bs=4096 skip=2 count=1 2>/dev/null |
     head -n 1)" = MINIVMM-LINUX-VIOMMU-vdisk ] ||
    note "the pattern is not in the virtio disk's file at 8192"
[ "$(dd if="$dir/vfu.img" bs=4096 skip=2 count=1 2>/dev/null |
     head -n 1)" = MINIVMM-LINUX-VIOMMU-vfu-blk ] ||
    note "the pattern is not in vfu-blk's file at 8192"
grep -q "MINIVMM-TEST-DONE 0" "$dir/log" || note "guest test did not pass"
if [ -n "$problems" ]; then
    tail -n 40 "$dir/log" | sed 's/^/  | /' >&2
    fail "$problems"
fi
echo "$name: PASS" >&2
