/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests: the ACPI VIOT of --viommu (arch/x86/acpi.c, ACPI 6.5
 * §5.2.32): listed in the XSDT, checksummed, one virtio-pci IOMMU node
 * and one PCI range node per endpoint pointing at it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "tests/unit/acpi_tables.h"
#include "vmm/endian.h"

static uint8_t buf[ACPI_TEST_SIZE];

static void test_viot(void **state)
{
    struct x86_platform_desc d;
    struct x86_viot v = { .iommu_bdf = 0x08, .neps = 2,
                          .eps = { 0x10, 0x18 } };
    const uint8_t *t, *n;
    unsigned int nx;
    size_t used;

    (void)state;
    x86_platform_desc_init(&d, 1);
    assert_int_equal(acpi_test_build(&d, buf, &used), 0);
    assert_null(acpi_find(buf, "VIOT", &nx));
    assert_int_equal(nx, 3);
    d.viot = &v;
    assert_int_equal(acpi_test_build(&d, buf, &used), 0);
    t = acpi_find(buf, "VIOT", &nx);
    assert_non_null(t);
    assert_int_equal(nx, 4);
    assert_int_equal(le32_load(t + 4), 48 + 16 + 2 * 24);
    assert_int_equal(acpi_table_sum(t), 0);
    assert_int_equal(le16_load(t + 36), 3);     /* nodes */
    assert_int_equal(le16_load(t + 38), 48);    /* first node */
    n = t + 48;
    assert_int_equal(n[0], 3);                  /* virtio-pci IOMMU */
    assert_int_equal(le16_load(n + 2), 16);
    assert_int_equal(le16_load(n + 6), 0x08);
    for (int i = 0; i < 2; i++) {
        n = t + 64 + 24 * i;
        assert_int_equal(n[0], 1);              /* PCI range */
        assert_int_equal(le16_load(n + 2), 24);
        assert_int_equal(le32_load(n + 4), v.eps[i]);
        assert_int_equal(le16_load(n + 12), v.eps[i]);
        assert_int_equal(le16_load(n + 14), v.eps[i]);
        assert_int_equal(le16_load(n + 16), 48);
    }
    /* The XSDT stays checksummed. */
    t = acpi_xsdt(buf);
    assert_int_equal(acpi_table_sum(t), 0);
    v.neps = 0;
    assert_int_equal(acpi_test_build(&d, buf, &used), -EINVAL);
    v.neps = X86_VIOT_MAX_EPS + 1;
    assert_int_equal(acpi_test_build(&d, buf, &used), -EINVAL);
    v.neps = 2;
    assert_int_equal(acpi_build(&d, buf, used - 8, ACPI_TEST_GPA, &used),
                     -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_viot),
    };

    return cmocka_run_group_tests_name("acpi_viot", tests, NULL, NULL);
}
