/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user client: region access, interrupts, reset. See client.h.
 * Spec: vfio-user.rst "VFIO_USER_REGION_READ", "VFIO_USER_REGION_WRITE",
 * "VFIO_USER_REGION_WRITE_MULTI", "VFIO_USER_DEVICE_SET_IRQS",
 * "VFIO_USER_DEVICE_RESET". */
#include "vfio/client/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ACC ((uint32_t)sizeof(struct vfio_user_region_access))
#define SMALL 256u /* accesses up to this size use the stack (vCPU path) */
#define MULTI_MAX 64u

static uint32_t xfer_max(const struct vfio_client *c)
{
    uint32_t m = c->eff.max_data_xfer_size;

    return m ? m : 1;
}

static bool echo_ok(const struct vfio_user_region_access *a,
                    uint32_t region, uint64_t off, uint32_t n)
{
    return a->region == region && a->offset == off && a->count == n;
}

static int read_chunk(struct vfio_client *c, uint32_t region, uint64_t off,
                      uint8_t *dst, uint32_t n, uint8_t *buf)
{
    struct vfio_user_region_access req = {off, region, n}, rep;
    struct vfio_user_call call = {
        .cmd = VFIO_USER_REGION_READ, .req = &req, .req_len = ACC,
        .reply = buf, .reply_cap = ACC + n, .reply_min = ACC + n,
    };
    int r = client_call(c, &call);

    if (r)
        return r;
    memcpy(&rep, buf, ACC);
    if (!echo_ok(&rep, region, off, n) || call.reply_len != ACC + n) {
        client_refuse(c, "REGION_READ region %u offset %#llx: reply names "
                      "region %u offset %#llx count %u, want count %u",
                      region, (unsigned long long)off, rep.region,
                      (unsigned long long)rep.offset, rep.count, n);
        return -EPROTO;
    }
    memcpy(dst, buf + ACC, n);
    return 0;
}

static int write_chunk(struct vfio_client *c, uint32_t region, uint64_t off,
                       const uint8_t *src, uint32_t n, uint8_t *buf,
                       bool posted)
{
    struct vfio_user_region_access req = {off, region, n}, rep;
    struct vfio_user_call call = {
        .cmd = VFIO_USER_REGION_WRITE, .req = buf, .req_len = ACC + n,
        .flags = posted ? VFIO_USER_F_NO_REPLY : 0,
        .reply = &rep, .reply_cap = ACC, .reply_min = ACC,
    };
    int r;

    memcpy(buf, &req, ACC);
    memcpy(buf + ACC, src, n);
    r = client_call(c, &call);
    if (r || posted)
        return r;
    if (!echo_ok(&rep, region, off, n)) {
        client_refuse(c, "REGION_WRITE region %u offset %#llx: reply names "
                      "region %u offset %#llx count %u, want count %u",
                      region, (unsigned long long)off, rep.region,
                      (unsigned long long)rep.offset, rep.count, n);
        return -EPROTO;
    }
    return 0;
}

/* Region access of @len bytes in chunks of the transfer limit, through a
 * bounce buffer (on the stack for small ones). */
static int region_rw(struct vfio_client *c, uint32_t region, uint64_t off,
                     uint8_t *buf, uint64_t len, bool write, bool posted)
{
    uint8_t small[ACC + SMALL], *tmp = small;
    uint32_t max = xfer_max(c);
    int r = 0;

    if (off > UINT64_MAX - len)
        return -EINVAL;
    if (len > SMALL) {
        tmp = malloc(ACC + (len < max ? len : max));
        if (!tmp)
            return -ENOMEM;
    }
    for (uint64_t done = 0; r == 0 && done < len;) {
        uint32_t n = len - done < max ? (uint32_t)(len - done) : max;

        r = write ? write_chunk(c, region, off + done, buf + done, n, tmp,
                                posted)
                  : read_chunk(c, region, off + done, buf + done, n, tmp);
        done += n;
    }
    if (tmp != small)
        free(tmp);
    return r;
}

int vfio_client_region_read(struct vfio_client *c, uint32_t region,
                            uint64_t off, void *buf, uint64_t len)
{
    return region_rw(c, region, off, buf, len, false, false);
}

