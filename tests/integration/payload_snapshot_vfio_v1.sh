#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# Snapshot and restore with a vfio-user disk serving migration v1 (spec
# 0.9.1: migration region + DIRTY_PAGES; tools/vfu-blk --migration=v1).
# The guest (tests/guest/virtio test=vblk-count) writes/reads 4 KiB blocks
# on the device. A snapshot while running (the VM goes on), then paused,
# snapshotted, minivmm and vfu-blk killed; a restore against a v2 vfu-blk
# is refused (its regions differ: no migration region) naming the field;
# then a NEW vfu-blk --migration=v1 on the same disk file and `minivmm
# --restore`: the counter goes on from the next tick, the guest keeps
# doing I/O and verifies every block, and the host file holds exactly the
# guest's last write in each block.
: "${BUILD:=build}"
name=payload_snapshot_vfio_v1
fail() { echo "$name: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
for b in vfu-blk minivmm-ctl; do
    [ -x "$BUILD/$b" ] || { echo "$name: no $BUILD/$b" >&2; exit 77; }
done
dir=$(mktemp -d) || exit 1
pids=
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
ctl() { "$BUILD/minivmm-ctl" "$@"; }
wait_for() {    # FILE REGEX SECONDS
    i=0
    while ! tr -d '\r' 2>/dev/null <"$1" | grep -q "$2"; do
        i=$((i + 1))
        [ "$i" -gt $(($3 * 20)) ] && return 1
        sleep 0.05
    done
}
ticks() { tr -d '\r' <"$1" | sed -n 's/^counter: tick \([0-9]*\) .*/\1/p'; }
start_srv() {   # NAME [vfu-blk options]
    n=$1; shift
    "$BUILD/vfu-blk" --socket-path="$dir/$n.sock" --disk "$dir/disk.img" \
        "$@" >"$dir/$n.log" 2>&1 &
    srv=$!
    pids="$pids $srv"
    for i in $(seq 50); do [ -S "$dir/$n.sock" ] && return 0; sleep 0.1; done
    fail "vfu-blk $n did not create its socket"
}
stop_srv() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

truncate -s 4M "$dir/disk.img"
start_srv srv1 --migration=v1; srv1=$srv
grep -q "migration v1" "$dir/srv1.log" || fail "vfu-blk is not serving v1"
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
    { cat "$dir/err1"; fail "the guest stopped after a snapshot while running"; }

# Paused (the last printed tick is the saved one, the disk stays as is).
ctl "$dir/api1" pause >/dev/null || fail "pause failed"
saved=$(ticks "$dir/out1" | tail -n 1)
ctl "$dir/api1" snapshot "$dir/vm.snap" >"$dir/snap1" 2>&1 ||
    { cat "$dir/snap1" "$dir/err1"; fail "snapshot failed"; }
kill -9 "$vm"; wait "$vm" 2>/dev/null
stop_srv "$srv1"
cp "$dir/disk.img" "$dir/disk.saved"
grep -q "vfio-user" "$dir/err1" && { cat "$dir/err1"; fail "minivmm complained"; }

# A v2 server (no migration region): refused before the guest runs.
start_srv srvq; srvq=$srv
"$BUILD/minivmm" --restore "$dir/vm.snap" \
    --vfio-user "socket=$dir/srvq.sock,id=blk" \
    --serial "file:$dir/outq" 2>"$dir/errq"
rc=$?
stop_srv "$srvq"
[ "$rc" -eq 2 ] ||
    { cat "$dir/errq"; fail "v2 server: exit $rc, want 2"; }
grep -q "vfio-user blk: cannot restore its state: num_regions is 0x9, the snapshot has 0xa" \
    "$dir/errq" || { cat "$dir/errq"; fail "no message naming the field"; }
[ -s "$dir/outq" ] && fail "the guest ran against the v2 server"
cmp -s "$dir/disk.img" "$dir/disk.saved" ||
    fail "the refused restore changed the disk"
echo "$name: refused: $(grep 'cannot restore' "$dir/errq")"

# A new vfu-blk --migration=v1 on the same disk file: the guest goes on.
start_srv srv2 --migration=v1; srv2=$srv
"$BUILD/minivmm" --restore "$dir/vm.snap" \
    --vfio-user "socket=$dir/srv2.sock,id=blk" \
    --serial "file:$dir/out2" 2>"$dir/err2"
rc=$?
stop_srv "$srv2"
tr -d '\r' <"$dir/out2" | tail -n 3
[ "$rc" -eq 0 ] || { cat "$dir/err2"; fail "restored minivmm exited $rc"; }
first=$(ticks "$dir/out2" | head -n 1)
[ "$first" = $((saved + 1)) ] ||
    fail "restored guest starts at tick '$first', want $((saved + 1))"
tr -d '\r' <"$dir/out2" | grep -qx "PASS vblk-count" ||
    fail "no 'PASS vblk-count'"
writes=$(tr -d '\r' <"$dir/out2" |
         sed -n 's/^vblk-count: \([0-9]*\) writes.*/\1/p')
[ -n "$writes" ] && [ "$writes" -ge 256 ] || fail "only '$writes' writes"
# Block k holds write w = the last w < writes with w % 256 == k.
k=0
while [ "$k" -lt 256 ]; do
    w=$((writes - 1 - (writes - 1 - k) % 256))
    got=$(dd if="$dir/disk.img" bs=4096 skip="$k" count=1 2>/dev/null |
          head -n 1)
    [ "$got" = "MVMBLK write $w" ] ||
        fail "block $k holds '$got', want 'MVMBLK write $w'"
    k=$((k + 1))
done
echo "$name: v1 snapshot saved at tick $saved, restored from tick $first;" \
     "$writes writes, all 256 blocks on the host file as the guest wrote them"
exit 0
