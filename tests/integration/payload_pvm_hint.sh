#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# A guest that executes popcnt at CPL0 (tests/guest/pvmcrash.S). On a
# kvm_pvm host the CPL0 emulator cannot: minivmm must exit 4 and print, as
# the line right after the crash line and above the register dump, one
# hint naming 'popcnt' and the fix 'clearcpuid=popcnt'. On hardware KVM the
# instruction runs: exit 0, no hint.
: "${BUILD:=build}"
name=payload_pvm_hint
fail() { echo "$name: FAIL: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
elf=$BUILD/guest/pvmcrash.elf
[ -f "$elf" ] || fail "$elf not built (make guest)"
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
timeout -k 5 30 "$BUILD/minivmm" --kernel "$elf" --memory 64M --serial none \
    </dev/null >"$out" 2>&1
rc=$?
sed 's/^/  | /' "$out" >&2
if [ -d /sys/module/kvm_pvm ]; then
    [ "$rc" -eq 4 ] || fail "kvm_pvm: exit $rc, want 4 (guest crash)"
    hint=$(grep -n "^minivmm: hint: the guest stopped at 'popcnt'" "$out" | cut -d: -f1)
    [ -n "$hint" ] || fail "kvm_pvm: no hint line naming popcnt"
    grep -q "^minivmm: hint: .*'clearcpuid=popcnt'" "$out" ||
        fail "kvm_pvm: the hint does not give the fix clearcpuid=popcnt"
    regs=$(grep -n "^  rip=" "$out" | head -n 1 | cut -d: -f1)
    [ -n "$regs" ] && [ "$hint" -lt "$regs" ] ||
        fail "kvm_pvm: the hint is not above the register dump"
    [ "$(grep -c '^minivmm: hint:' "$out")" -eq 1 ] || fail "more than one hint line"
else
    [ "$rc" -eq 0 ] || fail "hardware KVM: exit $rc, want 0 (popcnt runs)"
    ! grep -q "hint:" "$out" || fail "hardware KVM: unexpected hint"
fi
echo "$name: PASS" >&2
