/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vmm/bus.c: registration rules (zero length, wrap, every
 * overlap shape), offset dispatch, unclaimed accesses, unregistration, a
 * brute-force model check with random ranges, and unregistration while a
 * handler runs on another thread (run under `make asan` for use-after-free).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/bus.h"

/* A device that records its last access. Reads return (tag + offset + i). */
struct rec {
    uint8_t tag;
    int reads, writes;
    uint64_t off;
    uint32_t len;
    uint8_t wdata[8];
};

static void rec_read(void *opaque, uint64_t offset, void *data, uint32_t len)
{
    struct rec *r = opaque;
    uint8_t *d = data;

    r->reads++;
    r->off = offset;
    r->len = len;
    for (uint32_t i = 0; i < len; i++)
        d[i] = (uint8_t)(r->tag + offset + i);
}

static void rec_write(void *opaque, uint64_t offset, const void *data,
                      uint32_t len)
{
    struct rec *r = opaque;

    r->writes++;
    r->off = offset;
    r->len = len;
    memcpy(r->wdata, data, len < 8 ? len : 8);
}

static const struct bus_ops rec_ops = { rec_read, rec_write };

static int setup_bus(void **state)
{
    struct bus *bus;

    if (bus_create("test-bus-with-a-long-name", &bus) < 0)
        return -1;
    *state = bus;
    return 0;
}

static int teardown_bus(void **state)
{
    bus_destroy(*state);
    return 0;
}

static void test_dispatch_offsets(void **state)
{
    struct bus *bus = *state;
    struct rec a = { .tag = 0x10 }, b = { .tag = 0x80 };
    uint8_t buf[8];
    uint32_t v = 0xdeadbeef;

    assert_int_equal(bus_register(bus, 0x1000, 0x100, &rec_ops, &a), 0);
    assert_int_equal(bus_register(bus, 0x3f8, 8, &rec_ops, &b), 0);

    assert_int_equal(bus_dispatch(bus, 0x1010, buf, 4, false), 0);
    assert_int_equal(a.reads, 1);
    assert_int_equal(a.off, 0x10);
    assert_int_equal(a.len, 4);
    assert_int_equal(buf[0], 0x20);
    assert_int_equal(buf[3], 0x23);

    assert_int_equal(bus_dispatch(bus, 0x10fc, &v, 4, true), 0);
    assert_int_equal(a.writes, 1);
    assert_int_equal(a.off, 0xfc);
    assert_memory_equal(a.wdata, &v, 4);

    /* First and last byte of a range, and a full-width access. */
    assert_int_equal(bus_dispatch(bus, 0x3f8, buf, 1, false), 0);
    assert_int_equal(b.off, 0);
    assert_int_equal(bus_dispatch(bus, 0x3ff, buf, 1, true), 0);
    assert_int_equal(b.off, 7);
    assert_int_equal(bus_dispatch(bus, 0x3f8, buf, 8, false), 0);
    assert_int_equal(b.len, 8);
    assert_int_equal(a.reads, 1); /* never routed to the other device */
}

static void test_invalid_ranges(void **state)
{
    struct bus *bus = *state;
    struct rec a = { 0 };

    assert_int_equal(bus_register(bus, 0x1000, 0, &rec_ops, &a), -EINVAL);
    assert_int_equal(bus_register(bus, 0, 0, &rec_ops, &a), -EINVAL);
    assert_int_equal(bus_register(bus, UINT64_MAX, 2, &rec_ops, &a),
                     -EINVAL);
    assert_int_equal(bus_register(bus, 2, UINT64_MAX, &rec_ops, &a),
                     -EINVAL);
    assert_int_equal(bus_register(bus, UINT64_MAX - 0xf, 0x20, &rec_ops, &a),
                     -EINVAL);
    /* Ranges ending exactly at 2^64 - 1 are fine. */
    assert_int_equal(bus_register(bus, UINT64_MAX - 0xf, 0x10, &rec_ops, &a),
                     0);
    assert_int_equal(bus_dispatch(bus, UINT64_MAX, &a.wdata, 1, false), 0);
    assert_int_equal(a.off, 0xf);
    assert_int_equal(bus_unregister(bus, UINT64_MAX - 0xf), 0);
    assert_int_equal(bus_register(bus, 1, UINT64_MAX, &rec_ops, &a), 0);
    assert_int_equal(bus_register(bus, 0, 1, &rec_ops, &a), 0);
    assert_int_equal(bus_register(bus, UINT64_MAX, 1, &rec_ops, &a),
                     -EEXIST);
}

