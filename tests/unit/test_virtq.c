/* SPDX-License-Identifier: BSD-3-Clause */
/* Split virtqueue (virtio/queue.c) over fake flat guest memory: chains,
 * indirect tables, 16-bit wrap-around, event-idx decisions, and every
 * malformed-chain case (each must fail cleanly and break the queue). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/virtio_ring.h>

#include "virtio/guest_mem.h"
#include "virtio/queue.h"
#include "virtio/vring_driver.h"

#define MEM_GPA   0x100000ULL
#define MEM_SIZE  (512ULL << 20)    /* MAP_NORESERVE: only touched pages */
#define QSIZE     8
#define DATA_GPA  (MEM_GPA + 0x10000)
#define IND_GPA   (MEM_GPA + 0x8000)
#define IND2_GPA  (MEM_GPA + 0x9000)

struct fixture {
    void *host;
    struct virtio_flat_mem fm;
    struct virtio_mem mem;
    struct virtq q;
    struct vring_drv drv;
    struct virtq_seg segs[16];
    struct virtq_elem e;
};

static int setup_mode(void **state, bool shared, uint64_t features)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->host = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(f->host != MAP_FAILED);
    virtio_flat_mem_init(&f->fm, f->host, MEM_GPA, MEM_SIZE, shared,
                         &f->mem);
    assert_int_equal(vring_drv_init(&f->drv, &f->mem, QSIZE, MEM_GPA, NULL),
                     0);
    assert_int_equal(virtq_init(&f->q, &f->mem, QSIZE), 0);
    assert_int_equal(virtq_set_addrs(&f->q, f->drv.desc_gpa,
                                     f->drv.avail_gpa, f->drv.used_gpa), 0);
    virtq_set_features(&f->q, features);
    assert_int_equal(virtq_enable(&f->q), 0);
    f->e.segs = f->segs;
    f->e.max_segs = 16;
    *state = f;
    return 0;
}

#define ALL_RING ((1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
                  (1ULL << VIRTIO_RING_F_EVENT_IDX))

static int setup(void **state)
{
    return setup_mode(state, true, ALL_RING);
}

static int setup_message(void **state)
{
    return setup_mode(state, false, ALL_RING);
}

static int setup_plain(void **state)
{
    return setup_mode(state, true, 0);
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    munmap(f->host, MEM_SIZE);
    free(f);
    return 0;
}

static uint16_t add(struct fixture *f, const struct vring_drv_buf *b,
                    unsigned int n, uint64_t ind)
{
    uint16_t head;

    assert_int_equal(vring_drv_add_chain(&f->drv, b, n, ind, &head), 0);
    assert_int_equal(vring_drv_publish(&f->drv, head), 0);
    return head;
}

static const struct vring_drv_buf three[] = {
    { DATA_GPA, 16, false },
    { DATA_GPA + 0x1000, 512, true },
    { DATA_GPA + 0x2000, 1, true },
};

/* --- well-formed chains -------------------------------------------------- */

static void test_simple_chain(void **state)
{
    struct fixture *f = *state;
    uint32_t id, len;
    uint16_t head = add(f, three, 3, 0);

    assert_int_equal(virtq_pop(&f->q, &f->e), 1);
    assert_int_equal(f->e.head, head);
    assert_int_equal(f->e.nsegs, 3);
    assert_int_equal(f->e.nout, 1);
    assert_int_equal(f->e.out_bytes, 16);
    assert_int_equal(f->e.in_bytes, 513);
    assert_false(f->e.truncated);
    assert_true(f->segs[1].write && f->segs[1].gpa == DATA_GPA + 0x1000);
    assert_true(f->e.last.write && f->e.last.len == 1);
    assert_int_equal(virtq_pop(&f->q, &f->e), 0);
    assert_int_equal(virtq_push(&f->q, head, 513), 0);
    assert_int_equal(vring_drv_get_used(&f->drv, &id, &len), 1);
    assert_int_equal(id, head);
    assert_int_equal(len, 513);
    assert_int_equal(vring_drv_get_used(&f->drv, &id, &len), 0);
}

