/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vfio/caps.c: capability JSON encode/parse (including
 * malformed input), server/client negotiation, VERSION payloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfio/proto/caps.h"
#include "vfio/proto/proto.h"

static int parse(const char *s, struct vfio_user_caps *c, char *err)
{
    return vfio_user_caps_parse(s, strlen(s), c, err, 128);
}

static void test_defaults(void **state)
{
    struct vfio_user_caps c;
    char err[128] = "";

    (void)state;
    vfio_user_caps_default(&c);
    assert_int_equal(c.max_msg_fds, 1);
    assert_int_equal(c.max_data_xfer_size, 1048576);
    assert_int_equal(c.max_dma_maps, 65535);
    assert_int_equal(c.pgsizes, 4096);
    assert_false(c.twin_socket);
    assert_int_equal(c.twin_fd_index, -1);
    assert_false(c.write_multiple);
    assert_false(c.migration);

    memset(&c, 0xaa, sizeof(c));
    assert_int_equal(parse("{}", &c, err), 0);
    assert_int_equal(c.max_msg_fds, 1);
    assert_int_equal(parse("{\"capabilities\":{}}", &c, err), 0);
    assert_int_equal(c.pgsizes, 4096);
    assert_int_equal(vfio_user_caps_parse("", 0, &c, err, sizeof(err)), 0);
    assert_int_equal(vfio_user_caps_parse("\0", 1, &c, err, sizeof(err)), 0);
}

static void test_roundtrip(void **state)
{
    struct vfio_user_caps in, out;
    char *json;
    char err[128] = "";

    (void)state;
    vfio_user_caps_default(&in);
    in.max_msg_fds = 16;
    in.max_data_xfer_size = 65536;
    in.max_dma_maps = 1000;
    in.pgsizes = 4096 | (2u << 20) | (1ull << 30);
    in.twin_socket = true;
    in.twin_fd_index = 2;
    in.write_multiple = true;
    in.migration = true;
    in.mig_pgsize = 4096;
    in.mig_max_bitmap_size = 256ull << 20;
    assert_int_equal(vfio_user_caps_to_json(&in, &json), 0);
    assert_non_null(strstr(json, "\"capabilities\""));
    assert_int_equal(parse(json, &out, err), 0);
    assert_memory_equal(&in, &out, sizeof(in));
    free(json);

    /* Absent features are not written. */
    vfio_user_caps_default(&in);
    assert_int_equal(vfio_user_caps_to_json(&in, &json), 0);
    assert_null(strstr(json, "twin_socket"));
    assert_null(strstr(json, "migration"));
    assert_null(strstr(json, "write_multiple"));
    free(json);
}

static void test_full_spec_example(void **state)
{
    struct vfio_user_caps c;
    char err[128] = "";
    /* NUL included, as on the wire; unknown keys ignored. */
    static const char j[] =
        "{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":1048576,"
        "\"pgsizes\":4096,\"migration\":{\"pgsize\":4096,"
        "\"max_bitmap_size\":268435456},\"future\":[1,2,{\"x\":null}]},"
        "\"other\":\"ok\"}";

    (void)state;
    assert_int_equal(vfio_user_caps_parse(j, sizeof(j), &c, err, 128), 0);
    assert_int_equal(c.max_msg_fds, 8);
    assert_true(c.migration);
    assert_int_equal(c.mig_max_bitmap_size, 268435456);
    /* Large pgsizes (full 64-bit). */
    assert_int_equal(
        parse("{\"capabilities\":{\"pgsizes\":18446744073709547520}}", &c,
              err),
        0);
    assert_int_equal(c.pgsizes, 0xfffffffffffff000ull);
}

struct bad {
    const char *json;
    const char *why; /* substring of the error message */
};

static const struct bad bad_inputs[] = {
    {"{", "bad JSON"},
    {"{\"capabilities\":{\"max_msg_fds\":8", "bad JSON"},
    {"[]", "not a JSON object"},
    {"null", "not a JSON object"},
    {"\"x\"", "not a JSON object"},
    {"{} x", "JSON"},
    {"{\"capabilities\":{}} /* c */", "JSON"},
    {"{\"capabilities\":5}", "capabilities: not an object"},
    {"{\"capabilities\":{\"max_msg_fds\":-1}}", "max_msg_fds: negative"},
    {"{\"capabilities\":{\"max_msg_fds\":1.5}}", "max_msg_fds: not an int"},
    {"{\"capabilities\":{\"max_msg_fds\":\"8\"}}", "max_msg_fds: not an int"},
    {"{\"capabilities\":{\"max_msg_fds\":4294967296}}", "max_msg_fds"},
    {"{\"capabilities\":{\"max_data_xfer_size\":0}}", "max_data_xfer_size"},
    {"{\"capabilities\":{\"max_dma_maps\":0}}", "max_dma_maps"},
    {"{\"capabilities\":{\"max_dma_maps\":true}}", "max_dma_maps"},
    {"{\"capabilities\":{\"pgsizes\":0}}", "pgsizes"},
    {"{\"capabilities\":{\"pgsizes\":4608}}", "below 4 KiB"},
    {"{\"capabilities\":{\"pgsizes\":1e9}}", "pgsizes: not an int"},
    {"{\"capabilities\":{\"twin_socket\":true}}", "twin_socket: not an obj"},
    {"{\"capabilities\":{\"twin_socket\":{\"supported\":1}}}", "supported"},
    {"{\"capabilities\":{\"twin_socket\":{\"fd_index\":253}}}", "fd_index"},
    {"{\"capabilities\":{\"twin_socket\":{\"fd_index\":-1}}}", "fd_index"},
    {"{\"capabilities\":{\"write_multiple\":\"yes\"}}", "write_multiple"},
    {"{\"capabilities\":{\"migration\":[]}}", "migration: not an object"},
    {"{\"capabilities\":{\"migration\":{\"pgsize\":3000}}}", "power of 2"},
    {"{\"capabilities\":{\"migration\":{\"pgsize\":0}}}", "pgsize"},
    {"{\"capabilities\":{\"migration\":{\"max_bitmap_size\":0}}}", "max_bit"},
};

