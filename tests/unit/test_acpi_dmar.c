/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests: the ACPI DMAR of --viommu intel (arch/x86/acpi_dmar.c via
 * acpi_build(); VT-d spec 4.x, 8.1 and 8.3): listed in the XSDT,
 * checksummed, host address width aw - 1, flags 0, one DRHD with
 * INCLUDE_PCI_ALL for segment 0 at the register base, no RMRR. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/acpi_dmar.h"
#include "devices/vtd.h"
#include "tests/unit/acpi_tables.h"
#include "vmm/endian.h"

static uint8_t buf[ACPI_TEST_SIZE];

static void check_dmar(const uint8_t *t, unsigned int aw)
{
    const uint8_t *drhd = t + 48;

    assert_non_null(t);
    assert_int_equal(le32_load(t + 4), 48 + 16);   /* no RMRR, no scopes */
    assert_int_equal(t[8], 1);                     /* revision */
    assert_int_equal(acpi_table_sum(t), 0);
    assert_int_equal(t[36], aw - 1);               /* host address width */
    assert_int_equal(t[37], 0);                    /* no INTR_REMAP */
    for (int i = 38; i < 48; i++)
        assert_int_equal(t[i], 0);
    assert_int_equal(le16_load(drhd), 0);          /* DRHD */
    assert_int_equal(le16_load(drhd + 2), 16);
    assert_int_equal(drhd[4], 1);                  /* INCLUDE_PCI_ALL */
    assert_int_equal(drhd[5], 0);
    assert_int_equal(le16_load(drhd + 6), 0);      /* segment 0 */
    assert_int_equal(le64_load(drhd + 8), VTD_MMIO_BASE);
}

static void test_dmar(void **state)
{
    struct x86_platform_desc d;
    struct x86_dmar m = { .aw_bits = 48, .drhd_base = VTD_MMIO_BASE };
    const uint8_t *x;
    unsigned int nx;
    size_t used;

    (void)state;
    x86_platform_desc_init(&d, 4);
    assert_int_equal(acpi_test_build(&d, buf, &used), 0);
    assert_null(acpi_find(buf, "DMAR", &nx));
    assert_int_equal(nx, 3);
    d.dmar = &m;
    assert_int_equal(acpi_test_build(&d, buf, &used), 0);
    assert_null(acpi_find(buf, "VIOT", &nx));
    check_dmar(acpi_find(buf, "DMAR", &nx), 48);
    assert_int_equal(nx, 4);
    x = acpi_xsdt(buf);
    assert_int_equal(acpi_table_sum(x), 0);
    m.aw_bits = 39;
    assert_int_equal(acpi_test_build(&d, buf, &used), 0);
    check_dmar(acpi_find(buf, "DMAR", &nx), 39);
    /* The MADT and MCFG are still there. */
    assert_non_null(acpi_find(buf, "APIC", &nx));
    assert_non_null(acpi_find(buf, "MCFG", &nx));
    assert_int_equal(acpi_build(&d, buf, used - 8, ACPI_TEST_GPA, &used),
                     -ENOSPC);
}

/* With a VIOT too (not what minivmm builds, but the builder allows it):
 * five XSDT entries, both tables intact. */
static void test_dmar_and_viot(void **state)
{
    struct x86_platform_desc d;
    struct x86_dmar m = { .aw_bits = 48, .drhd_base = VTD_MMIO_BASE };
    struct x86_viot v = { .iommu_bdf = 0x08, .neps = 1, .eps = { 0x10 } };
    unsigned int nx;
    size_t used;

    (void)state;
    x86_platform_desc_init(&d, 1);
    d.dmar = &m;
    d.viot = &v;
    assert_int_equal(acpi_test_build(&d, buf, &used), 0);
    check_dmar(acpi_find(buf, "DMAR", &nx), 48);
    assert_int_equal(nx, 5);
    assert_non_null(acpi_find(buf, "VIOT", &nx));
}

static void test_dmar_invalid(void **state)
{
    struct x86_platform_desc d;
    struct x86_dmar m = { .aw_bits = 31, .drhd_base = VTD_MMIO_BASE };
    size_t used;

    (void)state;
    x86_platform_desc_init(&d, 1);
    d.dmar = &m;
    assert_int_equal(acpi_test_build(&d, buf, &used), -EINVAL);
    m.aw_bits = 65;
    assert_int_equal(acpi_test_build(&d, buf, &used), -EINVAL);
    m.aw_bits = 48;
    m.drhd_base = VTD_MMIO_BASE + 8;
    assert_int_equal(acpi_test_build(&d, buf, &used), -EINVAL);
    m.drhd_base = 1ULL << 32;
    assert_int_equal(acpi_test_build(&d, buf, &used), -EINVAL);
    assert_int_equal(acpi_dmar_check(&(struct x86_dmar){ 39, 0xfed90000 }),
                     0);
}

/* The register window lies in the hole below 4 GiB, clear of everything
 * else the platform puts there (docs/platform.md). */
static void test_dmar_window(void **state)
{
    const uint64_t lo = VTD_MMIO_BASE, hi = VTD_MMIO_BASE + VTD_MMIO_SIZE;

    (void)state;
    assert_true(lo >= X86_ECAM_BASE + X86_ECAM_SIZE);
    assert_true(lo >= X86_MMIO32_BASE + X86_MMIO32_SIZE);
    assert_true(hi <= X86_LAPIC_ADDR);
    assert_true(lo >= X86_IOAPIC_ADDR + 0x1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dmar),
        cmocka_unit_test(test_dmar_and_viot),
        cmocka_unit_test(test_dmar_invalid),
        cmocka_unit_test(test_dmar_window),
    };

    return cmocka_run_group_tests_name("acpi_dmar", tests, NULL, NULL);
}