static void test_empty_and_disabled(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(virtq_pop(&f->q, &f->e), 0);
    assert_false(virtq_has_avail(&f->q));
    virtq_reset(&f->q);
    add(f, three, 3, 0);
    assert_int_equal(virtq_pop(&f->q, &f->e), 0);   /* not enabled */
}

static void test_indirect_chain(void **state)
{
    struct fixture *f = *state;
    uint16_t head = add(f, three, 3, IND_GPA);

    assert_int_equal(virtq_pop(&f->q, &f->e), 1);
    assert_int_equal(f->e.head, head);
    assert_int_equal(f->e.nsegs, 3);
    assert_int_equal(f->e.in_bytes, 513);
    assert_int_equal(f->drv.next_desc, 1);  /* one ring slot used */
}

static void test_message_mode(void **state)
{
    struct fixture *f = *state;
    uint8_t hdr[16] = { 1, 2, 3 }, out[16], big[600];
    uint32_t id, len;

    memcpy((uint8_t *)f->host + (DATA_GPA - MEM_GPA), hdr, sizeof(hdr));
    add(f, three, 3, IND_GPA);
    assert_int_equal(virtq_pop(&f->q, &f->e), 1);
    assert_int_equal(f->e.nsegs, 3);
    assert_int_equal(virtq_elem_read(&f->q, &f->e, 0, out, 16), 0);
    assert_memory_equal(out, hdr, 16);
    memset(big, 0xab, sizeof(big));
    assert_int_equal(virtq_elem_write(&f->q, &f->e, 0, big, 513), 0);
    assert_int_equal(virtq_elem_write(&f->q, &f->e, 0, big, 514), -ERANGE);
    assert_int_equal(virtq_push(&f->q, f->e.head, 513), 0);
    assert_int_equal(vring_drv_get_used(&f->drv, &id, &len), 1);
    assert_true(f->fm.reads > 0 && f->fm.writes > 0);
}

/* Message-based DMA, several chains pending: avail->idx once, then the
 * avail entries and the whole descriptor table (the device's snapshot
 * buffer) in one go: three reads for three chains. Completions batched:
 * used->idx moves only at virtq_publish(). Notification suppression is
 * left alone (no flags write; enable reports nothing to re-check). */
static void test_message_batch(void **state)
{
    struct fixture *f = *state;
    const struct vring_drv_buf b[2][2] = {
        {{ DATA_GPA, 16, false }, { DATA_GPA + 0x2000, 1, true }},
        {{ DATA_GPA + 0x100, 16, false }, { DATA_GPA + 0x2100, 1, true }},
    };
    uint16_t heads[3];
    uint64_t reads, writes;
    uint32_t id, len;

    f->q.desc_snap = calloc(QSIZE, sizeof(struct vring_desc));
    f->q.desc_snap_cap = QSIZE * sizeof(struct vring_desc);
    heads[0] = add(f, three, 3, 0);
    heads[1] = add(f, b[0], 2, 0);
    heads[2] = add(f, b[1], 2, 0);
    writes = f->fm.writes;
    virtq_disable_notify(&f->q);
    assert_int_equal(f->fm.writes, writes);
    reads = f->fm.reads;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(virtq_pop(&f->q, &f->e), 1);
        assert_int_equal(f->e.head, heads[i]);
        assert_int_equal(f->e.nsegs, i ? 2 : 3);
        assert_int_equal(f->e.segs[0].gpa, i == 2 ? DATA_GPA + 0x100
                                                  : DATA_GPA);
    }
    assert_int_equal(f->fm.reads - reads, 3);
    assert_int_equal(virtq_pop(&f->q, &f->e), 0);   /* a fresh idx read */
    assert_int_equal(f->fm.reads - reads, 4);
    assert_false(virtq_enable_notify(&f->q));
    for (int i = 0; i < 3; i++)
        assert_int_equal(virtq_push_deferred(&f->q, heads[i], 1), 0);
    assert_int_equal(vring_drv_get_used(&f->drv, &id, &len), 0);
    assert_int_equal(virtq_publish(&f->q), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(vring_drv_get_used(&f->drv, &id, &len), 1);
        assert_int_equal(id, heads[i]);
    }
    writes = f->fm.writes;
    assert_int_equal(virtq_publish(&f->q), 0);      /* nothing new */
    assert_int_equal(f->fm.writes, writes);
    virtq_reset(&f->q);                             /* keeps the buffer */
    assert_non_null(f->q.desc_snap);
    free(f->q.desc_snap);
}

