#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 240
# The misbehaving-server suite: vfu-evil breaks the protocol in one way per
# run. Lies during discovery (out-of-range sparse areas and io-fd offsets,
# absurd IRQ counts, an inconsistent VERSION) are refused before the guest
# starts, with a message naming the device and the field, and minivmm exits
# 1 without crashing. Faults at run time (short, oversized, wrong-id,
# unsolicited replies, stray fds, fd floods, garbage, stalls, disconnects
# mid-request) fail only that device: the guest reads all-ones from it,
# finishes its test and minivmm exits 0. An error reply is just an error:
# the device stays alive.
: "${BUILD:=build}"
fail() { echo "payload_vfio_evil: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "payload_vfio_evil: no usable /dev/kvm" >&2; exit 77; }
[ -x "$BUILD/vfu-evil" ] || fail "no $BUILD/vfu-evil"
dir=$(mktemp -d) || exit 1
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

run() { # mode -> $rc, $dir/$1.out
    rm -f "$dir/e.sock"
    "$BUILD/vfu-evil" --socket-path="$dir/e.sock" --mode="$1" \
        >"$dir/$1.srv" 2>&1 &
    srv=$!
    for i in $(seq 50); do [ -S "$dir/e.sock" ] && break; sleep 0.1; done
    timeout 60 "$BUILD/minivmm" --kernel "$BUILD/guest/vfio.elf" \
        --memory 256M --vfio-user "socket=$dir/e.sock,id=evil,timeout=1000" \
        --cmdline "test=vfio-evil" </dev/null >"$dir/$1.out" 2>&1
    rc=$?
    kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; srv=
    tr -d '\r' <"$dir/$1.out" | sed "s/^/  $1: /"
}

for m in sparse-oob iofd-oob irq-count caps; do
    run "$m"
    [ "$rc" -eq 1 ] || fail "$m: minivmm exited $rc, want 1 (refused)"
    grep -q "vfio-user evil" "$dir/$m.out" || fail "$m: device not named"
done
grep -q "sparse area" "$dir/sparse-oob.out" || fail "sparse-oob: field"
grep -q "io-fd 0" "$dir/iofd-oob.out" || fail "iofd-oob: field"
grep -q "count" "$dir/irq-count.out" || fail "irq-count: field"
grep -q "twin" "$dir/caps.out" || fail "caps: field"

for m in short oversized wrong-id unsolicited fds fd-flood garbage stall \
         disconnect; do
    run "$m"
    [ "$rc" -eq 0 ] || fail "$m: minivmm exited $rc, want 0"
    grep -q "vfio-user evil: .*device failed" "$dir/$m.out" ||
        fail "$m: failure not reported"
    tr -d '\r' <"$dir/$m.out" | grep -q "read 1 0x12345678" ||
        fail "$m: the device did not work before the fault"
    tr -d '\r' <"$dir/$m.out" | grep -q "read 7 0xffffffff" ||
        fail "$m: the dead device does not read all-ones"
    tr -d '\r' <"$dir/$m.out" | grep -qx "PASS vfio-evil" ||
        fail "$m: the guest did not finish"
done

run error
[ "$rc" -eq 0 ] || fail "error: minivmm exited $rc, want 0"
grep -q "device failed" "$dir/error.out" && fail "error: an error reply failed the device"
tr -d '\r' <"$dir/error.out" | grep -q "read 2 0xffffffff" ||
    fail "error: the failed read did not return all-ones"
tr -d '\r' <"$dir/error.out" | grep -q "read 7 0x12345678" ||
    fail "error: the device did not keep working"
echo "payload_vfio_evil: every fault refused or contained; minivmm never crashed"
exit 0
