#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 600
# Linux's virtio_blk driver on a vfu-blk device through minivmm's vfio-user
# client: dd writes a pattern and reads it back (guest side:
# tools/guest/tests/vfio_blk.sh), the guest powers off, and the host file
# holds the pattern at byte 8192. vfu-blk's counters must show ioeventfd
# doorbells and MSI-X interrupts. Exit 0 pass, 77 skip, else fail.
: "${BUILD:=build}"
: "${KIT:=build/kit}"
name=linux_vfio_blk
skip() { echo "$name: SKIP: $*" >&2; exit 77; }
fail() { echo "$name: FAIL: $*" >&2; exit 1; }

[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "/dev/kvm not usable"
[ -x "$BUILD/minivmm" ] || fail "$BUILD/minivmm not built"
[ -x "$BUILD/vfu-blk" ] || skip "$BUILD/vfu-blk not built"
tools/guest/build-kit.sh --out "$KIT" >&2 || fail "build-kit.sh failed"
dir=$(mktemp -d) || exit 1
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
truncate -s 64M "$dir/disk.img"
"$BUILD/vfu-blk" --socket-path="$dir/s.sock" --disk "$dir/disk.img" \
    >"$dir/srv.log" 2>&1 &
srv=$!
for i in $(seq 50); do [ -S "$dir/s.sock" ] && break; sleep 0.1; done
[ -S "$dir/s.sock" ] || fail "vfu-blk did not start"
log=$BUILD/$name.log
hostargs=$(tools/guest/host-cmdline.sh)
start=$(date +%s)
timeout -k 5 500 "$BUILD/minivmm" --kernel "$KIT/vmlinux" \
    --initrd "$KIT/initrd.cpio" --cpus 1 --memory 512M \
    --vfio-user socket="$dir/s.sock",id=vfioblk \
    --cmdline "console=ttyS0 minivmm.test=vfio_blk $hostargs" \
    </dev/null >"$log" 2>&1
rc=$?
kill -TERM "$srv"; wait "$srv" 2>/dev/null; srv=
tr -d '\r' <"$log" >"$dir/log"
echo "$name: minivmm exited $rc after $(( $(date +%s) - start ))s" \
     "(log: $log)" >&2
grep -E "VFIO-BLK|MINIVMM-TEST-DONE|vfio-user" "$dir/log" >&2
counters=$(grep "requests=" "$dir/srv.log" | tail -1)
echo "$name: vfu-blk $counters" >&2
problems=
note() { problems="$problems
  $*"; }
[ "$rc" -eq 0 ] || note "minivmm exited $rc, want 0"
grep -q "^VFIO-BLK .* MINIVMM-LINUX-VFIO-BLK-PATTERN$" "$dir/log" ||
    note "no good VFIO-BLK line"
[ "$(dd if="$dir/disk.img" bs=4096 skip=2 count=1 2>/dev/null |
     head -n 1)" = MINIVMM-LINUX-VFIO-BLK-PATTERN ] ||
    note "the pattern is not in the host file at 8192"
echo "$counters" | grep -q "doorbells_ioeventfd=[1-9]" ||
    note "no doorbells through ioeventfds"
echo "$counters" | grep -q "irqs_msix=[1-9]" || note "no MSI-X interrupts"
grep -q "MINIVMM-TEST-DONE 0" "$dir/log" || note "guest test did not pass"
if [ -n "$problems" ]; then
    tail -n 30 "$dir/log" | sed 's/^/  | /' >&2
    fail "$problems"
fi
echo "$name: PASS" >&2
