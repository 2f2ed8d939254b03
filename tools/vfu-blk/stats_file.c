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
    fprintf(f, "{\"requests\": %" PRIu64 ", \"bytes_read\": %" PRIu64
            ", \"bytes_written\": %" PRIu64 ", \"errors\": %" PRIu64
            ", \"doorbells_ioeventfd\": %" PRIu64
            ", \"doorbells_region_write\": %" PRIu64
            ", \"irqs_msix\": %" PRIu64 ", \"irqs_intx\": %" PRIu64
            ", \"dma_messages\": %" PRIu64 ", \"commands\": %" PRIu64
            ", \"connections\": %" PRIu64 ", \"time_ms\": %" PRIu64 "}\n",
            c.requests, c.bytes_read, c.bytes_written, c.errors,
            c.doorbells_ioeventfd, c.doorbells_region, c.irqs_msix,
            c.irqs_intx, c.dma_msgs, c.commands, c.connections,
            clock_now_ms());
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
