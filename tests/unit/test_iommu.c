/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests: vfio/iommu.c (software IOMMU map, translate, DMA, caps). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "vfio/client/iommu.h"

static uint8_t ram[3][4096];

static struct iommu_window win(uint64_t iova, int i, uint32_t prot)
{
    return (struct iommu_window){ .iova = iova, .size = 4096,
                                  .hva = ram[i], .fd = -1, .prot = prot };
}

static void test_map_overlap(void **state)
{
    struct iommu m;
    struct iommu_window w = win(0x1000, 0, IOMMU_PROT_READ);

    (void)state;
    iommu_init(&m, 0);
    assert_int_equal(iommu_map(&m, &w), 0);
    assert_int_equal(iommu_map(&m, &w), -EEXIST);
    w.iova = 0x1800;
    assert_int_equal(iommu_map(&m, &w), -EEXIST);
    w.iova = 0x800;
    assert_int_equal(iommu_map(&m, &w), -EEXIST);
    w.iova = 0x2000;
    assert_int_equal(iommu_map(&m, &w), 0); /* adjacent is fine */
    w.iova = 0;
    assert_int_equal(iommu_map(&m, &w), 0);
    w.size = 0;
    assert_int_equal(iommu_map(&m, &w), -EINVAL);
    w = win(UINT64_MAX - 10, 0, IOMMU_PROT_READ);
    assert_int_equal(iommu_map(&m, &w), -EINVAL); /* wraps */
    w = win(0x9000, 0, 0);
    assert_int_equal(iommu_map(&m, &w), -EINVAL); /* no permission */
    assert_int_equal(m.n, 3);
    assert_true(m.w[0].iova < m.w[1].iova && m.w[1].iova < m.w[2].iova);
    iommu_fini(&m);
}

static void test_limit_unmap(void **state)
{
    struct iommu m;
    struct iommu_window a = win(0, 0, 3), b = win(0x1000, 1, 3);

    (void)state;
    iommu_init(&m, 1);
    assert_int_equal(iommu_map(&m, &a), 0);
    assert_int_equal(iommu_map(&m, &b), -ENOSPC);
    assert_int_equal(iommu_unmap(&m, 0, 0x800), -ENOENT); /* not exact */
    assert_int_equal(iommu_unmap(&m, 0x1000, 4096), -ENOENT);
    assert_int_equal(iommu_unmap(&m, 0, 4096), 0);
    assert_int_equal(iommu_map(&m, &b), 0);
    iommu_fini(&m);
}

static void test_translate(void **state)
{
    struct iommu m;
    struct iommu_window a = win(0x10000, 0, IOMMU_PROT_READ);

    (void)state;
    iommu_init(&m, 0);
    iommu_map(&m, &a);
    assert_ptr_equal(iommu_translate(&m, 0x10010, 16, IOMMU_PROT_READ),
                     ram[0] + 0x10);
    assert_null(iommu_translate(&m, 0x10010, 16, IOMMU_PROT_WRITE));
    assert_null(iommu_translate(&m, 0x10ff0, 32, IOMMU_PROT_READ));
    assert_null(iommu_translate(&m, 0xfff0, 8, IOMMU_PROT_READ));
    assert_null(iommu_translate(&m, 0x11000, 1, IOMMU_PROT_READ));
    iommu_fini(&m);
}

static void test_dma_span_and_checks(void **state)
{
    struct iommu m;
    struct iommu_window a = win(0, 0, 3), b = win(0x1000, 1, 3),
                        c = win(0x3000, 2, IOMMU_PROT_READ);
    uint8_t buf[64];

    (void)state;
    iommu_init(&m, 0);
    iommu_map(&m, &a);
    iommu_map(&m, &b);
    iommu_map(&m, &c);
    memset(buf, 0xab, sizeof(buf));
    assert_int_equal(iommu_dma_write(&m, 0x1000 - 32, buf, 64), 0);
    assert_int_equal(ram[0][4095], 0xab);
    assert_int_equal(ram[1][31], 0xab);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(iommu_dma_read(&m, 0x1000 - 32, buf, 64), 0);
    assert_int_equal(buf[63], 0xab);
    /* the gap at 0x2000 makes the whole access fail, nothing copied */
    memset(ram[1], 0, sizeof(ram[1]));
    assert_int_equal(iommu_dma_write(&m, 0x1ff0, buf, 32), -EFAULT);
    assert_int_equal(ram[1][0xff0], 0);
    assert_int_equal(iommu_dma_write(&m, 0x3000, buf, 8), -EPERM);
    assert_int_equal(iommu_dma_read(&m, 0x3000, buf, 8), 0);
    assert_int_equal(iommu_dma_read(&m, UINT64_MAX - 4, buf, 8), -EFAULT);
    iommu_fini(&m);
}

static void test_caps(void **state)
{
    struct iommu_caps caps = { .pgsizes = 4096, .max_dma_maps = 4,
                               .max_data_xfer_size = 1 << 20,
                               .iova_bits = 39 };
    struct iommu_needs needs = { .page_size = 4096, .nwindows = 2,
                                 .max_iova = (1ULL << 33) - 1,
                                 .min_xfer = 4096 };
    char err[256];

    (void)state;
    assert_int_equal(iommu_caps_check(&caps, &needs, err, sizeof(err)), 0);
    needs.nwindows = 5;
    assert_int_equal(iommu_caps_check(&caps, &needs, err, sizeof(err)),
                     -ENOTSUP);
    assert_non_null(strstr(err, "DMA maps"));
    needs.nwindows = 2;
    needs.max_iova = 1ULL << 40;
    assert_int_equal(iommu_caps_check(&caps, &needs, err, sizeof(err)),
                     -ENOTSUP);
    assert_non_null(strstr(err, "IOVA width"));
    needs.max_iova = 0;
    caps.pgsizes = 1 << 21;
    assert_int_equal(iommu_caps_check(&caps, &needs, err, sizeof(err)),
                     -ENOTSUP);
    assert_non_null(strstr(err, "page sizes"));
    caps.pgsizes = 4096;
    caps.max_data_xfer_size = 512;
    assert_int_equal(iommu_caps_check(&caps, &needs, err, sizeof(err)),
                     -ENOTSUP);
    assert_non_null(strstr(err, "max_data_xfer_size"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_overlap),
        cmocka_unit_test(test_limit_unmap),
        cmocka_unit_test(test_translate),
        cmocka_unit_test(test_dma_span_and_checks),
        cmocka_unit_test(test_caps),
    };

    return cmocka_run_group_tests_name("iommu", tests, NULL, NULL);
}
