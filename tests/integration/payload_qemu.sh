#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# The payloads themselves, under QEMU TCG (no KVM needed): minimal.elf on
# microvm, and the base tests on q35 (ECAM at 0xB0000000 there; its host
# bridge is 8086:29C0 like minivmm's). isa-debug-exit makes QEMU exit
# with (V << 1) | 1, so payload status 0 is QEMU status 1.
: "${BUILD:=build}"
fail() { echo "payload_qemu: $*" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null ||
    { echo "payload_qemu: qemu-system-x86_64 not installed" >&2; exit 77; }
q="qemu-system-x86_64 -accel tcg -nographic -no-reboot -m 256M"
q="$q -device isa-debug-exit,iobase=0xf4"
$q -M microvm -kernel "$BUILD/guest/minimal.elf" </dev/null
rc=$?
[ "$rc" -eq 1 ] || fail "minimal.elf: qemu exited $rc, want 1"
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
$q -M q35 -cpu max -smp 2 -kernel "$BUILD/guest/payload.elf" \
    -append "cpus=2 ecam=0xb0000000" </dev/null 2>&1 | tr -d '\r' >"$out"
sed -n '/^payload:/,$p' "$out"
grep -qx "payload: 5 passed, 0 failed" "$out" ||
    fail "base tests did not all pass"
