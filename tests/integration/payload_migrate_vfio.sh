#!/bin/sh
# timeout: 120
# Live migration with a vfio-user disk (tools/vfu-blk): the guest
# (tests/guest/virtio test=vblk-count) counts and does block I/O on a
# vfu-blk device; each minivmm instance has its own vfu-blk process on the
# same disk file. The source's device goes RUNNING -> PRE_COPY/STOP_COPY,
# the destination's RESUMING -> RUNNING; the counter and the writes go on
# at the destination, which verifies every block at the end.
# While the vfio-user client cannot save device state, migration must be
# refused with an error naming the device and the source must keep
# running: that is checked, then the test exits 77 (skipped) saying so.
: "${BUILD:=build}"
name=payload_migrate_vfio
fail() { echo "$name: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
[ -x "$BUILD/vfu-blk" ] || { echo "$name: no vfu-blk" >&2; exit 77; }
dir=$(mktemp -d) || exit 1
pids=
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
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
start_srv() {   # NAME
    "$BUILD/vfu-blk" --socket-path="$dir/$1.sock" --disk "$dir/disk.img" \
        >"$dir/$1.log" 2>&1 &
    pids="$pids $!"
    for i in $(seq 50); do [ -S "$dir/$1.sock" ] && return 0; sleep 0.1; done
    fail "vfu-blk $1 did not create its socket"
}

truncate -s 4M "$dir/disk.img"
start_srv srv1
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
    --vfio-user "socket=$dir/srv1.sock,id=blk" \
    --cmdline "test=vblk-count ticks=40 tick_ms=100 blocks=256" \
    --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
src=$!
pids="$pids $src"
wait_for "$dir/out1" "^counter: tick 3 " 30 ||
    { cat "$dir/out1" "$dir/err1"; fail "the guest does not count"; }
start_srv srv2
"$BUILD/minivmm" --incoming "unix:$dir/mig" \
    --vfio-user "socket=$dir/srv2.sock,id=blk" \
    --serial "file:$dir/out2" 2>"$dir/err2" &
dst=$!
pids="$pids $dst"
if ! ctl "$dir/api1" migrate "unix:$dir/mig" >"$dir/mig.out" 2>&1; then
    grep -q "device vfio-user@blk cannot be migrated" "$dir/mig.out" ||
        { cat "$dir/mig.out" "$dir/err1" "$dir/err2";
          fail "migration failed"; }
    t=$(ticks "$dir/out1" | tail -n 1)
    wait_for "$dir/out1" "^counter: tick $((t + 2)) " 5 ||
        fail "the source stopped after the refusal"
    ctl "$dir/api1" status | grep -qx "state: running" ||
        fail "source not running after the refusal"
    echo "$name: refused as expected: $(cat "$dir/mig.out")" >&2
    echo "$name: vfio-user devices cannot migrate yet: skipped" >&2
    exit 77
fi
wait "$src" || fail "the source exited non-zero"
wait "$dst"
rc=$?
tr -d '\r' <"$dir/out2" | tail -n 3
[ "$rc" -eq 0 ] || { cat "$dir/err2"; fail "destination exited $rc"; }
last=$(ticks "$dir/out1" | tail -n 1)
first=$(ticks "$dir/out2" | head -n 1)
[ "$first" = $((last + 1)) ] ||
    fail "destination starts at tick '$first', want $((last + 1))"
tr -d '\r' <"$dir/out2" | grep -qx "PASS vblk-count" ||
    fail "no 'PASS vblk-count'"
echo "$name: ticks 1-$last on the source, $first-40 on the destination;" \
    "$(grep '^downtime' "$dir/mig.out")"
