/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vmm/config.c: every option, defaults, size syntax, and
 * each kind of command-line error (with the argument named in the message).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "minivmm/config.h"

#define MiB (1ULL << 20)
#define MAX_ARGS 64

/* The fixture: parse state plus the last error text. */
struct ctx {
    struct vm_config cfg;
    char err[1024];
    char *argv[MAX_ARGS];
};

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

/* Parse "minivmm" followed by the NULL-terminated arguments. */
static int parse(struct ctx *c, ...)
{
    va_list ap;
    int argc = 0;
    char *a;

    c->argv[argc++] = "minivmm";
    va_start(ap, c);
    while ((a = va_arg(ap, char *)) != NULL && argc < MAX_ARGS - 1)
        c->argv[argc++] = a;
    va_end(ap);
    c->argv[argc] = NULL;
    c->err[0] = 0;
    return config_parse(argc, c->argv, &c->cfg, c->err, sizeof(c->err));
}

/* Expect -EINVAL with @needle in the message. */
static void expect_error(struct ctx *c, int ret, const char *needle)
{
    assert_int_equal(ret, -EINVAL);
    if (!strstr(c->err, needle))
        fail_msg("error '%s' does not mention '%s'", c->err, needle);
}

static void test_defaults(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(parse(c, "--kernel", "vmlinux", NULL), 0);
    assert_string_equal(c->cfg.kernel, "vmlinux");
    assert_null(c->cfg.initrd);
    assert_string_equal(c->cfg.cmdline, "");
    assert_int_equal(c->cfg.cpus, 1);
    assert_int_equal(c->cfg.memory, CONFIG_DEFAULT_MEMORY);
    assert_int_equal(c->cfg.memory, 512 * MiB);
    assert_int_equal(c->cfg.serial, SERIAL_STDIO);
    assert_null(c->cfg.serial_path);
    assert_int_equal(c->cfg.cpuid.n, 0);
    assert_int_equal(c->cfg.show_help, 0);
    assert_int_equal(c->cfg.show_version, 0);
}

static void test_every_option(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(parse(c, "--kernel", "bz", "--initrd", "rd.img",
                           "--cmdline", "console=ttyS0 quiet", "--cpus", "4",
                           "--memory", "2G", "--serial", "file:/tmp/log",
                           "--cpu-features", "-xsave,+cx16", "--version",
                           "--help", NULL),
                     0);
    assert_string_equal(c->cfg.kernel, "bz");
    assert_string_equal(c->cfg.initrd, "rd.img");
    assert_string_equal(c->cfg.cmdline, "console=ttyS0 quiet");
    assert_int_equal(c->cfg.cpus, 4);
    assert_int_equal(c->cfg.memory, 2048 * MiB);
    assert_int_equal(c->cfg.serial, SERIAL_FILE);
    assert_string_equal(c->cfg.serial_path, "/tmp/log");
    assert_int_equal(c->cfg.cpuid.n, 2);
    assert_true(cpuid_policy_mentions(&c->cfg.cpuid, "xsave"));
    assert_true(cpuid_policy_mentions(&c->cfg.cpuid, "cx16"));
    assert_int_equal(c->cfg.show_version, 1);
    assert_int_equal(c->cfg.show_help, 1);

    /* --opt=value, repeated options (last wins; edits accumulate). */
    assert_int_equal(parse(c, "--kernel=a", "--cpus=2", "--cpus", "3",
                           "--memory=1G", "--serial=none", "--serial=stdio",
                           "--cpu-features=-avx", "--cpu-features", "+aes",
                           "--kernel", "b", NULL),
                     0);
    assert_string_equal(c->cfg.kernel, "b");
    assert_int_equal(c->cfg.cpus, 3);
    assert_int_equal(c->cfg.memory, 1024 * MiB);
    assert_int_equal(c->cfg.serial, SERIAL_STDIO);
    assert_int_equal(c->cfg.cpuid.n, 2);
}

static void test_parse_twice_resets(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(parse(c, "--kernel", "k", "--cpus", "8", "--memory",
                           "1G", "--cpu-features", "-pcid", NULL),
                     0);
    assert_int_equal(parse(c, "--kernel", "k2", NULL), 0);
    assert_string_equal(c->cfg.kernel, "k2");
    assert_int_equal(c->cfg.cpus, 1);
    assert_int_equal(c->cfg.memory, CONFIG_DEFAULT_MEMORY);
    assert_int_equal(c->cfg.cpuid.n, 0);
}

