/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user client: region-based migration v1 and DIRTY_PAGES. See
 * client_mig_v1.h. Spec: vfio-user-0.9.1.rst "VFIO Device Migration Info",
 * "VFIO_USER_DIRTY_PAGES", "VFIO Bitmap Range Format". */
#include "vfio/client/client_mig_v1.h"
#include "vfio/client/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfio/proto/migration.h"

#define INFO       ((uint64_t)sizeof(struct vfio_user_migration_info))
#define OFF_STATE  0u
#define OFF_PEND   8u
#define OFF_DOFF   16u
#define OFF_DSIZE  24u
#define DP         ((uint32_t)sizeof(struct vfio_user_dirty_pages))
#define RANGE      ((uint32_t)sizeof(struct vfio_user_bitmap_range))
#define REC_HDR    8u

int vfio_client_mig_v1_find(struct vfio_client *c, uint32_t num_regions,
                            struct vfio_client_mig_v1 *out)
{
    struct vfio_client_region *ri = malloc(sizeof(*ri));
    int r = ri ? -ENOENT : -ENOMEM;

    for (uint32_t i = 0; ri && i < num_regions && r == -ENOENT; i++) {
        int q = vfio_client_region_info(c, i, ri);

        if (q == 0 && ri->fd >= 0)
            close(ri->fd);
        if (q == -ENODEV || q == -EPROTO || q == -ETIMEDOUT)
            r = q;
        if (q || !ri->has_type ||
            ri->type != VFIO_USER_REGION_TYPE_MIGRATION ||
            ri->subtype != VFIO_USER_REGION_SUBTYPE_MIGRATION)
            continue;
        if (ri->size <= INFO || !(ri->flags & VFIO_REGION_INFO_FLAG_READ) ||
            !(ri->flags & VFIO_REGION_INFO_FLAG_WRITE)) {
            client_refuse(c, "migration region %u: %#llx bytes, flags %#x "
                          "(needs > %llu bytes, READ and WRITE)", i,
                          (unsigned long long)ri->size, ri->flags,
                          (unsigned long long)INFO);
            r = -EPROTO;
            break;
        }
        *out = (struct vfio_client_mig_v1){i, ri->size};
        r = 0;
    }
    free(ri);
    return r;
}

static int reg_read64(struct vfio_client *c,
                      const struct vfio_client_mig_v1 *m, uint32_t off,
                      uint64_t *v)
{
    return vfio_client_region_read(c, m->region, off, v, 8);
}

int vfio_client_mig_v1_get_state(struct vfio_client *c,
                                 const struct vfio_client_mig_v1 *m,
                                 uint32_t *state)
{
    uint32_t s = 0;
    int r = vfio_client_region_read(c, m->region, OFF_STATE, &s, 4);

    if (r)
        return r;
    if (!vfio_user_mig_v1_state_valid(s)) {
        client_refuse(c, "migration region: device_state %#x is no v1 "
                      "state", s);
        return -EPROTO;
    }
    *state = s;
    return 0;
}

int vfio_client_mig_v1_set_state(struct vfio_client *c,
                                 const struct vfio_client_mig_v1 *m,
                                 uint32_t state, uint32_t *now)
{
    int r = vfio_client_region_write(c, m->region, OFF_STATE, &state, 4,
                                     false);

    int q;

    if (now && !vfio_client_failed(c)) {
        q = vfio_client_mig_v1_get_state(c, m, now);
        r = r ? r : q;
    }
    return r;
}

/* ---- stream framing ----------------------------------------------------- */

int vfio_mig_v1_stream_put(uint8_t **buf, size_t *len, size_t *cap,
                           const void *data, uint64_t n)
{
    size_t need;
    uint8_t *nb;

    if (n > SIZE_MAX - REC_HDR - *len)
        return -EFBIG;
    need = *len + REC_HDR + (size_t)n;
    if (need > *cap) {
        size_t c2 = *cap ? *cap : 4096;

        while (c2 < need)
            c2 = c2 > SIZE_MAX / 2 ? need : c2 * 2;
        nb = realloc(*buf, c2);
        if (!nb)
            return -ENOMEM;
        *buf = nb;
        *cap = c2;
    }
    memcpy(*buf + *len, &n, REC_HDR);
    if (n)
        memcpy(*buf + *len + REC_HDR, data, (size_t)n);
    *len = need;
    return 0;
}