static void test_elem_copy_across_segments(void **state)
{
    struct fixture *f = *state;
    const struct vring_drv_buf b[] = {
        { DATA_GPA, 3, false }, { DATA_GPA + 0x100, 5, false },
        { DATA_GPA + 0x200, 2, true }, { DATA_GPA + 0x300, 2, true },
    };
    uint8_t *h = (uint8_t *)f->host + (DATA_GPA - MEM_GPA);
    uint8_t buf[8];

    memcpy(h, "abc", 3);
    memcpy(h + 0x100, "defgh", 5);
    add(f, b, 4, 0);
    assert_int_equal(virtq_pop(&f->q, &f->e), 1);
    assert_int_equal(virtq_elem_read(&f->q, &f->e, 1, buf, 6), 0);
    assert_memory_equal(buf, "bcdefg", 6);
    assert_int_equal(virtq_elem_read(&f->q, &f->e, 4, buf, 5), -ERANGE);
    assert_int_equal(virtq_elem_write(&f->q, &f->e, 1, "XYZ", 3), 0);
    assert_memory_equal(h + 0x201, "X", 1);
    assert_memory_equal(h + 0x300, "YZ", 2);
    assert_true(f->fm.dirty_pages > 0);
}

static void test_truncated(void **state)
{
    struct fixture *f = *state;
    const struct vring_drv_buf b[] = {
        { DATA_GPA, 16, false }, { DATA_GPA + 0x100, 8, false },
        { DATA_GPA + 0x200, 8, true }, { DATA_GPA + 0x300, 1, true },
    };

    add(f, b, 4, 0);
    f->e.max_segs = 2;
    assert_int_equal(virtq_pop(&f->q, &f->e), 1);
    assert_true(f->e.truncated);
    assert_int_equal(f->e.nsegs, 2);
    assert_int_equal(f->e.in_bytes, 9);
    assert_int_equal(f->e.last.gpa, DATA_GPA + 0x300);
}

static void test_zero_length_desc_skipped(void **state)
{
    struct fixture *f = *state;
    const struct vring_drv_buf b[] = {
        { DATA_GPA, 16, false }, { DATA_GPA + 0x100, 0, true },
        { DATA_GPA + 0x300, 1, true },
    };

    add(f, b, 3, 0);
    assert_int_equal(virtq_pop(&f->q, &f->e), 1);
    assert_int_equal(f->e.nsegs, 2);
}

/* --- wrap-around and notifications ---------------------------------------- */

