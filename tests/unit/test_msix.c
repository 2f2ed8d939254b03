/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests: devices/msix.c (table, masking, PBA, pending delivery). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "devices/msix.h"

struct rec {
    unsigned int fired[8];
    unsigned int changed[8];
    bool masked[8];
    uint32_t data[8];
};

static void changed(void *opaque, unsigned int vec, uint64_t addr,
                    uint32_t data, bool masked)
{
    struct rec *r = opaque;

    (void)addr;
    r->changed[vec]++;
    r->masked[vec] = masked;
    r->data[vec] = data;
}

static void fire(void *opaque, unsigned int vec, uint64_t addr, uint32_t data)
{
    struct rec *r = opaque;

    (void)addr, (void)data;
    r->fired[vec]++;
}

static const struct msix_ops ops = { changed, fire };

static void w32(struct msix *m, uint64_t off, uint32_t v)
{
    msix_table_write(m, off, &v, 4);
}

static uint64_t pba(struct msix *m)
{
    uint64_t v;

    msix_pba_read(m, 0, &v, 8);
    return v;
}

static void test_init_limits(void **state)
{
    struct msix m;

    (void)state;
    assert_int_equal(msix_init(&m, 0, &ops, NULL), -EINVAL);
    assert_int_equal(msix_init(&m, MSIX_MAX_VECTORS + 1, &ops, NULL),
                     -EINVAL);
    assert_int_equal(msix_init(&m, 65, &ops, NULL), 0);
    assert_int_equal(msix_table_size(&m), 65 * 16);
    assert_int_equal(msix_pba_size(&m), 16);
    assert_int_equal(msix_control(&m) & 0x7ff, 64);
    msix_fini(&m);
}

static void test_mask_pending_unmask(void **state)
{
    struct rec r = { 0 };
    struct msix m;
    uint32_t v;

    (void)state;
    msix_init(&m, 4, &ops, &r);
    w32(&m, 16 + 0, 0xfee00000);
    w32(&m, 16 + 8, 0x4041);
    assert_int_equal(r.data[1], 0x4041);
    msix_table_read(&m, 16 + 8, &v, 4);
    assert_int_equal(v, 0x4041);
    /* disabled: notify only sets pending */
    msix_notify(&m, 1);
    assert_int_equal(r.fired[1], 0);
    assert_int_equal(pba(&m), 2);
    msix_set_control(&m, MSIX_CTRL_ENABLE);
    assert_int_equal(r.fired[1], 0); /* entry still masked */
    assert_true(r.masked[1]);
    w32(&m, 16 + 12, 0); /* unmask → pending fires once */
    assert_int_equal(r.fired[1], 1);
    assert_false(r.masked[1]);
    assert_int_equal(pba(&m), 0);
    msix_notify(&m, 1);
    assert_int_equal(r.fired[1], 2);
    /* function mask */
    msix_set_control(&m, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
    assert_true(r.masked[1]);
    msix_notify(&m, 1);
    assert_int_equal(r.fired[1], 2);
    assert_int_equal(pba(&m), 2);
    msix_set_control(&m, MSIX_CTRL_ENABLE);
    assert_int_equal(r.fired[1], 3);
    assert_int_equal(msix_notify(&m, 4), -EINVAL);
    msix_fini(&m);
}

static void test_bad_accesses(void **state)
{
    struct rec r = { 0 };
    struct msix m;
    uint32_t v = 0x1234;
    uint16_t h = 0xffff;
    uint64_t q = 0x1111111122222222ULL;

    (void)state;
    msix_init(&m, 2, &ops, &r);
    msix_table_write(&m, 2, &v, 4);  /* unaligned: ignored */
    msix_table_write(&m, 0, &h, 2);  /* 2-byte: ignored */
    msix_table_write(&m, 32, &v, 4); /* beyond table: ignored */
    assert_int_equal(r.changed[0], 0);
    msix_table_read(&m, 40, &v, 4);
    assert_int_equal(v, 0);
    msix_table_write(&m, 0, &q, 8);  /* 8-byte address write */
    msix_table_read(&m, 4, &v, 4);
    assert_int_equal(v, 0x11111111);
    w32(&m, 12, 0xfffffffe); /* reserved control bits dropped */
    msix_table_read(&m, 12, &v, 4);
    assert_int_equal(v, 0);
    msix_pba_read(&m, 8, &q, 8);     /* beyond PBA: zeros */
    assert_int_equal(q, 0);
    msix_fini(&m);
}

static void test_reset(void **state)
{
    struct rec r = { 0 };
    struct msix m;

    (void)state;
    msix_init(&m, 2, &ops, &r);
    msix_set_control(&m, MSIX_CTRL_ENABLE);
    w32(&m, 12, 0);
    msix_reset(&m);
    assert_true(r.masked[0]);
    assert_int_equal(msix_control(&m), 1);
    msix_fini(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_limits),
        cmocka_unit_test(test_mask_pending_unmask),
        cmocka_unit_test(test_bad_accesses),
        cmocka_unit_test(test_reset),
    };

    return cmocka_run_group_tests_name("msix", tests, NULL, NULL);
}
