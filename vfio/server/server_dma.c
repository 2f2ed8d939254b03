/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user server core: client DMA maps, message-based DMA and DMA dirty
 * logging. Spec: vfio-user.rst "VFIO_USER_DMA_MAP", "VFIO_USER_DMA_UNMAP",
 * "VFIO_USER_DMA_READ", "VFIO_USER_DMA_WRITE",
 * "VFIO_DEVICE_FEATURE_DMA_LOGGING_START" and "..._REPORT". */
#include "vfio/server/server_dma.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/log.h"

#define PGSZ     ((uint64_t)VFIO_SRV_LOG_PGSIZE)
#define LONG_BITS (8 * sizeof(unsigned long))
#define DMA_HDR  ((uint32_t)sizeof(struct vfio_user_dma_access))

static uint64_t dma_pages(const struct srv_dma *d)
{
    return (d->size + (d->iova & (PGSZ - 1)) + PGSZ - 1) / PGSZ;
}

static int dma_log_alloc(struct srv_dma *d)
{
    uint64_t words = (dma_pages(d) + LONG_BITS - 1) / LONG_BITS;

    d->dirty = calloc(words ? words : 1, sizeof(unsigned long));
    return d->dirty ? 0 : -ENOMEM;
}

/* The map containing [iova, iova + len), or NULL. */
static struct srv_dma *dma_find(struct vfio_srv *s, uint64_t iova,
                                uint64_t len)
{
    uint32_t i;

    for (i = 0; i < s->ndma; i++) {
        struct srv_dma *d = &s->dma[i];

        if (iova >= d->iova && iova - d->iova <= d->size &&
            len <= d->size - (iova - d->iova))
            return d;
    }
    return NULL;
}

static void dma_dirty(struct srv_dma *d, uint64_t iova, uint64_t len)
{
    uint64_t base = d->iova & ~(PGSZ - 1), p, last;

    if (!d->dirty || !len)
        return;
    p = (iova - base) / PGSZ;
    last = (iova + len - 1 - base) / PGSZ;
    for (; p <= last; p++)
        d->dirty[p / LONG_BITS] |= 1ul << (p % LONG_BITS);
}

void vfio_srv_dma_mark_dirty(struct vfio_srv *s, uint64_t iova, uint64_t len)
{
    struct srv_dma *d;

    if (!s->logging || !len)
        return;
    d = dma_find(s, iova, len);
    if (d)
        dma_dirty(d, iova, len);
}

void *vfio_srv_dma_translate(struct vfio_srv *s, uint64_t iova, uint64_t len,
                             bool write)
{
    struct srv_dma *d = dma_find(s, iova, len);
    uint32_t need = write ? VFIO_USER_F_DMA_REGION_WRITE
                          : VFIO_USER_F_DMA_REGION_READ;

    if (!d || !d->host || !(d->prot & need))
        return NULL;
    if (write && s->logging)
        dma_dirty(d, iova, len);
    return d->host + (iova - d->iova);
}

/* ---- DMA_MAP / DMA_UNMAP ------------------------------------------------- */

static bool dma_overlaps(const struct vfio_srv *s, uint64_t iova,
                         uint64_t size)
{
    uint32_t i;

    for (i = 0; i < s->ndma; i++)
        if (iova < s->dma[i].iova + s->dma[i].size &&
            s->dma[i].iova < iova + size)
            return true;
    return false;
}