static void test_wraparound(void **state)
{
    struct fixture *f = *state;
    const struct vring_drv_buf b[] = { { DATA_GPA, 1, true } };
    uint16_t heads[5], idx;
    uint32_t id, len;
    int i;

    assert_int_equal(vring_drv_start_at(&f->drv, 65533), 0);
    f->q.last_avail_idx = 65533;
    f->q.used_idx = 65533;
    for (i = 0; i < 5; i++)
        heads[i] = add(f, b, 1, 0);
    assert_int_equal(f->drv.avail_idx, 2);
    for (i = 0; i < 5; i++) {
        assert_int_equal(virtq_pop(&f->q, &f->e), 1);
        assert_int_equal(f->e.head, heads[i]);
        assert_int_equal(virtq_push(&f->q, f->e.head, i), 0);
    }
    assert_int_equal(virtq_pop(&f->q, &f->e), 0);
    assert_int_equal(f->q.last_avail_idx, 2);
    assert_int_equal(vring_drv_get_used_idx(&f->drv, &idx), 0);
    assert_int_equal(idx, 2);
    for (i = 0; i < 5; i++) {
        assert_int_equal(vring_drv_get_used(&f->drv, &id, &len), 1);
        assert_int_equal(id, heads[i]);
        assert_int_equal(len, i);
    }
}

static void test_event_idx_avail_event(void **state)
{
    struct fixture *f = *state;
    uint16_t ev;

    add(f, three, 3, 0);
    add(f, three, 3, 0);
    assert_int_equal(virtq_pop(&f->q, &f->e), 1);
    assert_int_equal(vring_drv_get_avail_event(&f->drv, &ev), 0);
    assert_int_equal(ev, 1);
    virtq_disable_notify(&f->q);
    assert_int_equal(virtq_pop(&f->q, &f->e), 1);
    assert_int_equal(vring_drv_get_avail_event(&f->drv, &ev), 0);
    assert_int_equal(ev, 1);            /* not advanced while disabled */
    assert_false(virtq_enable_notify(&f->q));
    assert_int_equal(vring_drv_get_avail_event(&f->drv, &ev), 0);
    assert_int_equal(ev, 2);
    add(f, three, 3, 0);                /* arrived while disabled */
    virtq_disable_notify(&f->q);
    assert_true(virtq_enable_notify(&f->q));
}

static void push_n(struct fixture *f, int n)
{
    while (n--)
        assert_int_equal(virtq_push(&f->q, 0, 0), 0);
}

static void test_event_idx_need_notify(void **state)
{
    struct fixture *f = *state;

    push_n(f, 1);
    assert_true(virtq_need_notify(&f->q));      /* first: always */
    assert_int_equal(vring_drv_set_used_event(&f->drv, 5), 0);
    push_n(f, 1);                               /* used 2 */
    assert_false(virtq_need_notify(&f->q));
    push_n(f, 3);                               /* used 5: event not passed */
    assert_false(virtq_need_notify(&f->q));
    push_n(f, 1);                               /* used 6: crossed 5 */
    assert_true(virtq_need_notify(&f->q));
    push_n(f, 1);
    assert_false(virtq_need_notify(&f->q));     /* event stays behind */
    /* An event the device already passed does not fire again: the
     * driver re-checks the ring itself (spec 2.7.10). */
    assert_int_equal(vring_drv_set_used_event(&f->drv, 6), 0);
    push_n(f, 1);                               /* used 8 */
    assert_false(virtq_need_notify(&f->q));
    assert_int_equal(vring_drv_set_used_event(&f->drv, 8), 0);
    push_n(f, 1);                               /* used 9: crossed 8 */
    assert_true(virtq_need_notify(&f->q));
}

static void test_event_idx_wrap(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(vring_drv_start_at(&f->drv, 65534), 0);
    f->q.used_idx = 65534;
    f->q.signalled_used = 65534;
    f->q.signalled_used_valid = true;
    assert_int_equal(vring_drv_set_used_event(&f->drv, 65535), 0);
    push_n(f, 1);                               /* used 65535 */
    assert_false(virtq_need_notify(&f->q));
    push_n(f, 1);                               /* used 0: crossed 65535 */
    assert_true(virtq_need_notify(&f->q));
}

