#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 180
# On-demand restore with a vfio-user disk (tools/vfu-blk), dma=fd and
# dma=message: the guest (tests/guest/virtio test=vblk-hold) fills 96 MiB
# of padding (so the loader, going in order, reaches what follows late)
# and 1 MiB of buffers once, and then only writes the buffers to the disk,
# over and over.
# Paused, snapshotted, killed; the disk file is zeroed; a new vfu-blk and
# `minivmm --restore` (guest RAM loaded on demand). The only way the disk
# can hold the buffers again is the device reading guest pages that were
# written before the snapshot, right after the restore: with dma=fd the
# server maps the memfd itself, outside the VMM's userfaultfd, so minivmm
# must have loaded them first (docs/snapshot-format.md, "On-demand
# restore"); with dma=message the server's DMA_READs go through the VMM's
# mapping and are served by the fault thread. Every block must hold its
# pattern, the guest must go on from the next tick. (With restore.c's wait
# for fd-DMA devices taken out, dma=fd fails here: "block 0 does not hold
# its pattern (4096 zero bytes)".)
: "${BUILD:=build}"
name=payload_snapshot_ondemand
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_vfio.sh"
need_kvm
need_bins vfu-blk minivmm-ctl
command -v python3 >/dev/null || { echo "$name: no python3" >&2; exit 77; }
make_dir
check_disk() {  # the first 256 blocks hold the guest's pattern
    python3 - "$dir/disk.img" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
for k in range(256):
    want = bytearray(((k * 7 + i) & 0xff) for i in range(4096))
    head = b"MVMHOLD block %d\n" % k
    want[:len(head) + 1] = head + b"\0"
    if d[k * 4096:(k + 1) * 4096] != bytes(want):
        z = d[k * 4096:(k + 1) * 4096].count(0)
        sys.exit("block %d does not hold its pattern (%d zero bytes)" % (k, z))
PY
}

run() {         # MODE: fd | message
    m=$1
    truncate -s 0 "$dir/disk.img"; truncate -s 4M "$dir/disk.img"
    start_srv "a$m"; srv1=$srv
    "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
        --vfio-user "socket=$dir/a$m.sock,id=blk,dma=$m" \
        --cmdline "test=vblk-hold hold_kb=1024 pad_mb=96 tick_ms=100" \
        --serial "file:$dir/out1$m" --api-socket "$dir/api1$m" \
        2>"$dir/err1$m" &
    vm=$!
    pids="$pids $vm"
    wait_for "$dir/out1$m" "^counter: tick 2 " 60 ||
        { cat "$dir/out1$m" "$dir/err1$m"; fail "dma=$m: no ticks"; }
    ctl "$dir/api1$m" pause >/dev/null || fail "pause"
    saved=$(ticks "$dir/out1$m" | tail -n 1)
    ctl "$dir/api1$m" snapshot "$dir/vm.snap" \
        >"$dir/snap$m" 2>&1 || { cat "$dir/snap$m"; fail "snapshot"; }
    kill -9 "$vm"; wait "$vm" 2>/dev/null
    stop_srv "$srv1"
    check_disk >/dev/null || fail "dma=$m: the disk lacks the pattern before"
    truncate -s 0 "$dir/disk.img"; truncate -s 4M "$dir/disk.img"

    start_srv "b$m"; srv2=$srv
    "$BUILD/minivmm" --restore "$dir/vm.snap" --log-level debug \
        --vfio-user "socket=$dir/b$m.sock,id=blk,dma=$m" \
        --serial "file:$dir/out2$m" --api-socket "$dir/api2$m" \
        2>"$dir/err2$m" &
    vm=$!
    pids="$pids $vm"
    wait_for "$dir/out2$m" "^counter: tick $((saved + 2)) " 60 ||
        { cat "$dir/out2$m" "$dir/err2$m"; fail "dma=$m: restored guest stuck"; }
    # dma=fd: loaded before the devices; dma=message: on demand.
    want="loading guest RAM before starting (fd-DMA vfio-user device)"
    [ "$m" = message ] && want="guest RAM loading on demand"
    grep -qF "$want" "$dir/err2$m" ||
        { cat "$dir/err2$m"; fail "dma=$m: stderr lacks '$want'"; }
    resumes "$dir/out2$m" "$saved" "dma=$m"
    ctl "$dir/api2$m" quit >/dev/null
    wait "$vm"
    stop_srv "$srv2"
    why=$(check_disk 2>&1) || fail "dma=$m: after the restore: $why"
    echo "$name: dma=$m: saved at tick $saved, restored from tick $first," \
        "all 256 blocks written from pre-snapshot guest pages"
}

run fd
run message
