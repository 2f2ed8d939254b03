#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# virtio-rng through the virtio payload: two 64-byte draws come back full,
# different, and each completion raises the queue's MSI-X vector.
: "${BUILD:=build}"
fail() { echo "payload_virtio_rng: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "payload_virtio_rng: no usable /dev/kvm" >&2; exit 77; }
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M --rng \
    --cmdline "test=vrng" </dev/null >"$out" 2>&1
rc=$?
tr -d '\r' <"$out"
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
tr -d '\r' <"$out" | grep -qx "PASS vrng" || fail "no 'PASS vrng' line"