static void test_flags_no_event_idx(void **state)
{
    struct fixture *f = *state;
    uint16_t flags;

    push_n(f, 1);
    assert_true(virtq_need_notify(&f->q));
    assert_int_equal(vring_drv_set_avail_flags(&f->drv,
                                               VRING_AVAIL_F_NO_INTERRUPT), 0);
    push_n(f, 1);
    assert_false(virtq_need_notify(&f->q));
    virtq_disable_notify(&f->q);
    assert_int_equal(vring_drv_get_used_flags(&f->drv, &flags), 0);
    assert_int_equal(flags, VRING_USED_F_NO_NOTIFY);
    add(f, three, 3, 0);
    assert_true(virtq_enable_notify(&f->q));
    assert_int_equal(vring_drv_get_used_flags(&f->drv, &flags), 0);
    assert_int_equal(flags, 0);
}

/* --- configuration ------------------------------------------------------- */

static void test_config_checks(void **state)
{
    struct fixture *f = *state;
    struct virtq q;

    assert_int_equal(virtq_init(&q, &f->mem, 6), -EINVAL);
    assert_int_equal(virtq_init(&q, &f->mem, 0), -EINVAL);
    assert_int_equal(virtq_init(&q, &f->mem, 32768), 0);
    assert_int_equal(q.size, 32768);
    assert_int_equal(virtq_init(&q, &f->mem, QSIZE), 0);
    assert_int_equal(virtq_set_size(&q, 3), -EINVAL);
    assert_int_equal(virtq_set_size(&q, 16), -EINVAL);
    assert_int_equal(virtq_set_size(&q, 4), 0);
    assert_int_equal(virtq_set_addrs(&q, MEM_GPA + 8, MEM_GPA + 0x1000,
                                     MEM_GPA + 0x2000), 0);
    assert_int_equal(virtq_enable(&q), -EINVAL);        /* desc align */
    assert_int_equal(virtq_set_addrs(&q, MEM_GPA, MEM_GPA + 0x1000,
                                     MEM_GPA + 0x2002), 0);
    assert_int_equal(virtq_enable(&q), -EINVAL);        /* used align */
    assert_int_equal(virtq_set_addrs(&q, 0x1000, MEM_GPA + 0x1000,
                                     MEM_GPA + 0x2000), 0);
    assert_int_equal(virtq_enable(&q), -EFAULT);        /* unmapped */
    assert_int_equal(virtq_set_addrs(&q, MEM_GPA, MEM_GPA + 0x1000,
                                     MEM_GPA + MEM_SIZE - 8), 0);
    assert_int_equal(virtq_enable(&q), -EFAULT);        /* runs off end */
    assert_int_equal(virtq_set_addrs(&q, MEM_GPA, MEM_GPA + 0x1000,
                                     MEM_GPA + 0x2000), 0);
    assert_int_equal(virtq_enable(&q), 0);
    assert_int_equal(virtq_set_size(&q, 2), -EBUSY);
    assert_int_equal(virtq_set_addrs(&q, 0, 0, 0), -EBUSY);
}

/* --- malformed chains: error, queue broken, never a crash --------------- */

static uint64_t ring(struct fixture *f)
{
    return f->drv.desc_gpa;
}

static void expect_broken(struct fixture *f, int err)
{
    assert_int_equal(virtq_pop(&f->q, &f->e), err);
    assert_true(f->q.broken);
    /* The cause is kept for the DEVICE_NEEDS_RESET log line. */
    assert_non_null(f->q.broken_why);
    assert_int_equal(f->q.broken_err, err);
    assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
    assert_int_equal(f->q.broken_err, err); /* the first cause stays */
    assert_int_equal(virtq_push(&f->q, 0, 0), -EIO);
    assert_false(virtq_need_notify(&f->q));
}

static void desc(struct fixture *f, uint64_t tbl, uint16_t i, uint64_t addr,
                 uint32_t len, uint16_t flags, uint16_t next)
{
    assert_int_equal(vring_drv_write_desc(&f->drv, tbl, i, addr, len, flags,
                                          next), 0);
}

static void publish(struct fixture *f, uint16_t head)
{
    assert_int_equal(vring_drv_publish(&f->drv, head), 0);
}

