/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user client: migration features, the migration data stream, DMA
 * logging and the device identity. See client_mig.h.
 * Spec: vfio-user.rst "VFIO_USER_DEVICE_FEATURE", "VFIO_USER_MIG_DATA_READ",
 * "VFIO_USER_MIG_DATA_WRITE". */
#include "vfio/client/client_mig.h"
#include "vfio/client/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FEAT ((uint32_t)sizeof(struct vfio_user_device_feature))
#define MIGH ((uint32_t)sizeof(struct vfio_user_mig_data))
#define RPT  ((uint32_t)sizeof(struct vfio_user_dma_logging_report))
#define LOG_RANGES_MAX 64u
#define REGION_FLAGS (VFIO_REGION_INFO_FLAG_READ | \
                      VFIO_REGION_INFO_FLAG_WRITE | VFIO_REGION_INFO_FLAG_MMAP)

/* Bytes of data one message may carry (request or reply). */
static uint32_t xfer(const struct vfio_client *c)
{
    uint32_t m = c->eff.max_data_xfer_size;

    if (m > VFIO_USER_DEFAULT_MAX_DATA_XFER_SIZE)
        m = VFIO_USER_DEFAULT_MAX_DATA_XFER_SIZE;
    return m > 64 ? m : 64;
}

/* One DEVICE_FEATURE exchange: @in (@inlen bytes) after the header; the
 * reply's data (after the header) into @out, at most @outcap bytes, its
 * length in *@outlen (may be NULL). */
static int feature(struct vfio_client *c, uint32_t flags, const void *in,
                   uint32_t inlen, void *out, uint32_t outcap,
                   uint32_t *outlen)
{
    struct vfio_user_device_feature h = {FEAT + outcap, flags};
    uint8_t *req = malloc(FEAT + inlen), *rep = malloc(FEAT + outcap);
    struct vfio_user_call call = {
        .cmd = VFIO_USER_DEVICE_FEATURE, .req = req, .req_len = FEAT + inlen,
        .reply = rep, .reply_cap = FEAT + outcap, .reply_min = FEAT,
    };
    int r = req && rep ? 0 : -ENOMEM;

    if (r == 0) {
        memcpy(req, &h, FEAT);
        if (inlen)
            memcpy(req + FEAT, in, inlen);
        r = client_call(c, &call);
    }
    if (r == 0 && out && call.reply_len > FEAT)
        memcpy(out, rep + FEAT, call.reply_len - FEAT);
    if (r == 0 && outlen)
        *outlen = call.reply_len - FEAT;
    free(req);
    free(rep);
    return r;
}

int vfio_client_mig_flags(struct vfio_client *c, uint64_t *flags)
{
    struct vfio_user_device_feature_migration m;
    uint32_t n = 0;
    int r;

    r = feature(c, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
                NULL, 0, &m, sizeof(m), &n);
    if (r)
        return r;
    if (n != sizeof(m) || !(m.flags & VFIO_MIGRATION_STOP_COPY)) {
        client_refuse(c, "DEVICE_FEATURE MIGRATION: %u bytes of data, flags "
                      "%#llx without STOP_COPY", n,
                      n == sizeof(m) ? (unsigned long long)m.flags : 0ULL);
        return -EPROTO;
    }
    *flags = m.flags;
    return 0;
}

int vfio_client_mig_get_state(struct vfio_client *c, uint32_t *state)
{
    struct vfio_user_device_feature_mig_state st;
    uint32_t n = 0;
    int r;

    r = feature(c, VFIO_DEVICE_FEATURE_GET |
                       VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
                NULL, 0, &st, sizeof(st), &n);
    if (r)
        return r;
    if (n != sizeof(st) || st.device_state > VFIO_DEVICE_STATE_PRE_COPY_P2P) {
        client_refuse(c, "DEVICE_FEATURE MIG_DEVICE_STATE: %u bytes, state "
                      "%u", n, n == sizeof(st) ? st.device_state : 0);
        return -EPROTO;
    }
    *state = st.device_state;
    return 0;
}

int vfio_client_mig_set_state(struct vfio_client *c, uint32_t state)
{
    struct vfio_user_device_feature_mig_state st = {state, 0};

    return feature(c, VFIO_DEVICE_FEATURE_SET |
                          VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
                   &st, sizeof(st), NULL, sizeof(st), NULL);
}

/* One MIG_DATA_READ of up to @want bytes into @dst; *@got. The reply's
 * size field says how much is data; a payload longer than 8 + size (up to
 * 8 + @want: libvfio-user pads its replies to the requested size) carries
 * padding, ignored. */
