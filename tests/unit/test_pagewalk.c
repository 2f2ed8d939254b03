/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for x86_gva_to_gpa (arch/x86/emulate.c): page tables built in
 * a real guest_memory for 4- and 5-level paging with 4 KiB, 2 MiB and 1 GiB
 * pages, 32-bit paging with 4 MiB PSE pages, PAE, paging off, not-present
 * entries, tables outside RAM, and random table contents (never a crash).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/cpu.h"
#include "vmm/memory.h"

#define MiB (1ULL << 20)
#define RAM (64 * MiB)

#define CR0_PE   1ULL
#define CR0_PG   (1ULL << 31)
#define CR4_PSE  (1ULL << 4)
#define CR4_PAE  (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

#define P   1ULL
#define RW  2ULL
#define US  4ULL
#define A   (1ULL << 5)
#define PS  (1ULL << 7)
#define PAT_LARGE (1ULL << 12) /* PAT bit of a 2 MiB / 1 GiB / 4 MiB entry */
#define NX  (1ULL << 63)

/* Table pages (GPA). */
#define PML5 0x10000ULL
#define PML4 0x11000ULL
#define PDPT 0x12000ULL
#define PD   0x13000ULL
#define PT   0x14000ULL

static int setup(void **state)
{
    struct guest_memory *mem = calloc(1, sizeof(*mem));

    if (!mem || guest_memory_create(RAM, mem) < 0)
        return -1;
    *state = mem;
    return 0;
}

static int teardown(void **state)
{
    guest_memory_destroy(*state);
    free(*state);
    return 0;
}

static void set64(struct guest_memory *mem, uint64_t table, unsigned int i,
                  uint64_t v)
{
    assert_int_equal(guest_memory_write(mem, table + i * 8, &v, 8), 0);
}

static void set32(struct guest_memory *mem, uint64_t table, unsigned int i,
                  uint32_t v)
{
    assert_int_equal(guest_memory_write(mem, table + i * 4, &v, 4), 0);
}

static unsigned int idx(uint64_t gva, unsigned int level)
{
    return (unsigned int)(gva >> (12 + 9 * (level - 1))) & 511;
}

static struct kvm_sregs long_mode(uint64_t cr3)
{
    struct kvm_sregs s;

    memset(&s, 0, sizeof(s));
    s.cr0 = CR0_PE | CR0_PG;
    s.cr3 = cr3;
    s.cr4 = CR4_PAE;
    s.efer = EFER_LME | EFER_LMA;
    return s;
}

static void expect(const struct guest_memory *mem, const struct kvm_sregs *s,
                   uint64_t gva, uint64_t want)
{
    uint64_t gpa = 0xdead;
    int r = x86_gva_to_gpa(mem, s, gva, &gpa);

    if (r != 0 || gpa != want)
        fail_msg("gva %#llx: ret %d gpa %#llx, want %#llx",
                 (unsigned long long)gva, r, (unsigned long long)gpa,
                 (unsigned long long)want);
}

static void expect_fault(const struct guest_memory *mem,
                         const struct kvm_sregs *s, uint64_t gva)
{
    uint64_t gpa;

    assert_int_equal(x86_gva_to_gpa(mem, s, gva, &gpa), -EFAULT);
}

/* Map @gva with a 4-level walk down to @level (3: 1 GiB, 2: 2 MiB,
 * 1: 4 KiB) to @target, with @flags on the leaf. */
static void map4(struct guest_memory *mem, uint64_t gva, unsigned int level,
                 uint64_t target, uint64_t flags)
{
    static const uint64_t tables[] = { 0, PT, PD, PDPT, PML4 };

    for (unsigned int l = 4; l > level; l--)
        set64(mem, tables[l], idx(gva, l), tables[l - 1] | P | RW | A);
    set64(mem, tables[level], idx(gva, level), target | flags);
}

static void test_long_4k(void **state)
{
    struct guest_memory *mem = *state;
    struct kvm_sregs s = long_mode(PML4 | 0x18); /* PWT/PCD bits ignored */
    uint64_t gva = 0x00007f1234567abcULL;

    map4(mem, gva, 1, 0x200000, P | RW | US | NX);
    expect(mem, &s, gva, 0x200abc);
    expect(mem, &s, gva & ~0xfffULL, 0x200000);
    expect(mem, &s, gva | 0xfff, 0x200fff);
    expect_fault(mem, &s, gva + 0x1000); /* next PTE is empty */
    /* A kernel-half (sign-extended) address. */
    map4(mem, 0xffffffff81000000ULL, 1, 0x3ff000, P);
    expect(mem, &s, 0xffffffff81000123ULL, 0x3ff123);
    /* High physical addresses (52-bit) pass through. */
    map4(mem, 0x5000, 1, 0x000ffffffffff000ULL, P);
    expect(mem, &s, 0x5008, 0x000ffffffffff008ULL);
}