static void test_sizes(void **state)
{
    static const struct {
        const char *s;
        uint64_t v;
    } good[] = {
        { "512M", 512 * MiB },       { "2G", 2048 * MiB },
        { "1024K", MiB },            { "1T", 1ULL << 40 },
        { "512", 512 * MiB },        { "0", 0 },
        { "512MiB", 512 * MiB },     { "512MB", 512 * MiB },
        { "512mib", 512 * MiB },     { "2g", 2048 * MiB },
        { "4kb", 4096 },             { "1KiB", 1024 },
        { "3GIB", 3072 * MiB },      { "007M", 7 * MiB },
        { "16777215T", UINT64_MAX - (1ULL << 40) + 1 },
        { "17592186044415", UINT64_MAX - MiB + 1 },
    };
    static const char *const bad[] = {
        "12Q", "M", "99999999999T", "", "-1", " 5", "5 ", "+5", "0x10",
        "1.5G", "1Mi", "1MBB", "1MiBB", "1GG", "B", "16777216T",
        "17592186044416", "18446744073709551616", "99999999999999999999K",
        "1e3", "G1",
    };
    uint64_t v;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        v = 1;
        if (config_parse_size(good[i].s, &v) != 0)
            fail_msg("'%s' rejected", good[i].s);
        if (v != good[i].v)
            fail_msg("'%s' = %llu", good[i].s, (unsigned long long)v);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 12345;
        if (config_parse_size(bad[i], &v) != -EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(v, 12345); /* untouched on error */
    }
    assert_int_equal(config_parse_size(NULL, &v), -EINVAL);
}

static void test_memory_option(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(parse(c, "--kernel", "k", "--memory", "4K", NULL), 0);
    assert_int_equal(c->cfg.memory, 4096);
    assert_int_equal(parse(c, "--kernel", "k", "--memory", "64", NULL), 0);
    assert_int_equal(c->cfg.memory, 64 * MiB);
    expect_error(c, parse(c, "--kernel", "k", "--memory", "0", NULL),
                 "non-zero");
    expect_error(c, parse(c, "--kernel", "k", "--memory", "5K", NULL),
                 "4 KiB");
    expect_error(c, parse(c, "--kernel", "k", "--memory", "12Q", NULL),
                 "'12Q'");
    expect_error(c, parse(c, "--kernel", "k", "--memory", "M", NULL),
                 "--memory");
    expect_error(c, parse(c, "--kernel", "k", "--memory", "99999999999T",
                          NULL),
                 "not a size");
    expect_error(c, parse(c, "--kernel", "k", "--memory", "", NULL),
                 "--memory");
}

/* --memory SIZE,hugepages=on|off (issue 9 item 9). */
static void test_memory_hugepages(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(parse(c, "--kernel", "k", "--memory", "256M", NULL), 0);
    assert_false(c->cfg.hugepages);
    assert_int_equal(parse(c, "--kernel", "k", "--memory",
                           "256M,hugepages=on", NULL), 0);
    assert_true(c->cfg.hugepages);
    assert_int_equal(c->cfg.memory, 256 * MiB);
    assert_int_equal(parse(c, "--kernel", "k", "--memory",
                           "1G,hugepages=on,hugepages=off", NULL), 0);
    assert_false(c->cfg.hugepages);
    assert_int_equal(c->cfg.memory, 1024 * MiB);
    /* The size may be left out (default, or a snapshot's). */
    assert_int_equal(parse(c, "--kernel", "k", "--memory", ",hugepages=on",
                           NULL), 0);
    assert_true(c->cfg.hugepages);
    assert_int_equal(c->cfg.memory, 512 * MiB);
    expect_error(c, parse(c, "--kernel", "k", "--memory",
                          "3M,hugepages=on", NULL), "multiple of 2 MiB");
    expect_error(c, parse(c, "--kernel", "k", "--memory",
                          "2052K,hugepages=on", NULL), "multiple of 2 MiB");
    expect_error(c, parse(c, "--kernel", "k", "--memory", "64M,huge=on",
                          NULL), "unknown option 'huge=on'");
    expect_error(c, parse(c, "--kernel", "k", "--memory",
                          "64M,hugepages=yes", NULL), "hugepages=on|off");
    /* 3M without hugepages is fine. */
    assert_int_equal(parse(c, "--kernel", "k", "--memory", "3M", NULL), 0);
    assert_false(c->cfg.hugepages);
}

