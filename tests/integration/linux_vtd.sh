#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 700
# Linux behind the VT-d unit (--viommu intel; the kit kernel has
# INTEL_IOMMU and DMAR_TABLE, off unless intel_iommu=on):
# 1. --viommu intel,aw-bits=48 with a vfu-blk stating --iova-bits 39 is
#    refused before the guest starts (exit 2, one line naming the device
#    and both widths);
# 2. --viommu intel,aw-bits=39 with the same server is accepted: a guest
#    with intel_iommu=on finds the unit through the DMAR table (3-level
#    tables: host address width 39) and puts the vfu-blk disk and an
#    in-VMM virtio disk behind it (both in /sys/kernel/iommu_groups with
#    translating DMA domains; the DMA API maps their buffers at IOVAs,
#    invalidating through the queue each time, since the unit is in
#    caching mode); a dd pattern through each disk
#    (tools/guest/tests/vtd.sh) lands in its host file.
# One Linux boot: guest kernel code is emulated slowly on kvm_pvm.
# KIT (default build/kit) must be a kit built with the current
# tools/guest/kernel.config (skipped when its kernel lacks INTEL_IOMMU).
: "${BUILD:=build}"
: "${KIT:=build/kit}"
name=linux_vtd
skip() { echo "$name: SKIP: $*" >&2; exit 77; }
fail() { echo "$name: FAIL: $*" >&2; exit 1; }

[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "/dev/kvm not usable"
[ -x "$BUILD/minivmm" ] || fail "$BUILD/minivmm not built"
[ -x "$BUILD/vfu-blk" ] || skip "$BUILD/vfu-blk not built"
"$BUILD/minivmm" --help 2>&1 | grep -qw intel ||
    skip "minivmm has no --viommu intel"
tools/guest/build-kit.sh --out "$KIT" >&2 || fail "build-kit.sh failed"
grep -q "^CONFIG_INTEL_IOMMU=y" "$KIT/kernel.config" ||
    skip "$KIT's kernel has no CONFIG_INTEL_IOMMU"
dir=$(mktemp -d) || exit 1
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
truncate -s 64M "$dir/vfu.img"
truncate -s 64M "$dir/disk.img"
"$BUILD/vfu-blk" --socket-path="$dir/s.sock" --disk "$dir/vfu.img" \
    --iova-bits 39 >"$dir/srv.log" 2>&1 &
srv=$!
for i in $(seq 50); do [ -S "$dir/s.sock" ] && break; sleep 0.1; done
[ -S "$dir/s.sock" ] || fail "vfu-blk did not start"

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
log=$BUILD/$name.log
hostargs=$(tools/guest/host-cmdline.sh)
start=$(date +%s)
timeout -k 5 600 "$BUILD/minivmm" --kernel "$KIT/vmlinux" \
    --initrd "$KIT/initrd.cpio" --cpus 1 --memory 512M \
    --viommu intel,aw-bits=39 \
    --disk path="$dir/disk.img",id=vdisk \
    --vfio-user socket="$dir/s.sock",id=vfioblk \
    --cmdline "console=ttyS0 intel_iommu=on minivmm.test=vtd $hostargs" \
    </dev/null >"$log" 2>&1
rc=$?
kill -TERM "$srv"; wait "$srv" 2>/dev/null; srv=
tr -d '\r' <"$log" >"$dir/log"
echo "$name: minivmm exited $rc after $(( $(date +%s) - start ))s" \
     "(log: $log)" >&2
grep -E "VTD-|IOMMU-GROUP-DEV|MINIVMM-TEST-DONE|DMAR" "$dir/log" |
    head -n 30 >&2
problems=
note() { problems="$problems
  $*"; }
[ "$rc" -eq 0 ] || note "minivmm exited $rc, want 0"
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
for s in vdisk vfu-blk; do
    grep -q "^VTD-BLK $s MINIVMM-LINUX-VTD-$s$" "$dir/log" ||
        note "no good VTD-BLK line for $s"
done
[ "$(dd if="$dir/disk.img" bs=4096 skip=2 count=1 2>/dev/null |
     head -n 1)" = MINIVMM-LINUX-VTD-vdisk ] ||
    note "the pattern is not in the virtio disk's file at 8192"
[ "$(dd if="$dir/vfu.img" bs=4096 skip=2 count=1 2>/dev/null |
     head -n 1)" = MINIVMM-LINUX-VTD-vfu-blk ] ||
    note "the pattern is not in vfu-blk's file at 8192"
grep -q "MINIVMM-TEST-DONE 0" "$dir/log" || note "guest test did not pass"
if [ -n "$problems" ]; then
    tail -n 40 "$dir/log" | sed 's/^/  | /' >&2
    fail "$problems"
fi
echo "$name: PASS" >&2
