/* SPDX-License-Identifier: BSD-3-Clause */
/* Test selection, result lines and the summary. */
#include "lib/test.h"

#include <stdarg.h>

#include "lib/bootinfo.h"
#include "lib/exit.h"
#include "lib/printf.h"
#include "lib/string.h"

static char reason[160];
static unsigned int passed, failed;

int test_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return -1;
}

static void run_one(const struct test *t)
{
    reason[0] = '\0';
    if (t->run() == 0) {
        printf("PASS %s\n", t->name);
        passed++;
    } else {
        printf("FAIL %s: %s\n", t->name, reason[0] ? reason : "failed");
        failed++;
    }
}

/* "exit:N": exit with status N right now. */
static void exit_now(const char *arg)
{
    uint64_t v;
    const char *end;

    if (str_to_u64(arg, &end, &v) < 0 || *end)
        panic("bad test=exit:N value '%s'", arg);
    guest_exit((int)v);
}

static void run_named(const struct test *tests, unsigned int n,
                      const char *name)
{
    if (!strncmp(name, "exit:", 5))
        exit_now(name + 5);
    for (unsigned int i = 0; i < n; i++) {
        if (!strcmp(tests[i].name, name)) {
            run_one(&tests[i]);
            return;
        }
    }
    printf("FAIL %s: unknown test\n", name);
    failed++;
}

int test_run(const struct test *tests, unsigned int n,
             unsigned int n_default)
{
    char sel[256], name[32];
    const char *p = sel;

    if (cmdline_get("test", sel, sizeof(sel)) < 0) {
        for (unsigned int i = 0; i < n_default && i < n; i++)
            run_one(&tests[i]);
    } else {
        while (*p) {
            size_t len = 0;

            while (p[len] && p[len] != ',')
                len++;
            if (len && len < sizeof(name)) {
                memcpy(name, p, len);
                name[len] = '\0';
                run_named(tests, n, name);
            }
            p += len + (p[len] == ',');
        }
    }
    printf("payload: %u passed, %u failed\n", passed, failed);
    return (int)failed;
}
