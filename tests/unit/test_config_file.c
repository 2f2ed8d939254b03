/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vmm/config_file.c (--config) and config_to_json(): a
 * file's keys go through the command line's option table, the command
 * line overrides scalars and adds to lists, every kind of bad file is
 * refused with the key and the reason, and a description parsed back
 * describes itself identically. Also --serial pty / socket:PATH. */
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "minivmm/config.h"

#define MAX_ARGS 32

struct ctx {
    struct vm_config cfg;
    char err[1024];
    char *argv[MAX_ARGS];
    char path[64];
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    int fd;

    if (!c)
        return -1;
    strcpy(c->path, "/tmp/test_config_file.XXXXXX");
    fd = mkstemp(c->path);
    if (fd < 0)
        return -1;
    close(fd);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;

    config_free(&c->cfg);
    unlink(c->path);
    free(c);
    return 0;
}

static void write_file(struct ctx *c, const char *text)
{
    FILE *f = fopen(c->path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Parse "minivmm" + the NULL-terminated arguments (config_free first). */
static int parse(struct ctx *c, ...)
{
    va_list ap;
    int argc = 0;
    char *a;

    config_free(&c->cfg);
    c->argv[argc++] = "minivmm";
    va_start(ap, c);
    while ((a = va_arg(ap, char *)) != NULL && argc < MAX_ARGS - 1)
        c->argv[argc++] = a;
    va_end(ap);
    c->argv[argc] = NULL;
    c->err[0] = 0;
    return config_parse(argc, c->argv, &c->cfg, c->err, sizeof(c->err));
}

static void expect_error(struct ctx *c, int ret, const char *needle)
{
    assert_int_equal(ret, -EINVAL);
    if (!strstr(c->err, needle))
        fail_msg("error '%s' lacks '%s'", c->err, needle);
}

static void test_file_values(void **state)
{
    struct ctx *c = *state;

    write_file(c, "{\"kernel\": \"k.elf\", \"cpus\": 3, \"memory\": 256,\n"
               " \"serial\": \"none\", \"disk\": [\"path=a.img\", "
               "\"path=b.img,readonly,id=bee\"], \"rng\": true,\n"
               " \"console\": false, \"vfio-user\": \"socket=/s\",\n"
               " \"migrate-timeout-ms\": \"5000\"}\n");
    assert_int_equal(parse(c, "--config", c->path, NULL), 0);
    assert_string_equal(c->cfg.kernel, "k.elf");
    assert_int_equal(c->cfg.cpus, 3);
    assert_int_equal(c->cfg.memory, 256ULL << 20);
    assert_int_equal(c->cfg.serial, SERIAL_NONE);
    assert_int_equal(c->cfg.ndisks, 2);
    assert_string_equal(c->cfg.disks[1].id, "bee");
    assert_int_equal(c->cfg.disks[1].readonly, 1);
    assert_int_equal(c->cfg.virtio_rng, 1);
    assert_int_equal(c->cfg.virtio_console, 0);
    assert_int_equal(c->cfg.nvfio, 1);
    assert_int_equal(c->cfg.migrate_timeout_ms, 5000);
}

static void test_command_line_wins(void **state)
{
    struct ctx *c = *state;

    write_file(c, "{\"kernel\": \"k.elf\", \"cpus\": 3, "
               "\"disk\": [\"path=a.img\"]}");
    /* --config after the options: still applied first. */
    assert_int_equal(parse(c, "--cpus", "2", "--disk", "path=c.img",
                           "--kernel", "other.elf", "--config", c->path,
                           NULL), 0);
    assert_int_equal(c->cfg.cpus, 2);
    assert_string_equal(c->cfg.kernel, "other.elf");
    assert_int_equal(c->cfg.ndisks, 2);
    assert_string_equal(c->cfg.disks[0].path, "a.img");
    assert_string_equal(c->cfg.disks[1].path, "c.img");
    assert_string_equal(c->cfg.disks[1].id, "disk1");
}

static void test_bad_files(void **state)
{
    static const struct { const char *text, *needle; } bad[] = {
        { "{\"cpu\": 2}", "unknown key \"cpu\"" },
        { "{\"config\": \"x\"}", "unknown key \"config\"" },
        { "{\"help\": true}", "unknown key \"help\"" },
        { "{\"kernel\": \"k\", \"cpus\": 0}", "\"cpus\": --cpus '0'" },
        { "{\"kernel\": \"k\", \"cpus\": -1}", "\"cpus\": must be" },
        { "{\"kernel\": \"k\", \"cpus\": 1.5}", "\"cpus\": must be" },
        { "{\"kernel\": 5}", "\"kernel\": must be a string" },
        { "{\"kernel\": \"k\", \"disk\": 5}", "\"disk\": must be a string or"},
        { "{\"kernel\": \"k\", \"disk\": [1]}", "an array of strings" },
        { "{\"kernel\": \"k\", \"rng\": 1}", "\"rng\": must be true or false"},
        { "{\"kernel\": \"k\", \"memory\": \"0\"}", "\"memory\": --memory" },
        { "{\"kernel\": \"k\", \"serial\": \"tty\"}", "\"serial\": --serial" },
        { "{\"kernel\": ", "not JSON (unexpected end" },
        { "{\"kernel\": \"k\"} {}", "text after the object" },
        { "[]", "one JSON object" },
        { "", "not JSON" },
    };
    struct ctx *c = *state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(c, bad[i].text);
        expect_error(c, parse(c, "--config", c->path, NULL), bad[i].needle);
        assert_non_null(strstr(c->err, c->path));
    }
    expect_error(c, parse(c, "--config", "/nonexistent/vm.json", NULL),
                 "/nonexistent/vm.json");
    write_file(c, "{\"kernel\": \"k\"}");
    expect_error(c, parse(c, "--config", c->path, "--config", c->path, NULL),
                 "--config given twice");
}

/* to_json(cfg) written as a file and parsed back gives the same JSON. */
static void test_round_trip(void **state)
{
    struct ctx *c = *state;
    struct json_object *a, *b;
    char *text;

    assert_int_equal(parse(c, "--kernel", "k.elf", "--cpus", "4",
                           "--memory", "2G,hugepages=on", "--serial",
                           "socket:/tmp/con", "--disk",
                           "path=a.img,readonly", "--net",
                           "tap=tap0,mac=52:54:00:00:00:01", "--vfio-user",
                           "socket=/v,dma=message,reconnect=2,timeout=900",
                           "--cpu-features", "-xsave", "--cpu-features",
                           "+cx16", "--console", "--api-socket", "/api",
                           "--migrate-downtime-ms", "40", "--cmdline",
                           "a b", NULL), 0);
    a = config_to_json(&c->cfg);
    assert_non_null(a);
    text = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
    assert_non_null(strstr(text, "\"memory\":\"2G,hugepages=on\""));
    assert_non_null(strstr(text, "\"cpu-features\":\"-xsave,+cx16\""));
    assert_non_null(strstr(text, "path=a.img,readonly,id=disk0"));
    assert_non_null(strstr(text, "socket=\\/v,id=vfio0,dma=message,"
                                 "reconnect=2,timeout=900"));
    write_file(c, text);
    assert_int_equal(parse(c, "--config", c->path, NULL), 0);
    b = config_to_json(&c->cfg);
    assert_string_equal(
        json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN), text);
    json_object_put(a);
    json_object_put(b);
    free(text);
}

static void test_serial_modes(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(parse(c, "--kernel", "k", "--serial", "pty", NULL), 0);
    assert_int_equal(c->cfg.serial, SERIAL_PTY);
    assert_int_equal(parse(c, "--kernel", "k", "--serial", "socket:/tmp/c",
                           NULL), 0);
    assert_int_equal(c->cfg.serial, SERIAL_SOCKET);
    assert_string_equal(c->cfg.serial_path, "/tmp/c");
    expect_error(c, parse(c, "--kernel", "k", "--serial", "socket:", NULL),
                 "socket:PATH");
    expect_error(c, parse(c, "--kernel", "k", "--serial", "pty:x", NULL),
                 "--serial 'pty:x'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_line_wins, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serial_modes, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
