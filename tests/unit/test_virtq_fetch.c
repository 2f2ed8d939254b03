/* SPDX-License-Identifier: BSD-3-Clause */
/* Message-DMA batching of split virtqueues (virtio/queue_fetch.c) over a
 * fake message memory that counts round trips: a plain read or write is
 * one, a flush with anything posted is one; posted reads land only at
 * the flush (as replies would). Checks: the same chains as the slow path
 * in two rounds, prefixes (request headers) only where the fresh table
 * puts them, chains leaving the cached table (indirect), a failed second
 * round falling back, malformed rings still refused, used elements as
 * one write, event-idx still re-checking the index. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "virtio/guest_mem.h"
#include "virtio/queue.h"
#include "virtio/queue_fetch.h"
#include "virtio/vring_driver.h"

#define MEM_GPA   0x100000ULL
#define MEM_SIZE  (1ULL << 20)
#define QSIZE     8
#define HDR_GPA   (MEM_GPA + 0x10000)   /* headers, 0x100 apart */
#define DATA_GPA  (MEM_GPA + 0x20000)
#define IND_GPA   (MEM_GPA + 0x8000)
#define MAX_POST  64

struct post {
    uint64_t gpa, len;
    void *buf;                  /* read: destination */
    uint8_t data[64];           /* write: the bytes (small in tests) */
    bool write;
};

/* The device's memory: no translate, copy ops counting round trips. */
struct msg_mem {
    uint8_t *base;
    struct post post[MAX_POST];
    unsigned int nposted;
    unsigned int rounds, reads_posted, writes_posted;
    uint64_t fail_gpa;          /* a posted read here fails at the flush */
};

struct fixture {
    uint8_t *host;
    struct msg_mem mm;
    struct virtio_mem mem;      /* the device's */
    struct virtio_flat_mem dfm;
    struct virtio_mem dmem;     /* the driver's: shared */
    struct virtq q;
    struct vring_drv drv;
    struct virtq_seg segs[8];
    struct virtq_elem e;
};

static uint8_t *at(struct msg_mem *m, uint64_t gpa, uint64_t len)
{
    if (gpa < MEM_GPA || gpa + len > MEM_GPA + MEM_SIZE || gpa + len < gpa)
        return NULL;
    return m->base + (gpa - MEM_GPA);
}

static int mm_read(void *o, uint64_t gpa, void *buf, uint64_t len)
{
    struct msg_mem *m = o;
    uint8_t *p = at(m, gpa, len);

    m->rounds++;
    if (!p)
        return -EFAULT;
    memcpy(buf, p, len);
    return 0;
}

static int mm_write(void *o, uint64_t gpa, const void *buf, uint64_t len)
{
    struct msg_mem *m = o;
    uint8_t *p = at(m, gpa, len);

    m->rounds++;
    if (!p)
        return -EFAULT;
    memcpy(p, buf, len);
    return 0;
}

static int mm_post(struct msg_mem *m, uint64_t gpa, void *buf,
                   const void *data, uint64_t len)
{
    struct post *p;

    if (!at(m, gpa, len))
        return -EFAULT;         /* not mapped: fails before sending */
    assert_true(m->nposted < MAX_POST);
    p = &m->post[m->nposted++];
    *p = (struct post){ .gpa = gpa, .len = len, .buf = buf, .write = !buf };
    if (data) {
        assert_true(len <= sizeof(p->data));
        memcpy(p->data, data, len);
    }
    return 0;
}

static int mm_read_posted(void *o, uint64_t gpa, void *buf, uint64_t len)
{
    struct msg_mem *m = o;

    m->reads_posted++;
    return mm_post(m, gpa, buf, NULL, len);
}

static int mm_write_posted(void *o, uint64_t gpa, const void *buf,
                           uint64_t len)
{
    struct msg_mem *m = o;

    m->writes_posted++;
    return mm_post(m, gpa, NULL, buf, len);
}

static int mm_flush(void *o)
{
    struct msg_mem *m = o;
    int r = 0;

    if (m->nposted)
        m->rounds++;
    for (unsigned int i = 0; i < m->nposted; i++) {
        struct post *p = &m->post[i];

        if (!p->write && p->gpa == m->fail_gpa)
            r = r ? r : -EPERM;
        else if (p->write)
            memcpy(at(m, p->gpa, p->len), p->data, p->len);
        else
            memcpy(p->buf, at(m, p->gpa, p->len), p->len);
    }
    m->nposted = 0;
    return r;
}

static const struct virtio_mem_ops mm_ops = {
    .read = mm_read, .write = mm_write, .read_posted = mm_read_posted,
    .write_posted = mm_write_posted, .flush = mm_flush,
};

