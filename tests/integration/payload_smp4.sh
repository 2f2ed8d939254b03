#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# Four vCPUs (more than the host's cores): every AP checks in with a
# distinct APIC ID; a CPU count that does not match cpus=N fails.
: "${BUILD:=build}"
fail() { echo "payload_smp4: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "payload_smp4: no usable /dev/kvm" >&2; exit 77; }
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
"$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --cpus 4 \
    --memory 256M --cmdline "cpus=4 test=smp" >"$out" 2>&1
rc=$?
tr -d '\r' <"$out"
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
tr -d '\r' <"$out" | grep -qx "PASS smp" || fail "no PASS smp"
n=$(grep -c "^smp: cpu [0-9]* apic id" "$out")
[ "$n" -eq 4 ] || fail "$n cpus reported, want 4"
# The negative case: 3 vCPUs but cpus=2 must fail the test (status 1).
"$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --cpus 3 \
    --memory 128M --cmdline "cpus=2 test=smp" >"$out" 2>&1
rc=$?
tr -d '\r' <"$out"
[ "$rc" -eq 1 ] || fail "mismatch run exited $rc, want 1"
tr -d '\r' <"$out" | grep -qx "FAIL smp: 3 cpus online, want 2" ||
    fail "no FAIL line for the mismatch"