static void test_bad_loop(void **state)
{
    struct fixture *f = *state;

    desc(f, ring(f), 0, DATA_GPA, 1, VRING_DESC_F_NEXT, 1);
    desc(f, ring(f), 1, DATA_GPA, 1, VRING_DESC_F_NEXT, 0);
    publish(f, 0);
    expect_broken(f, -ELOOP);
}

static void test_bad_self_loop(void **state)
{
    struct fixture *f = *state;

    desc(f, ring(f), 3, DATA_GPA, 1, VRING_DESC_F_NEXT, 3);
    publish(f, 3);
    expect_broken(f, -ELOOP);
}

static void test_bad_next_out_of_range(void **state)
{
    struct fixture *f = *state;

    desc(f, ring(f), 0, DATA_GPA, 1, VRING_DESC_F_NEXT, QSIZE);
    publish(f, 0);
    expect_broken(f, -EINVAL);
}

static void test_bad_head_out_of_range(void **state)
{
    struct fixture *f = *state;

    publish(f, QSIZE + 3);
    expect_broken(f, -EINVAL);
}

static void test_bad_avail_idx_jump(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(vring_drv_set_avail_idx(&f->drv, QSIZE + 1), 0);
    expect_broken(f, -EINVAL);
}

static void test_bad_addr_below(void **state)
{
    struct fixture *f = *state;

    desc(f, ring(f), 0, 0x1000, 16, 0, 0);
    publish(f, 0);
    expect_broken(f, -EFAULT);
}

static void test_bad_addr_past_end(void **state)
{
    struct fixture *f = *state;

    desc(f, ring(f), 0, MEM_GPA + MEM_SIZE - 4, 16, 0, 0);
    publish(f, 0);
    expect_broken(f, -EFAULT);
}

static void test_bad_addr_wraps(void **state)
{
    struct fixture *f = *state;

    desc(f, ring(f), 0, 0xfffffffffffffff0ULL, 0x100, VRING_DESC_F_WRITE, 0);
    publish(f, 0);
    expect_broken(f, -EFAULT);
}

static void test_bad_oversized_desc(void **state)
{
    struct fixture *f = *state;

    desc(f, ring(f), 0, DATA_GPA, 0xffffffffu, 0, 0);
    publish(f, 0);
    expect_broken(f, -E2BIG);
}

static void test_bad_oversized_total(void **state)
{
    struct fixture *f = *state;

    desc(f, ring(f), 0, DATA_GPA, 200u << 20, VRING_DESC_F_NEXT, 1);
    desc(f, ring(f), 1, DATA_GPA, 200u << 20, 0, 0);
    publish(f, 0);
    expect_broken(f, -E2BIG);
}

static void test_bad_order(void **state)
{
    struct fixture *f = *state;

    desc(f, ring(f), 0, DATA_GPA, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
         1);
    desc(f, ring(f), 1, DATA_GPA, 16, 0, 0);
    publish(f, 0);
    expect_broken(f, -EINVAL);
}

static void test_bad_indirect_not_negotiated(void **state)
{
    struct fixture *f = *state;

    add(f, three, 3, IND_GPA);
    expect_broken(f, -EINVAL);
}

static void test_bad_nested_indirect(void **state)
{
    struct fixture *f = *state;

    desc(f, IND_GPA, 0, IND2_GPA, 32, VRING_DESC_F_INDIRECT, 0);
    desc(f, ring(f), 0, IND_GPA, 16, VRING_DESC_F_INDIRECT, 0);
    publish(f, 0);
    expect_broken(f, -EINVAL);
}

static void test_bad_indirect_zero_len(void **state)
{
    struct fixture *f = *state;

    desc(f, ring(f), 0, IND_GPA, 0, VRING_DESC_F_INDIRECT, 0);
    publish(f, 0);
    expect_broken(f, -EINVAL);
}

