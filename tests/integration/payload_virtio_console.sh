#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# virtio-console through the virtio payload: the guest's line reaches our
# stdout, an emerg_wr byte too, and a line we feed on stdin (which belongs
# to virtio-console with --console; COM1 stays output-only) reaches the
# guest.
: "${BUILD:=build}"
fail() { echo "payload_virtio_console: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "payload_virtio_console: no usable /dev/kvm" >&2; exit 77; }
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
(sleep 1; echo "hello-from-host") |
    "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
        --console --cmdline "test=vcon vcon-in=hello-from-host" \
        >"$out" 2>&1
rc=$?
tr -d '\r' <"$out"
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
grep -q "^MINIVMM-VCON hello from the guest$" "$out" ||
    fail "the guest's hvc line did not reach stdout"
grep -qx "!" "$out" || fail "emerg_wr byte missing"
tr -d '\r' <"$out" | grep -q "vcon: received 'hello-from-host" ||
    fail "stdin did not reach the guest"
tr -d '\r' <"$out" | grep -qx "PASS vcon" || fail "no 'PASS vcon' line"
