/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test runner: a table of named tests, selected by "test=NAME[,NAME...]"
 * on the command line (no test= runs the whole table). Prints one
 * "PASS name" / "FAIL name: reason" line per test and a summary line
 * "payload: N passed, N failed". "test=exit:N" exits with status N.
 */
#ifndef GUEST_LIB_TEST_H
#define GUEST_LIB_TEST_H

struct test {
    const char *name;
    int (*run)(void);   /* 0: pass; else call test_fail() and return it */
};

/* Record why the running test failed; returns -1 for `return`. */
int test_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Run the selection from the command line; returns the number failed.
 * tests[0..n) can be named; only the first n_default run when the
 * command line has no test=.
 */
int test_run(const struct test *tests, unsigned int n,
             unsigned int n_default);

#endif
