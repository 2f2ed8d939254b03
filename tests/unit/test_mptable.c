/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for arch/x86/mptable.c. Structures are parsed with offsets
 * from the Intel MultiProcessor Specification 1.4, chapter 4. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/mptable.h"

#define BUF_SIZE X86_MPTABLE_MAX_SIZE
#define NR_ISA 15       /* ISA IRQs 0-15 but 2 */
#define NR_PCI (31 * 4) /* slots 1-31, INTA-D */

static uint8_t buf[BUF_SIZE];

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    while (n--)
        s += *p++;
    return s;
}

struct counts {
    unsigned int cpus, bsps, buses, ioapics, isa, pci, lint;
};

/* One I/O interrupt entry (type 3). */
static void check_intsrc(const uint8_t *e, struct counts *c)
{
    unsigned int irq = e[5];

    assert_int_equal(e[1], 0); /* INT */
    assert_int_equal(e[6], X86_IOAPIC_ID);
    if (e[4] == MPTABLE_BUS_ISA) {
        assert_int_equal(get16(e + 2), 0); /* conforming */
        assert_true(irq < 16 && irq != 2);
        assert_int_equal(e[7], irq == 0 ? 2 : irq);
        c->isa++;
    } else {
        assert_int_equal(e[4], MPTABLE_BUS_PCI);
        assert_int_equal(get16(e + 2), 0xD); /* level, active-high */
        assert_true((irq >> 2) >= 1 && (irq >> 2) < 32);
        assert_int_equal(e[7], 16 + ((irq >> 2) + (irq & 3)) % 4);
        c->pci++;
    }
}

/* Walk the base table entries; they must fill it exactly, in type order. */
static void walk(const uint8_t *t, struct counts *c)
{
    const uint8_t *e = t + 44, *end = t + get16(t + 4);
    unsigned int n = 0, last = 0;

    memset(c, 0, sizeof(*c));
    for (; e < end; e += e[0] == 0 ? 20 : 8, n++) {
        assert_true(e[0] <= 4 && e[0] >= last);
        last = e[0];
        if (e[0] == 0) {
            assert_int_equal(e[1], c->cpus); /* APIC ID */
            assert_true(e[3] & 1);           /* enabled */
            c->bsps += (e[3] & 2) != 0;
            assert_int_equal(e[3] & 2, c->cpus == 0 ? 2 : 0);
            c->cpus++;
        } else if (e[0] == 1) {
            assert_memory_equal(
                e + 2, e[1] == MPTABLE_BUS_PCI ? "PCI   " : "ISA   ", 6);
            c->buses++;
        } else if (e[0] == 2) {
            assert_int_equal(e[1], X86_IOAPIC_ID);
            assert_int_equal(e[3] & 1, 1);
            assert_int_equal(get32(e + 4), X86_IOAPIC_ADDR);
            c->ioapics++;
        } else if (e[0] == 3) {
            check_intsrc(e, c);
        } else {
            assert_int_equal(e[6], 0xFF);              /* all local APICs */
            assert_int_equal(e[1], e[7] == 0 ? 3 : 1); /* ExtINT, NMI */
            c->lint++;
        }
    }
    assert_ptr_equal(e, end);
    assert_int_equal(n, get16(t + 34)); /* entry count */
}

static void check(unsigned int ncpus)
{
    struct x86_platform_desc d;
    struct counts c;
    const uint8_t *t;
    size_t used;
    uint32_t ptr;

    x86_platform_desc_init(&d, ncpus);
    memset(buf, 0xAA, sizeof(buf));
    assert_int_equal(
        mptable_build(&d, buf, sizeof(buf), X86_MPTABLE_GPA, &used), 0);
    assert_int_equal(buf[used], 0xAA);
    /* Floating pointer (§4.1): at gpa, 16-byte aligned. */
    assert_int_equal(X86_MPTABLE_GPA % 16, 0);
    assert_memory_equal(buf, "_MP_", 4);
    assert_int_equal(buf[8], 1); /* length: 16 bytes */
    assert_int_equal(buf[9], 4); /* spec 1.4 */
    assert_int_equal(sum8(buf, 16), 0);
    assert_int_equal(buf[11], 0); /* config table present */
    ptr = get32(buf + 4);
    assert_true(ptr >= X86_MPTABLE_GPA + 16 &&
                ptr - X86_MPTABLE_GPA + 44 <= used);
    /* Configuration table header (§4.2). */
    t = buf + (ptr - X86_MPTABLE_GPA);
    assert_memory_equal(t, "PCMP", 4);
    assert_int_equal(t[6], 4);
    assert_int_equal(ptr - X86_MPTABLE_GPA + get16(t + 4), used);
    assert_int_equal(sum8(t, get16(t + 4)), 0);
    assert_int_equal(get32(t + 36), X86_LAPIC_ADDR);
    assert_int_equal(get16(t + 40), 0); /* no extended table */
    walk(t, &c);
    assert_int_equal(get16(t + 34), ncpus + 2 + 1 + NR_ISA + NR_PCI + 2);
    assert_int_equal(c.cpus, ncpus);
    assert_int_equal(c.bsps, 1);
    assert_int_equal(c.buses, 2);
    assert_int_equal(c.ioapics, 1);
    assert_int_equal(c.isa, NR_ISA);
    assert_int_equal(c.pci, NR_PCI);
    assert_int_equal(c.lint, 2);
}

static void test_tables(void **state)
{
    (void)state;
    check(1);
    check(4);
    check(X86_MAX_CPUS);
}

static void test_enospc(void **state)
{
    struct x86_platform_desc d;
    size_t used, full;

    (void)state;
    x86_platform_desc_init(&d, 16);
    assert_int_equal(
        mptable_build(&d, buf, sizeof(buf), X86_MPTABLE_GPA, &full), 0);
    for (size_t size = 0; size < full; size++) {
        uint8_t *b = malloc(size ? size : 1);

        assert_non_null(b);
        assert_int_equal(mptable_build(&d, b, size, X86_MPTABLE_GPA, &used),
                         -ENOSPC);
        free(b);
    }
    assert_int_equal(mptable_build(&d, buf, full, X86_MPTABLE_GPA, &used), 0);
    assert_int_equal(used, full);
}

static void test_einval(void **state)
{
    struct x86_platform_desc d;
    size_t used;

    (void)state;
#define EXPECT_EINVAL(field, value, gpa)                                       \
    do {                                                                       \
        x86_platform_desc_init(&d, 1);                                         \
        d.field = (value);                                                     \
        assert_int_equal(mptable_build(&d, buf, BUF_SIZE, (gpa), &used),       \
                         -EINVAL);                                             \
    } while (0)

    EXPECT_EINVAL(ncpus, 0, X86_MPTABLE_GPA);
    EXPECT_EINVAL(ncpus, X86_MAX_CPUS + 1, X86_MPTABLE_GPA);
    EXPECT_EINVAL(ncpus, 1, X86_MPTABLE_GPA + 4);
    EXPECT_EINVAL(ncpus, 1, 1ULL << 32);
    EXPECT_EINVAL(ncpus, 1, (1ULL << 32) - 16);
    EXPECT_EINVAL(ioapic_gsi_base, 8, X86_MPTABLE_GPA);
    EXPECT_EINVAL(lapic_addr, 1ULL << 32, X86_MPTABLE_GPA);
    EXPECT_EINVAL(ioapic_addr, 1ULL << 32, X86_MPTABLE_GPA);
#undef EXPECT_EINVAL
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_enospc),
        cmocka_unit_test(test_einval),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
