#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 90
# Live migration over tcp between two network namespaces: the test creates
# a namespace pair joined by a veth pair (addresses only inside them), runs
# the source minivmm in one and the destination (--incoming tcp:ADDR:PORT)
# in the other. The guest counts in RAM and does block I/O on a vfio-user
# disk (tests/guest/virtio test=vblk-count on tools/vfu-blk, one vfu-blk
# process per instance on the same file; the counter payload alone when
# vfu-blk is not built) and goes on from the next tick at the
# destination, which verifies every block at the end. Skipped (77)
# without root / ip netns.
: "${BUILD:=build}"
name=payload_migrate_tcp
. "$(dirname "$0")/lib.sh"
skip() { echo "$name: $*" >&2; exit 77; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "no /dev/kvm"
[ -x "$BUILD/minivmm-ctl" ] || fail "no $BUILD/minivmm-ctl"
command -v ip >/dev/null || skip "no ip(8)"
dir=$(mktemp -d) || exit 1
nsa=mvmmig-a-$$
nsb=mvmmig-b-$$
pids=
cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    ip netns del "$nsa" 2>/dev/null
    ip netns del "$nsb" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "$nsa" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$nsb" || fail "ip netns add $nsb"
# A /24 picked from the pid, inside 10.200.0.0/16: only these namespaces
# ever see it.
net=10.200.$(($$ % 250 + 1))
ip -n "$nsa" link add mvm-a type veth peer name mvm-b netns "$nsb" ||
    fail "veth pair"
ip -n "$nsa" addr add "$net.1/24" dev mvm-a
ip -n "$nsb" addr add "$net.2/24" dev mvm-b
for ns in "$nsa" "$nsb"; do
    ip -n "$ns" link set lo up
done
ip -n "$nsa" link set mvm-a up
ip -n "$nsb" link set mvm-b up

# start_srv NAME: a vfu-blk on $dir/NAME.sock (root namespace: unix
# sockets are reached by path from any network namespace).
start_srv() {
    "$BUILD/vfu-blk" --socket-path="$dir/$1.sock" --disk "$dir/disk.img" \
        >"$dir/$1.log" 2>&1 &
    pids="$pids $!"
    for i in $(seq 50); do [ -S "$dir/$1.sock" ] && return 0; sleep 0.1; done
    fail "vfu-blk $1 did not create its socket"
}
if [ -x "$BUILD/vfu-blk" ]; then
    truncate -s 4M "$dir/disk.img"
    start_srv srv1
    start_srv srv2
    kernel=$BUILD/guest/virtio.elf pass="PASS vblk-count"
    guest="test=vblk-count ticks=30 tick_ms=100 blocks=256"
    dev1="--vfio-user socket=$dir/srv1.sock,id=blk"
    dev2="--vfio-user socket=$dir/srv2.sock,id=blk"
else
    kernel=$BUILD/guest/payload.elf pass="PASS counter" dev1= dev2=
    guest="test=counter ticks=30 tick_ms=100 fill_mb=64"
fi
ip netns exec "$nsa" "$BUILD/minivmm" --kernel "$kernel" $dev1 \
    --cpus 2 --memory 256M --cmdline "$guest" \
    --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
src=$!
pids="$pids $src"
ip netns exec "$nsb" "$BUILD/minivmm" --incoming "tcp:$net.2:4444" $dev2 \
    --serial "file:$dir/out2" 2>"$dir/err2" &
dst=$!
pids="$pids $dst"
wait_for "$dir/out1" "^counter: tick 3 " 60 ||
    { cat "$dir/out1" "$dir/err1"; fail "the guest does not count"; }
wait_for "$dir/err2" "waiting for an incoming" 10 ||
    { cat "$dir/err2"; fail "the destination does not listen"; }
# The destination's address is not reachable from here (root namespace).
ctl "$dir/api1" migrate "tcp:$net.2:4444" >"$dir/mig.out" 2>"$dir/mig.err" ||
    { cat "$dir/mig.out" "$dir/mig.err" "$dir/err1" "$dir/err2";
      fail "migration failed"; }
wait "$src" || fail "the source exited non-zero"
last=$(ticks "$dir/out1" | tail -n 1)
wait "$dst"
rc=$?
[ "$rc" -eq 0 ] || { cat "$dir/err2"; fail "destination exited $rc"; }
first=$(ticks "$dir/out2" | head -n 1)
next_tick "$dir/out1" "$last" "$first" ||
    fail "destination starts at tick '$first', want $((last + 1))"
tr -d '\r' <"$dir/out2" | grep -qx "$pass" || fail "no '$pass'"
echo "$name: ${dev1:+vfu-blk disk, }$net.1 -> $net.2: ticks 1-$last, then $first-30;" \
    "$(grep '^total-ms' "$dir/mig.out"), $(grep '^downtime' "$dir/mig.out")"
