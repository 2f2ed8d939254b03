/* SPDX-License-Identifier: BSD-3-Clause */
/* vmm/rt_boost.c: the stop window's real-time boost as a state machine
 * over fake scheduling calls: boost, drop on success, failure, cancel and
 * the cap, the unprivileged fall-back, a thread that is gone, idempotent
 * drops, and the slice restored. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmm/rt_boost.h"

#define NT 8

/* What the fake kernel holds per tid 1..NT-1. */
struct fake {
    bool rt[NT];
    bool inherit[NT];
    unsigned int slice[NT];
    int fail[NT];           /* -errno to answer for this tid */
    unsigned int calls;
};

static int fake_set(void *opaque, pid_t tid, bool rt, bool inherit,
                    unsigned int slice_us)
{
    struct fake *f = opaque;

    f->calls++;
    assert_true(tid > 0 && tid < NT);
    if (f->fail[tid])
        return f->fail[tid];
    f->rt[tid] = rt;
    f->inherit[tid] = rt && inherit;
    f->slice[tid] = rt ? 0 : slice_us;
    return 0;
}

static const struct rt_boost_ops fake_ops = { .set = fake_set };
static const pid_t three[] = { 1, 2, 3 };

static void test_boost_then_done(void **state)
{
    struct fake f = { 0 };
    struct rt_boost b;

    (void)state;
    rt_boost_init(&b, &fake_ops, &f, true, 100, 100);
    assert_int_equal(rt_boost_state(&b), RT_BOOST_OFF);
    assert_int_equal(rt_boost_on(&b, three, 3, 1000), 3);
    assert_int_equal(rt_boost_state(&b), RT_BOOST_ON);
    assert_true(f.rt[1] && f.rt[2] && f.rt[3]);
    assert_false(f.inherit[1]);             /* RESET_ON_FORK by default */
    assert_int_equal(rt_boost_left_us(&b, 51000), 50000);
    assert_false(rt_boost_expire(&b, 100999)); /* 1 µs before the cap */
    assert_true(rt_boost_off(&b, RT_BOOST_DONE));
    assert_false(f.rt[1] || f.rt[2] || f.rt[3]);
    assert_int_equal(f.slice[2], 100);      /* the short slice is back */
    assert_int_equal(rt_boost_last_end(&b), RT_BOOST_DONE);
    assert_int_equal(rt_boost_left_us(&b, 2000), 0);
    /* Idempotent: nothing more is called. */
    f.calls = 0;
    assert_false(rt_boost_off(&b, RT_BOOST_FAILED));
    assert_false(rt_boost_expire(&b, 1u << 30));
    assert_int_equal(f.calls, 0);
    assert_int_equal(rt_boost_last_end(&b), RT_BOOST_DONE);
    rt_boost_fini(&b);
}

static void test_failure_and_cancel_restore(void **state)
{
    struct fake f = { 0 };
    struct rt_boost b;

    (void)state;
    rt_boost_init(&b, &fake_ops, &f, true, 0, 0);
    assert_int_equal(rt_boost_on(&b, three, 3, 0), 3);
    assert_true(rt_boost_off(&b, RT_BOOST_FAILED));
    assert_false(f.rt[1] || f.rt[2] || f.rt[3]);
    assert_string_equal(rt_boost_end_name(rt_boost_last_end(&b)), "failed");
    /* A second migration boosts again; a cancel ends it the same way. */
    assert_int_equal(rt_boost_on(&b, three, 2, 10), 2);
    assert_true(f.rt[1] && f.rt[2] && !f.rt[3]);
    assert_true(rt_boost_off(&b, RT_BOOST_CANCELLED));
    assert_false(f.rt[1] || f.rt[2]);
    assert_string_equal(rt_boost_end_name(rt_boost_last_end(&b)),
                        "cancelled");
    rt_boost_fini(&b);
}

static void test_cap(void **state)
{
    struct fake f = { 0 };
    struct rt_boost b;

    (void)state;
    rt_boost_init(&b, &fake_ops, &f, true, 0, 100); /* default cap */
    assert_int_equal(rt_boost_on(&b, three, 3, 5000), 3);
    assert_false(rt_boost_expire(&b, 5000 + RT_BOOST_CAP_MS * 1000 - 1));
    assert_true(f.rt[3]);
    assert_true(rt_boost_expire(&b, 5000 + RT_BOOST_CAP_MS * 1000));
    assert_false(f.rt[1] || f.rt[2] || f.rt[3]);
    assert_int_equal(rt_boost_last_end(&b), RT_BOOST_CAPPED);
    assert_string_equal(rt_boost_end_name(RT_BOOST_CAPPED), "capped");
    /* The owner's own drop after the cap is a no-op. */
    assert_false(rt_boost_off(&b, RT_BOOST_DONE));
    assert_int_equal(rt_boost_last_end(&b), RT_BOOST_CAPPED);
    /* Adding threads to a running boost keeps its deadline. */
    assert_int_equal(rt_boost_on(&b, three, 1, 0), 1);
    assert_int_equal(rt_boost_on(&b, three + 1, 2, 90000), 2);
    assert_int_equal(rt_boost_on(&b, three, 3, 90000), 0); /* known */
    assert_true(rt_boost_expire(&b, RT_BOOST_CAP_MS * 1000));
    assert_false(f.rt[1] || f.rt[2] || f.rt[3]);
    rt_boost_fini(&b);
}

static void test_unpermitted_falls_back(void **state)
{
    struct fake f = { 0 };
    struct rt_boost b;

    (void)state;
    f.fail[1] = -EPERM;
    rt_boost_init(&b, &fake_ops, &f, true, 100, 100);
    assert_int_equal(rt_boost_on(&b, three, 3, 0), 0);
    assert_int_equal(rt_boost_state(&b), RT_BOOST_UNPERMITTED);
    assert_false(f.rt[2] || f.rt[3]);       /* not tried after -EPERM */
    f.calls = 0;
    assert_int_equal(rt_boost_on(&b, three + 1, 2, 0), 0);
    assert_int_equal(f.calls, 0);           /* remembered */
    assert_false(rt_boost_off(&b, RT_BOOST_DONE));
    assert_false(rt_boost_expire(&b, 1u << 30));
    assert_int_equal(f.calls, 0);
    rt_boost_fini(&b);
}

static void test_disabled_and_gone(void **state)
{
    struct fake f = { 0 };
    struct rt_boost b;
    const pid_t odd[] = { 0, -1, 2, 3 };

    (void)state;
    rt_boost_init(&b, &fake_ops, &f, false, 100, 100);
    assert_int_equal(rt_boost_on(&b, three, 3, 0), 0);
    assert_int_equal(f.calls, 0);
    assert_int_equal(rt_boost_state(&b), RT_BOOST_OFF);
    rt_boost_fini(&b);
    /* Enabled: a thread that is gone is skipped, unstarted ones too. */
    f.fail[2] = -ESRCH;
    rt_boost_init(&b, &fake_ops, &f, true, 100, 0);
    b.inherit = true;
    assert_int_equal(rt_boost_on(&b, odd, 4, 0), 1);
    assert_true(f.rt[3] && f.inherit[3]);
    f.calls = 0;
    assert_true(rt_boost_off(&b, RT_BOOST_DONE));
    assert_int_equal(f.calls, 1);           /* only the boosted one */
    assert_false(f.rt[3]);
    rt_boost_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boost_then_done),
        cmocka_unit_test(test_failure_and_cancel_restore),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_unpermitted_falls_back),
        cmocka_unit_test(test_disabled_and_gone),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
