#!/bin/sh
# timeout: 90
# Live migration over tcp between two network namespaces: the test creates
# a namespace pair joined by a veth pair (addresses only inside them), runs
# the source minivmm in one and the destination (--incoming tcp:ADDR:PORT)
# in the other. The guest counts in RAM (tests/guest test=counter) and
# goes on from the next tick at the destination. Skipped (77) without
# root / ip netns.
: "${BUILD:=build}"
name=payload_migrate_tcp
fail() { echo "$name: $*" >&2; exit 1; }
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
ctl() { "$BUILD/minivmm-ctl" "$@"; }
wait_for() {    # FILE REGEX SECONDS
    i=0
    while ! tr -d "\r" 2>/dev/null <"$1" | grep -q "$2"; do
        i=$((i + 1))
        [ "$i" -gt $(($3 * 20)) ] && return 1
        sleep 0.05
    done
}
ticks() { tr -d '\r' <"$1" | sed -n 's/^counter: tick \([0-9]*\) .*/\1/p'; }

ip netns exec "$nsa" "$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" \
    --cpus 2 --memory 256M \
    --cmdline "test=counter ticks=30 tick_ms=100 fill_mb=64" \
    --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
src=$!
pids="$src"
ip netns exec "$nsb" "$BUILD/minivmm" --incoming "tcp:$net.2:4444" \
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
[ "$first" = $((last + 1)) ] ||
    fail "destination starts at tick '$first', want $((last + 1))"
tr -d '\r' <"$dir/out2" | grep -qx "PASS counter" || fail "no 'PASS counter'"
echo "$name: $net.1 -> $net.2: ticks 1-$last, then $first-30;" \
    "$(grep '^total-ms' "$dir/mig.out"), $(grep '^downtime' "$dir/mig.out")"