static void test_overlap_shapes(void **state)
{
    static const struct {
        uint64_t base, len;
    } bad[] = {
        { 0x1000, 0x1000 }, /* same */
        { 0x1800, 0x10 },   /* inside */
        { 0x1000, 1 },      /* first byte */
        { 0x1fff, 1 },      /* last byte */
        { 0xff0, 0x20 },    /* straddles the start */
        { 0x1ff0, 0x20 },   /* straddles the end */
        { 0x800, 0x2000 },  /* contains */
        { 0xfff, 2 },       /* one byte in at the start */
        { 0, UINT64_MAX },  /* contains, huge */
        { 0x2f00, 0x300 },  /* bridges a gap into the next range */
    };
    struct bus *bus = *state;
    struct rec a = { 0 };

    assert_int_equal(bus_register(bus, 0x1000, 0x1000, &rec_ops, &a), 0);
    assert_int_equal(bus_register(bus, 0x3000, 0x100, &rec_ops, &a), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(bus_register(bus, bad[i].base, bad[i].len, &rec_ops,
                                      &a),
                         -EEXIST);
    /* Adjacent on both sides, and filling the gap exactly. */
    assert_int_equal(bus_register(bus, 0x800, 0x800, &rec_ops, &a), 0);
    assert_int_equal(bus_register(bus, 0x2000, 0x10, &rec_ops, &a), 0);
    assert_int_equal(bus_register(bus, 0x2010, 0xff0, &rec_ops, &a), 0);
    assert_int_equal(bus_register(bus, 0x3100, 1, &rec_ops, &a), 0);
    assert_int_equal(bus_register(bus, 0x7ff, 1, &rec_ops, &a), 0);
}

static void test_unclaimed(void **state)
{
    struct bus *bus = *state;
    struct rec a = { 0 }, b = { 0 };
    uint8_t buf[8];

    memset(buf, 0x5a, sizeof(buf));
    assert_int_equal(bus_dispatch(bus, 0x1234, buf, 4, false), -ENOENT);
    assert_int_equal(buf[0] & buf[1] & buf[2] & buf[3], 0xff);
    assert_int_equal(buf[4], 0x5a); /* only @len bytes filled */
    assert_int_equal(bus_dispatch(bus, 0x1234, buf, 4, true), -ENOENT);

    assert_int_equal(bus_register(bus, 0x1000, 0x10, &rec_ops, &a), 0);
    assert_int_equal(bus_register(bus, 0x1010, 0x10, &rec_ops, &b), 0);
    /* Straddling a range's end, its start, and two adjacent ranges. */
    memset(buf, 0, sizeof(buf));
    assert_int_equal(bus_dispatch(bus, 0x101e, buf, 4, false), -ENOENT);
    assert_int_equal(buf[0] & buf[1] & buf[2] & buf[3], 0xff);
    assert_int_equal(bus_dispatch(bus, 0xffe, buf, 4, false), -ENOENT);
    assert_int_equal(bus_dispatch(bus, 0x100e, buf, 4, false), -ENOENT);
    assert_int_equal(bus_dispatch(bus, 0x100e, buf, 4, true), -ENOENT);
    assert_int_equal(bus_dispatch(bus, 0x1020, buf, 1, true), -ENOENT);
    assert_int_equal(bus_dispatch(bus, UINT64_MAX, buf, 1, false), -ENOENT);
    assert_int_equal(bus_dispatch(bus, UINT64_MAX - 3, buf, 8, false),
                     -ENOENT);
    assert_int_equal(a.reads + a.writes + b.reads + b.writes, 0);
    /* Exactly up to the end is fine. */
    assert_int_equal(bus_dispatch(bus, 0x100c, buf, 4, false), 0);
    assert_int_equal(a.off, 0xc);
}

static void test_unregister(void **state)
{
    struct bus *bus = *state;
    struct rec a = { 0 }, b = { 0 };
    uint8_t buf[4];

    assert_int_equal(bus_unregister(bus, 0x1000), -ENOENT);
    assert_int_equal(bus_register(bus, 0x1000, 0x100, &rec_ops, &a), 0);
    assert_int_equal(bus_register(bus, 0x2000, 0x100, &rec_ops, &b), 0);
    assert_int_equal(bus_unregister(bus, 0x1001), -ENOENT); /* not a base */
    assert_int_equal(bus_unregister(bus, 0x10ff), -ENOENT);
    assert_int_equal(bus_unregister(bus, 0x1100), -ENOENT);
    assert_int_equal(bus_unregister(bus, 0x1000), 0);
    assert_int_equal(bus_unregister(bus, 0x1000), -ENOENT);
    assert_int_equal(bus_dispatch(bus, 0x1000, buf, 4, false), -ENOENT);
    assert_int_equal(a.reads, 0);
    assert_int_equal(bus_dispatch(bus, 0x2000, buf, 4, false), 0);
    assert_int_equal(b.reads, 1);
    /* The space is free again, also for a different shape. */
    assert_int_equal(bus_register(bus, 0x1080, 0x100, &rec_ops, &b), 0);
    assert_int_equal(bus_dispatch(bus, 0x1100, buf, 4, false), 0);
    assert_int_equal(b.off, 0x80);
    assert_int_equal(bus_unregister(bus, 0x2000), 0);
    assert_int_equal(bus_unregister(bus, 0x1080), 0);
    assert_int_equal(bus_dispatch(bus, 0x1100, buf, 4, false), -ENOENT);
}

/* Brute-force model: the ranges in registration order; id = index. */
#define MODEL_MAX 512
#define SPACE     (1ULL << 20)

struct model {
    uint64_t base[MODEL_MAX], len[MODEL_MAX];
    int live[MODEL_MAX];
    struct rec dev[MODEL_MAX];
    unsigned int n;
};

static int model_find(const struct model *m, uint64_t a, uint64_t len)
{
    for (unsigned int i = 0; i < m->n; i++) {
        if (!m->live[i])
            continue;
        if (a < m->base[i] + m->len[i] && m->base[i] < a + len)
            return (int)i; /* overlaps */
    }
    return -1;
}

static int model_starts_at(const struct model *m, uint64_t base)
{
    for (unsigned int i = 0; i < m->n; i++)
        if (m->live[i] && m->base[i] == base)
            return 1;
    return 0;
}

static void model_add_random(struct bus *bus, struct model *m)
{
    uint64_t base = (uint64_t)rand() % SPACE;
    uint64_t len = 1 + (uint64_t)rand() % (rand() % 4 ? 64 : 8192);
    int expect = model_find(m, base, len) >= 0 ? -EEXIST : 0;
    unsigned int i = m->n;

    m->dev[i] = (struct rec){ .tag = (uint8_t)i };
    assert_int_equal(bus_register(bus, base, len, &rec_ops, &m->dev[i]),
                     expect);
    if (expect == 0) {
        m->base[i] = base;
        m->len[i] = len;
        m->live[i] = 1;
        m->n++;
    }
}

/* A random access must reach the range that contains all of it, or none. */
static void model_check_access(struct bus *bus, struct model *m, uint64_t a,
                               uint32_t len)
{
    uint8_t buf[8];
    int hit = -1;

    for (unsigned int i = 0; i < m->n; i++)
        if (m->live[i] && a >= m->base[i] &&
            a + len <= m->base[i] + m->len[i])
            hit = (int)i;
    if (hit < 0) {
        assert_int_equal(bus_dispatch(bus, a, buf, len, false), -ENOENT);
        for (uint32_t k = 0; k < len; k++)
            assert_int_equal(buf[k], 0xff);
        return;
    }
    m->dev[hit].reads = 0;
    assert_int_equal(bus_dispatch(bus, a, buf, len, false), 0);
    assert_int_equal(m->dev[hit].reads, 1);
    assert_int_equal(m->dev[hit].off, a - m->base[hit]);
    assert_int_equal(buf[0], (uint8_t)(hit + a - m->base[hit]));
}

static void model_check_all(struct bus *bus, struct model *m)
{
    for (unsigned int i = 0; i < m->n; i++) {
        if (!m->live[i])
            continue;
        /* first byte, last byte, just outside both ends */
        model_check_access(bus, m, m->base[i], 1);
        model_check_access(bus, m, m->base[i] + m->len[i] - 1, 1);
        model_check_access(bus, m, m->base[i] + m->len[i], 1);
        if (m->base[i])
            model_check_access(bus, m, m->base[i] - 1, 1);
    }
    for (int k = 0; k < 20000; k++)
        model_check_access(bus, m, (uint64_t)rand() % (SPACE + 8192),
                           1u << (rand() % 4));
}

static void test_random_vs_model(void **state)
{
    struct bus *bus = *state;
    struct model *m = calloc(1, sizeof(*m));

    assert_non_null(m);
    srand(1234);
    for (int k = 0; k < 4000 && m->n < MODEL_MAX; k++)
        model_add_random(bus, m);
    assert_true(m->n > 100);
    model_check_all(bus, m);

    /* Remove a random half (and try bogus bases), then check again. */
    for (unsigned int i = 0; i < m->n; i++) {
        if (rand() % 2)
            continue;
        if (!model_starts_at(m, m->base[i] + 1))
            assert_int_equal(bus_unregister(bus, m->base[i] + 1), -ENOENT);
        assert_int_equal(bus_unregister(bus, m->base[i]), 0);
        m->live[i] = 0;
    }
    model_check_all(bus, m);
    for (unsigned int i = 0; i < m->n; i++)
        if (m->live[i])
            assert_int_equal(bus_unregister(bus, m->base[i]), 0);
    assert_int_equal(bus_dispatch(bus, m->base[0], m->dev[0].wdata, 1, false),
                     -ENOENT);
    free(m);
}

/* A handler that blocks until released, to unregister its range mid-call. */
struct blocker {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int entered, release, finished;
    struct bus *bus;
    int ret;
    uint64_t calls;
};

static void block_read(void *opaque, uint64_t offset, void *data,
                       uint32_t len)
{
    struct blocker *b = opaque;

    pthread_mutex_lock(&b->lock);
    b->entered = 1;
    pthread_cond_broadcast(&b->cond);
    while (!b->release)
        pthread_cond_wait(&b->cond, &b->lock);
    memset(data, (int)offset, len);
    b->finished = 1;
    pthread_mutex_unlock(&b->lock);
}

static void block_write(void *opaque, uint64_t offset, const void *data,
                        uint32_t len)
{
    (void)opaque, (void)offset, (void)data, (void)len;
}

static const struct bus_ops block_ops = { block_read, block_write };

static void *block_thread(void *arg)
{
    struct blocker *b = arg;
    uint8_t buf[4];

    b->ret = bus_dispatch(b->bus, 0x5004, buf, 4, false);
    return NULL;
}

static void test_unregister_during_handler(void **state)
{
    struct blocker b = { .bus = *state };
    struct rec other = { 0 };
    pthread_t t;
    uint8_t buf[4];

    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.cond, NULL);
    assert_int_equal(bus_register(b.bus, 0x5000, 0x10, &block_ops, &b), 0);
    assert_int_equal(pthread_create(&t, NULL, block_thread, &b), 0);

    pthread_mutex_lock(&b.lock);
    while (!b.entered)
        pthread_cond_wait(&b.cond, &b.lock);
    pthread_mutex_unlock(&b.lock);

    /* The handler is blocked: unregistering must not wait for it. */
    assert_int_equal(bus_unregister(b.bus, 0x5000), 0);
    assert_int_equal(bus_dispatch(b.bus, 0x5004, buf, 4, false), -ENOENT);
    assert_int_equal(b.finished, 0);
    /* The space is reusable while the old handler still runs. */
    assert_int_equal(bus_register(b.bus, 0x5000, 0x10, &rec_ops, &other), 0);
    assert_int_equal(bus_unregister(b.bus, 0x5000), 0);

    pthread_mutex_lock(&b.lock);
    b.release = 1;
    pthread_cond_broadcast(&b.cond);
    pthread_mutex_unlock(&b.lock);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(b.finished, 1);
    assert_int_equal(b.ret, 0);
    pthread_cond_destroy(&b.cond);
    pthread_mutex_destroy(&b.lock);
}

