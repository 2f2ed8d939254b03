#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# Live migration with a vfio-user disk (tools/vfu-blk): the guest
# (tests/guest/virtio test=vblk-count) counts and does block I/O on a
# vfu-blk device; each minivmm instance has its own vfu-blk process on the
# same disk file. During pre-copy the server's DMA dirty logging reports
# the pages it writes, and its PRE_COPY data (identity) is read and must
# not be empty; the source's device goes to STOP_COPY and its
# stream travels in the state tree; the destination's goes RESUMING ->
# RUNNING; the counter and the writes go on at the destination, which
# verifies every block at the end, and the host file holds them.
# Then a server without migration support (tools/vfu-evil --mode=none):
# migrate is refused with an error naming the device, and the VM keeps
# running.
# VFU_ARGS (e.g. --strict, from payload_migrate_vfio_strict.sh) go to
# every vfu-blk; then no server may log a refusal, and vfu-evil is skipped.
: "${BUILD:=build}"
: "${VFU_ARGS:=}"
name=payload_migrate_vfio${VFU_ARGS:+ ($VFU_ARGS)}
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
    # shellcheck disable=SC2086
    "$BUILD/vfu-blk" --socket-path="$dir/$1.sock" --disk "$dir/disk.img" \
        $VFU_ARGS >"$dir/$1.log" 2>&1 &
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
# vfu-blk's PRE_COPY carries its identity (tools/vfu-blk/precopy.h): the
# source's client read it before the stop, the destination's server
# checked and loaded it ahead of the final state.
pre=$(sed -n 's/.*migration stream: \([0-9]*\) bytes in pre-copy.*/\1/p' \
      "$dir/err1")
[ -n "$pre" ] && [ "$pre" -gt 0 ] ||
    { cat "$dir/err1"; fail "no pre-copy data from vfu-blk ('$pre' bytes)"; }
grep -q "vfu-blk: migration stream loaded: $pre bytes pre-copy" \
    "$dir/srv2.log" ||
    { cat "$dir/srv2.log"; fail "the destination did not load the pre-copy part"; }
echo "$name: ticks 1-$last on the source, $first-40 on the destination;" \
    "$(grep '^downtime' "$dir/mig.out"); $pre bytes of pre-copy data"
if [ -n "$VFU_ARGS" ]; then
    ! grep -h "(strict)$\|client dropped" "$dir"/srv1.log "$dir"/srv2.log ||
        fail "vfu-blk $VFU_ARGS refused the client (above)"
    exit 0
fi

# A server without migration support blocks migration, naming it.
"$BUILD/vfu-evil" --socket-path="$dir/evil.sock" --mode=none \
    >"$dir/evil.log" 2>&1 &
pids="$pids $!"
for i in $(seq 50); do [ -S "$dir/evil.sock" ] && break; sleep 0.1; done
"$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --memory 256M \
    --vfio-user "socket=$dir/evil.sock,id=evil" \
    --cmdline "test=counter ticks=600 tick_ms=100" \
    --serial "file:$dir/out3" --api-socket "$dir/api3" 2>"$dir/err3" &
pids="$pids $!"
wait_for "$dir/out3" "^counter: tick 2 " 30 ||
    { cat "$dir/out3" "$dir/err3"; fail "the vfu-evil guest does not count"; }
ctl "$dir/api3" migrate "unix:$dir/mig3" >"$dir/mig3.out" 2>&1 &&
    fail "migrated a device without migration support"
grep -q "device vfio-user@evil cannot be migrated: its vfio-user server" \
    "$dir/mig3.out" || fail "refusal: $(cat "$dir/mig3.out")"
t=$(ticks "$dir/out3" | tail -n 1)
wait_for "$dir/out3" "^counter: tick $((t + 2)) " 5 ||
    fail "the guest stopped after the refusal"
ctl "$dir/api3" status | grep -qx "state: running" ||
    fail "not running after the refusal"
echo "$name: refused: $(cat "$dir/mig3.out")"