int vfio_mig_v1_stream_next(const uint8_t *buf, size_t len, size_t *pos,
                            uint64_t max, const uint8_t **rec, uint64_t *n)
{
    uint64_t k;

    if (*pos == len)
        return 0;
    if (*pos > len || len - *pos < REC_HDR)
        return -EINVAL;
    memcpy(&k, buf + *pos, REC_HDR);
    if (k > max || k > len - *pos - REC_HDR)
        return -EINVAL;
    *rec = buf + *pos + REC_HDR;
    *n = k;
    *pos += REC_HDR + (size_t)k;
    return 1;
}

/* ---- save / load -------------------------------------------------------- */

/* data_offset (read first: the server prepares the chunk) and data_size,
 * checked to lie in the data section of the region. */
static int data_window(struct vfio_client *c,
                       const struct vfio_client_mig_v1 *m, bool size_too,
                       uint64_t *off, uint64_t *size)
{
    int r = reg_read64(c, m, OFF_DOFF, off);

    if (r == 0 && size_too)
        r = reg_read64(c, m, OFF_DSIZE, size);
    if (r)
        return r;
    if (*off < INFO || *off >= m->size ||
        (size_too && *size > m->size - *off)) {
        client_refuse(c, "migration region: data window [%#llx, +%#llx) "
                      "outside the data section of the %#llx-byte region",
                      (unsigned long long)*off,
                      (unsigned long long)(size_too ? *size : 0),
                      (unsigned long long)m->size);
        return -EPROTO;
    }
    return 0;
}

/* One iteration: 1 if a chunk was appended (maybe empty), 0 when the
 * server has nothing pending. */
static int save_one(struct vfio_client *c, const struct vfio_client_mig_v1 *m,
                    uint8_t **out, size_t *len, size_t *cap, size_t max)
{
    uint64_t pending = 0, off = 0, size = 0;
    uint8_t *tmp;
    int r = reg_read64(c, m, OFF_PEND, &pending);

    if (r || pending == 0)
        return r;
    r = data_window(c, m, true, &off, &size);
    if (r)
        return r;
    if (size > max || *len + REC_HDR + size > max)
        return -EFBIG;
    tmp = malloc(size ? size : 1);
    if (!tmp)
        return -ENOMEM;
    if (size)
        r = vfio_client_region_read(c, m->region, off, tmp, size);
    if (r == 0)
        r = vfio_mig_v1_stream_put(out, len, cap, tmp, size);
    free(tmp);
    return r ? r : 1;
}

int vfio_client_mig_v1_save(struct vfio_client *c,
                            const struct vfio_client_mig_v1 *m, size_t max,
                            void **buf, size_t *len)
{
    uint8_t *out = NULL;
    size_t n = 0, cap = 0, last = 0;
    unsigned int idle = 0;
    int r;

    while ((r = save_one(c, m, &out, &n, &cap, max)) == 1) {
        idle = n - last == REC_HDR ? idle + 1 : 0;
        last = n;
        if (idle > VFIO_CLIENT_MIG_V1_IDLE_MAX) {
            client_refuse(c, "migration region: pending_bytes stays "
                          "non-zero but %u chunks in a row were empty",
                          idle);
            r = -EPROTO;
            break;
        }
    }
    if (r || n == 0) {
        free(out);
        out = NULL;
        n = 0;
    }
    *buf = out;
    *len = n;
    return r;
}

int vfio_client_mig_v1_load(struct vfio_client *c,
                            const struct vfio_client_mig_v1 *m,
                            const void *buf, size_t len)
{
    const uint8_t *rec;
    uint64_t n, off = 0;
    size_t pos = 0;
    int r;

    while ((r = vfio_mig_v1_stream_next(buf, len, &pos, m->size - INFO, &rec,
                                        &n)) == 1) {
        r = data_window(c, m, false, &off, NULL);
        if (r == 0 && n > m->size - off) {
            client_refuse(c, "migration region: a %llu-byte chunk does not "
                          "fit at data_offset %#llx",
                          (unsigned long long)n, (unsigned long long)off);
            r = -EPROTO;
        }
        if (r == 0 && n)
            r = vfio_client_region_write(c, m->region, off, rec, n, false);
        if (r == 0)
            r = vfio_client_region_write(c, m->region, OFF_DSIZE, &n, 8,
                                         false);
        if (r)
            return r;
    }
    return r;
}