/* --restore FILE[,prefault=on|off]: the option comes off the end. */
static void test_restore_prefault(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(parse(c, "--restore", "a,b.snap", NULL), 0);
    assert_string_equal(c->cfg.restore, "a,b.snap");
    assert_false(c->cfg.restore_prefault);
    assert_int_equal(parse(c, "--restore", "a,b.snap,prefault=on", NULL), 0);
    assert_string_equal(c->cfg.restore, "a,b.snap");
    assert_true(c->cfg.restore_prefault);
    assert_int_equal(parse(c, "--restore", "vm.snap,prefault=off", NULL), 0);
    assert_string_equal(c->cfg.restore, "vm.snap");
    assert_false(c->cfg.restore_prefault);
    expect_error(c, parse(c, "--restore", "vm.snap,prefault=yes", NULL),
                 "prefault=yes: want on or off");
    expect_error(c, parse(c, "--restore", ",prefault=on", NULL),
                 "no file name");
}

static void test_cpus(void **state)
{
    static const char *const bad[] = { "0", "256", "abc", "-1", "", "1x",
                                       " 1", "+1", "4294967297",
                                       "99999999999999999999" };
    struct ctx *c = *state;

    assert_int_equal(parse(c, "--kernel", "k", "--cpus", "1", NULL), 0);
    assert_int_equal(c->cfg.cpus, 1);
    assert_int_equal(parse(c, "--kernel", "k", "--cpus", "255", NULL), 0);
    assert_int_equal(c->cfg.cpus, CONFIG_MAX_CPUS);
    assert_int_equal(parse(c, "--kernel", "k", "--cpus", "012", NULL), 0);
    assert_int_equal(c->cfg.cpus, 12);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_error(c, parse(c, "--kernel", "k", "--cpus", bad[i], NULL),
                     "--cpus");
        assert_non_null(strstr(c->err, bad[i]));
        assert_non_null(strstr(c->err, "255"));
    }
}

static void test_serial(void **state)
{
    static const char *const bad[] = { "file:", "bogus", "", "FILE:/x",
                                       "Stdio", "file", "none ", "stdio:" };
    struct ctx *c = *state;

    assert_int_equal(parse(c, "--kernel", "k", "--serial", "none", NULL), 0);
    assert_int_equal(c->cfg.serial, SERIAL_NONE);
    assert_int_equal(parse(c, "--kernel", "k", "--serial", "stdio", NULL), 0);
    assert_int_equal(c->cfg.serial, SERIAL_STDIO);
    assert_int_equal(parse(c, "--kernel", "k", "--serial", "file:/x/", NULL),
                     0);
    assert_int_equal(c->cfg.serial, SERIAL_FILE);
    assert_string_equal(c->cfg.serial_path, "/x/");
    assert_int_equal(parse(c, "--kernel", "k", "--serial", "file:a:b", NULL),
                     0);
    assert_string_equal(c->cfg.serial_path, "a:b");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_error(c, parse(c, "--kernel", "k", "--serial", bad[i], NULL),
                     "file:PATH");
}

static void test_bad_arguments(void **state)
{
    struct ctx *c = *state;

    expect_error(c, parse(c, "--kernel", "k", "--bogus", NULL), "'--bogus'");
    expect_error(c, parse(c, "--bogus=1", "--kernel", "k", NULL), "--bogus");
    expect_error(c, parse(c, "--kernel", "k", "-k", NULL), "'-k'");
    expect_error(c, parse(c, "-kx", "--kernel", "k", NULL), "-k");
    expect_error(c, parse(c, "--help=yes", NULL), "--help");
    /* Missing values. */
    expect_error(c, parse(c, "--kernel", NULL), "'--kernel'");
    expect_error(c, parse(c, "--kernel", "k", "--cpus", NULL), "'--cpus'");
    expect_error(c, parse(c, "--kernel", "k", "--memory", NULL), "--memory");
    /* Stray arguments, wherever they are. */
    expect_error(c, parse(c, "--kernel", "k", "stray", NULL), "'stray'");
    expect_error(c, parse(c, "stray", "--kernel", "k", NULL), "'stray'");
    expect_error(c, parse(c, "--kernel", "k", "--", "x", NULL), "'x'");
    expect_error(c, parse(c, "--kernel", "k", "-", NULL), "'-'");
    /* No kernel. */
    expect_error(c, parse(c, NULL), "--kernel");
    expect_error(c, parse(c, "--cpus", "2", NULL), "no --kernel");
    assert_int_equal(parse(c, "--help", NULL), 0);
    assert_int_equal(c->cfg.show_help, 1);
    assert_null(c->cfg.kernel);
    assert_int_equal(parse(c, "--version", NULL), 0);
    assert_int_equal(c->cfg.show_version, 1);
    /* An option-looking value is a value. */
    assert_int_equal(parse(c, "--kernel", "k", "--cmdline", "--cpus", NULL),
                     0);
    assert_string_equal(c->cfg.cmdline, "--cpus");
    assert_int_equal(c->cfg.cpus, 1);
}

