#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# payload_snapshot_vfio.sh with every vfu-blk serving migration v1 (spec
# 0.9.1: migration region + DIRTY_PAGES; tools/vfu-blk --migration=v1):
# a snapshot while running (the VM goes on), then paused, snapshotted,
# minivmm and vfu-blk killed; restores against a mismatching v1 server and
# against a v2 server (no migration region) are refused naming the field;
# a new vfu-blk --migration=v1 on the same disk file goes on from the next
# tick and every block holds the guest's last write.
VFU_ARGS=--migration=v1 exec sh "$(dirname "$0")/payload_snapshot_vfio.sh"
