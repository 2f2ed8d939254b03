/* SPDX-License-Identifier: BSD-3-Clause */
/* --viommu parsing (minivmm/config_viommu.c via config_parse), iommu=off
 * on --disk/--vfio-user, the JSON description, and the x_iova_bits
 * VERSION capability (vfio/proto/caps.c). */
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
#include "minivmm/config_viommu.h"
#include "vfio/proto/caps.h"

struct ctx {
    struct vm_config cfg;
    char err[512];
};

#define PARSE(c, ...)                                                       \
    config_parse(sizeof((char *[]){ "minivmm", "--kernel", "k",              \
                                    __VA_ARGS__ }) / sizeof(char *),        \
                 (char *[]){ "minivmm", "--kernel", "k", __VA_ARGS__ },     \
                 &(c)->cfg, (c)->err, sizeof((c)->err))

static void expect_err(struct ctx *c, int r, const char *needle)
{
    assert_int_equal(r, -EINVAL);
    if (!strstr(c->err, needle))
        fail_msg("error '%s' lacks '%s'", c->err, needle);
    config_free(&c->cfg);
}

static void test_viommu(void **state)
{
    struct ctx c;
    char buf[64];

    (void)state;
    assert_int_equal(PARSE(&c, "--cpus", "1"), 0);
    assert_false(c.cfg.viommu.on);
    config_free(&c.cfg);
    assert_int_equal(PARSE(&c, "--viommu", "virtio"), 0);
    assert_true(c.cfg.viommu.on);
    assert_int_equal(c.cfg.viommu.input_bits, 48);
    assert_int_equal(c.cfg.viommu.page_size, 4096);
    config_free(&c.cfg);
    assert_int_equal(PARSE(&c, "--viommu", "virtio,input-bits=39,"
                           "page-size=64K"), 0);
    assert_int_equal(c.cfg.viommu.input_bits, 39);
    assert_int_equal(c.cfg.viommu.page_size, 65536);
    config_viommu_str(&c.cfg.viommu, buf, sizeof(buf));
    assert_string_equal(buf, "virtio,input-bits=39,page-size=64K");
    config_free(&c.cfg);
    expect_err(&c, PARSE(&c, "--viommu", "amd"), "models are");
    expect_err(&c, PARSE(&c, "--viommu", ""), "models are");
    expect_err(&c, PARSE(&c, "--viommu", "virtio,input-bits=11"),
               "input-bits=11");
    expect_err(&c, PARSE(&c, "--viommu", "virtio,input-bits=65"),
               "input-bits=65");
    expect_err(&c, PARSE(&c, "--viommu", "virtio,page-size=3K"),
               "page-size=3K");
    expect_err(&c, PARSE(&c, "--viommu", "virtio,bypass"), "'bypass'");
}

static void test_iommu_off(void **state)
{
    struct ctx c;
    struct json_object *o;
    const char *s;

    (void)state;
    assert_int_equal(PARSE(&c, "--viommu", "virtio,input-bits=32",
                           "--disk", "path=/d,iommu=off",
                           "--vfio-user", "socket=/s,iommu=off",
                           "--vfio-user", "socket=/t,iommu=on"), 0);
    assert_true(c.cfg.disks[0].iommu_off);
    assert_true(c.cfg.vfio[0].iommu_off);
    assert_false(c.cfg.vfio[1].iommu_off);
    o = config_to_json(&c.cfg);
    s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    assert_non_null(strstr(s, "\"viommu\":\"virtio,input-bits=32,"
                              "page-size=4K\""));
    assert_non_null(strstr(s, "iommu=off"));
    json_object_put(o);
    config_free(&c.cfg);
    expect_err(&c, PARSE(&c, "--disk", "path=/d,iommu=maybe"), "iommu");
    expect_err(&c, PARSE(&c, "--vfio-user", "socket=/s,iommu=1"), "iommu");
}

/* --viommu intel: aw-bits, caching mode, printed back, and what it does
 * not combine with. */
