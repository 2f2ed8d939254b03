/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests: devices/host_iommu.c (host IOMMU device attach checks). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "devices/host_iommu.h"

static const struct viommu_promise promise = {
    .page_size = 4096, .input_bits = 48, .bypass_windows = 2,
    .ram_last = 0x13fffffffULL,
};

static struct host_iommu_dev dev(void)
{
    struct host_iommu_dev d = { .name = "vfio-user device 'vfio0'" };

    d.caps.pgsizes = 0x1000;
    d.caps.iova_bits = 64;
    d.caps.max_mappings = 65535;
    return d;
}

static void test_fits(void **state)
{
    struct host_iommu_dev d = dev();
    char err[256] = "";

    (void)state;
    assert_int_equal(host_iommu_check(&promise, &d, err, sizeof(err)), 0);
    d.caps.iova_bits = 48;
    d.caps.max_mappings = 2;
    assert_int_equal(host_iommu_check(&promise, &d, err, sizeof(err)), 0);
    host_iommu_caps_vmm(&d.caps);
    assert_int_equal(host_iommu_check(&promise, &d, err, sizeof(err)), 0);
    assert_string_equal(err, "");
}

static void test_width(void **state)
{
    struct host_iommu_dev d = dev();
    char err[256];

    (void)state;
    d.caps.iova_bits = 32;
    assert_int_equal(host_iommu_check(&promise, &d, err, sizeof(err)),
                     -ENOTSUP);
    assert_non_null(strstr(err, "vfio-user device 'vfio0'"));
    assert_non_null(strstr(err, "IOVA width 32 bits"));
    assert_non_null(strstr(err, "input-bits=48"));
    assert_non_null(strstr(err, "use input-bits=32"));
    assert_null(strchr(err, '\n'));
}

static void test_granule(void **state)
{
    struct host_iommu_dev d = dev();
    char err[256];

    (void)state;
    d.caps.pgsizes = 0x10000 | 0x200000;
    assert_int_equal(host_iommu_check(&promise, &d, err, sizeof(err)),
                     -ENOTSUP);
    assert_non_null(strstr(err, "smallest DMA page size 64K"));
    assert_non_null(strstr(err, "page-size=4K"));
    assert_non_null(strstr(err, "use page-size=64K"));
    /* A larger vIOMMU granule is a multiple of the device's pages. */
    struct viommu_promise v = promise;
    v.page_size = 0x10000;
    assert_int_equal(host_iommu_check(&v, &d, err, sizeof(err)), 0);
}

static void test_maps(void **state)
{
    struct host_iommu_dev d = dev();
    char err[256];

    (void)state;
    d.caps.max_mappings = 1;
    assert_int_equal(host_iommu_check(&promise, &d, err, sizeof(err)),
                     -ENOTSUP);
    assert_non_null(strstr(err, "at most 1 DMA mappings"));
    assert_non_null(strstr(err, "needs 2"));
    assert_non_null(strstr(err, "--max-dma-maps 2"));
    d.caps.max_mappings = 0; /* no limit stated */
    assert_int_equal(host_iommu_check(&promise, &d, err, sizeof(err)), 0);
}

static void test_resv(void **state)
{
    struct host_iommu_dev d = dev();
    char err[256];

    (void)state;
    d.caps.nresv = 1;
    d.caps.resv[0] = (struct host_iommu_range){ 0x8000000, 0x8ffffff };
    assert_int_equal(host_iommu_check(&promise, &d, err, sizeof(err)),
                     -ENOTSUP);
    assert_non_null(strstr(err, "[0x8000000, 0x8ffffff]"));
    assert_non_null(strstr(err, "--memory of at most 0x8000000"));
    d.caps.resv[0] = (struct host_iommu_range){ 0x200000000ULL,
                                                0x2ffffffffULL };
    assert_int_equal(host_iommu_check(&promise, &d, err, sizeof(err)), 0);
}

static void test_malformed_and_order(void **state)
{
    struct host_iommu_dev d = dev();
    char err[256];

    (void)state;
    d.caps.pgsizes = 0;
    assert_int_equal(host_iommu_check(&promise, &d, err, sizeof(err)),
                     -EINVAL);
    d = dev();
    d.caps.iova_bits = 65;
    assert_int_equal(host_iommu_check(&promise, &d, err, sizeof(err)),
                     -EINVAL);
    d = dev();
    d.caps.nresv = HOST_IOMMU_MAX_RESV + 1;
    assert_int_equal(host_iommu_check(&promise, &d, err, sizeof(err)),
                     -EINVAL);
    /* Two mismatches: the granule is reported first. */
    d = dev();
    d.caps.pgsizes = 0x200000;
    d.caps.iova_bits = 32;
    assert_int_equal(host_iommu_check(&promise, &d, err, sizeof(err)),
                     -ENOTSUP);
    assert_non_null(strstr(err, "page-size=2M"));
    /* A NULL/0 error buffer is fine. */
    assert_int_equal(host_iommu_check(&promise, &d, NULL, 0), -ENOTSUP);
}

static void test_sizes(void **state)
{
    uint64_t v;
    char b[16];

    (void)state;
    assert_int_equal(host_iommu_size_parse("4K", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(host_iommu_size_parse("64k", &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(host_iommu_size_parse("2M", &v), 0);
    assert_int_equal(v, 2u << 20);
    assert_int_equal(host_iommu_size_parse("1G", &v), 0);
    assert_int_equal(host_iommu_size_parse("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(host_iommu_size_parse("2G", &v), -EINVAL);
    assert_int_equal(host_iommu_size_parse("3K", &v), -EINVAL);
    assert_int_equal(host_iommu_size_parse("1K", &v), -EINVAL);
    assert_int_equal(host_iommu_size_parse("", &v), -EINVAL);
    assert_int_equal(host_iommu_size_parse("-4K", &v), -EINVAL);
    assert_int_equal(host_iommu_size_parse("4KB", &v), -EINVAL);
    assert_int_equal(host_iommu_size_parse("99999999999999999999K", &v),
                     -EINVAL);
    assert_string_equal(host_iommu_size_str(4096, b, sizeof(b)), "4K");
    assert_string_equal(host_iommu_size_str(1u << 21, b, sizeof(b)), "2M");
    assert_string_equal(host_iommu_size_str(1u << 30, b, sizeof(b)), "1G");
    assert_string_equal(host_iommu_size_str(3000, b, sizeof(b)), "3000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fits),
        cmocka_unit_test(test_width),
        cmocka_unit_test(test_granule),
        cmocka_unit_test(test_maps),
        cmocka_unit_test(test_resv),
        cmocka_unit_test(test_malformed_and_order),
        cmocka_unit_test(test_sizes),
    };

    return cmocka_run_group_tests_name("host_iommu", tests, NULL, NULL);
}