static void test_long_large(void **state)
{
    struct guest_memory *mem = *state;
    struct kvm_sregs s = long_mode(PML4);
    uint64_t g2m = 0x40000000ULL * 3 + 0x00a00000ULL; /* in PDPT[3] */
    uint64_t g1g = 0x0000008040000000ULL;             /* PML4[1], PDPT[1] */

    /* 2 MiB page: the PAT bit (12) is not an address bit. */
    map4(mem, g2m, 2, 0x400000, P | PS | PAT_LARGE | NX);
    expect(mem, &s, g2m + 0x12345, 0x412345);
    expect(mem, &s, g2m + 0x1fffff, 0x5fffff);
    expect_fault(mem, &s, g2m + 0x200000);
    /* 1 GiB page above 4 GiB. */
    map4(mem, g1g, 3, 0x140000000ULL, P | PS | PAT_LARGE);
    expect(mem, &s, g1g + 0x3fedcba9, 0x17fedcba9ULL);
    expect(mem, &s, g1g, 0x140000000ULL);
    /* A PD entry without PS points to a page table. */
    map4(mem, 0x600000, 2, PT, P);
    set64(mem, PT, idx(0x601000, 1), 0x777000 | P);
    expect(mem, &s, 0x601abc, 0x777abc);
}

static void test_long_not_present(void **state)
{
    struct guest_memory *mem = *state;
    struct kvm_sregs s = long_mode(PML4);
    uint64_t gva = 0x1234567000ULL;

    expect_fault(mem, &s, gva); /* empty PML4 */
    for (unsigned int l = 4; l >= 1; l--) {
        /* Clear the present bit at level l only. */
        map4(mem, gva, 1, 0x200000, P);
        expect(mem, &s, gva + 5, 0x200005);
        set64(mem, (const uint64_t[]){ 0, PT, PD, PDPT, PML4 }[l],
              idx(gva, l), 0x200000 | RW);
        expect_fault(mem, &s, gva + 5);
    }
}

static void test_long_outside_ram(void **state)
{
    struct guest_memory *mem = *state;
    struct kvm_sregs s = long_mode(PML4);

    set64(mem, PML4, 0, 0x80000000ULL | P); /* PDPT beyond RAM */
    expect_fault(mem, &s, 0x1000);
    set64(mem, PML4, 0, 0xc0000000ULL | P); /* in the PCI hole */
    expect_fault(mem, &s, 0x1000);
    set64(mem, PML4, 0, (RAM - 0x1000) | P); /* last page: zeroes */
    expect_fault(mem, &s, 0x1000);
    s.cr3 = 0xfffffffff000ULL; /* CR3 itself outside RAM */
    expect_fault(mem, &s, 0x1000);
    s.cr3 = RAM;
    expect_fault(mem, &s, 0);
}

static void test_five_level(void **state)
{
    struct guest_memory *mem = *state;
    struct kvm_sregs s = long_mode(PML5);
    uint64_t gva = 0x00ff123456789abcULL; /* 57-bit, PML5 index 1 */

    s.cr4 |= CR4_LA57;
    set64(mem, PML5, (unsigned int)(gva >> 48) & 511, PML4 | P);
    map4(mem, gva, 1, 0x345000, P);
    expect(mem, &s, gva, 0x345abc);
    expect_fault(mem, &s, gva ^ (1ULL << 48)); /* other PML5 slot */
    /* Without LA57 the same CR3 is read as a PML4. */
    s.cr4 &= ~CR4_LA57;
    expect_fault(mem, &s, gva);
}

static void test_paging_off(void **state)
{
    struct guest_memory *mem = *state;
    struct kvm_sregs s;

    memset(&s, 0, sizeof(s));
    expect(mem, &s, 0x1234, 0x1234);
    expect(mem, &s, 0xfffffff0, 0xfffffff0);
    expect(mem, &s, 0x123456789ULL, 0x23456789); /* 32-bit addresses */
    s.cr0 = CR0_PE;
    s.cr3 = 0xdead000;                    /* ignored */
    s.cr4 = CR4_PAE, s.efer = EFER_LME;   /* ignored without CR0.PG */
    expect(mem, &s, 0x7000, 0x7000);
    expect(mem, &s, 0x80000000ULL, 0x80000000ULL); /* even outside RAM */
}