static int setup_feat(void **state, uint64_t features)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->host = calloc(1, MEM_SIZE);
    assert_non_null(f->host);
    f->mm.base = f->host;
    f->mm.fail_gpa = UINT64_MAX;
    f->mem = (struct virtio_mem){ .ops = &mm_ops, .opaque = &f->mm };
    virtio_flat_mem_init(&f->dfm, f->host, MEM_GPA, MEM_SIZE, true,
                         &f->dmem);
    assert_int_equal(vring_drv_init(&f->drv, &f->dmem, QSIZE, MEM_GPA, NULL),
                     0);
    assert_int_equal(virtq_init(&f->q, &f->mem, QSIZE), 0);
    assert_int_equal(virtq_msg_alloc(&f->q, 16), 0);
    assert_int_equal(virtq_set_addrs(&f->q, f->drv.desc_gpa,
                                     f->drv.avail_gpa, f->drv.used_gpa), 0);
    virtq_set_features(&f->q, features);
    assert_int_equal(virtq_enable(&f->q), 0);
    assert_true(virtq_msg_usable(&f->q));
    f->e.segs = f->segs;
    f->e.max_segs = 8;
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_feat(state, 1ULL << VIRTIO_RING_F_INDIRECT_DESC);
}

static int setup_event_idx(void **state)
{
    return setup_feat(state, (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
                                 (1ULL << VIRTIO_RING_F_EVENT_IDX));
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    virtq_msg_free(&f->q);
    assert_null(f->q.msg);
    free(f->host);
    free(f);
    return 0;
}

/* Chain k: a 16-byte header at HDR_GPA + 0x100 * @slot holding @tag,
 * then a 1-byte status. Returns the head. */
static uint16_t add_req(struct fixture *f, unsigned int slot, uint8_t tag,
                        uint64_t ind)
{
    const struct vring_drv_buf b[] = {
        { HDR_GPA + 0x100 * slot, 16, false },
        { DATA_GPA + 0x100 * slot, 1, true },
    };
    uint16_t head;

    memset(f->host + (HDR_GPA - MEM_GPA) + 0x100 * slot, tag, 16);
    assert_int_equal(vring_drv_add_chain(&f->drv, b, 2, ind, &head), 0);
    assert_int_equal(vring_drv_publish(&f->drv, head), 0);
    return head;
}

/* One doorbell's worth: pop until empty into heads[]; returns the count
 * and checks each chain's header address (slot i) and prefix. */
static unsigned int pop_all(struct fixture *f, uint16_t *heads,
                            const bool *want_prefix, const uint8_t *tags)
{
    unsigned int n = 0;
    int r;

    virtq_disable_notify(&f->q);
    while ((r = virtq_pop(&f->q, &f->e)) == 1) {
        assert_int_equal(f->e.nsegs, 2);
        assert_int_equal(f->e.segs[0].gpa, HDR_GPA + 0x100 * n);
        assert_int_equal(f->e.has_prefix, want_prefix[n]);
        if (f->e.has_prefix)
            for (int i = 0; i < 16; i++)
                assert_int_equal(f->e.prefix[i], tags[n]);
        heads[n++] = f->e.head;
    }
    assert_int_equal(r, 0);
    assert_false(virtq_enable_notify(&f->q));
    return n;
}

static void complete(struct fixture *f, const uint16_t *heads,
                     unsigned int n)
{
    uint32_t id, len;

    for (unsigned int i = 0; i < n; i++)
        assert_int_equal(virtq_push_deferred(&f->q, heads[i], 1), 0);
    assert_int_equal(vring_drv_get_used(&f->drv, &id, &len), 0);
    assert_int_equal(virtq_publish(&f->q), 0);
    for (unsigned int i = 0; i < n; i++) {
        assert_int_equal(vring_drv_get_used(&f->drv, &id, &len), 1);
        assert_int_equal(id, heads[i]);
    }
}

/* Two rounds per doorbell (driver area; entries + table + headers), no
 * index re-read without event-idx; the second time around the headers
 * come with the fetch, with their new contents. Completion: data-less
 * here, so the used elements (one posted write for four) and the index:
 * two rounds. */
static void test_two_rounds(void **state)
{
    struct fixture *f = *state;
    const bool none[4] = { 0 }, all[4] = { 1, 1, 1, 1 };
    const uint8_t t1[4] = { 1, 2, 3, 4 }, t2[4] = { 9, 8, 7, 6 };
    uint16_t heads[4], again[4];
    unsigned int rounds, wp;

    for (unsigned int i = 0; i < 4; i++)
        add_req(f, i, t1[i], 0);
    rounds = f->mm.rounds;
    assert_int_equal(pop_all(f, heads, none, t1), 4);
    assert_int_equal(f->mm.rounds - rounds, 2);
    wp = f->mm.writes_posted;
    rounds = f->mm.rounds;
    complete(f, heads, 4);
    /* one write for the four used elements, then the index */
    assert_int_equal(f->mm.writes_posted - wp, 2);
    assert_int_equal(f->mm.rounds - rounds, 2);
    /* the driver reuses the descriptors: same heads, new headers */
    for (unsigned int i = 0; i < 4; i++)
        add_req(f, i, t2[i], 0);
    rounds = f->mm.rounds;
    assert_int_equal(pop_all(f, again, all, t2), 4);
    assert_int_equal(f->mm.rounds - rounds, 2);
    assert_memory_equal(heads, again, sizeof(heads));
    complete(f, again, 4);
    /* nothing new: one round, nothing popped */
    rounds = f->mm.rounds;
    assert_int_equal(pop_all(f, heads, none, t1), 0);
    assert_int_equal(f->mm.rounds - rounds, 1);
}

/* A guess the fresh table contradicts is dropped: the driver moved each
 * head's header elsewhere (head 0's guess even reads another request's
 * header). */
static void test_guess_mismatch(void **state)
{
    struct fixture *f = *state;
    const bool none[2] = { 0 };
    const uint8_t t[2] = { 5, 6 };
    uint16_t heads[2], again[2];

    add_req(f, 1, 0, 0);            /* head 0, header at slot 1 */
    add_req(f, 7, 0, 0);            /* head 2, header at slot 7 */
    virtq_disable_notify(&f->q);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(virtq_pop(&f->q, &f->e), 1);
        heads[i] = f->e.head;
    }
    complete(f, heads, 2);
    f->drv.next_desc = 0;
    add_req(f, 0, t[0], 0);         /* head 0, header at slot 0 */
    add_req(f, 1, t[1], 0);         /* head 2, header at slot 1 */
    assert_int_equal(pop_all(f, again, none, t), 2);
    assert_memory_equal(heads, again, sizeof(heads));
}