/* ---- DIRTY_PAGES -------------------------------------------------------- */

int vfio_client_dirty_pages(struct vfio_client *c, uint32_t flag)
{
    struct vfio_user_dirty_pages d = {DP, flag};
    struct vfio_user_call call = {
        .cmd = VFIO_USER_DIRTY_PAGES, .req = &d, .req_len = DP,
    };

    if (flag != VFIO_IOMMU_DIRTY_PAGES_FLAG_START &&
        flag != VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP)
        return -EINVAL;
    return client_call(c, &call);
}

/* The GET_BITMAP reply of @got bytes at @rep against the request @rq. */
static int check_bitmap(struct vfio_client *c, const uint8_t *rep,
                        uint32_t got, const struct vfio_user_bitmap_range *rq,
                        uint32_t want)
{
    struct vfio_user_dirty_pages d;
    struct vfio_user_bitmap_range rg;

    memcpy(&d, rep, DP);
    if (got == DP && d.argsz > want) {
        /* The server wants a bigger buffer than the range needs. */
        client_refuse(c, "DIRTY_PAGES GET_BITMAP [%#llx, +%#llx): the "
                      "server asks for %u bytes, the bitmap needs %u",
                      (unsigned long long)rq->iova,
                      (unsigned long long)rq->size, d.argsz, want);
        return -EPROTO;
    }
    if (got != want || d.flags != VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP) {
        client_refuse(c, "DIRTY_PAGES GET_BITMAP: %u-byte reply with flags "
                      "%#x, want %u bytes", got, d.flags, want);
        return -EPROTO;
    }
    memcpy(&rg, rep + DP, RANGE);
    if (rg.iova != rq->iova || rg.size != rq->size ||
        rg.bitmap.pgsize != rq->bitmap.pgsize ||
        rg.bitmap.size != rq->bitmap.size) {
        client_refuse(c, "DIRTY_PAGES GET_BITMAP: the reply's range "
                      "[%#llx, +%#llx) pgsize %llu size %llu differs from "
                      "the request", (unsigned long long)rg.iova,
                      (unsigned long long)rg.size,
                      (unsigned long long)rg.bitmap.pgsize,
                      (unsigned long long)rg.bitmap.size);
        return -EPROTO;
    }
    return 0;
}

int vfio_client_dirty_bitmap(struct vfio_client *c, uint64_t iova,
                             uint64_t size, uint64_t pgsize,
                             uint64_t *bitmap)
{
    struct vfio_user_dirty_pages dp = {
        0, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP};
    struct vfio_user_bitmap_range rq;
    uint8_t req[DP + RANGE];
    struct vfio_user_call call = {
        .cmd = VFIO_USER_DIRTY_PAGES, .req = req, .req_len = sizeof(req),
        .reply_min = DP,
    };
    uint64_t bytes;
    int r;

    if (pgsize < 512 || (pgsize & (pgsize - 1)) || !size ||
        (iova | size) & (pgsize - 1) || iova + size < iova)
        return -EINVAL;
    bytes = (size / pgsize + 63) / 64 * 8;
    /* The whole reply within max_data_xfer_size: libvfio-user refuses an
     * argsz above its own. */
    if (c->eff.max_data_xfer_size < DP + RANGE ||
        bytes > c->eff.max_data_xfer_size - DP - RANGE ||
        bytes > VFIO_USER_DEFAULT_MAX_DATA_XFER_SIZE ||
        (c->eff.mig_max_bitmap_size && bytes > c->eff.mig_max_bitmap_size))
        return -E2BIG;
    dp.argsz = (uint32_t)(DP + RANGE + bytes);
    rq = (struct vfio_user_bitmap_range){iova, size, {pgsize, bytes}};
    memcpy(req, &dp, DP);
    memcpy(req + DP, &rq, RANGE);
    call.reply = malloc(dp.argsz);
    call.reply_cap = dp.argsz;
    if (!call.reply)
        return -ENOMEM;
    r = client_call(c, &call);
    if (r == 0)
        r = check_bitmap(c, call.reply, call.reply_len, &rq, dp.argsz);
    if (r == 0)
        memcpy(bitmap, (uint8_t *)call.reply + DP + RANGE, bytes);
    free(call.reply);
    return r;
}
