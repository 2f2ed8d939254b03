/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for the pure helpers of minivmm/persist/snapshot_load.c:
 * present-page runs of a RAM section bitmap (snap_next_run) and the
 * block-aligned span of an O_DIRECT read (snap_dio_span). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "minivmm/persist/snapshot_file.h"

static void test_runs(void **state)
{
    /* pages 0-2, 9, 63-65, 127 present of 128 */
    uint8_t bm[16] = { 0x07, 0x02, 0, 0, 0, 0, 0, 0x80, 0x03, 0, 0, 0, 0,
                       0, 0, 0x80 };
    static const uint32_t want[][2] = { { 0, 3 }, { 9, 1 }, { 63, 3 },
                                        { 127, 1 } };
    uint32_t i = 0, n, k = 0;

    (void)state;
    while (snap_next_run(bm, 128, &i, &n)) {
        assert_true(k < 4);
        assert_int_equal(i, want[k][0]);
        assert_int_equal(n, want[k][1]);
        i += n;
        k++;
    }
    assert_int_equal(k, 4);
    assert_int_equal(n, 0);
    assert_int_equal(i, 128);
    /* A bitmap shorter in pages than in bytes: bits past npages ignored. */
    i = 0;
    assert_int_equal(snap_next_run(bm, 120, &i, &n), 1);
    i = 66;
    assert_int_equal(snap_next_run(bm, 120, &i, &n), 0);
    assert_int_equal(i, 120);
    /* All present, all absent, empty. */
    memset(bm, 0xff, sizeof(bm));
    i = 5;
    assert_int_equal(snap_next_run(bm, 128, &i, &n), 1);
    assert_int_equal(i, 5);
    assert_int_equal(n, 123);
    memset(bm, 0, sizeof(bm));
    i = 0;
    assert_int_equal(snap_next_run(bm, 128, &i, &n), 0);
    i = 0;
    assert_int_equal(snap_next_run(bm, 0, &i, &n), 0);
}

static void test_dio_span(void **state)
{
    uint64_t a, l;

    (void)state;
    snap_dio_span(0, 4096, 4096, &a, &l);
    assert_int_equal(a, 0);
    assert_int_equal(l, 4096);
    snap_dio_span(13774, 8192, 4096, &a, &l);  /* 3 blocks touched */
    assert_int_equal(a, 12288);
    assert_int_equal(l, 12288);
    assert_true(a <= 13774 && a + l >= 13774 + 8192);
    snap_dio_span(4095, 2, 4096, &a, &l);       /* straddles a boundary */
    assert_int_equal(a, 0);
    assert_int_equal(l, 8192);
    snap_dio_span(8192, 1, 512, &a, &l);
    assert_int_equal(a, 8192);
    assert_int_equal(l, 512);
    snap_dio_span((1ULL << 40) + 100, 1ULL << 33, 4096, &a, &l);
    assert_int_equal(a, 1ULL << 40);
    assert_int_equal(l % 4096, 0);
    assert_true(a + l >= (1ULL << 40) + 100 + (1ULL << 33));
    assert_true(a + l - 4096 < (1ULL << 40) + 100 + (1ULL << 33));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_dio_span),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
