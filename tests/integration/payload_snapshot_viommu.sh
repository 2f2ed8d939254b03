#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# Snapshot/restore with --viommu virtio and a vfu-blk disk in use: the
# guest (virtio payload, test=vblk-count viommu=1) confines the disk to a
# virtio-iommu domain and gives it its data buffers at IOVA 0x7f0000000000
# (not their GPAs), then writes/reads blocks. Paused, snapshotted, minivmm
# and vfu-blk killed; a NEW vfu-blk and `minivmm --restore`: the vIOMMU's
# state (domains, attachments, mappings) is loaded and its mappings are
# replayed to the new server as DMA_MAPs at the guest's IOVAs before any
# vCPU runs, so the guest goes on from the next tick and every block in
# the host file holds the guest's last write to it.
: "${BUILD:=build}"
# VIOMMU=intel runs the same with the VT-d unit (payload_snapshot_vtd.sh).
: "${VIOMMU:=virtio}"
case "$VIOMMU" in
virtio) name=payload_snapshot_viommu confine=viommu=1
        marker="confined, data at IOVA 0x7f0000000000" ;;
intel)  name=payload_snapshot_vtd confine=vtd=1
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
wait_for() {    # FILE REGEX SECONDS
    i=0
    while ! tr -d '\r' 2>/dev/null <"$1" | grep -q "$2"; do
        i=$((i + 1))
        [ "$i" -gt $(($3 * 20)) ] && return 1
        sleep 0.05
    done
}
ticks() { tr -d '\r' <"$1" | sed -n 's/^counter: tick \([0-9]*\) .*/\1/p'; }
start_srv() {   # NAME
    "$BUILD/vfu-blk" --socket-path="$dir/$1.sock" --disk "$dir/disk.img" \
        >"$dir/$1.log" 2>&1 &
    srv=$!
    pids="$pids $srv"
    for i in $(seq 50); do [ -S "$dir/$1.sock" ] && return 0; sleep 0.1; done
    fail "vfu-blk $1 did not create its socket"
}

truncate -s 4M "$dir/disk.img"
start_srv srv1; srv1=$srv
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
    --viommu "$VIOMMU" --vfio-user "socket=$dir/srv1.sock,id=blk" \
    --cmdline "test=vblk-count $confine ticks=30 tick_ms=100 blocks=64" \
    --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
vm=$!
pids="$pids $vm"
wait_for "$dir/out1" "^counter: tick 3 " 30 ||
    { cat "$dir/out1" "$dir/err1"; fail "the guest does not count"; }
tr -d '\r' <"$dir/out1" | grep -q "$marker" ||
    fail "the guest did not confine the disk"
"$BUILD/minivmm-ctl" "$dir/api1" pause >/dev/null || fail "pause failed"
saved=$(ticks "$dir/out1" | tail -n 1)
"$BUILD/minivmm-ctl" "$dir/api1" snapshot "$dir/vm.snap" >"$dir/snap" 2>&1 ||
    { cat "$dir/snap" "$dir/err1"; fail "snapshot failed"; }
kill -9 "$vm"; wait "$vm" 2>/dev/null
kill "$srv1"; wait "$srv1" 2>/dev/null

start_srv srv2; srv2=$srv
"$BUILD/minivmm" --restore "$dir/vm.snap" --viommu "$VIOMMU" \
    --vfio-user "socket=$dir/srv2.sock,id=blk" \
    --serial "file:$dir/out2" 2>"$dir/err2"
rc=$?
kill "$srv2"; wait "$srv2" 2>/dev/null
tr -d '\r' <"$dir/out2" | tail -n 3
[ "$rc" -eq 0 ] || { cat "$dir/err2"; fail "restored minivmm exited $rc"; }
first=$(ticks "$dir/out2" | head -n 1)
[ "$first" = $((saved + 1)) ] ||
    fail "restored guest starts at tick '$first', want $((saved + 1))"
tr -d '\r' <"$dir/out2" | grep -qx "PASS vblk-count" ||
    { cat "$dir/err2"; fail "no 'PASS vblk-count'"; }
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
echo "$name: saved at tick $saved, restored from tick $first through the" \
     "replayed IOVA mappings; $writes writes, all 64 blocks as written"
exit 0