static void test_bad_indirect_partial_len(void **state)
{
    struct fixture *f = *state;

    desc(f, ring(f), 0, IND_GPA, 24, VRING_DESC_F_INDIRECT, 0);
    publish(f, 0);
    expect_broken(f, -EINVAL);
}

static void test_bad_indirect_with_next(void **state)
{
    struct fixture *f = *state;

    desc(f, IND_GPA, 0, DATA_GPA, 1, 0, 0);
    desc(f, ring(f), 0, IND_GPA, 16, VRING_DESC_F_INDIRECT |
         VRING_DESC_F_NEXT, 1);
    desc(f, ring(f), 1, DATA_GPA, 1, 0, 0);
    publish(f, 0);
    expect_broken(f, -EINVAL);
}

static void test_bad_indirect_table_unmapped(void **state)
{
    struct fixture *f = *state;

    desc(f, ring(f), 0, 0x2000, 32, VRING_DESC_F_INDIRECT, 0);
    publish(f, 0);
    expect_broken(f, -EFAULT);
}

static void test_bad_indirect_too_big(void **state)
{
    struct fixture *f = *state;

    desc(f, ring(f), 0, IND_GPA, (VIRTQ_MAX_SIZE + 1) * 16,
         VRING_DESC_F_INDIRECT, 0);
    publish(f, 0);
    expect_broken(f, -EINVAL);
}

