/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user server core: region-based migration "v1" and DIRTY_PAGES of
 * spec 0.9.1 (shared/spec/vfio-user-0.9.1.rst "VFIO Device Migration
 * Info", "VFIO_USER_DIRTY_PAGES"), for a device created with
 * vfio_srv_dev.mig_v1 (vfu-blk --migration=v1).
 *
 * The core adds the migration region at VFIO_SRV_MIG_V1_REGION (as
 * libvfio-user's VFU_PCI_DEV_MIGR_REGION_IDX) with the migration type
 * capability, and advertises "migration": {"pgsize": 4096} in VERSION.
 * The region: struct vfio_user_migration_info at 0 (each register read or
 * written whole, like libvfio-user), the data section at
 * VFIO_SRV_MIG_V1_DATA_OFF (VFIO_SRV_MIG_V1_DATA_SIZE bytes, not mmap'd).
 *
 * A device_state write is checked against the spec's table
 * (vfio_user_mig_v1_transition) and walked with the v2 machinery
 * (server_mig.c: the same device callbacks, the same stream buffer):
 * _SAVING is STOP_COPY, _RUNNING|_SAVING PRE_COPY. Saving: a pending_bytes
 * read starts an iteration, the first data_offset read of an iteration
 * moves the next chunk of the stream into the data section, data_size
 * gives its length. Resuming: data_offset gives the data section, the
 * client writes a chunk there and then writes its length into data_size,
 * which appends it to the stream; RESUMING -> RUNNING loads it.
 */
#include "vfio/server/server_mig_v1.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfio/server/server_dma.h"
#include "vfio/server/server_mig.h"

#include "vfio/proto/migration.h"

#define INFO     ((uint64_t)sizeof(struct vfio_user_migration_info))
#define DOFF     ((uint64_t)VFIO_SRV_MIG_V1_DATA_OFF)
#define DSIZE    ((uint64_t)VFIO_SRV_MIG_V1_DATA_SIZE)
#define DP       ((uint32_t)sizeof(struct vfio_user_dirty_pages))
#define RANGE    ((uint32_t)sizeof(struct vfio_user_bitmap_range))

struct srv_mig_v1 {
    uint8_t data[VFIO_SRV_MIG_V1_DATA_SIZE]; /* the data section */
    uint64_t chunk;        /* bytes of the prepared chunk */
    bool prepared;         /* data_offset read in this iteration */
};

int srv_mig_v1_init(struct vfio_srv *s)
{
    struct vfio_srv_region *rg = &s->regions[VFIO_SRV_MIG_V1_REGION];

    if (!s->dev.mig_flags || s->dev.num_regions > VFIO_SRV_MIG_V1_REGION)
        return -EINVAL;
    s->v1 = calloc(1, sizeof(*s->v1));
    if (!s->v1)
        return -ENOMEM;
    memset(rg, 0, sizeof(*rg));
    rg->size = DOFF + DSIZE;
    rg->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    rg->mmap_fd = -1;
    rg->type = VFIO_USER_REGION_TYPE_MIGRATION;
    rg->subtype = VFIO_USER_REGION_SUBTYPE_MIGRATION;
    s->dev.num_regions = VFIO_SRV_MIG_V1_REGION + 1;
    s->own.migration = true;
    s->own.mig_pgsize = VFIO_SRV_LOG_PGSIZE;
    return 0;
}

void srv_mig_v1_free(struct vfio_srv *s)
{
    free(s->v1);
    s->v1 = NULL;
}

bool srv_mig_v1_region(const struct vfio_srv *s, uint32_t region)
{
    return s->v1 && region == VFIO_SRV_MIG_V1_REGION;
}

/* v2 state -> v1 bit set (ERROR and the P2P states: ERROR). */
static uint32_t v1_of(uint32_t s)
{
    switch (s) {
    case VFIO_DEVICE_STATE_STOP: return VFIO_USER_MIG_V1_STATE_STOP;
    case VFIO_DEVICE_STATE_RUNNING: return VFIO_USER_MIG_V1_STATE_RUNNING;
    case VFIO_DEVICE_STATE_STOP_COPY: return VFIO_USER_MIG_V1_STATE_STOP_COPY;
    case VFIO_DEVICE_STATE_PRE_COPY: return VFIO_USER_MIG_V1_STATE_PRE_COPY;
    case VFIO_DEVICE_STATE_RESUMING: return VFIO_USER_MIG_V1_STATE_RESUMING;
    default: return VFIO_USER_MIG_V1_STATE_ERROR;
    }
}

static uint32_t v2_of(uint32_t v1)
{
    switch (v1) {
    case VFIO_USER_MIG_V1_STATE_STOP: return VFIO_DEVICE_STATE_STOP;
    case VFIO_USER_MIG_V1_STATE_RUNNING: return VFIO_DEVICE_STATE_RUNNING;
    case VFIO_USER_MIG_V1_STATE_STOP_COPY: return VFIO_DEVICE_STATE_STOP_COPY;
    case VFIO_USER_MIG_V1_STATE_PRE_COPY: return VFIO_DEVICE_STATE_PRE_COPY;
    default: return VFIO_DEVICE_STATE_RESUMING;
    }
}

static bool saving(const struct vfio_srv *s)
{
    return s->mig_state == VFIO_DEVICE_STATE_STOP_COPY ||
           s->mig_state == VFIO_DEVICE_STATE_PRE_COPY;
}

static int set_state(struct vfio_srv *s, uint32_t to)
{
    uint32_t from = v1_of(s->mig_state);
    int r = vfio_user_mig_v1_transition(from, to);

    if (r == 0 && from != to)
        r = srv_mig_set_state(s, v2_of(to));
    s->v1->prepared = false;
    s->v1->chunk = 0;
    return r;
}

/* Append the first @n bytes of the data section to the load stream. */
static int resume_chunk(struct vfio_srv *s, uint64_t n)
{
    if (s->mig_state != VFIO_DEVICE_STATE_RESUMING || n > DSIZE ||
        n > VFIO_SRV_MIG_DATA_MAX - s->mig_len)
        return -EINVAL;
    if (n == 0)
        return 0;
    return srv_mig_append(s, s->v1->data, n);
}

/* data_offset read: the next chunk of the save stream, once per
 * iteration; in RESUMING just the data section. */
static int data_offset(struct vfio_srv *s, uint64_t *v)
{
    struct srv_mig_v1 *m = s->v1;
    size_t left = s->mig_len - s->mig_pos;

    if (s->mig_state == VFIO_DEVICE_STATE_RESUMING) {
        *v = DOFF;
        return 0;
    }
    if (!saving(s))
        return -EINVAL;
    if (!m->prepared) {
        m->chunk = left < DSIZE ? left : DSIZE;
        if (m->chunk)
            memcpy(m->data, s->mig_buf + s->mig_pos, m->chunk);
        s->mig_pos += m->chunk;
        m->prepared = true;
    }
    *v = DOFF;
    return 0;
}

static int reg64(struct vfio_srv *s, uint64_t off, uint64_t *v, bool write)
{
    if (off == offsetof(struct vfio_user_migration_info, pending_bytes)) {
        if (write)
            return -EINVAL;
        s->v1->prepared = false;
        *v = saving(s) ? s->mig_len - s->mig_pos : 0;
        return 0;
    }
    if (off == offsetof(struct vfio_user_migration_info, data_offset))
        return write ? -EINVAL : data_offset(s, v);
    if (write)
        return resume_chunk(s, *v);
    if (!saving(s) || !s->v1->prepared)
        return -EINVAL;
    *v = s->v1->chunk;
    return 0;
}

static int registers(struct vfio_srv *s, uint64_t off, void *buf,
                     uint32_t len, bool write)
{
    uint32_t st;
    uint64_t v = 0;
    int r;

    if (off == 0 && len == 4) {
        if (!write) {
            st = v1_of(s->mig_state);
            memcpy(buf, &st, 4);
            return 0;
        }
        memcpy(&st, buf, 4);
        return set_state(s, st);
    }
    if (off == 4 && len == 4) {    /* reserved: ignored */
        if (!write)
            memset(buf, 0, 4);
        return 0;
    }
    if (len != 8 || off % 8 || off < 8 || off >= INFO)
        return -EINVAL;
    if (write)
        memcpy(&v, buf, 8);
    r = reg64(s, off, &v, write);
    if (r == 0 && !write)
        memcpy(buf, &v, 8);
    return r;
}

int srv_mig_v1_access(struct vfio_srv *s, uint64_t off, void *buf,
                      uint32_t len, bool write)
{
    struct srv_mig_v1 *m = s->v1;

    if (off < INFO)
        return off + len <= INFO ? registers(s, off, buf, len, write)
                                 : -EINVAL;
    if (off < DOFF || off - DOFF > DSIZE || len > DSIZE - (off - DOFF))
        return -EINVAL;
    off -= DOFF;
    if (write) {
        if (s->mig_state != VFIO_DEVICE_STATE_RESUMING)
            return -EINVAL;
        memcpy(m->data + off, buf, len);
        return 0;
    }
    if (!saving(s) || !m->prepared || off + len > m->chunk)
        return -EINVAL;
    memcpy(buf, m->data + off, len);
    return 0;
}

/* ---- DIRTY_PAGES -------------------------------------------------------- */

static int get_bitmap(struct vfio_srv *s, struct vfio_user_msg *m,
                      struct vfio_user_dirty_pages *dp)
{
    struct vfio_user_bitmap_range rg;
    uint64_t pages, bytes;
    uint32_t need;

    if (m->payload_len != DP + RANGE || !s->logging)
        return -EINVAL;
    memcpy(&rg, (uint8_t *)m->payload + DP, RANGE);
    if (!rg.size || rg.iova + rg.size < rg.iova || rg.bitmap.pgsize < 512 ||
        (rg.bitmap.pgsize & (rg.bitmap.pgsize - 1)) ||
        (rg.iova | rg.size) & (rg.bitmap.pgsize - 1))
        return -EINVAL;
    pages = rg.size / rg.bitmap.pgsize;
    bytes = (pages + 63) / 64 * 8;
    if (rg.bitmap.size != bytes)
        return -EINVAL;
    if (bytes > s->eff.max_data_xfer_size || bytes > s->buf_size - DP - RANGE)
        return -E2BIG;
    need = (uint32_t)(DP + RANGE + bytes);
    if (dp->argsz < need) {  /* as libvfio-user: the size needed, no data */
        dp->argsz = need;
        return srv_reply(s, m, dp, DP, NULL, 0);
    }
    dp->argsz = need;
    memcpy(s->obuf, dp, DP);
    memcpy(s->obuf + DP, &rg, RANGE);
    memset(s->obuf + DP + RANGE, 0, bytes);
    srv_log_harvest_all(s, rg.iova, rg.size, rg.bitmap.pgsize,
                        (uint64_t *)(s->obuf + DP + RANGE));
    s->stats.dirty_bitmaps++;
    for (uint64_t i = 0; i < bytes / 8; i++)
        s->stats.dirty_pages += (uint64_t)__builtin_popcountll(
            ((uint64_t *)(s->obuf + DP + RANGE))[i]);
    return srv_reply(s, m, s->obuf, need, NULL, 0);
}

int srv_cmd_dirty_pages(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_user_dirty_pages dp;
    int r;

    if (!s->v1 || !s->eff.migration)
        return -ENOTSUP;
    memcpy(&dp, m->payload, DP);
    if (dp.argsz < DP)
        return -EINVAL;
    switch (dp.flags) {
    case VFIO_IOMMU_DIRTY_PAGES_FLAG_START:
        if (m->payload_len != DP)
            return -EINVAL;
        r = srv_log_enable(s);
        return r ? r : srv_reply(s, m, NULL, 0, NULL, 0);
    case VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP:
        if (m->payload_len != DP)
            return -EINVAL;
        srv_log_disable(s);
        return srv_reply(s, m, NULL, 0, NULL, 0);
    case VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP:
        return get_bitmap(s, m, &dp);
    default:
        return -EINVAL;
    }
}
