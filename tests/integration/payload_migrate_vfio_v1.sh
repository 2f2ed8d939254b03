#!/bin/sh
# timeout: 120
# Live migration with a vfio-user disk serving migration v1 (spec 0.9.1,
# tools/vfu-blk --migration=v1): the guest (tests/guest/virtio
# test=vblk-count) counts and does block I/O on the device; each minivmm
# instance has its own vfu-blk process on the same disk file. During
# pre-copy the server's DIRTY_PAGES bitmaps (GET_BITMAP per DMA window)
# report the pages it writes; the source's device goes RUNNING -> _SAVING
# and its stream is read through the migration region; the destination's
# goes RUNNING -> RESUMING, gets the stream written into its migration
# region, then RUNNING; the counter and the writes go on at the
# destination, which verifies every block it wrote before and after the
# migration, and the host file holds them.
: "${BUILD:=build}"
name=payload_migrate_vfio_v1
fail() { echo "$name: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
for b in vfu-blk vfu-evil minivmm-ctl; do
    [ -x "$BUILD/$b" ] || { echo "$name: no $BUILD/$b" >&2; exit 77; }
done
dir=$(mktemp -d) || exit 1
pids=
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
# next_tick SRC_OUT LAST FIRST: the destination's first whole tick line is
# the next tick, or the one after when the source stopped in the middle of
# printing it (its output then ends in a partial line, finished at the
# destination: neither file holds it whole).
next_tick() {
    [ "$3" = $(($2 + 1)) ] && return 0
    [ "$3" = $(($2 + 2)) ] && [ -n "$(tail -c 1 "$1" | tr -d '\n')" ]
}
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
    "$BUILD/vfu-blk" --socket-path="$dir/$1.sock" --disk "$dir/disk.img" --migration=v1 \
        >"$dir/$1.log" 2>&1 &
    pids="$pids $!"
    for i in $(seq 50); do [ -S "$dir/$1.sock" ] && return 0; sleep 0.1; done
    fail "vfu-blk $1 did not create its socket"
}

truncate -s 4M "$dir/disk.img"
start_srv srv1
srv1=$!
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
ctl "$dir/api1" migrate "unix:$dir/mig" >"$dir/mig.out" 2>&1 ||
    { cat "$dir/mig.out" "$dir/err1" "$dir/err2"; fail "migration failed"; }
wait "$src" || fail "the source exited non-zero"
wait "$dst"
rc=$?
tr -d '\r' <"$dir/out2" | tail -n 3
[ "$rc" -eq 0 ] || { cat "$dir/err2"; fail "destination exited $rc"; }
last=$(ticks "$dir/out1" | tail -n 1)
first=$(ticks "$dir/out2" | head -n 1)
next_tick "$dir/out1" "$last" "$first" ||
    fail "destination starts at tick '$first', want $((last + 1))"
tr -d '\r' <"$dir/out2" | grep -qx "PASS vblk-count" ||
    fail "no 'PASS vblk-count'"
head -c 12 "$dir/disk.img" | grep -q "MVMBLK write" ||
    fail "the disk file does not hold the guest's blocks"
echo "$name: ticks 1-$last on the source, $first-40 on the destination;" \
    "$(grep '^downtime' "$dir/mig.out")"

# The source's server reported the pages it wrote (DIRTY_PAGES bitmaps).
kill -TERM "$srv1"; wait "$srv1" 2>/dev/null
grep -q "^vfu-blk: dirty_bitmaps=[1-9][0-9]* dirty_pages=[1-9]" \
    "$dir/srv1.log" || { cat "$dir/srv1.log"; fail "no dirty bitmaps"; }
echo "$name: source server: $(grep '^vfu-blk: dirty_bitmaps' "$dir/srv1.log")"
exit 0
