#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# Live migration with --viommu intel and a vfu-blk disk in use: the guest
# (test=vblk-count vtd=1; tests/guest/virtio/test_vtd.c, vtd_confine())
# has programmed the VT-d unit and does its disk I/O through IOVA
# 0x7f0000000000. The destination (its own vfu-blk on the same disk file)
# loads the unit's state and replays each endpoint's mappings to its
# server before the guest runs there; the guest, which never re-programs
# the unit, goes on from the next tick, verifies every block and the host
# file holds the guest's last write to each. Pages the server writes
# through the IOVA windows are merged into the migration by the memfd
# offset of each window (the server's DMA dirty log).
VIOMMU=intel exec sh "$(dirname "$0")/payload_migrate_viommu.sh"
