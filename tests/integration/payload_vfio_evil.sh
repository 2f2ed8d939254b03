#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 360
# The misbehaving-server suite: vfu-evil breaks the protocol in one way per
# run. Lies during discovery (out-of-range sparse areas and io-fd offsets,
# absurd IRQ counts, an inconsistent VERSION) are refused before the guest
# starts, with a message naming the device and the field, and minivmm exits
# 1 without crashing. Faults at run time (short, oversized, wrong-id,
# unsolicited replies, stray fds, fd floods, garbage, stalls, disconnects
# mid-request) fail only that device: the guest reads all-ones from it,
# finishes its test and minivmm exits 0. An error reply is just an error:
# the device stays alive.
# Hangs (issue 10): a server that stops half-way through a message (its
# VERSION reply, a BAR read reply, a DMA_WRITE command), sends a reply one
# byte every 0.3 s, or floods DMA_READs without reading the replies is
# failed within its deadline (timeout=1000 ms: checked within 3 s of the
# fault), while the in-VMM virtio-blk (served by the event loop) keeps
# working, the API answers and SIGTERM ends minivmm within 3 s; `quit`
# during the stall ends it within 3 s too.
: "${BUILD:=build}"
name=payload_vfio_evil
. "$(dirname "$0")/lib.sh"
need_kvm
[ -x "$BUILD/vfu-evil" ] || fail "no $BUILD/vfu-evil"
dir=$(mktemp -d) || exit 1
srv= vm=
cleanup() {
    [ -n "$srv" ] && kill "$srv" 2>/dev/null
    [ -n "$vm" ] && kill -KILL "$vm" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

run() { # mode -> $rc, $dir/$1.out
    rm -f "$dir/e.sock"
    "$BUILD/vfu-evil" --socket-path="$dir/e.sock" --mode="$1" \
        >"$dir/$1.srv" 2>&1 &
    srv=$!
    for i in $(seq 50); do [ -S "$dir/e.sock" ] && break; sleep 0.1; done
    # The guest's serial and minivmm's stderr in separate files (a log line
    # must not split a marker line), then together in $1.out.
    timeout 60 "$BUILD/minivmm" --kernel "$BUILD/guest/vfio.elf" \
        --memory 256M --vfio-user "socket=$dir/e.sock,id=evil,timeout=1000" \
        --serial "file:$dir/$1.ser" --cmdline "test=vfio-evil" \
        </dev/null >"$dir/$1.err" 2>&1
    rc=$?
    cat "$dir/$1.ser" "$dir/$1.err" >"$dir/$1.out" 2>/dev/null
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
start_evil() { # mode
    rm -f "$dir/e.sock"
    "$BUILD/vfu-evil" --socket-path="$dir/e.sock" --mode="$1" \
        >"$dir/$1.srv" 2>&1 &
    srv=$!
    for i in $(seq 50); do [ -S "$dir/e.sock" ] && break; sleep 0.1; done
}
stop_vm() { # mode: SIGTERM ends minivmm within 3 s
    kill -TERM "$vm" 2>/dev/null
    gone "$vm" 3 || { cat "$dir/$1.out"; fail "$1: SIGTERM ignored"; }
    wait "$vm" 2>/dev/null; vm=
    kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; srv=
}

# Start-up: 8 bytes of the VERSION reply, then silence.
m=version-partial
start_evil $m
"$BUILD/minivmm" --kernel "$BUILD/guest/vfio.elf" --memory 256M \
    --vfio-user "socket=$dir/e.sock,id=evil,timeout=1000" \
    --cmdline "test=vfio-evil" </dev/null >"$dir/$m.out" 2>&1 &
vm=$!
wait_for "$dir/$m.srv" "now silent" 10 || fail "$m: vfu-evil did not strike"
gone "$vm" 3 || { stop_vm $m; fail "$m: start-up still blocked after 3 s"; }
wait "$vm"; rc=$?; vm=
kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; srv=
sed "s/^/  $m: /" "$dir/$m.out"
[ "$rc" -eq 1 ] || fail "$m: minivmm exited $rc, want 1 (refused)"
grep -q "vfio-user evil.*VERSION" "$dir/$m.out" || fail "$m: not reported"

# Run time: the evil device fails within its deadline, nothing else does.
truncate -s 1M "$dir/blk.img"
for m in ${HANG_MODES:-partial slow dma-flood dma-write-partial}; do
    start_evil $m
    rm -f "$dir/api"
    "$BUILD/minivmm" --kernel "$BUILD/guest/vfio.elf" --memory 256M \
        --vfio-user "socket=$dir/e.sock,id=evil,timeout=1000" \
        --disk "path=$dir/blk.img" --api-socket "$dir/api" \
        --cmdline "test=vfio-evil evil-reads=3 evil-blk=1 evil-hold=1" \
        </dev/null >"$dir/$m.out" 2>&1 &
    vm=$!
    wait_for "$dir/$m.srv" "$m on BAR 0 read" 20 ||
        { stop_vm $m; fail "$m: vfu-evil did not strike"; }
    wait_for "$dir/$m.out" "vfio-user evil: .*device failed" 3 ||
        { cat "$dir/$m.out"; stop_vm $m; fail "$m: not failed within 3 s"; }
    wait_for "$dir/$m.out" "^vfio-evil: holding" 10 ||
        { cat "$dir/$m.out"; stop_vm $m; fail "$m: the guest is stuck"; }
    sed "s/^/  $m: /" "$dir/$m.out" | tr -d '\r'
    grep -q "vfio-evil: blk ok" "$dir/$m.out" ||
        { stop_vm $m; fail "$m: the in-VMM virtio-blk stalled"; }
    tr -d '\r' <"$dir/$m.out" | grep -q "read 1 0x12345678" ||
        { stop_vm $m; fail "$m: the device did not work before the fault"; }
    timeout 5 "$BUILD/minivmm-ctl" "$dir/api" status >"$dir/$m.api" 2>&1
    grep -qx "state: running" "$dir/$m.api" ||
        { stop_vm $m; fail "$m: the API does not answer"; }
    stop_vm $m
done
# quit while a vCPU waits for the rest of a reply: minivmm ends within 3 s.
m=partial
start_evil $m
rm -f "$dir/api"
"$BUILD/minivmm" --kernel "$BUILD/guest/vfio.elf" --memory 256M \
    --vfio-user "socket=$dir/e.sock,id=evil,timeout=1000" \
    --api-socket "$dir/api" \
    --cmdline "test=vfio-evil evil-reads=3 evil-hold=1" \
    </dev/null >"$dir/quit.out" 2>&1 &
vm=$!
wait_for "$dir/$m.srv" "now silent" 20 ||
    { stop_vm $m; fail "quit: vfu-evil did not strike"; }
timeout 5 "$BUILD/minivmm-ctl" "$dir/api" quit >"$dir/quit.api" 2>&1
gone "$vm" 3 || { cat "$dir/quit.out"; fail "quit: minivmm still running"; }
wait "$vm" 2>/dev/null; vm=
kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; srv=
echo "$name: every fault refused or contained; minivmm never crashed"
exit 0