static int dma_mmap(struct srv_dma *d, int fd, uint64_t offset)
{
    uint64_t skew = offset & (uint64_t)(sysconf(_SC_PAGESIZE) - 1);
    struct stat st;
    int prot = 0;

    if (d->prot & VFIO_USER_F_DMA_REGION_READ)
        prot |= PROT_READ;
    if (d->prot & VFIO_USER_F_DMA_REGION_WRITE)
        prot |= PROT_WRITE;
    if (d->size > SIZE_MAX - skew)
        return -EINVAL;
    /* Pages past the end of a file fault with SIGBUS on access: refuse a
     * window the file does not cover (a client shrinking the file later
     * can still do that; see the report). */
    if (fstat(fd, &st))
        return -errno;
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < offset + d->size)
        return -EINVAL;
    d->map_len = d->size + skew;
    d->map = mmap(NULL, d->map_len, prot, MAP_SHARED, fd,
                  (off_t)(offset - skew));
    if (d->map == MAP_FAILED) {
        d->map = NULL;
        return -errno;
    }
    d->host = (uint8_t *)d->map + skew;
    return 0;
}

int srv_cmd_dma_map(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_user_dma_map in;
    struct srv_dma d = {0}, *nd;
    int r;

    memcpy(&in, m->payload, sizeof(in));
    if (in.argsz < sizeof(in) || m->nfds > 1 || !in.size ||
        in.size > VFIO_SRV_DMA_MAX_SIZE ||
        in.address + in.size < in.address || in.offset + in.size < in.offset ||
        (in.flags & ~(VFIO_USER_F_DMA_REGION_READ |
                      VFIO_USER_F_DMA_REGION_WRITE)))
        return -EINVAL;
    /* Our own stated limits (vfu-blk --iova-bits, --pgsizes) hold. */
    if (s->eff.iova_bits && s->eff.iova_bits < 64 &&
        (in.address + in.size - 1) >> s->eff.iova_bits)
        return -ERANGE;
    if ((s->eff.pgsizes & -s->eff.pgsizes) > 4096 &&
        ((in.address | in.size) & ((s->eff.pgsizes & -s->eff.pgsizes) - 1)))
        return -EINVAL; /* below our smallest page (4 KiB: not checked) */
    if (dma_overlaps(s, in.address, in.size))
        return -EEXIST;
    if (s->ndma >= s->eff.max_dma_maps)
        return -ENOSPC;
    if (s->ndma == s->dma_cap) {
        uint32_t cap = s->dma_cap ? 2 * s->dma_cap : 8;

        nd = realloc(s->dma, cap * sizeof(*nd));
        if (!nd)
            return -ENOMEM;
        s->dma = nd;
        s->dma_cap = cap;
    }
    d.iova = in.address;
    d.size = in.size;
    d.prot = in.flags;
    if (m->nfds) {
        r = dma_mmap(&d, m->fds[0], in.offset);
        if (r)
            return r;
    }
    if (s->logging && dma_log_alloc(&d)) {
        if (d.map)
            munmap(d.map, d.map_len);
        return -ENOMEM;
    }
    s->dma[s->ndma++] = d;
    return srv_reply(s, m, NULL, 0, NULL, 0);
}

static void dma_drop(struct vfio_srv *s, uint32_t i)
{
    struct srv_dma *d = &s->dma[i];

    if (s->dev.ops->dma_unmap && !s->closing)
        s->dev.ops->dma_unmap(s->dev.opaque, d->iova, d->size);
    if (d->map)
        munmap(d->map, d->map_len);
    free(d->dirty);
    s->dma[i] = s->dma[--s->ndma];
}

void srv_dma_unmap_all(struct vfio_srv *s)
{
    while (s->ndma)
        dma_drop(s, s->ndma - 1);
}

/* Exact match of a previous map (or every map with
 * VFIO_DMA_UNMAP_FLAG_ALL, as libvfio-user accepts); the device stops
 * using it first. The reply echoes the request's entry. */
int srv_cmd_dma_unmap(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_user_dma_unmap in;
    uint32_t i;

    memcpy(&in, m->payload, sizeof(in));
    if (in.argsz < sizeof(in))
        return -EINVAL;
    if (in.flags == VFIO_DMA_UNMAP_FLAG_ALL && !in.address && !in.size) {
        srv_dma_unmap_all(s);
        return srv_reply(s, m, &in, sizeof(in), NULL, 0);
    }
    if (in.flags)
        return -EINVAL;
    for (i = 0; i < s->ndma; i++) {
        if (s->dma[i].iova == in.address && s->dma[i].size == in.size) {
            dma_drop(s, i);
            return srv_reply(s, m, &in, sizeof(in), NULL, 0);
        }
    }
    return -ENOENT;
}