static void test_bad_indirect_loop(void **state)
{
    struct fixture *f = *state;

    desc(f, IND_GPA, 0, DATA_GPA, 1, VRING_DESC_F_NEXT, 1);
    desc(f, IND_GPA, 1, DATA_GPA, 1, VRING_DESC_F_NEXT, 0);
    desc(f, ring(f), 0, IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
    publish(f, 0);
    expect_broken(f, -ELOOP);
}

static void test_bad_indirect_next_out_of_range(void **state)
{
    struct fixture *f = *state;

    desc(f, IND_GPA, 0, DATA_GPA, 1, VRING_DESC_F_NEXT, 2);
    desc(f, ring(f), 0, IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
    publish(f, 0);
    expect_broken(f, -EINVAL);
}

static void test_bad_loop_message_mode(void **state)
{
    struct fixture *f = *state;

    desc(f, ring(f), 0, DATA_GPA, 1, VRING_DESC_F_NEXT, 0);
    publish(f, 0);
    expect_broken(f, -ELOOP);
}

static void test_reenable_clears_broken(void **state)
{
    struct fixture *f = *state;

    publish(f, QSIZE);
    expect_broken(f, -EINVAL);
    virtq_reset(&f->q);
    assert_false(f->q.broken);
}

/* --- state --------------------------------------------------------------- */

static int new_tree(void *buf, int size)
{
    assert_int_equal(fdt_create_empty_tree(buf, size), 0);
    return fdt_add_subnode(buf, 0, "q");
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    char buf[4096];
    struct virtq q2;
    int node = new_tree(buf, sizeof(buf));

    add(f, three, 3, 0);
    assert_int_equal(virtq_pop(&f->q, &f->e), 1);
    assert_int_equal(virtq_push(&f->q, f->e.head, 1), 0);
    add(f, three, 3, 0);
    assert_true(node >= 0);
    assert_int_equal(virtq_save(&f->q, buf, node), 0);
    assert_int_equal(virtq_init(&q2, &f->mem, QSIZE), 0);
    assert_int_equal(virtq_load(&q2, buf, node), 0);
    assert_true(q2.enabled && q2.event_idx && q2.indirect);
    assert_int_equal(q2.size, QSIZE);
    assert_int_equal(q2.desc_gpa, f->q.desc_gpa);
    assert_int_equal(q2.avail_gpa, f->q.avail_gpa);
    assert_int_equal(q2.used_gpa, f->q.used_gpa);
    assert_int_equal(q2.last_avail_idx, 1);
    assert_int_equal(q2.used_idx, 1);
    /* the restored queue continues where the old one stopped */
    assert_int_equal(virtq_pop(&q2, &f->e), 1);
    assert_int_equal(q2.last_avail_idx, 2);
}

static void test_load_rejects_bad(void **state)
{
    struct fixture *f = *state;
    char buf[4096];
    struct virtq q2;
    int node = new_tree(buf, sizeof(buf));

    assert_int_equal(virtq_save(&f->q, buf, node), 0);
    assert_int_equal(virtq_init(&q2, &f->mem, QSIZE / 2), 0);
    assert_int_equal(virtq_load(&q2, buf, node), -EINVAL);   /* too big */
    assert_int_equal(virtq_init(&q2, &f->mem, QSIZE), 0);
    assert_int_equal(fdt_setprop_u32(buf, node, "size", 3), 0);
    assert_int_equal(virtq_load(&q2, buf, node), -EINVAL);
    assert_int_equal(fdt_setprop_u32(buf, node, "size", QSIZE), 0);
    assert_int_equal(fdt_setprop_u64(buf, node, "used-addr", MEM_GPA + 2),
                     0);
    assert_int_equal(virtq_load(&q2, buf, node), -EINVAL);   /* align */
    assert_int_equal(fdt_setprop_u64(buf, node, "used-addr", 0x1000), 0);
    assert_int_equal(virtq_load(&q2, buf, node), -EFAULT);   /* unmapped */
    assert_int_equal(fdt_setprop_u32(buf, node, "used-idx", 70000), 0);
    assert_int_equal(virtq_load(&q2, buf, node), -EINVAL);
    assert_int_equal(fdt_setprop_u32(buf, node, "enabled", 2), 0);
    assert_int_equal(virtq_load(&q2, buf, node), -EINVAL);
    assert_int_equal(fdt_delprop(buf, node, "last-avail-idx"), 0);
    assert_int_equal(virtq_load(&q2, buf, node), -ENOENT);
    assert_int_equal(fdt_setprop(buf, node, "last-avail-idx", "x", 1), 0);
    assert_int_equal(virtq_load(&q2, buf, node), -EINVAL);   /* size */
    assert_false(q2.enabled);   /* untouched by failed loads */
}

#define T(fn)     cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TM(fn)    cmocka_unit_test_setup_teardown(fn, setup_message, teardown)
#define TP(fn)    cmocka_unit_test_setup_teardown(fn, setup_plain, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_simple_chain),
        T(test_empty_and_disabled),
        T(test_indirect_chain),
        TM(test_message_mode),
        TM(test_message_batch),
        T(test_elem_copy_across_segments),
        T(test_truncated),
        T(test_zero_length_desc_skipped),
        T(test_wraparound),
        TM(test_wraparound),
        T(test_event_idx_avail_event),
        T(test_event_idx_need_notify),
        T(test_event_idx_wrap),
        TP(test_flags_no_event_idx),
        T(test_config_checks),
        T(test_bad_loop),
        T(test_bad_self_loop),
        T(test_bad_next_out_of_range),
        T(test_bad_head_out_of_range),
        T(test_bad_avail_idx_jump),
        T(test_bad_addr_below),
        T(test_bad_addr_past_end),
        T(test_bad_addr_wraps),
        T(test_bad_oversized_desc),
        T(test_bad_oversized_total),
        T(test_bad_order),
        TP(test_bad_indirect_not_negotiated),
        T(test_bad_nested_indirect),
        T(test_bad_indirect_zero_len),
        T(test_bad_indirect_partial_len),
        T(test_bad_indirect_with_next),
        T(test_bad_indirect_table_unmapped),
        T(test_bad_indirect_too_big),
        T(test_bad_indirect_loop),
        T(test_bad_indirect_next_out_of_range),
        TM(test_bad_loop_message_mode),
        TM(test_bad_nested_indirect),
        T(test_reenable_clears_broken),
        T(test_save_load),
        T(test_load_rejects_bad),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
