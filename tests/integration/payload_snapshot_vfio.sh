#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# Snapshot and restore with a vfio-user disk (tools/vfu-blk): the guest
# (tests/guest/virtio test=vblk-count) counts and writes/reads 4 KiB blocks
# on the vfu-blk device. Paused, snapshotted (the device's client state
# and vfu-blk's migration stream go into the file), minivmm and vfu-blk
# killed; a restore against a vfu-blk that does not match (--queues 2) is
# refused with exit 2 naming the field; then a NEW vfu-blk on the same disk
# file and `minivmm --restore`: the counter goes on from the next tick, the
# guest keeps doing I/O on the device and verifies every block, and the
# host file holds exactly the guest's last write in each block. Last, a
# server without migration support (vfu-evil): the snapshot is refused
# naming the device and the VM keeps running.
# VFU_ARGS (e.g. --strict, from payload_snapshot_vfio_strict.sh) go to
# every vfu-blk; then no server may log a refusal, and vfu-evil is skipped.
# With VFU_ARGS=--migration=v1 (payload_snapshot_vfio_v1.sh) every vfu-blk
# serves migration v1 (spec 0.9.1: migration region + DIRTY_PAGES): it must
# say so, minivmm must not complain about it, and a v2 server (no
# migration region) is refused too, naming num_regions.
: "${BUILD:=build}"
: "${VFU_ARGS:=}"
name=payload_snapshot_vfio${VFU_ARGS:+ ($VFU_ARGS)}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_vfio.sh"
need_kvm
need_bins vfu-blk vfu-evil minivmm-ctl
make_dir
# refused NAME REGEX [vfu-blk options]: a restore against the server NAME
# (started with the options) exits 2 before the guest runs, with a message
# matching REGEX, and leaves the disk as saved.
refused() {
    n=$1 want=$2; shift 2
    start_blk "$n" "$@"
    "$BUILD/minivmm" --restore "$dir/vm.snap" \
        --vfio-user "socket=$dir/$n.sock,id=blk" \
        --serial "file:$dir/out.$n" 2>"$dir/err.$n"
    rc=$?
    stop_srv "$srv"
    [ "$rc" -eq 2 ] ||
        { cat "$dir/err.$n"; fail "$n: mismatching server: exit $rc, want 2"; }
    grep -q "vfio-user blk: cannot restore its state: $want" "$dir/err.$n" ||
        { cat "$dir/err.$n"; fail "$n: no message naming the field"; }
    [ -s "$dir/out.$n" ] && fail "$n: the guest ran against the mismatching server"
    cmp -s "$dir/disk.img" "$dir/disk.saved" ||
        fail "$n: the refused restore changed the disk"
    echo "$name: refused: $(grep 'cannot restore' "$dir/err.$n")"
}

truncate -s 4M "$dir/disk.img"
start_srv srv1; srv1=$srv
[ -z "$vfu_v1" ] || grep -q "migration v1" "$dir/srv1.log" ||
    fail "vfu-blk is not serving v1"
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
    --vfio-user "socket=$dir/srv1.sock,id=blk" \
    --cmdline "test=vblk-count ticks=40 tick_ms=100 blocks=256" \
    --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
vm=$!
pids="$pids $vm"
wait_for "$dir/out1" "^counter: tick 3 " 30 ||
    { cat "$dir/out1" "$dir/err1"; fail "the guest does not count"; }

# A snapshot while running: the guest and the device go on afterwards.
ctl "$dir/api1" snapshot "$dir/run.snap" >"$dir/snap0" 2>&1 ||
    { cat "$dir/snap0" "$dir/err1"; fail "snapshot while running failed"; }
t=$(ticks "$dir/out1" | tail -n 1)
wait_for "$dir/out1" "^counter: tick $((t + 2)) " 10 ||
    fail "the guest stopped after a snapshot while running"

# Paused (the last printed tick is the saved one, the disk stays as is).
snapshot_blk
cp "$dir/disk.img" "$dir/disk.saved"

grep -q "vfio-user" "$dir/err1" && { cat "$dir/err1"; fail "minivmm complained"; }

# A server that does not match the snapshot: refused before the guest runs.
# shellcheck disable=SC2086
refused srvq "IRQ index .* count" $VFU_ARGS --queues 2
# v1: a v2 server (no migration region) is refused too.
[ -z "$vfu_v1" ] ||
    refused srvv2 "num_regions is 0x9, the snapshot has 0xa"

# A new vfu-blk on the same disk file: the guest goes on.
restore_blk
resumes "$dir/out2" "$saved"
vblk_written "$dir/out2" 256
echo "$name: saved at tick $saved, restored from tick $first; $writes" \
     "writes, all 256 blocks on the host file as the guest wrote them"
if [ -n "$VFU_ARGS" ]; then
    ! grep -h "(strict)$\|client dropped" "$dir"/srv1.log "$dir"/srv2.log ||
        fail "vfu-blk $VFU_ARGS refused the client (above)"
    exit 0
fi

# No migration support in the server: the snapshot is refused, naming
# the device; the VM keeps running.
start_evil evil none
evil_vm none "$dir/evil.sock"
ctl "$dir/api" snapshot "$dir/evil.snap" >"$dir/snap3" 2>&1 &&
    fail "snapshot with a non-migratable server succeeded"
grep -q "vfio-user@evil" "$dir/snap3" ||
    fail "the refusal does not name the device: $(cat "$dir/snap3")"
still_runs none
echo "$name: non-migratable server refused: $(cat "$dir/snap3")"
exit 0
