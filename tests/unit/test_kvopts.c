/* SPDX-License-Identifier: BSD-3-Clause */
/* The key=value option parser (vmm/kvopts.c): splitting, ",," escapes,
 * empty values, duplicates, unknown keys, bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/kvopts.h"

struct dev {
    char path[16];
    int ro;
    unsigned int n;
    int mode;
};

static int mode_fn(const char *val, void *field)
{
    if (!val || (strcmp(val, "a") && strcmp(val, "b")))
        return -EINVAL;
    *(int *)field = val[0] == 'b';
    return 0;
}

static const struct kvopt_spec spec[] = {
    { "path", KVOPT_STR, offsetof(struct dev, path), 16, 0, 0, NULL },
    { "ro", KVOPT_FLAG, offsetof(struct dev, ro), 0, 0, 0, NULL },
    { "n", KVOPT_UINT, offsetof(struct dev, n), 0, 1, 3600, NULL },
    { "mode", KVOPT_FN, offsetof(struct dev, mode), 0, 0, 0, mode_fn },
    { NULL, 0, 0, 0, 0, 0, NULL },
};

static void test_split(void **state)
{
    struct kvopts kv;

    (void)state;
    assert_int_equal(kvopts_split("path=/a,ro,n=5", &kv), 0);
    assert_int_equal(kv.n, 3);
    assert_string_equal(kv.item[0].key, "path");
    assert_string_equal(kv.item[0].val, "/a");
    assert_string_equal(kv.item[1].key, "ro");
    assert_null(kv.item[1].val);
    assert_string_equal(kv.item[2].val, "5");
    assert_int_equal(kvopts_split("", &kv), 0);
    assert_int_equal(kv.n, 0);
    /* '=' inside a value is the value's; a trailing ',' is allowed. */
    assert_int_equal(kvopts_split("k=a=b,", &kv), 0);
    assert_int_equal(kv.n, 1);
    assert_string_equal(kv.item[0].val, "a=b");
}

static void test_escapes(void **state)
{
    struct kvopts kv;
    char buf[32];

    (void)state;
    assert_int_equal(kvopts_split("path=a,,b.img,ro", &kv), 0);
    assert_int_equal(kv.n, 2);
    assert_string_equal(kv.item[0].val, "a,b.img");
    assert_int_equal(kvopts_split("path=,,,,", &kv), 0);
    assert_int_equal(kv.n, 1);
    assert_string_equal(kv.item[0].val, ",,");
    assert_int_equal(kvopts_split("path=x,,", &kv), 0);
    assert_string_equal(kv.item[0].val, "x,");
    assert_int_equal(kvopts_split("a,,b", &kv), 0);
    assert_string_equal(kv.item[0].key, "a,b");
    assert_null(kv.item[0].val);
    /* escape() is the inverse. */
    assert_int_equal(kvopts_escape("a,b,", buf, sizeof(buf)), 6);
    assert_string_equal(buf, "a,,b,,");
    assert_int_equal(kvopts_escape(",", buf, 2), -E2BIG);
    assert_int_equal(kvopts_escape("abc", buf, 3), -E2BIG);
    assert_int_equal(kvopts_escape("abc", buf, 4), 3);
}

static void test_empty(void **state)
{
    struct kvopts kv;
    struct dev d = { .n = 0 };
    const struct kvopt *bad = NULL;

    (void)state;
    assert_int_equal(kvopts_split(",path=a", &kv), -EINVAL);
    assert_int_equal(kvopts_split("=a", &kv), -EINVAL);
    assert_int_equal(kvopts_split("path=a,=b", &kv), -EINVAL);
    /* An empty value is a value: refused by a string or number key. */
    assert_int_equal(kvopts_split("path=", &kv), 0);
    assert_string_equal(kv.item[0].val, "");
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, &bad), -EINVAL);
    assert_ptr_equal(bad, &kv.item[0]);
    assert_int_equal(kvopts_split("n=", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, NULL), -EINVAL);
    /* A flag takes no value, a value key needs one. */
    assert_int_equal(kvopts_split("ro=1", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, NULL), -EINVAL);
    assert_int_equal(kvopts_split("path", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, NULL), -EINVAL);
}

static void test_apply(void **state)
{
    struct kvopts kv;
    struct dev d = { .n = 0 };
    const struct kvopt *bad = NULL;

    (void)state;
    assert_int_equal(kvopts_split("mode=b,ro,n=3600,path=p,,q", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, &bad), 0);
    assert_string_equal(d.path, "p,q");
    assert_int_equal(d.ro, 1);
    assert_int_equal(d.n, 3600);
    assert_int_equal(d.mode, 1);
    assert_int_equal(kvopts_split("mode=c", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, &bad), -EINVAL);
    assert_string_equal(bad->key, "mode");
}

static void test_unknown_and_duplicates(void **state)
{
    struct kvopts kv;
    struct dev d = { .n = 0 };
    const struct kvopt *bad = NULL;

    (void)state;
    assert_int_equal(kvopts_split("path=a,bogus=1", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, &bad), -ENOENT);
    assert_string_equal(bad->key, "bogus");
    assert_string_equal(d.path, "a"); /* items before it applied */
    assert_int_equal(kvopts_split("path=a,ro,path=b", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, &bad), -EEXIST);
    assert_ptr_equal(bad, &kv.item[2]);
    assert_int_equal(kvopts_split("ro,ro", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, &bad), -EEXIST);
    /* ... unless the later value is to win (--memory's options). */
    assert_int_equal(kvopts_split("path=a,n=1,path=b", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, KVOPTS_LAST_WINS, &bad), 0);
    assert_string_equal(d.path, "b");
}

static void test_bounds(void **state)
{
    static char big[KVOPTS_MAX_LEN + 2];
    struct kvopts kv;
    struct dev d = { .n = 0 };
    char many[4 * (KVOPTS_MAX_ITEMS + 1)] = "";

    (void)state;
    /* Numbers: range, digits only, no overflow wrap-around. */
    assert_int_equal(kvopts_split("n=0", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, NULL), -EINVAL);
    assert_int_equal(kvopts_split("n=3601", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, NULL), -EINVAL);
    assert_int_equal(kvopts_split("n=-1", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, NULL), -EINVAL);
    assert_int_equal(kvopts_split("n=18446744073709551617", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, NULL), -EINVAL);
    assert_int_equal(kvopts_split("n=1x", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, NULL), -EINVAL);
    /* Strings: the field's size with its NUL. */
    assert_int_equal(kvopts_split("path=123456789012345", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, NULL), 0);
    assert_int_equal(kvopts_split("path=1234567890123456", &kv), 0);
    assert_int_equal(kvopts_apply(&kv, spec, &d, 0, NULL), -EINVAL);
    /* The whole string and the item count. */
    memset(big, 'a', KVOPTS_MAX_LEN);
    assert_int_equal(kvopts_split(big, &kv), 0);
    big[KVOPTS_MAX_LEN] = 'a';
    assert_int_equal(kvopts_split(big, &kv), -E2BIG);
    for (int i = 0; i < KVOPTS_MAX_ITEMS; i++)
        strcat(many, "ro,");
    assert_int_equal(kvopts_split(many, &kv), 0);
    assert_int_equal(kv.n, KVOPTS_MAX_ITEMS);
    strcat(many, "ro");
    assert_int_equal(kvopts_split(many, &kv), -E2BIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_unknown_and_duplicates),
        cmocka_unit_test(test_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