static void test_intel(void **state)
{
    struct ctx c;
    char buf[64];

    (void)state;
    assert_int_equal(PARSE(&c, "--viommu", "intel"), 0);
    assert_true(c.cfg.viommu.on);
    assert_int_equal(c.cfg.viommu.model, CONFIG_VIOMMU_INTEL);
    assert_int_equal(c.cfg.viommu.aw_bits, 48);
    config_viommu_str(&c.cfg.viommu, buf, sizeof(buf));
    assert_string_equal(buf, "intel,aw-bits=48,caching-mode=on");
    config_free(&c.cfg);
    assert_int_equal(PARSE(&c, "--viommu", "intel,aw-bits=39,"
                           "caching-mode=on"), 0);
    assert_int_equal(c.cfg.viommu.aw_bits, 39);
    config_viommu_str(&c.cfg.viommu, buf, sizeof(buf));
    assert_string_equal(buf, "intel,aw-bits=39,caching-mode=on");
    config_free(&c.cfg);
    /* The printed text parses to the same thing (config round trip). */
    assert_int_equal(PARSE(&c, "--viommu", buf), 0);
    assert_int_equal(c.cfg.viommu.aw_bits, 39);
    config_free(&c.cfg);
    assert_int_equal(PARSE(&c, "--viommu", "virtio"), 0);
    assert_int_equal(c.cfg.viommu.model, CONFIG_VIOMMU_VIRTIO);
    config_free(&c.cfg);
    expect_err(&c, PARSE(&c, "--viommu", "intel,aw-bits=40"), "aw-bits=40");
    expect_err(&c, PARSE(&c, "--viommu", "intel,aw-bits=57"), "aw-bits=39|48");
    expect_err(&c, PARSE(&c, "--viommu", "intel,caching-mode=off"),
               "caching mode is always on");
    expect_err(&c, PARSE(&c, "--viommu", "intel,caching-mode=yes"),
               "caching-mode=yes");
    expect_err(&c, PARSE(&c, "--viommu", "intel,input-bits=39"),
               "input-bits=39");
    expect_err(&c, PARSE(&c, "--viommu", "virtio,aw-bits=39"), "aw-bits");
    expect_err(&c, PARSE(&c, "--viommu", "intel,aw-bits"), "'aw-bits'");
    expect_err(&c, PARSE(&c, "--viommu", "intel", "--disk",
                         "path=/d,id=x,iommu=off"), "INCLUDE_PCI_ALL");
    expect_err(&c, PARSE(&c, "--viommu", "intel", "--vfio-user",
                         "socket=/s,id=v,iommu=off"), "'v': iommu=off");
    /* iommu=off stays fine under virtio. */
    assert_int_equal(PARSE(&c, "--viommu", "virtio", "--disk",
                           "path=/d,iommu=off"), 0);
    config_free(&c.cfg);
}

/* --cpus above 255 with --viommu intel (no interrupt remapping): the
 * check itself, on a configuration past the option parser's limit. */
static void test_intel_cpus(void **state)
{
    struct vm_config cfg;
    char err[256];

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.cpus = 256;
    assert_int_equal(config_viommu_check(&cfg, err, sizeof(err)), 0);
    cfg.viommu = (struct config_viommu){ .on = true,
                                         .model = CONFIG_VIOMMU_INTEL,
                                         .aw_bits = 48 };
    assert_int_equal(config_viommu_check(&cfg, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--cpus 256 with --viommu intel"));
    assert_non_null(strstr(err, "xAPIC"));
    cfg.cpus = 255;
    assert_int_equal(config_viommu_check(&cfg, err, sizeof(err)), 0);
}

static void test_x_iova_bits(void **state)
{
    struct vfio_user_caps a, b, out;
    char *json, err[160];

    (void)state;
    vfio_user_caps_default(&a);
    assert_int_equal(vfio_user_caps_to_json(&a, &json), 0);
    assert_null(strstr(json, "x_iova_bits")); /* not stated: not sent */
    free(json);
    a.iova_bits = 32;
    assert_int_equal(vfio_user_caps_to_json(&a, &json), 0);
    assert_non_null(strstr(json, "\"x_iova_bits\":32"));
    assert_int_equal(vfio_user_caps_parse(json, strlen(json), &b, err,
                                          sizeof(err)), 0);
    assert_int_equal(b.iova_bits, 32);
    free(json);
    /* Negotiated: the stated one wins over "not stated". */
    vfio_user_caps_default(&a);
    assert_int_equal(vfio_user_caps_negotiate_server(&b, &a, &out, err,
                                                     sizeof(err)), 0);
    assert_int_equal(out.iova_bits, 32);
    static const char bad[] = "{\"capabilities\":{\"x_iova_bits\":65}}";
    assert_int_equal(vfio_user_caps_parse(bad, sizeof(bad) - 1, &b, err,
                                          sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "x_iova_bits"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_viommu),
        cmocka_unit_test(test_iommu_off),
        cmocka_unit_test(test_intel),
        cmocka_unit_test(test_intel_cpus),
        cmocka_unit_test(test_x_iova_bits),
    };

    return cmocka_run_group_tests_name("config_viommu", tests, NULL, NULL);
}