static void test_malformed(void **state)
{
    struct vfio_user_caps c;
    char err[128];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
        err[0] = '\0';
        c.max_msg_fds = 77;
        assert_int_equal(parse(bad_inputs[i].json, &c, err), -EINVAL);
        if (!strstr(err, bad_inputs[i].why))
            fail_msg("%s: error \"%s\" lacks \"%s\"", bad_inputs[i].json, err,
                     bad_inputs[i].why);
        assert_int_equal(c.max_msg_fds, 1); /* defaults on failure */
    }
    /* Embedded NUL, not terminated, NULL error buffer. */
    assert_int_equal(vfio_user_caps_parse("{}\0{}", 5, &c, NULL, 0), -EINVAL);
    assert_int_equal(vfio_user_caps_parse("{\"a\":1}", 3, &c, NULL, 0),
                     -EINVAL);
}

static void test_limits(void **state)
{
    struct vfio_user_caps c;
    char err[128];
    size_t i, n = 200;
    char *deep = malloc(2 * n + 64), *big;

    (void)state;
    /* Nesting beyond the depth limit. */
    strcpy(deep, "{\"capabilities\":{\"x\":");
    for (i = 0; i < n; i++)
        strcat(deep, "[");
    for (i = 0; i < n; i++)
        strcat(deep, "]");
    strcat(deep, "}}");
    assert_int_equal(parse(deep, &c, err), -EINVAL);
    free(deep);
    /* Over the size limit (valid JSON padded with spaces). */
    big = malloc(VFIO_USER_CAPS_JSON_MAX + 16);
    memset(big, ' ', VFIO_USER_CAPS_JSON_MAX + 8);
    memcpy(big, "{}", 2);
    assert_int_equal(vfio_user_caps_parse(big, VFIO_USER_CAPS_JSON_MAX + 8, &c,
                                          err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "too long"));
    free(big);
}

static void caps_all(struct vfio_user_caps *c)
{
    vfio_user_caps_default(c);
    c->max_msg_fds = 8;
    c->max_data_xfer_size = 1 << 20;
    c->max_dma_maps = 4096;
    c->pgsizes = 4096 | (2u << 20);
    c->twin_socket = true;
    c->write_multiple = true;
    c->migration = true;
    c->mig_pgsize = 4096;
}

static void test_negotiate_server(void **state)
{
    struct vfio_user_caps srv, cli, rep;
    char err[128] = "";

    (void)state;
    caps_all(&srv);
    vfio_user_caps_default(&cli);
    cli.max_msg_fds = 64;
    cli.max_data_xfer_size = 4096;
    cli.pgsizes = 4096 | (1ull << 30);
    cli.twin_socket = true;
    assert_int_equal(vfio_user_caps_negotiate_server(&srv, &cli, &rep, err,
                                                     sizeof(err)),
                     0);
    assert_int_equal(rep.max_msg_fds, 8);
    assert_int_equal(rep.max_data_xfer_size, 4096);
    assert_int_equal(rep.max_dma_maps, 4096);
    assert_int_equal(rep.pgsizes, 4096);
    assert_true(rep.twin_socket);
    assert_int_equal(rep.twin_fd_index, -1);
    assert_false(rep.write_multiple); /* client did not offer it */
    assert_false(rep.migration);

    cli.migration = true;
    cli.mig_pgsize = 65536;
    cli.mig_max_bitmap_size = 100;
    assert_int_equal(vfio_user_caps_negotiate_server(&srv, &cli, &rep, err,
                                                     sizeof(err)),
                     0);
    assert_true(rep.migration);
    assert_int_equal(rep.mig_pgsize, 4096);
    assert_int_equal(rep.mig_max_bitmap_size, 100);

    cli.pgsizes = 1ull << 30;
    assert_int_equal(vfio_user_caps_negotiate_server(&srv, &cli, &rep, err,
                                                     sizeof(err)),
                     -ENOTSUP);
    assert_non_null(strstr(err, "page size"));
}

