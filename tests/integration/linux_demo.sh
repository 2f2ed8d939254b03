#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 1500
# `make demo` (tools/demo.sh), the README's main job, as a user runs it:
# its output must show the guest's read-back line, the vfio-user disk as
# the guest sees it (lspci-style line, size 64 MiB, serial vfu-blk), and
# non-zero ioeventfd doorbell and MSI-X interrupt counters of vfu-blk; it
# must exit 0. No host-specific kernel parameters are passed: on kvm_pvm
# hosts minivmm must add them itself (checked: it says so there).
# Exit 0 pass, 77 skip, else fail.
: "${BUILD:=build}"
: "${KIT:=$BUILD/kit}"
name=linux_demo
skip() { echo "$name: SKIP: $*" >&2; exit 77; }
fail() { echo "$name: FAIL: $*" >&2; exit 1; }
[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "/dev/kvm not usable"
[ -x "$BUILD/minivmm" ] && [ -x "$BUILD/vfu-blk" ] || fail "build first"
log=$BUILD/$name.log
start=$(date +%s)
BUILD=$BUILD KIT=$KIT tools/demo.sh </dev/null >"$log" 2>&1
rc=$?
echo "$name: tools/demo.sh exited $rc after $(( $(date +%s) - start ))s (log: $log)" >&2
grep -E "^(guest|server|demo|minivmm):" "$log" | grep -v "demo: kit:" >&2
problems=
note() { problems="$problems
  $*"; }
[ "$rc" -eq 0 ] || note "tools/demo.sh exited $rc, want 0"
grep -q "^guest: read-back: OK " "$log" || note "no 'guest: read-back: OK' line"
grep -q "^guest: lspci: .*\[1af4:1042\] driver=virtio-pci" "$log" ||
    note "no lspci line for the vfio-user virtio-blk device (1af4:1042)"
grep -q "^guest: disk: /dev/vda size=67108864 serial=vfu-blk$" "$log" ||
    note "no disk line with size 67108864 and serial vfu-blk"
grep -q "^server: ioeventfd doorbells=[1-9]" "$log" ||
    note "no doorbells through ioeventfds"
grep -q "^server: .* MSI-X interrupts=[1-9]" "$log" ||
    note "no MSI-X interrupts"
grep -q "^demo: PASS" "$log" || note "no 'demo: PASS' line"
if [ -d /sys/module/kvm_pvm ]; then
    grep -q "^minivmm: kvm_pvm host: appended 'noxsave clearcpuid=cx16,popcnt,smap,smep'" "$log" ||
        note "kvm_pvm host: minivmm did not say it appended the parameters"
fi
if [ -n "$problems" ]; then
    tail -n 30 "$log" | sed 's/^/  | /' >&2
    fail "$problems"
fi
echo "$name: PASS" >&2
