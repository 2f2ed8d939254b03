#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# Live migration with --viommu virtio and a vfu-blk disk in use: the guest
# (test=vblk-count viommu=1) has confined the disk to a virtio-iommu
# domain and does its I/O through IOVA 0x7f0000000000. The destination
# (its own vfu-blk on the same disk file) loads the vIOMMU's state and
# replays the mappings to its server before the guest runs there; the
# guest goes on from the next tick, verifies every block and the host file
# holds the guest's last write to each. Pages the server writes through
# the IOVA windows are merged into the migration by the memfd offset of
# each window (the server's DMA dirty log).
: "${BUILD:=build}"
# VIOMMU=intel runs the same with the VT-d unit (payload_migrate_vtd.sh).
: "${VIOMMU:=virtio}"
case "$VIOMMU" in
virtio) name=payload_migrate_viommu confine=viommu=1
        marker="confined, data at IOVA 0x7f0000000000" ;;
intel)  name=payload_migrate_vtd confine=vtd=1
        marker="^vtd: endpoint .* confined, data at IOVA 0x7f0000000000" ;;
*)      echo "VIOMMU=$VIOMMU: virtio or intel" >&2; exit 2 ;;
esac
[ "$VIOMMU" = virtio ] || "$BUILD/minivmm" --help 2>&1 | grep -qw "$VIOMMU" ||
    { echo "$name: minivmm has no --viommu $VIOMMU" >&2; exit 77; }
fail() { echo "$name: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
for b in vfu-blk minivmm-ctl; do
    [ -x "$BUILD/$b" ] || { echo "$name: no $BUILD/$b" >&2; exit 77; }
done
dir=$(mktemp -d) || exit 1
pids=
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
next_tick() {
    [ "$3" = $(($2 + 1)) ] && return 0
    [ "$3" = $(($2 + 2)) ] && [ -n "$(tail -c 1 "$1" | tr -d '\n')" ]
}
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
    --viommu "$VIOMMU" --vfio-user "socket=$dir/srv1.sock,id=blk" \
    --cmdline "test=vblk-count $confine ticks=30 tick_ms=100 blocks=64" \
    --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
src=$!
pids="$pids $src"
wait_for "$dir/out1" "^counter: tick 3 " 30 ||
    { cat "$dir/out1" "$dir/err1"; fail "the guest does not count"; }
tr -d '\r' <"$dir/out1" | grep -q "$marker" ||
    fail "the guest did not confine the disk"
start_srv srv2
"$BUILD/minivmm" --incoming "unix:$dir/mig" --viommu "$VIOMMU" \
    --vfio-user "socket=$dir/srv2.sock,id=blk" \
    --serial "file:$dir/out2" 2>"$dir/err2" &
dst=$!
pids="$pids $dst"
"$BUILD/minivmm-ctl" "$dir/api1" migrate "unix:$dir/mig" >"$dir/mig.out" 2>&1 ||
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
writes=$(tr -d '\r' <"$dir/out2" |
         sed -n 's/^vblk-count: \([0-9]*\) writes.*/\1/p')
[ -n "$writes" ] && [ "$writes" -ge 64 ] || fail "only '$writes' writes"
k=0
while [ "$k" -lt 64 ]; do
    w=$((writes - 1 - (writes - 1 - k) % 64))
    got=$(dd if="$dir/disk.img" bs=4096 skip="$k" count=1 2>/dev/null |
          head -n 1)
    [ "$got" = "MVMBLK write $w" ] ||
        fail "block $k holds '$got', want 'MVMBLK write $w'"
    k=$((k + 1))
done
echo "$name: ticks 1-$last on the source, $first-30 on the destination" \
     "through the replayed IOVA mappings; $(grep '^downtime' "$dir/mig.out")"
exit 0