static void test_check_reply(void **state)
{
    struct vfio_user_caps prop, rep, eff;
    char err[160] = "";

    (void)state;
    caps_all(&prop);
    prop.migration = false;
    /* libvfio-user style reply: its own limits, migration unasked. */
    vfio_user_caps_default(&rep);
    rep.max_msg_fds = 16;
    rep.max_data_xfer_size = 1 << 20;
    rep.migration = true;
    rep.mig_pgsize = 4096;
    assert_int_equal(
        vfio_user_caps_check_reply(&prop, &rep, 0, &eff, err, sizeof(err)), 0);
    assert_int_equal(eff.max_msg_fds, 8);
    assert_false(eff.migration);
    assert_false(eff.twin_socket);
    assert_int_equal(eff.twin_fd_index, -1);

    /* Twin socket: consistent. */
    rep.twin_socket = true;
    rep.twin_fd_index = 1;
    assert_int_equal(
        vfio_user_caps_check_reply(&prop, &rep, 2, &eff, err, sizeof(err)), 0);
    assert_true(eff.twin_socket);
    assert_int_equal(eff.twin_fd_index, 1);

    /* Claimed without an fd_index, or the fd is missing. */
    rep.twin_fd_index = -1;
    assert_int_equal(
        vfio_user_caps_check_reply(&prop, &rep, 2, &eff, err, sizeof(err)),
        -EPROTO);
    assert_non_null(strstr(err, "inconsistent"));
    rep.twin_fd_index = 2;
    assert_int_equal(
        vfio_user_caps_check_reply(&prop, &rep, 2, &eff, err, sizeof(err)),
        -EPROTO);
    /* Claimed but never proposed. */
    prop.twin_socket = false;
    rep.twin_fd_index = 0;
    assert_int_equal(
        vfio_user_caps_check_reply(&prop, &rep, 1, &eff, err, sizeof(err)),
        -EPROTO);
    assert_non_null(strstr(err, "not proposed"));
    /* supported=false with a stray fd_index: twin mode off. */
    rep.twin_socket = false;
    assert_int_equal(
        vfio_user_caps_check_reply(&prop, &rep, 1, &eff, err, sizeof(err)), 0);
    assert_false(eff.twin_socket);
    /* No common page size. */
    rep.pgsizes = 1ull << 40;
    assert_int_equal(
        vfio_user_caps_check_reply(&prop, &rep, 0, &eff, err, sizeof(err)),
        -ENOTSUP);
}

static void test_version_payload(void **state)
{
    struct vfio_user_caps in, out;
    uint16_t major, minor;
    void *p;
    size_t len;
    char err[128] = "";
    static const uint8_t bare[4] = {0, 0, 1, 0};

    (void)state;
    caps_all(&in);
    assert_int_equal(vfio_user_version_encode(0, 1, &in, &p, &len), 0);
    assert_int_equal(((char *)p)[len - 1], '\0');
    assert_int_equal(vfio_user_version_decode(p, len, &major, &minor, &out,
                                              err, sizeof(err)),
                     0);
    assert_int_equal(major, 0);
    assert_int_equal(minor, 1);
    assert_memory_equal(&in, &out, sizeof(in));
    /* Truncated JSON. */
    assert_int_equal(vfio_user_version_decode(p, len - 5, &major, &minor,
                                              &out, err, sizeof(err)),
                     -EINVAL);
    free(p);
    /* No JSON: defaults. */
    assert_int_equal(vfio_user_version_decode(bare, 4, &major, &minor, &out,
                                              err, sizeof(err)),
                     0);
    assert_int_equal(minor, 1);
    assert_int_equal(out.max_msg_fds, 1);
    assert_int_equal(vfio_user_version_decode(bare, 3, &major, &minor, &out,
                                              err, sizeof(err)),
                     -EINVAL);
}

static void test_version_numbers(void **state)
{
    uint16_t minor;
    char err[128] = "";

    (void)state;
    assert_int_equal(vfio_user_version_choose(0, 5, &minor, err, 128), 0);
    assert_int_equal(minor, VFIO_USER_VERSION_MINOR);
    assert_int_equal(vfio_user_version_choose(0, 0, &minor, err, 128), 0);
    assert_int_equal(minor, 0);
    assert_int_equal(vfio_user_version_choose(1, 0, &minor, err, 128),
                     -ENOTSUP);
    assert_int_equal(vfio_user_version_check_reply(0, 1, 0, 1, err, 128), 0);
    assert_int_equal(vfio_user_version_check_reply(0, 1, 0, 0, err, 128), 0);
    assert_int_equal(vfio_user_version_check_reply(0, 1, 0, 2, err, 128),
                     -EPROTO);
    assert_int_equal(vfio_user_version_check_reply(0, 1, 1, 0, err, 128),
                     -EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_full_spec_example),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_negotiate_server),
        cmocka_unit_test(test_check_reply),
        cmocka_unit_test(test_version_payload),
        cmocka_unit_test(test_version_numbers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
