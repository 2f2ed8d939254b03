#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# The base payload tests (serial, pci, timer, ioapic, smp) on 2 vCPUs.
: "${BUILD:=build}"
fail() { echo "payload_base: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "payload_base: no usable /dev/kvm" >&2; exit 77; }
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
"$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --cpus 2 \
    --memory 256M --cmdline "cpus=2" >"$out" 2>&1
rc=$?
tr -d '\r' <"$out"
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
for t in serial pci timer ioapic smp; do
    tr -d '\r' <"$out" | grep -qx "PASS $t" ||
        fail "no 'PASS $t' line"
done
tr -d '\r' <"$out" | grep -qx "payload: 5 passed, 0 failed" ||
    fail "bad summary line"