/* ---- message-based DMA ---------------------------------------------------- */

/* Send one DMA_READ/WRITE through the endpoint and wait for its reply
 * into s->dbuf (@*rlen bytes). Client commands arriving meanwhile are
 * deferred by the endpoint and handled after the current one. */
static int dma_call(struct vfio_srv *s, uint16_t cmd, const void *pl,
                    size_t len, uint32_t min_reply, uint32_t *rlen)
{
    struct vfio_user_call call = {
        .chan = vfio_user_conn_s2c_chan(s->conn),
        .cmd = cmd, .req = pl, .req_len = len,
        .reply = s->dbuf, .reply_cap = s->buf_size, .reply_min = min_reply,
    };
    int r;

    s->stats.dma_msgs++;
    s->stats.dma_rounds++;
    r = vfio_user_ep_call(s->ep, &call);
    *rlen = call.reply_len;
    return r;
}

static uint64_t dma_chunk(const struct vfio_srv *s)
{
    uint64_t c = s->eff.max_data_xfer_size;

    if (c > s->buf_size - DMA_HDR)
        c = s->buf_size - DMA_HDR;
    return c;
}

static int dma_msg_read(struct vfio_srv *s, uint64_t iova, uint8_t *buf,
                        uint64_t len)
{
    struct vfio_user_dma_access a, ra;
    uint32_t rlen;
    int r;

    while (len) {
        a.address = iova;
        a.count = len < dma_chunk(s) ? len : dma_chunk(s);
        r = dma_call(s, VFIO_USER_DMA_READ, &a, sizeof(a), DMA_HDR, &rlen);
        if (r)
            return r;
        memcpy(&ra, s->dbuf, sizeof(ra));
        if (ra.address != a.address || ra.count != a.count ||
            rlen != DMA_HDR + a.count)
            return -EPROTO;
        memcpy(buf, s->dbuf + DMA_HDR, a.count);
        buf += a.count;
        iova += a.count;
        len -= a.count;
    }
    return 0;
}

/* A DMA_WRITE reply of @rlen bytes: the spec's echo (address and count,
 * 12 or 16 bytes) or a bare header (QEMU's client answers success so). */
static int check_write_reply(uint64_t iova, uint32_t rlen)
{
    if (!rlen || rlen >= VFIO_USER_DMA_WRITE_REPLY_MIN)
        return 0;
    log_err("vfio-user server: DMA_WRITE at %#llx: a %u-byte reply (want 0 "
            "or >= %u)\n", (unsigned long long)iova, rlen,
            VFIO_USER_DMA_WRITE_REPLY_MIN);
    return -EPROTO;
}

/* One DMA_WRITE of @a->count bytes at @buf: started on @call (reply into
 * @reply, @cap bytes). Returns the handle or -errno. */
static int write_start(struct vfio_srv *s, struct vfio_user_call *call,
                       const void *a, uint64_t count, const uint8_t *buf,
                       void *reply, uint32_t cap)
{
    *call = (struct vfio_user_call){
        .chan = vfio_user_conn_s2c_chan(s->conn),
        .cmd = VFIO_USER_DMA_WRITE, .req = a, .req_len = DMA_HDR,
        .data = buf, .data_len = count, .reply = reply, .reply_cap = cap,
    };
    s->stats.dma_msgs++;
    return vfio_user_ep_call_start(s->ep, call);
}

