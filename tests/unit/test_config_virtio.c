/* SPDX-License-Identifier: BSD-3-Clause */
/* --disk / --net / --console / --rng parsing (minivmm/config_devices.c via
 * config_parse): values, defaults, and each error naming the argument. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "minivmm/config.h"

struct ctx {
    struct vm_config cfg;
    char err[512];
};

static int parse(struct ctx *c, int argc, char **argv)
{
    c->err[0] = 0;
    return config_parse(argc, argv, &c->cfg, c->err, sizeof(c->err));
}

#define PARSE(c, ...)                                                       \
    parse((c), sizeof((char *[]){ "minivmm", "--kernel", "k", __VA_ARGS__ }) \
                   / sizeof(char *),                                         \
          (char *[]){ "minivmm", "--kernel", "k", __VA_ARGS__ })

static void expect_err(struct ctx *c, int r, const char *needle)
{
    assert_int_equal(r, -EINVAL);
    if (!strstr(c->err, needle))
        fail_msg("error '%s' lacks '%s'", c->err, needle);
}

static void test_disks(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(PARSE(c, "--disk", "path=/a.img",
                           "--disk", "path=/b.img,readonly,id=data"), 0);
    assert_int_equal(c->cfg.ndisks, 2);
    assert_string_equal(c->cfg.disks[0].path, "/a.img");
    assert_string_equal(c->cfg.disks[0].id, "disk0");
    assert_false(c->cfg.disks[0].readonly);
    assert_string_equal(c->cfg.disks[1].id, "data");
    assert_true(c->cfg.disks[1].readonly);
}

static void test_disk_errors(void **state)
{
    struct ctx *c = *state;

    expect_err(c, PARSE(c, "--disk", "readonly"), "no path=FILE");
    expect_err(c, PARSE(c, "--disk", "path=/a,bogus=1"), "'bogus'");
    expect_err(c, PARSE(c, "--disk", "path=/a,id=bad/id"), "id must be");
    expect_err(c, PARSE(c, "--disk", "path=/a,id=x", "--disk",
                        "path=/b,id=x"), "duplicate id 'x'");
    expect_err(c, PARSE(c, "--disk", "path=/a,id=disk1", "--disk",
                        "path=/b"), "duplicate id 'disk1'");
    expect_err(c, PARSE(c, "--disk", "path=/a,id=123456789012345678901"),
               "id must be");
}

static void test_nets(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(PARSE(c, "--net", "tap=tap0",
                           "--net", "tap=tap1,mac=52:54:00:aa:bb:cc",
                           "--console", "--rng"), 0);
    assert_int_equal(c->cfg.nnets, 2);
    assert_string_equal(c->cfg.nets[0].tap, "tap0");
    assert_false(c->cfg.nets[0].has_mac);
    assert_true(c->cfg.nets[1].has_mac);
    assert_memory_equal(c->cfg.nets[1].mac, "\x52\x54\x00\xaa\xbb\xcc", 6);
    assert_true(c->cfg.virtio_console);
    assert_true(c->cfg.virtio_rng);
}

static void test_net_errors(void **state)
{
    struct ctx *c = *state;

    expect_err(c, PARSE(c, "--net", "mac=52:54:00:00:00:01"), "no tap=");
    expect_err(c, PARSE(c, "--net", "tap=t0,mac=53:54:00:00:00:01"),
               "unicast");
    expect_err(c, PARSE(c, "--net", "tap=t0,mac=52:54:00"), "unicast");
    expect_err(c, PARSE(c, "--net", "tap=averyveryverylongname"), "tap=");
    expect_err(c, PARSE(c, "--net", "tap=t0", "--net", "tap=t0"),
               "used twice");
}

/* The one key=value parser (vmm/kvopts.h) behind every device option:
 * ",," is a comma in a value, a key given twice is refused, and the
 * "config" description writes commas back escaped. */
static void test_kvopts_escapes(void **state)
{
    struct ctx *c = *state;
    struct json_object *o;
    const char *s;

    assert_int_equal(PARSE(c, "--disk", "path=/a,,b.img,readonly",
                           "--vfio-user", "socket=/run/x,,y.sock,id=v"), 0);
    assert_string_equal(c->cfg.disks[0].path, "/a,b.img");
    assert_true(c->cfg.disks[0].readonly);
    assert_string_equal(c->cfg.vfio[0].socket, "/run/x,y.sock");
    assert_string_equal(c->cfg.vfio[0].id, "v");
    o = config_to_json(&c->cfg);
    assert_non_null(o);
    s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!strstr(s, "path=/a,,b.img,readonly,id=disk0") ||
        !strstr(s, "socket=/run/x,,y.sock,id=v"))
        fail_msg("config '%s' lacks the escaped paths", s);
    json_object_put(o);
    expect_err(c, PARSE(c, "--disk", "path=/a,path=/b"), "given twice");
    expect_err(c, PARSE(c, "--net", "tap=t0,tap=t1"), "given twice");
    expect_err(c, PARSE(c, "--vfio-user", "socket=/s,socket=/t"),
               "given twice");
    expect_err(c, PARSE(c, "--vfio-user", "socket=/s,dma"),
               "'dma' is not key=value");
    expect_err(c, PARSE(c, "--vfio-user", "socket=/s,timeout=0"),
               "bad 'timeout=0'");
    expect_err(c, PARSE(c, "--disk", ",path=/a"), "empty item");
}

static int setup(void **state)
{
    *state = calloc(1, sizeof(struct ctx));
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_net_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kvopts_escapes, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