static int mig_read_one(struct vfio_client *c, uint8_t *dst, uint32_t want,
                        uint8_t *buf, uint32_t *got)
{
    struct vfio_user_mig_data rq = {MIGH + want, want}, rp;
    struct vfio_user_call call = {
        .cmd = VFIO_USER_MIG_DATA_READ, .req = &rq, .req_len = MIGH,
        .reply = buf, .reply_cap = MIGH + want, .reply_min = MIGH,
    };
    int r = client_call(c, &call);

    if (r)
        return r;
    memcpy(&rp, buf, MIGH);
    if (rp.size > want || call.reply_len < MIGH + rp.size) {
        client_refuse(c, "MIG_DATA_READ of %u bytes: reply says %u bytes in "
                      "a %u-byte payload", want, rp.size, call.reply_len);
        return -EPROTO;
    }
    memcpy(dst, buf + MIGH, rp.size);
    *got = rp.size;
    return 0;
}

int vfio_client_mig_read_all(struct vfio_client *c, size_t max, void **buf,
                             size_t *len)
{
    uint32_t chunk = xfer(c), got = chunk;
    uint8_t *tmp = malloc(MIGH + chunk), *out = NULL, *nb;
    size_t n = 0, cap = 0;
    int r = tmp ? 0 : -ENOMEM;

    while (r == 0 && got == chunk) {
        if (n > max) {
            r = -EFBIG;
            break;
        }
        if (n + chunk > cap) {
            cap = cap * 2 > n + chunk ? cap * 2 : n + chunk;
            nb = realloc(out, cap);
            if (!nb) {
                r = -ENOMEM;
                break;
            }
            out = nb;
        }
        r = mig_read_one(c, out + n, chunk, tmp, &got);
        n += r == 0 ? got : 0;
    }
    if (r == 0 && n > max)
        r = -EFBIG;
    free(tmp);
    if (r || n == 0) {
        free(out);
        out = NULL;
        n = 0;
    }
    *buf = out;
    *len = n;
    return r;
}

int vfio_client_mig_write(struct vfio_client *c, const void *buf, size_t len)
{
    uint32_t chunk = xfer(c);
    uint8_t *req = malloc(MIGH + chunk);
    int r = req ? 0 : -ENOMEM;

    if (len > VFIO_CLIENT_MIG_DATA_MAX)
        r = -EFBIG;
    for (size_t off = 0; r == 0 && off < len; off += chunk) {
        uint32_t n = len - off < chunk ? (uint32_t)(len - off) : chunk;
        /* argsz = the whole payload (libvfio-user refuses less). */
        struct vfio_user_mig_data h = {MIGH + n, n};
        struct vfio_user_call call = {
            .cmd = VFIO_USER_MIG_DATA_WRITE, .req = req,
            .req_len = MIGH + n,
        };

        memcpy(req, &h, MIGH);
        memcpy(req + MIGH, (const uint8_t *)buf + off, n);
        r = client_call(c, &call);
    }
    free(req);
    return r;
}

/* ---- DMA logging -------------------------------------------------------- */

int vfio_client_dma_log_start(struct vfio_client *c, uint64_t page_size,
                              const struct vfio_client_log_range *rg,
                              unsigned int n, uint64_t *chosen)
{
    struct vfio_user_dma_logging_control ctl = {page_size, n, 0};
    struct vfio_user_dma_logging_range e;
    uint32_t len = (uint32_t)(sizeof(ctl) + n * sizeof(e));
    uint8_t *buf;
    int r;

    if (n > LOG_RANGES_MAX || (n && !rg))
        return -EINVAL;
    buf = malloc(len);
    if (!buf)
        return -ENOMEM;
    memcpy(buf, &ctl, sizeof(ctl));
    for (unsigned int i = 0; i < n; i++) {
        e = (struct vfio_user_dma_logging_range){rg[i].iova, rg[i].length};
        memcpy(buf + sizeof(ctl) + i * sizeof(e), &e, sizeof(e));
    }
    r = feature(c, VFIO_DEVICE_FEATURE_SET |
                       VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
                buf, len, buf, len, NULL);
    if (r == 0 && chosen) {
        memcpy(&ctl, buf, sizeof(ctl));
        *chosen = ctl.page_size;
    }
    free(buf);
    return r;
}

/* One REPORT of @pages pages at @iova into @bm (whole words). */
static int log_report_one(struct vfio_client *c, uint64_t iova,
                          uint64_t pages, uint64_t ps, uint64_t *bm)
{
    struct vfio_user_dma_logging_report rq = {iova, pages * ps, ps}, rp;
    uint32_t bytes = (uint32_t)((pages + 63) / 64 * 8), n = 0;
    uint8_t *out = malloc(RPT + bytes);
    int r = out ? 0 : -ENOMEM;

    if (r == 0)
        r = feature(c, VFIO_DEVICE_FEATURE_GET |
                           VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
                    &rq, RPT, out, RPT + bytes, &n);
    if (r == 0) {
        memcpy(&rp, out, n >= RPT ? RPT : 0);
        if (n != RPT + bytes || rp.iova != iova || rp.page_size != ps) {
            client_refuse(c, "DMA_LOGGING_REPORT at %#llx: %u bytes of "
                          "data, want %u", (unsigned long long)iova, n,
                          RPT + bytes);
            r = -EPROTO;
        }
    }
    if (r == 0)
        memcpy(bm, out + RPT, bytes);
    free(out);
    return r;
}