/* Header and data go out with one sendmsg() (no staging copy). */
static int dma_msg_write(struct vfio_srv *s, uint64_t iova,
                         const uint8_t *buf, uint64_t len)
{
    struct vfio_user_dma_access a;
    struct vfio_user_call call;
    int r;

    while (len) {
        a.address = iova;
        a.count = len < dma_chunk(s) ? len : dma_chunk(s);
        r = write_start(s, &call, &a, a.count, buf, s->dbuf, s->buf_size);
        s->stats.dma_rounds++;
        if (r >= 0)
            r = vfio_user_ep_call_finish(s->ep, &call, r);
        if (r == 0)
            r = check_write_reply(iova, call.reply_len);
        if (r)
            return r;
        buf += a.count;
        iova += a.count;
        len -= a.count;
    }
    return 0;
}

static int post_finish(struct vfio_srv *s, struct srv_post *p)
{
    struct vfio_user_dma_access ra;
    int r = vfio_user_ep_call_finish(s->ep, &p->call, p->handle);

    if (r || !p->read)
        return r ? r : check_write_reply(p->a.address, p->call.reply_len);
    memcpy(&ra, p->reply, sizeof(ra));
    if (ra.address != p->a.address || ra.count != p->a.count ||
        p->call.reply_len != DMA_HDR + p->a.count)
        return -EPROTO;
    return 0;
}

/* The next free posting slot (flushing when all are taken). */
static struct srv_post *post_slot(struct vfio_srv *s)
{
    if (s->nposted == SRV_DMA_POSTED)
        s->post_err = vfio_srv_dma_flush(s);
    return &s->post[s->nposted];
}

/* Send the DMA_READs of [@iova, +@len); the replies' data land in @buf
 * (reply_data: no staging copy) by vfio_srv_dma_flush(). */
static int dma_msg_read_posted(struct vfio_srv *s, uint64_t iova,
                               uint8_t *buf, uint64_t len)
{
    struct srv_post *p;
    int r;

    while (len) {
        p = post_slot(s);
        p->read = true;
        p->a.address = iova;
        p->a.count = len < dma_chunk(s) ? len : dma_chunk(s);
        p->call = (struct vfio_user_call){
            .chan = vfio_user_conn_s2c_chan(s->conn),
            .cmd = VFIO_USER_DMA_READ, .req = &p->a, .req_len = DMA_HDR,
            .reply = p->reply, .reply_cap = DMA_HDR, .reply_min = DMA_HDR,
            .reply_data = buf, .reply_data_cap = (uint32_t)p->a.count,
        };
        s->stats.dma_msgs++;
        r = vfio_user_ep_call_start(s->ep, &p->call);
        if (r < 0)
            return r;
        p->handle = r;
        s->nposted++;
        buf += p->a.count;
        iova += p->a.count;
        len -= p->a.count;
    }
    return 0;
}

int vfio_srv_dma_flush(struct vfio_srv *s)
{
    int r = s->post_err;

    s->stats.dma_rounds += s->nposted > 0;
    for (uint32_t i = 0; i < s->nposted; i++) {
        int e = post_finish(s, &s->post[i]);

        if (e && !r)
            r = e;
    }
    s->nposted = 0;
    s->post_err = 0;
    return r;
}

/* Send the DMA_WRITEs of [@iova, +@len) without waiting for replies. */
static int dma_msg_write_posted(struct vfio_srv *s, uint64_t iova,
                                const uint8_t *buf, uint64_t len)
{
    struct srv_post *p;
    int r;

    while (len) {
        p = post_slot(s);
        p->read = false;
        p->a.address = iova;
        p->a.count = len < dma_chunk(s) ? len : dma_chunk(s);
        r = write_start(s, &p->call, &p->a, p->a.count, buf, p->reply,
                        sizeof(p->reply));
        if (r < 0)
            return r;
        p->handle = r;
        s->nposted++;
        buf += p->a.count;
        iova += p->a.count;
        len -= p->a.count;
    }
    return 0;
}

