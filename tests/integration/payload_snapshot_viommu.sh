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
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_vfio.sh"
. "$(dirname "$0")/lib_viommu.sh"
viommu_pick payload_snapshot
need_viommu
need_kvm
need_bins vfu-blk minivmm-ctl
make_dir

truncate -s 4M "$dir/disk.img"
start_srv srv1; srv1=$srv
confined_vm
snapshot_blk
restore_blk --viommu "$VIOMMU"
resumes "$dir/out2" "$saved"
vblk_written "$dir/out2" 64 "$dir/err2"
echo "$name: saved at tick $saved, restored from tick $first through the" \
     "replayed IOVA mappings; $writes writes, all 64 blocks as written"
exit 0
