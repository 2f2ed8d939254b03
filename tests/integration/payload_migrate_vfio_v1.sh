#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 180
# payload_migrate_vfio.sh with every vfu-blk serving migration v1 (spec
# 0.9.1, tools/vfu-blk --migration=v1): PRE_COPY data through the
# migration region, DIRTY_PAGES bitmaps with the pages the server wrote,
# _SAVING and RESUMING; twice, with DMA through the guest RAM memfd
# (dma=fd) and through DMA_READ/WRITE messages (dma=message).
VFU_ARGS=--migration=v1 exec sh "$(dirname "$0")/payload_migrate_vfio.sh"
