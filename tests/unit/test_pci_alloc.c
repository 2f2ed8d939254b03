/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for devices/pci_alloc.c: natural alignment, the 4 KiB memory
 * slot, top-down I/O and 32-bit placement, bottom-up 64-bit placement with
 * fallback below 4 GiB, exhaustion leaving the allocator unchanged, bad
 * arguments and windows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "devices/pci.h"
#include "devices/pci_alloc.h"

static const struct pci_alloc_config platform = {
    .io = {0xC000, 0x4000},
    .mem32 = {0xC0000000ULL, 0x20000000ULL},
    .mem64 = {0x8000000000ULL, 0x8000000000ULL},
};

static uint64_t must(struct pci_alloc *a, unsigned int type, uint64_t size)
{
    uint64_t addr = 0;

    assert_int_equal(pci_alloc_bar(a, type, size, &addr), 0);
    return addr;
}

static void test_io(void **state)
{
    struct pci_alloc a;
    uint64_t x, y, z;

    (void)state;
    assert_int_equal(pci_alloc_init(&a, &platform), 0);
    x = must(&a, PCI_BAR_IO, 0x100);
    assert_int_equal(x, 0xFF00);
    y = must(&a, PCI_BAR_IO, 4);
    assert_int_equal(y, 0xFEFC);
    z = must(&a, PCI_BAR_IO, 0x40); /* aligned down past the hole */
    assert_int_equal(z, 0xFE80);
    assert_int_equal(z % 0x40, 0);
    /* 16 KiB cannot fit any more: -ENOSPC, nothing taken. */
    assert_int_equal(pci_alloc_bar(&a, PCI_BAR_IO, 0x4000, &x), -ENOSPC);
    assert_int_equal(must(&a, PCI_BAR_IO, 0x80), 0xFE00);
}

static void test_mem32(void **state)
{
    struct pci_alloc a;
    uint64_t x, y;

    (void)state;
    assert_int_equal(pci_alloc_init(&a, &platform), 0);
    x = must(&a, PCI_BAR_MEM32, 0x4000);
    assert_int_equal(x, 0xDFFFC000);
    /* 16 bytes still takes a page of its own. */
    y = must(&a, PCI_BAR_MEM32 | PCI_BAR_PREFETCH, 16);
    assert_int_equal(y, 0xDFFFB000);
    assert_int_equal(must(&a, PCI_BAR_ROM, 0x10000), 0xDFFE0000);
    /* A 256 MiB BAR: aligned to 256 MiB, at the window's base. */
    assert_int_equal(must(&a, PCI_BAR_MEM32, 0x10000000), 0xC0000000);
    assert_int_equal(pci_alloc_bar(&a, PCI_BAR_MEM32, 0x10000000, &x),
                     -ENOSPC);
    /* A bump allocator: the gap below the ROM is not reused. */
    assert_int_equal(pci_alloc_bar(&a, PCI_BAR_MEM32, 0x1000, &x), -ENOSPC);
}

static void test_mem64(void **state)
{
    struct pci_alloc a;
    struct pci_alloc_config small = platform;

    (void)state;
    assert_int_equal(pci_alloc_init(&a, &platform), 0);
    assert_int_equal(must(&a, PCI_BAR_MEM64, 0x4000), 0x8000000000ULL);
    assert_int_equal(must(&a, PCI_BAR_MEM64, 0x100), 0x8000004000ULL);
    assert_int_equal(must(&a, PCI_BAR_MEM64 | PCI_BAR_PREFETCH, 1ULL << 32),
                     0x8100000000ULL);
    assert_int_equal(must(&a, PCI_BAR_MEM64, 0x1000), 0x8200000000ULL);
    /* Bigger than the window: no. */
    assert_int_equal(pci_alloc_bar(&a, PCI_BAR_MEM64, 1ULL << 40,
                                   &(uint64_t){0}), -ENOSPC);
    /* No 64-bit window: below 4 GiB. */
    small.mem64.size = 0;
    assert_int_equal(pci_alloc_init(&a, &small), 0);
    assert_int_equal(must(&a, PCI_BAR_MEM64, 0x4000), 0xDFFFC000);
    /* 64-bit window full: below 4 GiB too. */
    small.mem64 = (struct pci_window){0x100000000ULL, 0x2000};
    assert_int_equal(pci_alloc_init(&a, &small), 0);
    assert_int_equal(must(&a, PCI_BAR_MEM64, 0x2000), 0x100000000ULL);
    assert_int_equal(must(&a, PCI_BAR_MEM64, 0x2000), 0xDFFFE000);
}