static void test_cpu_features(void **state)
{
    struct ctx *c = *state;
    char many[40 * 7 + 1] = "";

    assert_int_equal(parse(c, "--kernel", "k", "--cpu-features", "", NULL),
                     0);
    assert_int_equal(c->cfg.cpuid.n, 0);
    assert_int_equal(parse(c, "--kernel", "k", "--cpu-features",
                           ",,-xsave,,+rdtscp,", NULL),
                     0);
    assert_int_equal(c->cfg.cpuid.n, 2);
    expect_error(c, parse(c, "--kernel", "k", "--cpu-features", "xsave",
                          NULL),
                 "prefix");
    expect_error(c, parse(c, "--kernel", "k", "--cpu-features",
                          "-xsave,cx16", NULL),
                 "'cx16'");
    expect_error(c, parse(c, "--kernel", "k", "--cpu-features", "-bogus",
                          NULL),
                 "unknown feature 'bogus'");
    assert_non_null(strstr(c->err, "xsave")); /* lists the known names */
    expect_error(c, parse(c, "--kernel", "k", "--cpu-features", "-", NULL),
                 "unknown feature ''");
    expect_error(c, parse(c, "--kernel", "k", "--cpu-features", "-XSAVE",
                          NULL),
                 "XSAVE");
    expect_error(c, parse(c, "--kernel", "k", "--cpu-features", "- xsave",
                          NULL),
                 "unknown");
    for (int i = 0; i < 33; i++)
        strcat(many, i ? ",-cx16" : "-cx16");
    expect_error(c, parse(c, "--kernel", "k", "--cpu-features", many, NULL),
                 "more than 32");
}

/* --log-level (a vmm/log.h level name, checked here, applied by main)
 * and --log-file; both in the "config" description. */
static void test_log_options(void **state)
{
    struct ctx *c = *state;
    struct json_object *o;
    const char *s;

    assert_int_equal(parse(c, "--kernel", "k", NULL), 0);
    assert_null(c->cfg.log_level);
    assert_null(c->cfg.log_file);
    assert_int_equal(parse(c, "--kernel", "k", "--log-level", "debug",
                           "--log-file", "/tmp/x.log", NULL), 0);
    assert_string_equal(c->cfg.log_level, "debug");
    assert_string_equal(c->cfg.log_file, "/tmp/x.log");
    o = config_to_json(&c->cfg);
    assert_non_null(o);
    s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE);
    assert_non_null(strstr(s, "\"log-level\":\"debug\""));
    assert_non_null(strstr(s, "\"log-file\":\"/tmp/x.log\""));
    json_object_put(o);
    for (int i = 0; i < 4; i++) {
        static const char *const lv[] = { "error", "warn", "info", "debug" };

        assert_int_equal(parse(c, "--kernel", "k", "--log-level", lv[i],
                               NULL), 0);
    }
    expect_error(c, parse(c, "--kernel", "k", "--log-level", "verbose",
                          NULL), "error, warn, info or debug");
    expect_error(c, parse(c, "--kernel", "k", "--log-level", "", NULL),
                 "--log-level");
}

static void test_usage(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    static const char *const opts[] = { "--kernel", "--initrd", "--cmdline",
                                        "--cpus", "--memory", "--serial",
                                        "--cpu-features", "--log-level",
                                        "--log-file", "--help",
                                        "--version" };

    (void)state;
    assert_non_null(f);
    config_usage(f);
    fclose(f);
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        assert_non_null(strstr(text, opts[i]));
    free(text);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_every_option),
        T(test_parse_twice_resets),
        cmocka_unit_test(test_sizes),
        T(test_memory_option),
        T(test_memory_hugepages),
        T(test_restore_prefault),
        T(test_cpus),
        T(test_serial),
        T(test_bad_arguments),
        T(test_cpu_features),
        T(test_log_options),
        cmocka_unit_test(test_usage),
    };

    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
