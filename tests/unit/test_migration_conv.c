/* SPDX-License-Identifier: BSD-3-Clause */
/* Migration convergence (minivmm/persist/migration_conv.h): the EWMA send
 * rate, the stop decision against the downtime target, the throttle steps
 * when passes do not shrink the dirty set, the give-up bounds with and
 * without auto-converge, and the bandwidth cap's pacing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "minivmm/persist/migration_conv.h"

#define MiB (1ULL << 20)

static void init(struct mig_conv *c, unsigned int ms, bool ac)
{
    struct mig_conv_params p = { .downtime_ms = ms, .auto_converge = ac };

    mig_conv_init(c, &p);
}

static void test_rate_ewma(void **state)
{
    struct mig_conv c;

    (void)state;
    init(&c, 10, true);
    assert_int_equal(mig_conv_rate(&c), MIG_CONV_MIN_RATE);
    mig_conv_sample(&c, 100 * MiB, 1000000);        /* 100 MiB/s */
    assert_int_equal(mig_conv_rate(&c), 100 * MiB);
    mig_conv_sample(&c, 50 * MiB, 1000000);         /* 50 MiB/s */
    assert_int_equal(mig_conv_rate(&c), 75 * MiB);
    mig_conv_sample(&c, 4096, 1);                   /* too small: ignored */
    mig_conv_sample(&c, 8 * MiB, 0);                /* no time: ignored */
    assert_int_equal(mig_conv_rate(&c), 75 * MiB);
    /* 75 MiB at 75 MiB/s: one second. */
    assert_int_equal(mig_conv_expected_us(&c, 75 * MiB), 1000000);
    /* No overflow for huge values. */
    assert_true(mig_conv_expected_us(&c, UINT64_MAX / 4) >
                UINT64_MAX / 4 / (75 * MiB));
    mig_conv_sample(&c, UINT64_MAX / 2, 1000000);
    assert_true(mig_conv_rate(&c) > 75 * MiB);
}

static void test_stop_when_it_fits(void **state)
{
    struct mig_conv c;

    (void)state;
    init(&c, 10, true);
    mig_conv_sample(&c, 100 * MiB, 1000000);        /* 100 MiB/s */
    /* 10 ms at 100 MiB/s is 1 MiB: 1 MiB fits, 1 MiB + 1 page not. */
    assert_int_equal(mig_conv_decide(&c, MiB), MIG_CONV_STOP);
    assert_int_equal(mig_conv_decide(&c, MiB + 4096 * 30), MIG_CONV_GO_ON);
    assert_int_equal(c.passes, 1);
    assert_int_equal(mig_conv_decide(&c, 0), MIG_CONV_STOP);
}

static void test_shrinking_does_not_throttle(void **state)
{
    struct mig_conv c;
    uint64_t d = 64 * MiB;

    (void)state;
    init(&c, 10, true);
    mig_conv_sample(&c, 100 * MiB, 1000000);
    while (mig_conv_decide(&c, d) == MIG_CONV_GO_ON)
        d /= 2;
    assert_int_equal(c.throttle_pct, 0);
    assert_true(d <= MiB);
}

static void test_throttle_steps(void **state)
{
    static const unsigned int want[] = { 0, 0, 20, 40, 60, 80, 90, 95, 99 };
    struct mig_conv c;

    (void)state;
    init(&c, 10, true);
    mig_conv_sample(&c, 64 * MiB, 1000000);
    /* The dirty set never shrinks: first pass, two stuck, then a step
     * per stuck pass up to 99. */
    for (unsigned int i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(mig_conv_decide(&c, 32 * MiB), MIG_CONV_GO_ON);
        assert_int_equal(c.throttle_pct, want[i]);
    }
    /* At 99%: MIG_CONV_AT_MAX_LIMIT passes more without shrinking. */
    for (unsigned int i = 1; i < MIG_CONV_AT_MAX_LIMIT; i++)
        assert_int_equal(mig_conv_decide(&c, 32 * MiB), MIG_CONV_GO_ON);
    assert_int_equal(mig_conv_decide(&c, 32 * MiB), MIG_CONV_GIVE_UP);
}

static void test_throttle_then_converge(void **state)
{
    struct mig_conv c;

    (void)state;
    init(&c, 10, true);
    mig_conv_sample(&c, 64 * MiB, 1000000);
    for (unsigned int i = 0; i < 3; i++)
        mig_conv_decide(&c, 32 * MiB);
    assert_int_equal(c.throttle_pct, 20);
    /* Shrinking now: the throttle holds, no new step. */
    assert_int_equal(mig_conv_decide(&c, 16 * MiB), MIG_CONV_GO_ON);
    assert_int_equal(mig_conv_decide(&c, 8 * MiB), MIG_CONV_GO_ON);
    assert_int_equal(c.throttle_pct, 20);
    assert_int_equal(mig_conv_decide(&c, 256 * 1024), MIG_CONV_STOP);
}

static void test_no_auto_converge_gives_up(void **state)
{
    struct mig_conv c;
    unsigned int n = 0;

    (void)state;
    init(&c, 10, false);
    mig_conv_sample(&c, 64 * MiB, 1000000);
    while (mig_conv_decide(&c, 32 * MiB) == MIG_CONV_GO_ON)
        n++;
    assert_int_equal(c.throttle_pct, 0);
    /* First pass, then MIG_CONV_STUCK_LIMIT stuck ones. */
    assert_int_equal(n, MIG_CONV_STUCK_LIMIT);
}

static void test_pass_bound(void **state)
{
    struct mig_conv_params p = { .downtime_ms = 1, .max_passes = 4 };
    struct mig_conv c;
    uint64_t d = 512 * MiB;

    (void)state;
    mig_conv_init(&c, &p);
    /* Shrinking, but slowly reaching the target: bounded by passes. */
    assert_int_equal(mig_conv_decide(&c, d), MIG_CONV_GO_ON);
    assert_int_equal(mig_conv_decide(&c, d /= 2), MIG_CONV_GO_ON);
    assert_int_equal(mig_conv_decide(&c, d /= 2), MIG_CONV_GO_ON);
    assert_int_equal(mig_conv_decide(&c, d /= 2), MIG_CONV_GIVE_UP);
    init(&c, 10, true);
    assert_int_equal(c.p.max_passes, MIG_CONV_MAX_PASSES);
}

static void test_pace(void **state)
{
    (void)state;
    assert_int_equal(mig_conv_pace_us(100 * MiB, 0, 0), 0);
    /* 10 MiB at 10 MiB/s: due at 1 s; 400 ms gone: wait 600 ms. */
    assert_int_equal(mig_conv_pace_us(10 * MiB, 400000, 10 * MiB), 600000);
    assert_int_equal(mig_conv_pace_us(10 * MiB, 1500000, 10 * MiB), 0);
    assert_true(mig_conv_pace_us(UINT64_MAX / 2, 0, 1) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_ewma),
        cmocka_unit_test(test_stop_when_it_fits),
        cmocka_unit_test(test_shrinking_does_not_throttle),
        cmocka_unit_test(test_throttle_steps),
        cmocka_unit_test(test_throttle_then_converge),
        cmocka_unit_test(test_no_auto_converge_gives_up),
        cmocka_unit_test(test_pass_bound),
        cmocka_unit_test(test_pace),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