/* Stress: threads dispatch while the main thread moves a range around. */
static void count_read(void *opaque, uint64_t offset, void *data,
                       uint32_t len)
{
    struct blocker *b = opaque;

    (void)offset;
    __atomic_add_fetch(&b->calls, 1, __ATOMIC_RELAXED);
    memset(data, 0, len);
}

static const struct bus_ops count_ops = { count_read, block_write };

static void *stress_thread(void *arg)
{
    struct blocker *b = arg;
    uint8_t buf[8];

    while (!__atomic_load_n(&b->release, __ATOMIC_ACQUIRE)) {
        bus_dispatch(b->bus, 0x9000, buf, 4, false);
        bus_dispatch(b->bus, 0xa000, buf, 8, false);
    }
    return NULL;
}

static void test_concurrent_stress(void **state)
{
    struct blocker b = { .bus = *state };
    pthread_t t[4];

    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, stress_thread, &b), 0);
    /* At least 20000 moves, and until the dispatchers really hit. */
    for (int k = 0; k < 20000 || (__atomic_load_n(&b.calls, __ATOMIC_RELAXED)
                                  < 1000 && k < 20000000); k++) {
        uint64_t base = k % 2 ? 0x9000 : 0xa000;

        assert_int_equal(bus_register(b.bus, base, 0x1000, &count_ops, &b),
                         0);
        assert_int_equal(bus_unregister(b.bus, base), 0);
    }
    __atomic_store_n(&b.release, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_true(b.calls >= 1000);
}

static void test_destroy_null(void **state)
{
    (void)state;
    bus_destroy(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_bus, teardown_bus)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_dispatch_offsets),
        T(test_invalid_ranges),
        T(test_overlap_shapes),
        T(test_unclaimed),
        T(test_unregister),
        T(test_random_vs_model),
        T(test_unregister_during_handler),
        T(test_concurrent_stress),
        cmocka_unit_test(test_destroy_null),
    };

    return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
