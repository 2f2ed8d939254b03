/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for minivmm/bgcall.c: the call runs on another thread with
 * every signal blocked, its result (0 or -errno) comes back from the
 * join, several calls overlap, and joining NULL is 0. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "minivmm/bgcall.h"

struct probe {
    pthread_t caller;
    int other_thread;
    int sigterm_blocked;
    int result;
};

static int probe_fn(void *arg)
{
    struct probe *p = arg;
    sigset_t cur;

    p->other_thread = !pthread_equal(pthread_self(), p->caller);
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    p->sigterm_blocked = sigismember(&cur, SIGTERM) == 1;
    return p->result;
}

static void test_runs_on_a_thread(void **state)
{
    struct probe p = { .caller = pthread_self(), .result = 0 };
    struct bgcall *b;

    (void)state;
    assert_int_equal(bgcall_start(probe_fn, &p, &b), 0);
    assert_non_null(b);
    assert_int_equal(bgcall_join(b), 0);
    assert_true(p.other_thread);
    assert_true(p.sigterm_blocked);
}

static void test_error_from_join(void **state)
{
    struct probe p1 = { .caller = pthread_self(), .result = -EINVAL };
    struct probe p2 = { .caller = pthread_self(), .result = -ENOSPC };
    struct bgcall *b1, *b2;

    (void)state;
    assert_int_equal(bgcall_start(probe_fn, &p1, &b1), 0);
    assert_int_equal(bgcall_start(probe_fn, &p2, &b2), 0);
    assert_int_equal(bgcall_join(b2), -ENOSPC);
    assert_int_equal(bgcall_join(b1), -EINVAL);
    assert_int_equal(bgcall_join(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_on_a_thread),
        cmocka_unit_test(test_error_from_join),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