/* Copy through an fd-backed map, or by messages (@posted: writes only,
 * replies collected by vfio_srv_dma_flush()). */
static int dma_copy(struct vfio_srv *s, uint64_t iova, void *buf,
                    uint64_t len, bool write, bool posted)
{
    uint32_t need = write ? VFIO_USER_F_DMA_REGION_WRITE
                          : VFIO_USER_F_DMA_REGION_READ;
    struct srv_dma *d;

    if (!len)
        return 0;
    d = dma_find(s, iova, len);
    if (!d || !(d->prot & need))
        return -EFAULT;
    /* Writes through messages are the client's to track (it serves
     * them); like libvfio-user, only writes to mapped memory are logged,
     * so the client's own tracking is what our tests exercise. */
    if (write && s->logging && d->host)
        dma_dirty(d, iova, len);
    if (d->host && write)
        memcpy(d->host + (iova - d->iova), buf, len);
    else if (d->host)
        memcpy(buf, d->host + (iova - d->iova), len);
    if (d->host)
        return 0;
    if (!s->conn || vfio_user_conn_failed(s->conn) ||
        vfio_user_ep_failed(s->ep))
        return -ENOTCONN;
    if (posted && write)
        return dma_msg_write_posted(s, iova, buf, len);
    if (posted)
        return dma_msg_read_posted(s, iova, buf, len);
    return write ? dma_msg_write(s, iova, buf, len)
                 : dma_msg_read(s, iova, buf, len);
}

int vfio_srv_dma_read(struct vfio_srv *s, uint64_t iova, void *buf,
                      uint64_t len)
{
    return dma_copy(s, iova, buf, len, false, false);
}

int vfio_srv_dma_write(struct vfio_srv *s, uint64_t iova, const void *buf,
                       uint64_t len)
{
    return dma_copy(s, iova, (void *)buf, len, true, false);
}

int vfio_srv_dma_write_posted(struct vfio_srv *s, uint64_t iova,
                              const void *buf, uint64_t len)
{
    return dma_copy(s, iova, (void *)buf, len, true, true);
}

int vfio_srv_dma_read_posted(struct vfio_srv *s, uint64_t iova, void *buf,
                             uint64_t len)
{
    return dma_copy(s, iova, buf, len, false, true);
}

/* ---- dirty logging -------------------------------------------------------- */

/* DMA_LOGGING_START (SET): log every DMA write (ranges are a hint; we log
 * everything mapped) at VFIO_SRV_LOG_PGSIZE, echoed as the chosen size. */
int srv_log_start(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_user_dma_logging_control c;
    const uint32_t hdr = sizeof(struct vfio_user_device_feature);

    if (m->payload_len < hdr + sizeof(c))
        return -EINVAL;
    memcpy(&c, (uint8_t *)m->payload + hdr, sizeof(c));
    if (c.num_ranges > (m->payload_len - hdr - sizeof(c)) /
                           sizeof(struct vfio_user_dma_logging_range) ||
        (c.page_size & (c.page_size - 1)))
        return -EINVAL;
    if (s->logging)
        return -EBUSY;
    if (srv_log_enable(s))
        return -ENOMEM;
    c.page_size = PGSZ;
    memcpy((uint8_t *)m->payload + hdr, &c, sizeof(c));
    return srv_reply(s, m, m->payload, m->payload_len, NULL, 0);
}

int srv_log_stop(struct vfio_srv *s, struct vfio_user_msg *m)
{
    srv_log_disable(s);
    return srv_reply(s, m, m->payload, sizeof(struct vfio_user_device_feature),
                     NULL, 0);
}

/* Move the dirty pages of @d inside [iova, iova + len) into @bm (one bit
 * per @ps bytes from @iova), clearing them (read-and-clear). */