int vfio_client_dma_log_report(struct vfio_client *c, uint64_t iova,
                               uint64_t length, uint64_t page_size,
                               uint64_t *bitmap)
{
    uint64_t pages, per, done = 0;
    int r = 0;

    if (page_size < 4096 || (page_size & (page_size - 1)) ||
        (iova | length) & (page_size - 1) || iova + length < iova)
        return -EINVAL;
    pages = length / page_size;
    /* Whole words per request, so each lands word-aligned in @bitmap. */
    per = (uint64_t)(xfer(c) - FEAT - RPT) / 8 * 64;
    memset(bitmap, 0, (pages + 63) / 64 * 8);
    while (r == 0 && done < pages) {
        uint64_t n = pages - done < per ? pages - done : per;

        r = log_report_one(c, iova + done * page_size, n, page_size,
                           bitmap + done / 64);
        done += n;
    }
    return r;
}

int vfio_client_dma_log_stop(struct vfio_client *c)
{
    return feature(c, VFIO_DEVICE_FEATURE_SET |
                          VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
                   NULL, 0, NULL, 0, NULL);
}

void vfio_client_dma_windows(struct vfio_client *c,
                             struct vfio_client_window *out, size_t max,
                             size_t *n)
{
    pthread_rwlock_rdlock(&c->iommu_lock);
    *n = c->iommu.n;
    for (size_t i = 0; i < c->iommu.n && i < max; i++) {
        const struct iommu_window *w = &c->iommu.w[i];

        out[i] = (struct vfio_client_window){w->iova, w->size, w->prot,
                                             w->fd >= 0, w->fd_offset};
    }
    pthread_rwlock_unlock(&c->iommu_lock);
}

/* ---- identity ----------------------------------------------------------- */

int vfio_client_identity(struct vfio_client *c,
                         struct vfio_client_identity *out)
{
    struct vfio_client_dev_info di;
    struct vfio_client_region *ri = malloc(sizeof(*ri));
    struct vfio_irq_info ii;
    int r = ri ? vfio_client_device_info(c, &di) : -ENOMEM;

    memset(out, 0, sizeof(*out));
    if (r == 0) {
        out->flags = di.flags;
        out->num_regions = di.num_regions;
        out->num_irqs = di.num_irqs;
    }
    for (uint32_t i = 0; r == 0 && i < out->num_regions; i++) {
        r = vfio_client_region_info(c, i, ri);
        if (r == 0 && ri->fd >= 0)
            close(ri->fd);
        out->region[i].size = r == 0 ? ri->size : 0;
        out->region[i].flags = r == 0 ? ri->flags & REGION_FLAGS : 0;
    }
    for (uint32_t i = 0; r == 0 && i < out->num_irqs; i++) {
        r = vfio_client_irq_info(c, i, &ii);
        out->irq[i].count = r == 0 ? ii.count : 0;
        out->irq[i].flags = r == 0 ? ii.flags : 0;
    }
    free(ri);
    return r;
}

/* Record the first difference: @what, now @a, saved @b. */
static void diff(char *why, size_t len, bool *found, const char *what,
                 uint64_t a, uint64_t b)
{
    if (*found || a == b)
        return;
    *found = true;
    snprintf(why, len, "%s is %#llx, the snapshot has %#llx", what,
             (unsigned long long)a, (unsigned long long)b);
}

int vfio_client_identity_diff(const struct vfio_client_identity *saved,
                              const struct vfio_client_identity *now,
                              char *why, size_t len)
{
    bool found = false;
    char what[48];
    uint32_t i;

    diff(why, len, &found, "device flags", now->flags, saved->flags);
    diff(why, len, &found, "num_regions", now->num_regions,
         saved->num_regions);
    diff(why, len, &found, "num_irqs", now->num_irqs, saved->num_irqs);
    for (i = 0; i < now->num_regions && i < VFIO_CLIENT_MAX_REGIONS; i++) {
        snprintf(what, sizeof(what), "region %u size", i);
        diff(why, len, &found, what, now->region[i].size,
             saved->region[i].size);
        snprintf(what, sizeof(what), "region %u flags", i);
        diff(why, len, &found, what, now->region[i].flags,
             saved->region[i].flags);
    }
    for (i = 0; i < now->num_irqs && i < VFIO_CLIENT_MAX_IRQS; i++) {
        snprintf(what, sizeof(what), "IRQ index %u count", i);
        diff(why, len, &found, what, now->irq[i].count, saved->irq[i].count);
        snprintf(what, sizeof(what), "IRQ index %u flags", i);
        diff(why, len, &found, what, now->irq[i].flags, saved->irq[i].flags);
    }
    return found ? -EINVAL : 0;
}
