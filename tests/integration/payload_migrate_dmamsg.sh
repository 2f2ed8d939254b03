#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# Live migration while a vfio-user server writes guest RAM through
# VFIO_USER_DMA_WRITE messages (tools/vfu-blk with dma=message: no guest
# memory is shared, every disk read lands in guest RAM as a DMA_WRITE the
# client serves). The guest (tests/guest/virtio test=vblk-readsum) keeps
# writing the disk's second half and reading blocks of its first half
# (random data from the host) into fresh read slots that only the device
# writes, once each. It also keeps 16 MiB of RAM churning (fill=16
# churn=256) and the downtime target is 1 ms, so pre-copy runs several
# passes while the device writes. At the end, on the destination, the
# guest hashes the slots (the data that crossed the migration) and the
# same blocks read afresh: both hashes must be equal and every slot must
# match. A DMA_WRITE the client does not mark dirty is lost on the
# destination (stale slots: "FAIL vblk-readsum: N of 1024 slots stale"),
# issue 9 item 1; vfu-blk, like libvfio-user, does not report
# message-based writes in its own DMA dirty log.
: "${BUILD:=build}"
name=payload_migrate_dmamsg
for b in vfu-blk minivmm-ctl; do
    [ -x "$BUILD/$b" ] || { echo "$name: no $BUILD/$b" >&2; exit 77; }
done
. "$(dirname "$0")/lib_migrate.sh"
. "$(dirname "$0")/lib_vfio.sh"
sum_of() {      # FILE WORD: the hex after "vblk-readsum: ... WORD"
    tr -d '\r' <"$1" | sed -n "s/^vblk-readsum: .*$2 \([0-9a-f]*\)\$/\1/p"
}

head -c 2M /dev/urandom >"$dir/disk.img"
truncate -s 4M "$dir/disk.img"
start_srv srv1
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
    --vfio-user "socket=$dir/srv1.sock,id=blk,dma=message" \
    --cmdline "test=vblk-readsum ticks=40 tick_ms=100 blocks=512 slots=1024 fill=16 churn=256" \
    --migrate-downtime-ms 1 \
    --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
src=$!
pids="$pids $src"
wait_for "$dir/out1" "^counter: tick 3 " 30 ||
    { cat "$dir/out1" "$dir/err1"; fail "the guest does not count"; }
migrate_blk "" ",dma=message"
tr -d '\r' <"$dir/out2" | grep "vblk-readsum\|FAIL\|PASS"
tr -d '\r' <"$dir/out2" | grep -q "^FAIL" &&
    fail "the guest failed on the destination (a device write into guest" \
         "RAM, data or used ring, was lost in the migration)"
continues "$dir/out1" "$dir/out2"
got=$(sum_of "$dir/out2" sum)
want=$(sum_of "$dir/out2" expected)
[ -n "$got" ] && [ "$got" = "$want" ] ||
    fail "guest read slots hash '$got', the disk's blocks '$want'" \
         "(device writes lost in the migration)"
[ "$rc" -eq 0 ] || { cat "$dir/err2"; fail "destination exited $rc"; }
tr -d '\r' <"$dir/out2" | grep -qx "PASS vblk-readsum" ||
    fail "no 'PASS vblk-readsum'"
echo "$name: ticks 1-$last on the source, $first-40 on the destination;" \
    "slots hash $got = disk $want; $(grep '^downtime' "$dir/mig.out")"
