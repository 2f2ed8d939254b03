#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# Snapshot/restore with --viommu intel and a vfu-blk disk in use: the
# guest (virtio payload, test=vblk-count vtd=1; tests/guest/virtio/
# test_vtd.c, vtd_confine()) programs the VT-d unit (root and context
# tables, second-level tables, register-based invalidation, translation
# on) and gives the disk its data buffers at IOVA 0x7f0000000000 (not
# their GPAs), then writes/reads blocks. Paused, snapshotted, minivmm and
# vfu-blk killed; a NEW vfu-blk and `minivmm --restore`: the unit's state
# (registers, root table address, each endpoint's mappings) is loaded and
# the mappings are replayed to the new server as DMA_MAPs at the guest's
# IOVAs before any vCPU runs, so the guest goes on from the next tick
# without re-programming the unit, and every block in the host file holds
# the guest's last write to it.
VIOMMU=intel exec sh "$(dirname "$0")/payload_snapshot_viommu.sh"
