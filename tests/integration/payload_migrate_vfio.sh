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
# With VFU_ARGS=--migration=v1 (payload_migrate_vfio_v1.sh) every vfu-blk
# serves migration v1 (spec 0.9.1): during pre-copy the device is in
# PRE_COPY (_RUNNING|_SAVING), its early data (vfu-blk: its identity) read
# through the migration region, and the server's DIRTY_PAGES bitmaps
# (GET_BITMAP per DMA window) report the pages it writes; at the stop the
# device goes to _SAVING and the rest of its stream is read; the
# destination's goes RUNNING -> RESUMING, gets the stream written into its
# migration region, then RUNNING; the source's vfu-blk counted GET_BITMAP
# replies with dirty pages in them. Twice: DMA through the guest RAM memfd
# (dma=fd), then through DMA_READ/WRITE messages (dma=message: the blocks
# the guest reads back arrive by DMA_WRITE, which the client marks dirty;
# the fd-less windows' bitmaps are asked too and may be empty).
: "${BUILD:=build}"
: "${VFU_ARGS:=}"
name=payload_migrate_vfio${VFU_ARGS:+ ($VFU_ARGS)}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_vfio.sh"
need_kvm
need_bins vfu-blk vfu-evil minivmm-ctl
make_dir

# migrate [DMA]: one live migration with a vfu-blk on each side (the
# device's DMA mode DMA, fd or message, when given).
migrate() {
    dma=$1 opt=${1:+,dma=$1}
    rm -f "$dir"/*.sock "$dir/mig" "$dir/api1" "$dir"/out? "$dir"/err? \
        "$dir"/*.log "$dir/mig.out"
    truncate -s 0 "$dir/disk.img"
    truncate -s 4M "$dir/disk.img"
    start_srv srv1; srv1=$srv
    "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
        --vfio-user "socket=$dir/srv1.sock,id=blk$opt" \
        --cmdline "test=vblk-count ticks=40 tick_ms=100 blocks=256" \
        --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
    src=$!
    pids="$pids $src"
    wait_for "$dir/out1" "^counter: tick 3 " 30 ||
        { cat "$dir/out1" "$dir/err1"; fail "$dma: the guest does not count"; }
    migrate_blk "$dma" "$opt"
    tr -d '\r' <"$dir/out2" | tail -n 3
    [ "$rc" -eq 0 ] || { cat "$dir/err2"; fail "$dma: destination exited $rc"; }
    continues "$dir/out1" "$dir/out2" "${dma:+$dma: }destination"
    tr -d '\r' <"$dir/out2" | grep -qx "PASS vblk-count" ||
        fail "$dma: no 'PASS vblk-count'"
    head -c 12 "$dir/disk.img" | grep -q "MVMBLK write" ||
        fail "$dma: the disk file does not hold the guest's blocks"
    if [ -n "$vfu_v1" ]; then check_v1; else check_v2; fi
    echo "$name: dma=${dma:-default}: ticks 1-$last on the source, $first-40 on" \
        "the destination; $(grep '^downtime' "$dir/mig.out");" \
        "$pre bytes of pre-copy data"
    if [ -n "$VFU_ARGS" ]; then
        ! grep -h "(strict)$\|client dropped" "$dir"/srv1.log "$dir"/srv2.log ||
            fail "vfu-blk $VFU_ARGS refused the client (above)"
    fi
}

# pre_copy TAIL MIN [LOADED]: vfu-blk's PRE_COPY carries its identity
# (tools/vfu-blk/precopy.h): the source's client read more than MIN bytes
# of it before the stop (its log line ending in TAIL), the destination's
# server checked and loaded it (LOADED bytes, default the same) ahead of
# the final state.
pre_copy() {
    pre=$(sed -n "s/.*migration stream: \([0-9]*\) bytes in pre-copy.*$1/\1/p" \
          "$dir/err1")
    [ -n "$pre" ] && [ "$pre" -gt "$2" ] ||
        { cat "$dir/err1"; fail "$dma: no pre-copy data from vfu-blk ('$pre' bytes)"; }
    grep -q "vfu-blk: migration stream loaded: ${3:-$pre} bytes pre-copy" \
        "$dir/srv2.log" ||
        { cat "$dir/srv2.log"; fail "$dma: the destination did not load the pre-copy part"; }
}
check_v2() { pre_copy "" 0; }

# v1: the pre-copy part (its identity) was read in PRE_COPY
# (_RUNNING|_SAVING), led the stream (8-byte record headers), and the
# destination loaded it. The source's server was asked for its bitmaps
# (DIRTY_PAGES); with dma=fd it reported the pages it wrote. With
# dma=message vfu-blk, like libvfio-user, logs nothing (its writes are
# DMA_WRITE messages, which the client marks dirty as it serves them).
check_v1() {
    pre_copy '(v1)$' 8 '[1-9][0-9]*'
    echo "$name: dma=$dma: $pre bytes of pre-copy records;" \
        "$(grep -o 'migration stream loaded.*' "$dir/srv2.log")"
    stop_srv "$srv1"
    stop_srv "$srv2"
    pages='[0-9]'
    [ "$dma" = fd ] && pages='[1-9]'
    grep -q "^vfu-blk: dirty_bitmaps=[1-9][0-9]* dirty_pages=$pages" \
        "$dir/srv1.log" ||
        { cat "$dir/srv1.log"; fail "$dma: no dirty bitmaps"; }
    echo "$name: dma=$dma: source server:" \
        "$(grep '^vfu-blk: dirty_bitmaps' "$dir/srv1.log")"
}

if [ -n "$vfu_v1" ]; then
    migrate fd
    migrate message
else
    migrate
fi
[ -n "$VFU_ARGS" ] && exit 0

# A server without migration support blocks migration, naming it.
start_evil evil none
evil_vm none "$dir/evil.sock"
ctl "$dir/api" migrate "unix:$dir/mig3" >"$dir/mig3.out" 2>&1 &&
    fail "migrated a device without migration support"
grep -q "device vfio-user@evil cannot be migrated: its vfio-user server" \
    "$dir/mig3.out" || fail "refusal: $(cat "$dir/mig3.out")"
still_runs none 5
echo "$name: refused: $(cat "$dir/mig3.out")"
