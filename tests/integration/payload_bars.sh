#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 90
# BARs placed by the VMM (docs/platform.md "PCI"): the base payload's
# `bars` test, which assigns nothing, finds every BAR of a virtio-blk device
# and of a vfu-blk device (vfio-user) at a nonzero, aligned,
# non-overlapping address inside the windows, decoding enabled and the
# MSI-X tables answering there. minivmm logs no refused placement.
: "${BUILD:=build}"
fail() { echo "payload_bars: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "payload_bars: no usable /dev/kvm" >&2; exit 77; }
[ -x "$BUILD/vfu-blk" ] || { echo "payload_bars: no vfu-blk" >&2; exit 77; }
dir=$(mktemp -d) || exit 1
srv=
cleanup() {
    [ -n "$srv" ] && kill "$srv" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

truncate -s 1M "$dir/virtio.img" "$dir/vfu.img"
"$BUILD/vfu-blk" --socket-path="$dir/vfu.sock" --disk "$dir/vfu.img" \
    >"$dir/vfu.log" 2>&1 &
srv=$!
for i in $(seq 50); do [ -S "$dir/vfu.sock" ] && break; sleep 0.1; done
[ -S "$dir/vfu.sock" ] || fail "vfu-blk did not create its socket"

"$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --memory 256M \
    --disk path="$dir/virtio.img" --vfio-user socket="$dir/vfu.sock" \
    --cmdline "test=bars bars-min=2" </dev/null >"$dir/out" 2>&1
rc=$?
tr -d '\r' <"$dir/out"
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
tr -d '\r' <"$dir/out" | grep -qx "PASS bars" || fail "no 'PASS bars' line"
n=$(tr -d '\r' <"$dir/out" | grep -c "MSI-X table answers")
[ "$n" -eq 2 ] || fail "$n MSI-X tables answered, want 2"
! grep -q "not mapped\|no room" "$dir/out" ||
    fail "minivmm refused a placement of its own"
echo "payload_bars: every BAR of virtio-blk and vfu-blk placed by the VMM"
