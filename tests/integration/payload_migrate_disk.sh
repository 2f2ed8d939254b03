#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 90
# Live migration with an in-VMM virtio-blk disk doing I/O: the guest
# (tests/guest/virtio test=vblk-count) counts and writes/reads 4 KiB blocks
# round-robin all the time; it migrates over unix to a second minivmm on
# the same disk file. The counter goes on from the next tick, the writes
# go on, and at the end the guest reads every block back and finds its
# last write (so no write was lost or torn across the hand-over, and the
# pages the device wrote by DMA arrived); the file holds them too.
: "${BUILD:=build}"
name=payload_migrate_disk
. tests/integration/lib_migrate.sh
writes() {
    tr -d '\r' <"$1" | sed -n 's/^counter: tick .* writes \([0-9]*\)$/\1/p'
}

truncate -s 4M "$dir/disk.img"
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --cpus 1 --memory 256M \
    --disk "path=$dir/disk.img" \
    --cmdline "test=vblk-count ticks=30 tick_ms=100 blocks=256" \
    --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
src=$!
pids="$src"
"$BUILD/minivmm" --incoming "unix:$dir/mig" --disk "path=$dir/disk.img" \
    --serial "file:$dir/out2" 2>"$dir/err2" &
dst=$!
pids="$pids $dst"
wait_for "$dir/out1" "^counter: tick 5 " 30 ||
    { cat "$dir/out1" "$dir/err1"; fail "the guest does not count"; }
ctl "$dir/api1" migrate "unix:$dir/mig" >"$dir/mig.out" 2>"$dir/mig.err" ||
    { cat "$dir/mig.out" "$dir/mig.err" "$dir/err1" "$dir/err2";
      fail "migration failed"; }
wait "$src" || fail "the source exited non-zero"
wait "$dst"
rc=$?
tr -d '\r' <"$dir/out2" | tail -n 3
[ "$rc" -eq 0 ] || { cat "$dir/err2"; fail "destination exited $rc"; }
continues "$dir/out1" "$dir/out2"
w1=$(writes "$dir/out1" | tail -n 1)
w2=$(writes "$dir/out2" | head -n 1)
[ "$w2" -gt "$w1" ] || fail "no writes on the destination ($w1 -> $w2)"
tr -d '\r' <"$dir/out2" | grep -q "^vblk-count: .* blocks verified" ||
    fail "blocks not verified"
tr -d '\r' <"$dir/out2" | grep -qx "PASS vblk-count" ||
    fail "no 'PASS vblk-count'"
head -c 13 "$dir/disk.img" | grep -q "MVMBLK write" ||
    fail "the disk file does not hold the guest's blocks"
echo "$name: ticks 1-$last ($w1 writes) on the source, $first-30 on the" \
    "destination ($w2 writes at its first tick);" \
    "$(grep '^downtime' "$dir/mig.out")"
