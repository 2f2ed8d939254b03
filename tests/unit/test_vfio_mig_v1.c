/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for migration v1 (spec 0.9.1) on the client side:
 * vfio/client_mig_v1.c (the record framing, finding the migration region,
 * device_state, the save iterations and the load, DIRTY_PAGES) and
 * vfio/pci_dev_mig_v1.c (quiesce / save / resume / load as the device's
 * life cycle drives them, dirty bitmaps merged at the window's RAM page),
 * against a fake server (test_vfio_client_fake.h) with a scripted
 * migration region at index 9, including hostile replies: a data window
 * outside the region, a server that never finishes, a device_state that
 * is no v1 state, bitmaps of the wrong shape or for another range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <sys/mman.h>

#include "vfio/client/client_mig_v1.h"
#include "vfio/proto/migration.h"
#include "vfio/pci/pci_dev.h"
#include "vfio/pci/pci_dev_mig_v1.h"
#include "vfio/pci/pci_dev_priv.h"
#include "test_vfio_client_fake.h"

#define MREG   9u
#define MSIZE  0x200u
#define DOFF   0x100u
#define DP     8u
#define RANGE  32u

enum hostile {
    H_NONE,
    H_BAD_OFFSET,   /* data_offset inside the registers */
    H_BAD_SIZE,     /* data_size past the end of the region */
    H_FOREVER,      /* pending_bytes never 0, empty chunks */
    H_BAD_STATE,    /* device_state reads 5 (RESUMING|RUNNING) */
    H_REFUSE,       /* device_state writes fail with EBUSY */
    H_BM_ECHO,      /* GET_BITMAP echoes another iova */
    H_BM_SHORT,     /* GET_BITMAP reply 8 bytes short */
    H_BM_HDR,       /* GET_BITMAP answers "need more room" */
    H_BM_HIGH,      /* GET_BITMAP refused (EINVAL) at iova >= 8 MiB */
};

struct v1fake {
    struct fake f;          /* first: the hook gets &f */
    enum hostile h;
    uint32_t state;
    uint8_t out[64];        /* what it saves at stop-and-copy */
    uint32_t out_len, pos, chunk_max;
    uint8_t pre[16];        /* what it offers in pre-copy */
    uint32_t pre_len;
    const uint8_t *src;     /* the stream being read: out or pre */
    uint32_t src_len;
    uint32_t cur;           /* the prepared chunk */
    bool prepared;
    uint8_t data[MSIZE - DOFF];
    uint8_t in[64];         /* what it was given */
    uint32_t in_len;
    uint32_t in_chunks[8], n_in;
    int logging;            /* START - STOP seen */
    int bitmaps;
    uint32_t bad_writes;    /* register writes of a wrong size */
};

static int reg_read(struct v1fake *v, uint64_t off, uint32_t len, void *out)
{
    uint64_t x = 0;
    uint32_t s = v->h == H_BAD_STATE ? 5 : v->state;
    uint32_t left = v->src_len - v->pos;
    bool sav = v->state & VFIO_USER_MIG_V1_STATE_SAVING;

    if (off == 0 && len == 4) {
        memcpy(out, &s, 4);
        return 0;
    }
    if (len != 8)
        return -EINVAL;
    if (off == 8) {
        x = v->h == H_FOREVER ? 5 : sav ? left : 0;
        v->prepared = false;
    } else if (off == 16) {
        if (sav && !v->prepared && v->h != H_FOREVER) {
            v->cur = left < v->chunk_max ? left : v->chunk_max;
            memcpy(v->data, v->src + v->pos, v->cur);
            v->pos += v->cur;
        }
        v->prepared = true;
        x = v->h == H_BAD_OFFSET ? 16 : DOFF;
    } else if (off == 24) {
        x = v->h == H_BAD_SIZE ? 0x1000 : v->h == H_FOREVER ? 0 : v->cur;
    } else {
        return -EINVAL;
    }
    memcpy(out, &x, 8);
    return 0;
}

static int reg_write(struct v1fake *v, uint64_t off, uint32_t len,
                     const void *in)
{
    uint32_t s;
    uint64_t n;

    if (off == 0 && len == 4) {
        memcpy(&s, in, 4);
        if (v->h == H_REFUSE)
            return -EBUSY;
        if (vfio_user_mig_v1_transition(v->state, s))
            return -EINVAL;
        if (s == VFIO_USER_MIG_V1_STATE_STOP_COPY ||
            s == VFIO_USER_MIG_V1_STATE_PRE_COPY) {
            v->pos = 0;
            v->src = s == VFIO_USER_MIG_V1_STATE_PRE_COPY ? v->pre : v->out;
            v->src_len = s == VFIO_USER_MIG_V1_STATE_PRE_COPY ? v->pre_len
                                                              : v->out_len;
        }
        v->state = s;
        return 0;
    }
    if (off != 24 || len != 8) {
        v->bad_writes++;
        return -EINVAL;
    }
    memcpy(&n, in, 8);
    if (v->state != VFIO_USER_MIG_V1_STATE_RESUMING ||
        n > sizeof(v->in) - v->in_len || v->n_in >= 8)
        return -EINVAL;
    memcpy(v->in + v->in_len, v->data, n);
    v->in_len += (uint32_t)n;
    v->in_chunks[v->n_in++] = (uint32_t)n;
    return 0;
}

static int region_rw(struct v1fake *v, struct vfio_user_msg *m, bool wr)
{
    struct vfio_user_region_access a;
    uint8_t buf[16 + MSIZE];
    int r;

    memcpy(&a, m->payload, 16);
    if (a.offset > MSIZE || a.count > MSIZE - a.offset)
        return -EINVAL;
    if (a.offset >= DOFF) {
        if (wr)
            memcpy(v->data + a.offset - DOFF, (uint8_t *)m->payload + 16,
                   a.count);
        else
            memcpy(buf + 16, v->data + a.offset - DOFF, a.count);
        r = 0;
    } else if (wr) {
        r = reg_write(v, a.offset, a.count, (uint8_t *)m->payload + 16);
    } else {
        r = reg_read(v, a.offset, a.count, buf + 16);
    }
    if (r)
        return r;
    memcpy(buf, &a, 16);
    return fake_reply(&v->f, m, buf, wr ? 16 : 16 + a.count, NULL, 0);
}

/* GET_BITMAP: pages 0 and 5 of the range are dirty. */
static int bitmap(struct v1fake *v, struct vfio_user_msg *m)
{
    struct vfio_user_dirty_pages dp;
    struct vfio_user_bitmap_range rg;
    uint8_t rep[DP + RANGE + 64] = {0};
    uint64_t bm = 0x21;
    uint32_t len;

    memcpy(&dp, m->payload, DP);
    memcpy(&rg, (uint8_t *)m->payload + DP, RANGE);
    assert_true(rg.bitmap.size <= 64);
    v->bitmaps++;
    if (v->h == H_BM_HIGH && rg.iova >= 0x800000)
        return -EINVAL;
    len = DP + RANGE + (uint32_t)rg.bitmap.size;
    if (v->h == H_BM_HDR) {
        dp.argsz = len + 4096;
        return fake_reply(&v->f, m, &dp, DP, NULL, 0);
    }
    dp.argsz = len;
    rg.iova += v->h == H_BM_ECHO ? 4096 : 0;
    memcpy(rep, &dp, DP);
    memcpy(rep + DP, &rg, RANGE);
    memcpy(rep + DP + RANGE, &bm, 8);
    return fake_reply(&v->f, m, rep, len - (v->h == H_BM_SHORT ? 8 : 0),
                      NULL, 0);
}

static int v1_hook(struct fake *f, struct vfio_user_msg *m)
{
    struct v1fake *v = (struct v1fake *)f;
    struct vfio_user_region_access a;
    struct vfio_user_dirty_pages dp;
    int r;

    if (m->hdr.cmd == VFIO_USER_DIRTY_PAGES) {
        memcpy(&dp, m->payload, DP);
        if (dp.flags == VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP)
            r = bitmap(v, m);
        else {
            v->logging += dp.flags == VFIO_IOMMU_DIRTY_PAGES_FLAG_START ? 1
                                                                        : -1;
            r = fake_reply(f, m, NULL, 0, NULL, 0);
        }
    } else if (m->hdr.cmd == VFIO_USER_REGION_READ ||
               m->hdr.cmd == VFIO_USER_REGION_WRITE) {
        memcpy(&a, m->payload, 16);
        if (a.region != MREG)
            return 0;
        r = region_rw(v, m, m->hdr.cmd == VFIO_USER_REGION_WRITE);
    } else {
        return 0;
    }
    if (r < 0)
        vfio_user_conn_send_error(f->conn, VFIO_USER_CHAN_MAIN, &m->hdr, -r);
    return 1;
}

/* The migration type capability at offset 32 of the region info. */
static uint8_t type_cap[16];

static struct vfio_client *v1_up_full(struct v1fake *v, enum hostile h,
                                      bool with_cap, uint64_t max_bitmap)
{
    struct vfio_region_info_cap_type t = {
        .header = {VFIO_REGION_INFO_CAP_TYPE, 1, 0},
        .type = VFIO_USER_REGION_TYPE_MIGRATION,
        .subtype = VFIO_USER_REGION_SUBTYPE_MIGRATION};
    struct vfio_client_opts o = {.name = "v1", .timeout_ms = 2000};
    struct vfio_client *c;
    char err[200] = "";

    memset(v, 0, sizeof(*v));
    fake_init(&v->f);
    v->f.hook = v1_hook;
    v->f.caps.migration = true;
    v->f.caps.mig_pgsize = 4096;
    v->f.caps.mig_max_bitmap_size = max_bitmap;
    v->h = h;
    v->state = VFIO_USER_MIG_V1_STATE_RUNNING;
    v->chunk_max = 10;
    memcpy(v->out, "v1-device-state-0123456789", 26);
    v->out_len = 26;
    memcpy(v->pre, "early-part", 10);
    v->pre_len = 10;
    v->src = v->out;
    v->src_len = v->out_len;
    memcpy(type_cap, &t, sizeof(t));
    v->f.rsize[MREG] = MSIZE;
    v->f.rflags[MREG] = VFIO_REGION_INFO_FLAG_READ |
                        VFIO_REGION_INFO_FLAG_WRITE;
    v->f.rcaps[MREG] = with_cap ? type_cap : NULL;
    v->f.rcaps_len[MREG] = with_cap ? sizeof(t) : 0;
    fake_start(&v->f);
    if (vfio_client_new(v->f.cfd, &o, &c, err, sizeof(err)))
        fail_msg("connect: %s", err);
    return c;
}

static struct vfio_client *v1_up(struct v1fake *v, enum hostile h,
                                 bool with_cap)
{
    return v1_up_full(v, h, with_cap, 0);
}

static struct vfio_client *v1_up_caps(struct v1fake *v, uint64_t max_bitmap)
{
    return v1_up_full(v, H_NONE, true, max_bitmap);
}

static void v1_down(struct v1fake *v, struct vfio_client *c)
{
    fake_stop(&v->f);
    vfio_client_free(c);
}

/* ---- framing ---------------------------------------------------------- */

static void test_stream_framing(void **state)
{
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, pos = 0;
    const uint8_t *rec;
    uint64_t n, big = 1000;

    (void)state;
    assert_int_equal(vfio_mig_v1_stream_put(&buf, &len, &cap, "abc", 3), 0);
    assert_int_equal(vfio_mig_v1_stream_put(&buf, &len, &cap, NULL, 0), 0);
    assert_int_equal(vfio_mig_v1_stream_put(&buf, &len, &cap, "xy", 2), 0);
    assert_int_equal(len, 8 + 3 + 8 + 8 + 2);
    assert_int_equal(vfio_mig_v1_stream_next(buf, len, &pos, 16, &rec, &n),
                     1);
    assert_int_equal(n, 3);
    assert_memory_equal(rec, "abc", 3);
    assert_int_equal(vfio_mig_v1_stream_next(buf, len, &pos, 16, &rec, &n),
                     1);
    assert_int_equal(n, 0);
    assert_int_equal(vfio_mig_v1_stream_next(buf, len, &pos, 16, &rec, &n),
                     1);
    assert_memory_equal(rec, "xy", 2);
    assert_int_equal(vfio_mig_v1_stream_next(buf, len, &pos, 16, &rec, &n),
                     0);
    /* Truncated: a header cut short, a record longer than what is left. */
    pos = 0;
    assert_int_equal(vfio_mig_v1_stream_next(buf, 5, &pos, 16, &rec, &n),
                     -EINVAL);
    pos = 0;
    assert_int_equal(vfio_mig_v1_stream_next(buf, 10, &pos, 16, &rec, &n),
                     -EINVAL);
    /* A record above the limit (the region's data section). */
    pos = 0;
    assert_int_equal(vfio_mig_v1_stream_next(buf, len, &pos, 2, &rec, &n),
                     -EINVAL);
    memcpy(buf, &big, 8);
    pos = 0;
    assert_int_equal(vfio_mig_v1_stream_next(buf, len, &pos, 4096, &rec,
                                             &n), -EINVAL);
    free(buf);
}

/* ---- client ----------------------------------------------------------- */

static void test_find(void **state)
{
    struct vfio_client_mig_v1 m = {0};
    struct v1fake v;
    struct vfio_client *c;

    (void)state;
    c = v1_up(&v, H_NONE, true);
    assert_true(vfio_client_caps(c)->migration);
    assert_int_equal(vfio_client_caps(c)->mig_pgsize, 4096);
    assert_int_equal(vfio_client_mig_v1_find(c, FAKE_REGIONS, &m), 0);
    assert_int_equal(m.region, MREG);
    assert_int_equal(m.size, MSIZE);
    assert_int_equal(vfio_client_mig_v1_find(c, 9, &m), -ENOENT);
    v1_down(&v, c);
    /* No type capability: no migration region. */
    c = v1_up(&v, H_NONE, false);
    assert_int_equal(vfio_client_mig_v1_find(c, FAKE_REGIONS, &m), -ENOENT);
    v1_down(&v, c);
    /* A migration region too small for its registers: refused. */
    c = v1_up(&v, H_NONE, true);
    v.f.rsize[MREG] = 16;
    assert_int_equal(vfio_client_mig_v1_find(c, FAKE_REGIONS, &m), -EPROTO);
    assert_true(vfio_client_failed(c));
    v1_down(&v, c);
}

static void test_save_load(void **state)
{
    struct vfio_client_mig_v1 m = {MREG, MSIZE};
    struct v1fake v, w;
    struct vfio_client *c;
    void *buf;
    size_t len;
    uint32_t now = 0;
    const uint8_t *rec;
    uint64_t n;
    size_t pos = 0;

    (void)state;
    c = v1_up(&v, H_NONE, true);
    assert_int_equal(vfio_client_mig_v1_get_state(c, &m, &now), 0);
    assert_int_equal(now, VFIO_USER_MIG_V1_STATE_RUNNING);
    assert_int_equal(vfio_client_mig_v1_set_state(
                         c, &m, VFIO_USER_MIG_V1_STATE_STOP_COPY, &now), 0);
    assert_int_equal(now, VFIO_USER_MIG_V1_STATE_STOP_COPY);
    assert_int_equal(vfio_client_mig_v1_save(c, &m, 4096, &buf, &len), 0);
    /* 26 bytes in chunks of 10: records 10, 10, 6. */
    assert_int_equal(len, 3 * 8 + 26);
    assert_int_equal(vfio_mig_v1_stream_next(buf, len, &pos, 256, &rec, &n),
                     1);
    assert_int_equal(n, 10);
    assert_memory_equal(rec, "v1-device-", 10);
    /* An illegal transition (SAVING -> RESUMING) is the server's to
     * refuse; the state is re-read. */
    assert_int_equal(vfio_client_mig_v1_set_state(
                         c, &m, VFIO_USER_MIG_V1_STATE_RESUMING, &now),
                     -EINVAL);
    assert_int_equal(now, VFIO_USER_MIG_V1_STATE_STOP_COPY);
    assert_false(vfio_client_failed(c));
    v1_down(&v, c);
    /* The destination gets the same chunks, in order, same sizes. */
    c = v1_up(&w, H_NONE, true);
    assert_int_equal(vfio_client_mig_v1_set_state(
                         c, &m, VFIO_USER_MIG_V1_STATE_RESUMING, NULL), 0);
    assert_int_equal(vfio_client_mig_v1_load(c, &m, buf, len), 0);
    assert_int_equal(w.in_len, 26);
    assert_memory_equal(w.in, "v1-device-state-0123456789", 26);
    assert_int_equal(w.n_in, 3);
    assert_int_equal(w.in_chunks[0], 10);
    assert_int_equal(w.in_chunks[2], 6);
    assert_int_equal(w.bad_writes, 0);
    /* A malformed stream is refused before anything is written. */
    assert_int_equal(vfio_client_mig_v1_load(c, &m, buf, 12), -EINVAL);
    assert_int_equal(w.in_len, 26);
    v1_down(&w, c);
    free(buf);
}

static void save_hostile(enum hostile h, int want)
{
    struct vfio_client_mig_v1 m = {MREG, MSIZE};
    struct v1fake v;
    struct vfio_client *c = v1_up(&v, h, true);
    void *buf = (void *)1;
    size_t len = 1;

    v.state = VFIO_USER_MIG_V1_STATE_STOP_COPY;
    assert_int_equal(vfio_client_mig_v1_save(c, &m, 4096, &buf, &len), want);
    assert_null(buf);
    assert_int_equal(len, 0);
    assert_int_equal(vfio_client_failed(c), want == -EPROTO);
    v1_down(&v, c);
}

static void test_save_hostile(void **state)
{
    struct vfio_client_mig_v1 m = {MREG, MSIZE};
    struct v1fake v;
    struct vfio_client *c;
    void *buf;
    size_t len;
    uint32_t s;

    (void)state;
    save_hostile(H_BAD_OFFSET, -EPROTO);
    save_hostile(H_BAD_SIZE, -EPROTO);
    save_hostile(H_FOREVER, -EPROTO);
    /* A stream above the caller's limit. */
    c = v1_up(&v, H_NONE, true);
    v.state = VFIO_USER_MIG_V1_STATE_STOP_COPY;
    assert_int_equal(vfio_client_mig_v1_save(c, &m, 20, &buf, &len),
                     -EFBIG);
    assert_false(vfio_client_failed(c));
    v1_down(&v, c);
    /* device_state 5 is no v1 state. */
    c = v1_up(&v, H_BAD_STATE, true);
    assert_int_equal(vfio_client_mig_v1_get_state(c, &m, &s), -EPROTO);
    assert_true(vfio_client_failed(c));
    v1_down(&v, c);
    /* A refused write: the server's errno, the state re-read. */
    c = v1_up(&v, H_REFUSE, true);
    s = 99;
    assert_int_equal(vfio_client_mig_v1_set_state(
                         c, &m, VFIO_USER_MIG_V1_STATE_STOP, &s), -EBUSY);
    assert_int_equal(s, VFIO_USER_MIG_V1_STATE_RUNNING);
    v1_down(&v, c);
}

static void test_dirty_bitmap(void **state)
{
    struct v1fake v;
    struct vfio_client *c;
    uint64_t bm[2] = {0, 0};

    (void)state;
    c = v1_up(&v, H_NONE, true);
    assert_int_equal(vfio_client_dirty_pages(
                         c, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
    assert_int_equal(v.logging, 1);
    assert_int_equal(vfio_client_dirty_bitmap(c, 0x100000, 100 * 4096, 4096,
                                              bm), 0);
    assert_int_equal(bm[0], 0x21);
    /* Bad arguments never reach the server. */
    assert_int_equal(vfio_client_dirty_bitmap(c, 0x100001, 4096, 4096, bm),
                     -EINVAL);
    assert_int_equal(vfio_client_dirty_bitmap(c, 0, 4096, 3000, bm),
                     -EINVAL);
    assert_int_equal(vfio_client_dirty_bitmap(c, 0, 1ull << 40, 4096, bm),
                     -E2BIG);
    assert_int_equal(vfio_client_dirty_pages(c, 0), -EINVAL);
    assert_int_equal(v.bitmaps, 1);
    assert_int_equal(vfio_client_dirty_pages(
                         c, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP), 0);
    assert_int_equal(v.logging, 0);
    v1_down(&v, c);
    /* A server stating max_bitmap_size 8: a 16-byte bitmap is not asked. */
    memset(&v, 0, sizeof(v));
    c = v1_up_caps(&v, 8);
    assert_int_equal(vfio_client_dirty_bitmap(c, 0, 64 * 4096, 4096, bm), 0);
    assert_int_equal(vfio_client_dirty_bitmap(c, 0, 65 * 4096, 4096, bm),
                     -E2BIG);
    assert_int_equal(v.bitmaps, 1);
    v1_down(&v, c);
}

static void bitmap_hostile(enum hostile h)
{
    struct v1fake v;
    struct vfio_client *c = v1_up(&v, h, true);
    uint64_t bm[2] = {0, 0};

    assert_int_equal(vfio_client_dirty_bitmap(c, 0x100000, 100 * 4096, 4096,
                                              bm), -EPROTO);
    assert_true(vfio_client_failed(c));
    assert_int_equal(bm[0], 0);
    v1_down(&v, c);
}

static void test_dirty_bitmap_hostile(void **state)
{
    (void)state;
    bitmap_hostile(H_BM_ECHO);
    bitmap_hostile(H_BM_SHORT);
    bitmap_hostile(H_BM_HDR);
}

/* ---- the device's life cycle (pci_dev_mig_v1.c) ------------------------- */

static struct vfio_pci *dev_of(struct vfio_client *c)
{
    struct vfio_pci *d = calloc(1, sizeof(*d));

    assert_non_null(d);
    vpd_state_init(&d->st, &d->ctx, &d->irq);
    d->ctx.client = c;
    snprintf(d->ctx.name, sizeof(d->ctx.name), "v1dev");
    assert_int_equal(vfio_client_identity(c, &d->st.ident), 0); /* as setup */
    assert_int_equal(vpd_v1_probe(&d->st.mig), 0);
    return d;
}

static void test_device_cycle(void **state)
{
    struct v1fake v, w;
    struct vfio_client *c = v1_up(&v, H_NONE, true);
    struct vfio_pci *d = dev_of(c);
    void *saved;
    size_t len;
    char why[200] = "";
    int n_before;

    (void)state;
    assert_true(d->st.mig.v1);
    assert_int_equal(d->st.mig.v1r.region, MREG);
    assert_int_equal(d->st.mig.flags, VFIO_MIGRATION_STOP_COPY);
    /* Pause for a snapshot: the device goes straight to _SAVING (v1 has
     * no STOP -> SAVING), with nothing but region access once stopping. */
    n_before = atomic_load(&v.f.n_cmds);
    assert_int_equal(vpd_v1_quiesce(&d->st.mig), 0);
    assert_int_equal(v.state, VFIO_USER_MIG_V1_STATE_STOP_COPY);
    /* device_state read, written, read again: no GET_INFO or such. */
    assert_int_equal(atomic_load(&v.f.n_cmds) - n_before, 3);
    assert_int_equal(d->st.ident.num_regions, FAKE_REGIONS);
    assert_int_equal(d->st.ident.region[MREG].size, MSIZE);
    assert_int_equal(vpd_v1_save_prepare(&d->st.mig), 0);
    assert_int_equal(v.state, VFIO_USER_MIG_V1_STATE_STOP);
    assert_true(d->st.mig.saved);
    assert_int_equal(d->st.mig.len, 3 * 8 + 26);
    /* Resume: STOP -> RUNNING. */
    assert_int_equal(vpd_v1_set(&d->st.mig, VFIO_DEVICE_STATE_RUNNING), 0);
    assert_int_equal(v.state, VFIO_USER_MIG_V1_STATE_RUNNING);
    /* A pause without a save resumes from _SAVING. */
    assert_int_equal(vpd_v1_quiesce(&d->st.mig), 0);
    assert_int_equal(vpd_v1_set(&d->st.mig, VFIO_DEVICE_STATE_RUNNING), 0);
    assert_int_equal(v.state, VFIO_USER_MIG_V1_STATE_RUNNING);
    saved = d->st.mig.data;
    len = d->st.mig.len;
    free(d);
    v1_down(&v, c);
    /* Load on a fresh device: RESUMING, the records, then RUNNING. */
    c = v1_up(&w, H_NONE, true);
    d = dev_of(c);
    assert_int_equal(vpd_v1_load_server(&d->st.mig, saved, len, why, sizeof(why)), 0);
    assert_int_equal(w.state, VFIO_USER_MIG_V1_STATE_RESUMING);
    assert_int_equal(vpd_v1_set(&d->st.mig, VFIO_DEVICE_STATE_RUNNING), 0);
    assert_int_equal(w.state, VFIO_USER_MIG_V1_STATE_RUNNING);
    assert_int_equal(w.in_len, 26);
    assert_memory_equal(w.in, "v1-device-state-0123456789", 26);
    /* From STOP, RESUMING is reached through RUNNING (no direct arc). */
    w.state = VFIO_USER_MIG_V1_STATE_STOP;
    assert_int_equal(vpd_v1_set(&d->st.mig, VFIO_DEVICE_STATE_RESUMING), 0);
    assert_int_equal(w.state, VFIO_USER_MIG_V1_STATE_RESUMING);
    /* A broken stream: refused, said why. */
    assert_int_equal(vpd_v1_load_server(&d->st.mig, saved, 9, why, sizeof(why)),
                     -EINVAL);
    assert_non_null(strstr(why, "migration region"));
    free(saved);
    free(d);
    v1_down(&w, c);
}

/* A DMA window of @pages pages at @iova, @fd (-1: dma=message) at RAM
 * offset @ram. */
static struct iommu_window window(uint64_t iova, uint64_t pages, int fd,
                                  uint64_t ram)
{
    return (struct iommu_window){.iova = iova, .size = pages * 4096,
                                 .fd = fd, .fd_offset = ram,
                                 .prot = IOMMU_PROT_READ |
                                         IOMMU_PROT_WRITE};
}

static void test_device_dirty(void **state)
{
    int fd = memfd_create("ram", 0);
    uint64_t bits[32] = {0}, n = 0;
    struct v1fake v;
    struct vfio_client *c = v1_up(&v, H_NONE, true);
    struct vfio_pci *d = dev_of(c);
    struct iommu_window fdw = window(0x100000, 64, fd, 0x200000);
    struct iommu_window msgw = window(0x800000, 16, -1, 0x400000);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4 << 20), 0);
    assert_int_equal(vfio_client_dma_map(c, &fdw), 0);
    assert_int_equal(vfio_client_dma_map(c, &msgw), 0);
    assert_int_equal(vpd_v1_dirty_start(&d->st.mig), 0);
    assert_int_equal(v.logging, 1);
    assert_int_equal(vpd_v1_dirty_sync(&d->st.mig, bits, 2048, &n), 0);
    /* Both windows asked, merged at their RAM pages: 512 + {0, 5} and
     * 1024 + {0, 5} (a dma=message window too: the server may know what
     * it wrote through messages). */
    assert_int_equal(v.bitmaps, 2);
    assert_int_equal(n, 4);
    for (int i = 0; i < 32; i++)
        assert_int_equal(bits[i], i == 8 || i == 16 ? 0x21 : 0);
    assert_int_equal(vpd_v1_dirty_stop(&d->st.mig), 0);
    assert_int_equal(v.logging, 0);
    free(d);
    v1_down(&v, c);
    /* A server that cannot report a window without an fd (libvfio-user):
     * forgiven there, not for an fd-backed window. */
    c = v1_up(&v, H_BM_HIGH, true);
    d = dev_of(c);
    assert_int_equal(vfio_client_dma_map(c, &fdw), 0);
    assert_int_equal(vfio_client_dma_map(c, &msgw), 0);
    memset(bits, 0, sizeof(bits));
    assert_int_equal(vpd_v1_dirty_sync(&d->st.mig, bits, 2048, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(bits[8], 0x21);
    fdw = window(0x900000, 16, fd, 0x100000);
    assert_int_equal(vfio_client_dma_map(c, &fdw), 0);
    assert_int_equal(vpd_v1_dirty_sync(&d->st.mig, bits, 2048, &n), -EINVAL);
    free(d);
    v1_down(&v, c);
    close(fd);
}

/* Live migration: pre-copy data read at dirty-log start, leading the
 * saved stream; a migration that fails in pre-copy returns to RUNNING. */
static void test_device_precopy(void **state)
{
    struct iommu_window w = window(0x100000, 64, -1, 0x200000);
    uint64_t bits[32] = {0}, n = 0;
    struct v1fake v, x;
    struct vfio_client *c = v1_up(&v, H_NONE, true);
    struct vfio_pci *d = dev_of(c);
    void *saved;
    size_t len;
    char why[200] = "";

    (void)state;
    assert_int_equal(vfio_client_dma_map(c, &w), 0);
    assert_int_equal(vpd_v1_dirty_start(&d->st.mig), 0);
    assert_int_equal(v.state, VFIO_USER_MIG_V1_STATE_PRE_COPY);
    assert_int_equal(d->st.mig.pre_len, 8 + 10);
    assert_int_equal(vpd_v1_dirty_sync(&d->st.mig, bits, 2048, &n), 0);
    assert_int_equal(d->st.mig.pre_len, 8 + 10); /* nothing new */
    assert_int_equal(vpd_v1_quiesce(&d->st.mig), 0);
    assert_int_equal(v.state, VFIO_USER_MIG_V1_STATE_STOP_COPY);
    assert_true(d->st.mig.pre_in_stream);
    assert_int_equal(vpd_v1_save_prepare(&d->st.mig), 0);
    assert_int_equal(d->st.mig.len, 8 + 10 + 3 * 8 + 26);
    assert_int_equal(vpd_v1_dirty_stop(&d->st.mig), 0);
    assert_null(d->st.mig.pre_data);
    assert_int_equal(v.state, VFIO_USER_MIG_V1_STATE_STOP);
    saved = d->st.mig.data;
    len = d->st.mig.len;
    free(d);
    v1_down(&v, c);
    /* The destination gets the pre-copy chunk first, then the rest. */
    c = v1_up(&x, H_NONE, true);
    d = dev_of(c);
    assert_int_equal(vpd_v1_load_server(&d->st.mig, saved, len, why, sizeof(why)), 0);
    assert_int_equal(x.n_in, 4);
    assert_int_equal(x.in_chunks[0], 10);
    assert_int_equal(x.in_len, 36);
    assert_memory_equal(x.in, "early-partv1-device-state-0123456789", 36);
    free(saved);
    free(d);
    v1_down(&x, c);
    /* Cancelled in pre-copy: PRE_COPY -> _SAVING -> RUNNING. */
    c = v1_up(&v, H_NONE, true);
    d = dev_of(c);
    assert_int_equal(vpd_v1_dirty_start(&d->st.mig), 0);
    assert_int_equal(v.state, VFIO_USER_MIG_V1_STATE_PRE_COPY);
    assert_int_equal(vpd_v1_dirty_stop(&d->st.mig), 0);
    assert_int_equal(v.state, VFIO_USER_MIG_V1_STATE_RUNNING);
    assert_null(d->st.mig.pre_data);
    free(d);
    v1_down(&v, c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_framing),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_save_hostile),
        cmocka_unit_test(test_dirty_bitmap),
        cmocka_unit_test(test_dirty_bitmap_hostile),
        cmocka_unit_test(test_device_cycle),
        cmocka_unit_test(test_device_dirty),
        cmocka_unit_test(test_device_precopy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