/* A chain leaving the cached table (indirect): walked from guest memory,
 * no prefix guessed from an indirect entry, the direct chains around it
 * still get theirs. */
static void test_indirect_leaves_table(void **state)
{
    struct fixture *f = *state;
    const bool none[3] = { 0 }, want[3] = { 1, 0, 1 };
    const uint8_t t[3] = { 3, 4, 5 };
    uint16_t heads[3];

    for (int round = 0; round < 2; round++) {
        f->drv.next_desc = 0;
        add_req(f, 0, t[0], 0);         /* head 0 */
        add_req(f, 1, t[1], IND_GPA);   /* head 2, indirect */
        f->drv.next_desc = 4;
        add_req(f, 2, t[2], 0);         /* head 4 */
        assert_int_equal(pop_all(f, heads, round ? want : none, t), 3);
        assert_int_equal(heads[1], 2);
        complete(f, heads, 3);
    }
}

/* A guessed read the client refuses: the fetch's second round is
 * dropped and the chains are read the slow way, queue not broken. */
static void test_failed_round_falls_back(void **state)
{
    struct fixture *f = *state;
    const bool none[2] = { 0 };
    const uint8_t t[2] = { 1, 2 };
    uint16_t heads[2];

    add_req(f, 0, 0, 0);
    add_req(f, 1, 0, 0);
    assert_int_equal(pop_all(f, heads, none, t), 2);
    complete(f, heads, 2);
    f->drv.next_desc = 0;
    add_req(f, 0, t[0], 0);
    add_req(f, 1, t[1], 0);
    f->mm.fail_gpa = HDR_GPA;
    assert_int_equal(pop_all(f, heads, none, t), 2);
    assert_false(f->q.broken);
}

/* Malformed rings are refused as on the slow path: a head beyond the
 * queue, a descriptor loop, an index jumping by more than the ring. */