static void log_harvest(struct srv_dma *d, uint64_t iova, uint64_t len,
                        uint64_t ps, uint64_t *bm)
{
    uint64_t base = d->iova & ~(PGSZ - 1), np = dma_pages(d), p;

    for (p = 0; p < np; p++) {
        uint64_t a, e, b;

        if (!d->dirty[p / LONG_BITS]) {
            p |= LONG_BITS - 1; /* skip a clean word */
            continue;
        }
        if (!(d->dirty[p / LONG_BITS] & (1ul << (p % LONG_BITS))))
            continue;
        a = base + p * PGSZ;
        e = a + PGSZ - 1;
        if (e < iova || a > iova + len - 1)
            continue;
        a = a < iova ? iova : a;
        e = e > iova + len - 1 ? iova + len - 1 : e;
        for (b = (a - iova) / ps; b <= (e - iova) / ps; b++)
            bm[b / 64] |= 1ull << (b % 64);
        if (a == base + p * PGSZ && e == a + PGSZ - 1)
            d->dirty[p / LONG_BITS] &= ~(1ul << (p % LONG_BITS));
    }
}

/* DMA_LOGGING_REPORT (GET): the bitmap for [iova, iova + length) at the
 * requested page size (a power of two), appended at offset 24 of the
 * feature data; bit i covers iova + i * page_size. */
int srv_log_report(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_user_device_feature f;
    struct vfio_user_dma_logging_report rq;
    const uint32_t hdr = sizeof(f), fix = sizeof(f) + sizeof(rq);
    uint64_t bits, bytes;
    uint32_t i;

    if (m->payload_len < fix)
        return -EINVAL;
    memcpy(&f, m->payload, sizeof(f));
    memcpy(&rq, (uint8_t *)m->payload + hdr, sizeof(rq));
    if (!s->logging || !rq.length || rq.iova + rq.length < rq.iova ||
        !rq.page_size || (rq.page_size & (rq.page_size - 1)))
        return -EINVAL;
    bits = (rq.length - 1) / rq.page_size + 1;
    bytes = (bits + 63) / 64 * 8;
    if (bytes > s->eff.max_data_xfer_size || bytes > s->buf_size - fix)
        return -E2BIG;
    f.argsz = (uint32_t)(fix + bytes);
    memcpy(s->obuf, &f, sizeof(f));
    memcpy(s->obuf + hdr, &rq, sizeof(rq));
    if (((struct vfio_user_device_feature *)m->payload)->argsz < f.argsz)
        return srv_reply(s, m, s->obuf, fix, NULL, 0);
    memset(s->obuf + fix, 0, bytes);
    for (i = 0; i < s->ndma; i++)
        if (s->dma[i].dirty)
            log_harvest(&s->dma[i], rq.iova, rq.length, rq.page_size,
                        (uint64_t *)(s->obuf + fix));
    return srv_reply(s, m, s->obuf, fix + bytes, NULL, 0);
}

/* ---- for DIRTY_PAGES (server_mig_v1.c) ------------------------------------ */

int srv_log_enable(struct vfio_srv *s)
{
    uint32_t i;

    if (s->logging)
        return 0;
    for (i = 0; i < s->ndma; i++) {
        if (dma_log_alloc(&s->dma[i])) {
            while (i--) {
                free(s->dma[i].dirty);
                s->dma[i].dirty = NULL;
            }
            return -ENOMEM;
        }
    }
    s->logging = true;
    return 0;
}

void srv_log_disable(struct vfio_srv *s)
{
    for (uint32_t i = 0; i < s->ndma; i++) {
        free(s->dma[i].dirty);
        s->dma[i].dirty = NULL;
    }
    s->logging = false;
}

void srv_log_harvest_all(struct vfio_srv *s, uint64_t iova, uint64_t len,
                         uint64_t ps, uint64_t *bm)
{
    for (uint32_t i = 0; i < s->ndma; i++)
        if (s->dma[i].dirty)
            log_harvest(&s->dma[i], iova, len, ps, bm);
}
