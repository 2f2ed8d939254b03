#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 180
# Live migration with a vfio-user disk serving migration v1 (spec 0.9.1,
# tools/vfu-blk --migration=v1): the guest (tests/guest/virtio
# test=vblk-count) counts and does block I/O on the device; each minivmm
# instance has its own vfu-blk process on the same disk file. During
# pre-copy the device is in PRE_COPY (_RUNNING|_SAVING), its early data
# (vfu-blk: its identity) read through the migration region, and the
# server's DIRTY_PAGES bitmaps (GET_BITMAP per DMA window) report the
# pages it writes; at the stop the device goes to _SAVING and the rest of
# its stream is read; the destination's
# goes RUNNING -> RESUMING, gets the stream written into its migration
# region, then RUNNING; the counter and the writes go on at the
# destination, which verifies every block it wrote before and after the
# migration, and the host file holds them; the source's vfu-blk counted
# GET_BITMAP replies with dirty pages in them. Twice: DMA through the
# guest RAM memfd (dma=fd), then through DMA_READ/WRITE messages
# (dma=message: the blocks the guest reads back arrive by DMA_WRITE, which
# the client marks dirty; the fd-less windows' bitmaps are asked too and
# may be empty).
: "${BUILD:=build}"
name=payload_migrate_vfio_v1
fail() { echo "$name: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
for b in vfu-blk minivmm-ctl; do
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
    "$BUILD/vfu-blk" --socket-path="$dir/$1.sock" --disk "$dir/disk.img" \
        --migration=v1 >"$dir/$1.log" 2>&1 &
    pids="$pids $!"
    for i in $(seq 50); do [ -S "$dir/$1.sock" ] && return 0; sleep 0.1; done
    fail "vfu-blk $1 did not create its socket"
}

# migrate DMA: one live migration with the device's DMA mode DMA (fd or
# message: then the server writes guest RAM through DMA_WRITE messages and
# its bitmaps for those windows are what keeps the writes).
migrate() {
    dma=$1
    rm -f "$dir"/*.sock "$dir/mig" "$dir/api1" "$dir"/out? "$dir"/err? \
        "$dir"/*.log "$dir/mig.out"
    truncate -s 0 "$dir/disk.img"
    truncate -s 4M "$dir/disk.img"
    start_srv srv1
    srv1=$!
    "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
        --vfio-user "socket=$dir/srv1.sock,id=blk,dma=$dma" \
        --cmdline "test=vblk-count ticks=40 tick_ms=100 blocks=256" \
        --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
    src=$!
    pids="$pids $src"
    wait_for "$dir/out1" "^counter: tick 3 " 30 ||
        { cat "$dir/out1" "$dir/err1"; fail "$dma: the guest does not count"; }
    start_srv srv2
    srv2=$!
    "$BUILD/minivmm" --incoming "unix:$dir/mig" \
        --vfio-user "socket=$dir/srv2.sock,id=blk,dma=$dma" \
        --serial "file:$dir/out2" 2>"$dir/err2" &
    dst=$!
    pids="$pids $dst"
    ctl "$dir/api1" migrate "unix:$dir/mig" >"$dir/mig.out" 2>&1 ||
        { cat "$dir/mig.out" "$dir/err1" "$dir/err2"
          fail "$dma: migration failed"; }
    wait "$src" || fail "$dma: the source exited non-zero"
    wait "$dst"
    rc=$?
    tr -d '\r' <"$dir/out2" | tail -n 3
    [ "$rc" -eq 0 ] || { cat "$dir/err2"; fail "$dma: destination exited $rc"; }
    last=$(ticks "$dir/out1" | tail -n 1)
    first=$(ticks "$dir/out2" | head -n 1)
    next_tick "$dir/out1" "$last" "$first" ||
        fail "$dma: destination starts at tick '$first', want $((last + 1))"
    tr -d '\r' <"$dir/out2" | grep -qx "PASS vblk-count" ||
        fail "$dma: no 'PASS vblk-count'"
    head -c 12 "$dir/disk.img" | grep -q "MVMBLK write" ||
        fail "$dma: the disk file does not hold the guest's blocks"
    # vfu-blk's pre-copy part (its identity) was read in PRE_COPY
    # (_RUNNING|_SAVING), led the stream, and the destination loaded it.
    pre=$(sed -n 's/.*migration stream: \([0-9]*\) bytes in pre-copy.*(v1)$/\1/p' \
          "$dir/err1")
    [ -n "$pre" ] && [ "$pre" -gt 8 ] ||
        { cat "$dir/err1"; fail "$dma: no pre-copy data ('$pre' bytes)"; }
    grep -q "vfu-blk: migration stream loaded: [1-9][0-9]* bytes pre-copy" \
        "$dir/srv2.log" ||
        { cat "$dir/srv2.log"; fail "$dma: the destination lost the pre-copy part"; }
    echo "$name: dma=$dma: $pre bytes of pre-copy records;" \
        "$(grep -o 'migration stream loaded.*' "$dir/srv2.log")"
    echo "$name: dma=$dma: ticks 1-$last on the source, $first-40 on the" \
        "destination; $(grep '^downtime' "$dir/mig.out")"
    # The source's server was asked for its bitmaps (DIRTY_PAGES); with
    # dma=fd it reported the pages it wrote. With dma=message vfu-blk,
    # like libvfio-user, logs nothing (its writes are DMA_WRITE messages,
    # which the client marks dirty as it serves them).
    kill -TERM "$srv1"; wait "$srv1" 2>/dev/null
    kill -TERM "$srv2"; wait "$srv2" 2>/dev/null
    pages='[0-9]'
    [ "$dma" = fd ] && pages='[1-9]'
    grep -q "^vfu-blk: dirty_bitmaps=[1-9][0-9]* dirty_pages=$pages" \
        "$dir/srv1.log" ||
        { cat "$dir/srv1.log"; fail "$dma: no dirty bitmaps"; }
    echo "$name: dma=$dma: source server:" \
        "$(grep '^vfu-blk: dirty_bitmaps' "$dir/srv1.log")"
}

migrate fd
migrate message
exit 0
