/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-blk --stats-file PATH (stats_file.c). */
#ifndef VFU_BLK_STATS_FILE_H
#define VFU_BLK_STATS_FILE_H

#include "blkdev.h"

#define VFU_BLK_STATS_PERIOD_MS 1000 /* rewrite period */

/* Write @d's counters to @path as one JSON object (atomically replaced).
 * 0 or -errno. */
int vfu_blk_write_stats_file(const struct vfu_blk *d, const char *path);

#endif