static void test_malformed(void **state)
{
    struct fixture *f = *state;
    add_req(f, 0, 0, 0);            /* head 0: descriptors 0 -> 1 */
    /* loop: 0 -> 1 -> 0 */
    assert_int_equal(vring_drv_write_desc(&f->drv, f->drv.desc_gpa, 1,
                                          DATA_GPA, 1, VRING_DESC_F_NEXT, 0),
                     0);
    virtq_disable_notify(&f->q);
    assert_int_equal(virtq_pop(&f->q, &f->e), -ELOOP);
    assert_true(f->q.broken);
    assert_int_equal(virtq_enable(&f->q), 0);
    f->q.last_avail_idx = f->drv.avail_idx;
    f->drv.next_desc = 0;
    add_req(f, 0, 0, 0);
    memcpy(f->host + (f->drv.avail_gpa - MEM_GPA) + 4 +
               2 * ((f->drv.avail_idx - 1) % QSIZE),
           &(uint16_t){ QSIZE }, 2);
    virtq_disable_notify(&f->q);
    assert_int_equal(virtq_pop(&f->q, &f->e), -EINVAL);
    assert_true(f->q.broken);
    assert_int_equal(virtq_enable(&f->q), 0);
    f->q.last_avail_idx = f->drv.avail_idx;
    assert_int_equal(vring_drv_set_avail_idx(&f->drv,
                                             f->drv.avail_idx + QSIZE + 1),
                     0);
    virtq_disable_notify(&f->q);
    assert_int_equal(virtq_pop(&f->q, &f->e), -EINVAL);
    assert_true(f->q.broken);
}

/* Event-idx: avail_event goes out posted with the pops, and running dry
 * re-reads the index after it landed (the driver may have skipped its
 * kick on the old value). */
static void test_event_idx_rechecks(void **state)
{
    struct fixture *f = *state;
    uint16_t ev;
    unsigned int rounds;

    add_req(f, 0, 0, 0);
    virtq_disable_notify(&f->q);
    assert_int_equal(virtq_pop(&f->q, &f->e), 1);
    rounds = f->mm.rounds;
    assert_int_equal(virtq_pop(&f->q, &f->e), 0);
    /* flush of avail_event, then the driver area again */
    assert_int_equal(f->mm.rounds - rounds, 2);
    assert_int_equal(vring_drv_get_avail_event(&f->drv, &ev), 0);
    assert_int_equal(ev, 1);
    add_req(f, 1, 0, 0);
    assert_int_equal(virtq_pop(&f->q, &f->e), 1);   /* no doorbell */
}

/* The notify check after a completion. The driver area read with the
 * used index (one round) decides when it wants interrupts; when it says
 * NO_INTERRUPT the flags are read afresh (that read may be older than the
 * index write), and while the last flags said NO_INTERRUPT it is not
 * read with the index at all. Chains either read shows are popped with it as the
 * fetch's first round; with nothing new it is dropped, and a chain added
 * later is found by a fresh read. */
static void test_notify_area(void **state)
{
    struct fixture *f = *state;
    const bool none[1] = { 0 }, one[1] = { 1 };
    const uint8_t t[1] = { 1 };
    uint16_t heads[1];
    unsigned int rounds;

    add_req(f, 0, 1, 0);
    assert_int_equal(pop_all(f, heads, none, t), 1);
    assert_int_equal(vring_drv_set_avail_flags(&f->drv,
                                               VRING_AVAIL_F_NO_INTERRUPT),
                     0);
    complete(f, heads, 1);
    f->drv.next_desc = 0;
    add_req(f, 0, 1, 0);            /* added before the check */
    rounds = f->mm.rounds;
    assert_false(virtq_need_notify(&f->q));
    assert_int_equal(f->mm.rounds - rounds, 1);     /* the fresh read */
    assert_true(virtq_msg_area_new(&f->q));
    rounds = f->mm.rounds;
    assert_int_equal(pop_all(f, heads, one, t), 1);
    assert_int_equal(f->mm.rounds - rounds, 1);     /* round 2 only */
    assert_int_equal(vring_drv_set_avail_flags(&f->drv, 0), 0);
    complete(f, heads, 1);
    rounds = f->mm.rounds;
    assert_true(virtq_need_notify(&f->q));
    /* the last flags had NO_INTERRUPT: none read with the index */
    assert_int_equal(f->mm.rounds - rounds, 1);
    assert_false(virtq_msg_area_new(&f->q));
    f->drv.next_desc = 0;
    add_req(f, 0, 1, 0);
    assert_int_equal(pop_all(f, heads, one, t), 1);
    rounds = f->mm.rounds;
    complete(f, heads, 1);
    assert_int_equal(f->mm.rounds - rounds, 2);     /* flush; index+area */
    rounds = f->mm.rounds;
    assert_true(virtq_need_notify(&f->q));
    assert_int_equal(f->mm.rounds - rounds, 0);     /* read with the index */
    assert_false(virtq_msg_area_new(&f->q));        /* nothing new: dropped */
    f->drv.next_desc = 0;
    add_req(f, 0, 1, 0);            /* after the check: its doorbell */
    rounds = f->mm.rounds;
    assert_int_equal(pop_all(f, heads, one, t), 1);
    assert_int_equal(f->mm.rounds - rounds, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_rounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guess_mismatch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_indirect_leaves_table, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_round_falls_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_area, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_idx_rechecks,
                                        setup_event_idx, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
