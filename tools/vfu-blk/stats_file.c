/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-blk --stats-file: the counters as one JSON object, rewritten
 * atomically (a temporary file renamed over PATH) so a reader never sees
 * half a file. Keys are those of the SIGUSR1 line (blkdev.h) plus
 * "time_ms" (CLOCK_MONOTONIC of the write); docs/api.md, "vfu-blk
 * counters". */
#include "stats_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/clock.h"

int vfu_blk_write_stats_file(const struct vfu_blk *d, const char *path)
{
    struct vfu_blk_counters c;
    char tmp[4200];
    FILE *f;
    int r = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    vfu_blk_get_counters(d, &c);
    f = fopen(tmp, "we");
    if (!f)
        return -errno;
    for (unsigned int i = 0; i < VFU_BLK_NR_COUNTERS; i++)
        fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "{",
                vfu_blk_counter_names[i].name, vfu_blk_counter(&c, i));
    fprintf(f, ", \"time_ms\": %" PRIu64 "}\n", clock_now_ms());
    if (ferror(f))
        r = -EIO;
    if (fclose(f) && !r)
        r = -errno;
    if (!r && rename(tmp, path))
        r = -errno;
    if (r)
        unlink(tmp);
    return r;
}