static void test_exhaustion(void **state)
{
    const struct pci_alloc_config tiny = {
        .io = {0x1000, 0x10}, .mem32 = {0xC0000000ULL, 0x3000}};
    struct pci_alloc a;
    uint64_t x;

    (void)state;
    assert_int_equal(pci_alloc_init(&a, &tiny), 0);
    assert_int_equal(must(&a, PCI_BAR_IO, 8), 0x1008);
    assert_int_equal(must(&a, PCI_BAR_IO, 8), 0x1000);
    assert_int_equal(pci_alloc_bar(&a, PCI_BAR_IO, 4, &x), -ENOSPC);
    assert_int_equal(must(&a, PCI_BAR_MEM32, 0x1000), 0xC0002000);
    /* 8 KiB needs 8 KiB alignment: 0xC0000000 is the only slot. */
    assert_int_equal(must(&a, PCI_BAR_MEM32, 0x2000), 0xC0000000);
    assert_int_equal(pci_alloc_bar(&a, PCI_BAR_MEM32, 16, &x), -ENOSPC);
    assert_int_equal(pci_alloc_bar(&a, PCI_BAR_MEM64, 16, &x), -ENOSPC);
}

static void test_einval(void **state)
{
    struct pci_alloc_config c = platform;
    struct pci_alloc a;
    uint64_t x;

    (void)state;
    assert_int_equal(pci_alloc_init(&a, &platform), 0);
    assert_int_equal(pci_alloc_bar(&a, PCI_BAR_IO, 0, &x), -EINVAL);
    assert_int_equal(pci_alloc_bar(&a, PCI_BAR_MEM32, 0x3000, &x), -EINVAL);
    assert_int_equal(pci_alloc_bar(&a, PCI_BAR_NONE, 0x1000, &x), -EINVAL);
    c.io = (struct pci_window){0xF000, 0x2000}; /* past 64 KiB */
    assert_int_equal(pci_alloc_init(&a, &c), -EINVAL);
    c = platform;
    c.mem32 = (struct pci_window){0xF0000000ULL, 0x20000000ULL};
    assert_int_equal(pci_alloc_init(&a, &c), -EINVAL);
    c = platform;
    c.mem64 = (struct pci_window){~0ULL - 0xFFF, 0x2000}; /* wraps */
    assert_int_equal(pci_alloc_init(&a, &c), -EINVAL);
    /* No I/O window at all: I/O BARs get nothing. */
    c = platform;
    c.io.size = 0;
    assert_int_equal(pci_alloc_init(&a, &c), 0);
    assert_int_equal(pci_alloc_bar(&a, PCI_BAR_IO, 4, &x), -ENOSPC);
}

static void test_contains(void **state)
{
    const struct pci_window w = {0xC0000000ULL, 0x20000000ULL};

    (void)state;
    assert_true(pci_window_contains(&w, 0xC0000000ULL, 0x20000000ULL));
    assert_true(pci_window_contains(&w, 0xDFFFF000ULL, 0x1000));
    assert_false(pci_window_contains(&w, 0xDFFFF000ULL, 0x2000));
    assert_false(pci_window_contains(&w, 0xBFFFF000ULL, 0x1000));
    assert_false(pci_window_contains(&w, 0xE0000000ULL, 0x1000));
    assert_false(pci_window_contains(&w, 0xC0000000ULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io),
        cmocka_unit_test(test_mem32),
        cmocka_unit_test(test_mem64),
        cmocka_unit_test(test_exhaustion),
        cmocka_unit_test(test_einval),
        cmocka_unit_test(test_contains),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
