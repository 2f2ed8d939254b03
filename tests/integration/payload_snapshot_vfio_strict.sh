#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# payload_snapshot_vfio.sh against vfu-blk --strict: the server refuses what
# current libvfio-user refuses (commands other than region access,
# DEVICE_FEATURE, MIG_DATA_* and DMA_(UN)MAP while the device is in STOP,
# STOP_COPY or RESUMING; MIG_DATA_WRITE with argsz < 8 + size) and pads
# MIG_DATA_READ replies to the requested size (vfio/server/server.h, "strict").
VFU_ARGS=--strict exec sh "$(dirname "$0")/payload_snapshot_vfio.sh"
