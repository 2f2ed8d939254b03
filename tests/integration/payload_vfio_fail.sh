#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# Killing vfu-blk during guest I/O: minivmm keeps running, reports the
# device failure, the guest sees a dead device (all-ones) and finishes its
# test; with reconnect=1, restarting vfu-blk restores the device (DMA maps,
# IRQ eventfds, ioeventfds, BARs replayed) and the guest driver sets it up
# again and does I/O.
: "${BUILD:=build}"
fail() { echo "payload_vfio_fail: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "payload_vfio_fail: no usable /dev/kvm" >&2; exit 77; }
[ -x "$BUILD/vfu-blk" ] || { echo "payload_vfio_fail: no vfu-blk" >&2; exit 77; }
dir=$(mktemp -d) || exit 1
srv= vm=
cleanup() {
    [ -n "$srv" ] && kill "$srv" 2>/dev/null
    [ -n "$vm" ] && kill "$vm" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
truncate -s 1M "$dir/d.img"

start_srv() {
    rm -f "$dir/s.sock"
    "$BUILD/vfu-blk" --socket-path="$dir/s.sock" --disk "$dir/d.img" \
        >>"$dir/srv.log" 2>&1 &
    srv=$!
    for i in $(seq 50); do [ -S "$dir/s.sock" ] && return 0; sleep 0.1; done
    fail "vfu-blk did not create its socket"
}

run() { # name vfio-options guest-options restart
    start_srv
    "$BUILD/minivmm" --kernel "$BUILD/guest/vfio.elf" --memory 256M \
        --vfio-user "socket=$dir/s.sock$2" \
        --cmdline "test=vfio-survive $3" </dev/null >"$dir/$1.out" 2>&1 &
    vm=$!
    sleep 3
    kill -KILL "$srv"; wait "$srv" 2>/dev/null; srv=
    if [ "$4" = restart ]; then sleep 2; start_srv; fi
    wait "$vm"; rc=$?; vm=
    tr -d '\r' <"$dir/$1.out"
    [ "$rc" -eq 0 ] || fail "$1: minivmm exited $rc, want 0"
    tr -d '\r' <"$dir/$1.out" | grep -qx "PASS vfio-survive" ||
        fail "$1: no 'PASS vfio-survive'"
    grep -q "device failed" "$dir/$1.out" || fail "$1: failure not reported"
    grep -q "reads return all-ones" "$dir/$1.out" ||
        fail "$1: device not marked dead"
}

run kill "" "vfio-secs=8"
tr -d '\r' <"$dir/kill.out" | grep -q "I/O failed after [1-9]" ||
    fail "kill: no I/O before the kill, or no failure seen"
tr -d '\r' <"$dir/kill.out" | grep -q "status reads 0xff" ||
    fail "kill: dead device does not read all-ones"
run reconnect ",reconnect=1,timeout=2000" "vfio-secs=14 vfio-recover=1" restart
grep -q "reconnected to" "$dir/reconnect.out" || fail "no reconnect"
tr -d '\r' <"$dir/reconnect.out" | grep -q "recovered [1-9]" ||
    fail "reconnect: the guest did not get its device back"
[ -n "$srv" ] && kill "$srv"
echo "payload_vfio_fail: minivmm survived the server's death and reconnected"
exit 0
