#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# Snapshot/restore of a VM with a libvfio-user-based server: our test
# device tests/interop/lvu-mig-server.c on Debian's libvfio-user (spec
# 0.9.1 region-based migration: a migration region, no DEVICE_FEATURE).
# The guest (tests/guest/lvu test=lvu-mig) fills BAR 0's scratch through
# the server and has it DMA_WRITE a pattern into guest RAM through
# messages (dma=message: the server gets no fds). A snapshot while running
# (the guest and the device go on), then paused: the server saves BAR 0 in
# its migration data; minivmm and the server are killed; a NEW server and
# `minivmm --restore`: the counter goes on from the next tick, the guest
# reads every BAR 0 scratch byte back as it wrote it through the new
# server, and the pattern is in RAM; both servers log the same BAR 0
# digest (saved / restored).
: "${BUILD:=build}"
name=interop_lvu_snapshot
. tests/interop/lib_lvu.sh

lvu_start srv1; srv1=$srv
"$BUILD/minivmm" --kernel "$BUILD/guest/lvu.elf" --memory 256M \
    --vfio-user "socket=$dir/srv1.sock,id=lvu,dma=message" \
    --cmdline "test=lvu-mig lvu-dma=now ticks=30 tick_ms=100 poll_ms=50" \
    --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
vm=$!
pids="$pids $vm"
wait_for "$dir/out1" "^lvu: tick 3$" 30 ||
    { cat "$dir/out1" "$dir/err1" "$dir/srv1.log"; fail "the guest does not count"; }
grep -q "dma-write 16384 bytes at 0x4000000 .*(doorbell) via message" \
    "$dir/srv1.log" || { cat "$dir/srv1.log"; fail "no DMA_WRITE by the server"; }

# While running: the guest and the device go on afterwards.
ctl "$dir/api1" snapshot "$dir/run.snap" >"$dir/snap0" 2>&1 ||
    { cat "$dir/snap0" "$dir/err1" "$dir/srv1.log"; fail "snapshot while running failed"; }
t=$(ticks "$dir/out1" | tail -n 1)
wait_for "$dir/out1" "^lvu: tick $((t + 2))$" 10 ||
    fail "the guest stopped after a snapshot while running"
grep -q "state RUNNING" "$dir/srv1.log" ||
    fail "the server was not resumed after the snapshot: $(cat "$dir/srv1.log")"

ctl "$dir/api1" pause >/dev/null || fail "pause failed"
saved=$(ticks "$dir/out1" | tail -n 1)
ctl "$dir/api1" snapshot "$dir/vm.snap" >"$dir/snap1" 2>&1 ||
    { cat "$dir/snap1" "$dir/err1" "$dir/srv1.log"; fail "snapshot failed"; }
kill -9 "$vm"; wait "$vm" 2>/dev/null
kill "$srv1" 2>/dev/null; wait "$srv1" 2>/dev/null
grep -q "state STOP_AND_COPY" "$dir/srv1.log" ||
    fail "the server never saved (no STOP_AND_COPY): $(cat "$dir/srv1.log")"
fnv1=$(saved_fnv "$dir/srv1.log")
[ -n "$fnv1" ] || fail "the server saved no BAR 0 record"

lvu_start srv2; srv2=$srv
"$BUILD/minivmm" --restore "$dir/vm.snap" \
    --vfio-user "socket=$dir/srv2.sock,id=lvu,dma=message" \
    --serial "file:$dir/out2" 2>"$dir/err2"
rc=$?
tr -d '\r' <"$dir/out2" | tail -n 3
[ "$rc" -eq 0 ] ||
    { cat "$dir/err2" "$dir/srv2.log"; fail "restored minivmm exited $rc"; }
first=$(ticks "$dir/out2" | head -n 1)
[ "$first" = $((saved + 1)) ] ||
    fail "restored guest starts at tick '$first', want $((saved + 1))"
tr -d '\r' <"$dir/out2" | grep -qx "PASS lvu-mig" || fail "no 'PASS lvu-mig'"
tr -d '\r' <"$dir/out2" |
    grep -q "^lvu-mig: bar0 ok (4060 bytes), 1 dma writes, pattern ok" ||
    fail "the guest's check line is missing"
grep -q "state RESUME" "$dir/srv2.log" || fail "the new server never resumed"
fnv2=$(restored_fnv "$dir/srv2.log")
[ "$fnv2" = "$fnv1" ] ||
    fail "BAR 0 digest saved $fnv1, restored '$fnv2'"
echo "$name: saved at tick $saved, restored from tick $first; BAR 0" \
     "(fnv $fnv1) arrived byte for byte, the DMA_WRITE pattern is in RAM"