static void test_32bit(void **state)
{
    struct guest_memory *mem = *state;
    struct kvm_sregs s;
    uint32_t pd = 0x20000, pt = 0x21000;

    memset(&s, 0, sizeof(s));
    s.cr0 = CR0_PE | CR0_PG;
    s.cr3 = pd | 0x18;
    /* 4 KiB: PD[0x300] → PT, PT[0x45] → 0x300000. */
    set32(mem, pd, 0x300, pt | P | RW);
    set32(mem, pt, 0x45, 0x300000 | P);
    expect(mem, &s, 0xc0045123, 0x300123);
    expect(mem, &s, 0x1c0045123ULL, 0x300123); /* upper bits dropped */
    expect_fault(mem, &s, 0xc0046000);
    expect_fault(mem, &s, 0xc0400000);
    /* 4 MiB PSE page: honoured only with CR4.PSE. */
    set32(mem, pd, 0x301, 0x00c00000 | (uint32_t)(P | PS | PAT_LARGE));
    expect_fault(mem, &s, 0xc0400000); /* PDE read as a PT at 0xc00000 */
    s.cr4 = CR4_PSE;
    expect(mem, &s, 0xc0400000, 0xc00000);
    expect(mem, &s, 0xc07fffff, 0xffffff);
    expect(mem, &s, 0xc0045123, 0x300123); /* 4 KiB pages still work */
    /* A PT outside RAM. */
    set32(mem, pd, 0x302, 0xf0000000 | (uint32_t)P);
    expect_fault(mem, &s, 0xc0800000);
    s.cr3 = 0xfffff000; /* PD outside RAM */
    expect_fault(mem, &s, 0);
}

static void test_pae(void **state)
{
    struct guest_memory *mem = *state;
    struct kvm_sregs s;
    uint64_t pdpt = 0x30020, pd = 0x31000, pt = 0x32000;

    memset(&s, 0, sizeof(s));
    s.cr0 = CR0_PE | CR0_PG;
    s.cr4 = CR4_PAE;
    s.cr3 = pdpt | 0x18; /* 32-byte aligned PDPT; low bits ignored */
    set64(mem, pdpt, 2, pd | P);
    set64(mem, pd, 5, pt | P | RW);
    set64(mem, pt, 7, 0x123456000ULL | P | NX); /* above 4 GiB */
    expect(mem, &s, 0x80a07abc, 0x123456abcULL);
    expect(mem, &s, 0x180a07abcULL, 0x123456abcULL);
    expect_fault(mem, &s, 0x80a08000);
    /* 2 MiB page. */
    set64(mem, pd, 6, 0x00e00000 | P | PS | PAT_LARGE);
    expect(mem, &s, 0x80c12345, 0xe12345);
    /* Not-present PDPTE, PDE. */
    expect_fault(mem, &s, 0x00000000);
    expect_fault(mem, &s, 0xc0000000);
    expect_fault(mem, &s, 0x80000000);
    /* Tables outside RAM. */
    set64(mem, pdpt, 3, 0x7ffff000ULL | P);
    expect_fault(mem, &s, 0xc0000000);
    set64(mem, pd, 8, 0xfffff000ULL | P);
    expect_fault(mem, &s, 0x81000000);
}

/* Random tables, random CR3 / mode / address: 0 or -EFAULT, never a crash,
 * and a successful walk keeps at least the 4 KiB page offset. */
static uint64_t rand64(void)
{
    return (uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand();
}

static uint64_t random_entry(void)
{
    switch (rand() % 4) {
    case 0: /* into the table area */
        return (0x10000 + (rand64() % 16) * 0x1000) | (rand64() & 0x1ff);
    case 1: /* beyond RAM or in the hole */
        return (rand64() & 0x000ffffffffff000ULL) | P | (rand64() & PS);
    case 2:
        return 0;
    default:
        return rand64();
    }
}

static void test_random_tables(void **state)
{
    static const uint64_t cr4s[] = { 0, CR4_PSE, CR4_PAE, CR4_PAE | CR4_LA57,
                                     CR4_PSE | CR4_PAE };
    struct guest_memory *mem = *state;

    srand(7);
    for (int round = 0; round < 200; round++) {
        for (unsigned int i = 0; i < 16 * 512; i++)
            set64(mem, 0x10000, i, random_entry());
        for (int k = 0; k < 2000; k++) {
            struct kvm_sregs s;
            uint64_t gva = rand64() ^ (uint64_t)rand() << 63, gpa;
            int r;

            memset(&s, 0, sizeof(s));
            s.cr0 = CR0_PE | (rand() % 8 ? CR0_PG : 0);
            s.cr3 = rand() % 8 ? 0x10000 + (rand64() % 16) * 0x1000
                               : rand64();
            s.cr4 = cr4s[rand() % 5];
            s.efer = rand() % 2 ? EFER_LME | EFER_LMA : 0;
            r = x86_gva_to_gpa(mem, &s, gva, &gpa);
            assert_true(r == 0 || r == -EFAULT);
            if (r == 0)
                assert_int_equal(gpa & 0xfff, gva & 0xfff);
        }
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_long_4k),
        T(test_long_large),
        T(test_long_not_present),
        T(test_long_outside_ram),
        T(test_five_level),
        T(test_paging_off),
        T(test_32bit),
        T(test_pae),
        T(test_random_tables),
    };

    return cmocka_run_group_tests_name("pagewalk", tests, NULL, NULL);
}
