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
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_vfio.sh"
. "$(dirname "$0")/lib_viommu.sh"
viommu_pick payload_migrate
need_viommu
need_kvm
need_bins vfu-blk minivmm-ctl
make_dir

truncate -s 4M "$dir/disk.img"
start_srv srv1
confined_vm; src=$vm
migrate_blk "" "" --viommu "$VIOMMU"
tr -d '\r' <"$dir/out2" | tail -n 3
[ "$rc" -eq 0 ] || { cat "$dir/err2"; fail "destination exited $rc"; }
continues "$dir/out1" "$dir/out2"
vblk_written "$dir/out2" 64
echo "$name: ticks 1-$last on the source, $first-30 on the destination" \
     "through the replayed IOVA mappings; $(grep '^downtime' "$dir/mig.out")"
exit 0