int vfio_client_region_write(struct vfio_client *c, uint32_t region,
                             uint64_t off, const void *buf, uint64_t len,
                             bool posted)
{
    /* region_rw() only reads @buf when writing. */
    return region_rw(c, region, off, (uint8_t *)buf, len, true, posted);
}

static int multi_chunk(struct vfio_client *c,
                       const struct vfio_client_write *w, unsigned int n)
{
    uint8_t buf[sizeof(struct vfio_user_write_multi) +
                MULTI_MAX * sizeof(struct vfio_user_write_multi_entry)];
    struct vfio_user_write_multi hdr = {.wr_cnt = n}, rep;
    struct vfio_user_call call = {
        .cmd = VFIO_USER_REGION_WRITE_MULTI, .req = buf,
        .req_len = sizeof(hdr) + n * sizeof(struct vfio_user_write_multi_entry),
        .reply = &rep, .reply_cap = sizeof(rep), .reply_min = sizeof(rep),
    };
    int r;

    memset(buf, 0, sizeof(buf));
    memcpy(buf, &hdr, sizeof(hdr));
    for (unsigned int i = 0; i < n; i++) {
        struct vfio_user_write_multi_entry e = {
            .offset = w[i].offset, .region = w[i].region, .count = w[i].len,
        };

        memcpy(e.data, w[i].data, w[i].len);
        memcpy(buf + sizeof(hdr) + i * sizeof(e), &e, sizeof(e));
    }
    r = client_call(c, &call);
    if (r == 0 && rep.wr_cnt != n) {
        client_refuse(c, "REGION_WRITE_MULTI: %llu of %u writes done",
                      (unsigned long long)rep.wr_cnt, n);
        r = -EPROTO;
    }
    return r;
}

int vfio_client_write_multi(struct vfio_client *c,
                            const struct vfio_client_write *w, unsigned int n)
{
    int r = 0;

    for (unsigned int i = 0; i < n; i++)
        if (w[i].len == 0 || w[i].len > VFIO_USER_WRITE_MULTI_DATA_MAX)
            return -EINVAL;
    if (!c->eff.write_multiple) {
        for (unsigned int i = 0; r == 0 && i < n; i++)
            r = vfio_client_region_write(c, w[i].region, w[i].offset,
                                         w[i].data, w[i].len, false);
        return r;
    }
    for (unsigned int i = 0; r == 0 && i < n; i += MULTI_MAX)
        r = multi_chunk(c, w + i, n - i < MULTI_MAX ? n - i : MULTI_MAX);
    return r;
}

static int set_irqs_one(struct vfio_client *c, uint32_t index,
                        uint32_t flags, uint32_t start, uint32_t count,
                        const int *fds, unsigned int nfds)
{
    struct vfio_irq_set s = {
        .argsz = sizeof(s), .flags = flags, .index = index, .start = start,
        .count = count,
    };
    struct vfio_user_call call = {
        .cmd = VFIO_USER_DEVICE_SET_IRQS, .req = &s, .req_len = sizeof(s),
        .fds = fds, .nfds = nfds,
    };

    return client_call(c, &call);
}

int vfio_client_set_irqs(struct vfio_client *c, uint32_t index,
                         uint32_t flags, uint32_t start, uint32_t count,
                         const int *fds)
{
    uint32_t chunk = c->eff.max_msg_fds;
    int r = 0;

    if (!(flags & VFIO_IRQ_SET_DATA_EVENTFD) || !fds || !count)
        return set_irqs_one(c, index, flags, start, count, NULL, 0);
    if (chunk == 0)
        return -EOPNOTSUPP; /* the server takes no fds at all */
    if (chunk > 253)
        chunk = 253;
    for (uint32_t i = 0; r == 0 && i < count; i += chunk) {
        uint32_t n = count - i < chunk ? count - i : chunk;

        r = set_irqs_one(c, index, flags, start + i, n, fds + i, n);
    }
    return r;
}

int vfio_client_reset(struct vfio_client *c)
{
    struct vfio_user_call call = {.cmd = VFIO_USER_DEVICE_RESET};

    return client_call(c, &call);
}
