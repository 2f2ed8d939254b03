/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for arch/x86/irqchip.c (the GSI routing table and line
 * interface) with its three KVM calls replaced by a fake KVM (-Wl,--wrap,
 * see test_irqchip.ldflags) that keeps the last routing table installed.
 * Checks the base table (PIC and IOAPIC pins, GSI 0 on IOAPIC pin 2, no
 * cascade pin), MSI routes from GSI 24 with the guest's message, every
 * change pushed as one whole table, lines limited to the IOAPIC's 24 GSIs,
 * that a refused KVM_SET_GSI_ROUTING leaves the table as KVM has it, and
 * the two-step create (irqchip_create_chip, then irqchip_commit). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/irqchip.h"
#include "arch/x86/layout.h"
#include "tests/unit/fake_kvm.h"
#include "vmm/kvm.h"

#define MAXR 2048

/* The fake KVM: struct kvm first, so irqchip.c's pointer leads back. */
struct fake_kvm {
    struct kvm kvm;
    bool platform;
    uint64_t tss;
    struct kvm_irq_routing_entry table[MAXR];
    uint32_t n;
    unsigned int commits;
    int fail_routing;          /* next KVM_SET_GSI_ROUTING returns this */
    int fail_platform;
    uint32_t line_gsi;
    bool line_level;
    unsigned int lines;
};

static struct fake_kvm *fk(const struct kvm *kvm)
{
    return (struct fake_kvm *)(uintptr_t)kvm;
}

int __wrap_kvm_create_platform(const struct kvm *kvm, uint64_t tss_gpa)
{
    struct fake_kvm *f = fk(kvm);

    if (f->fail_platform)
        return f->fail_platform;
    f->platform = true;
    f->tss = tss_gpa;
    return 0;
}

int __wrap_kvm_set_gsi_routing(const struct kvm *kvm,
                               const struct kvm_irq_routing_entry *entries,
                               uint32_t nr)
{
    struct fake_kvm *f = fk(kvm);
    int r = f->fail_routing;

    assert_true(f->platform); /* the irqchip exists first */
    assert_true(nr <= MAXR);
    if (r) {
        f->fail_routing = 0;
        return r;
    }
    memcpy(f->table, entries, nr * sizeof(*entries));
    f->n = nr;
    f->commits++;
    return 0;
}

int __wrap_kvm_irq_line(const struct kvm *kvm, uint32_t gsi, bool level)
{
    struct fake_kvm *f = fk(kvm);

    f->line_gsi = gsi;
    f->line_level = level;
    f->lines++;
    return 0;
}

/* The entry for @gsi of @type (and IRQCHIP @chip) in KVM's table. */
static const struct kvm_irq_routing_entry *
find(const struct fake_kvm *f, uint32_t gsi, uint32_t type, int chip)
{
    for (uint32_t i = 0; i < f->n; i++) {
        const struct kvm_irq_routing_entry *e = &f->table[i];

        if (e->gsi == gsi && e->type == type &&
            (chip < 0 || e->u.irqchip.irqchip == (uint32_t)chip))
            return e;
    }
    return NULL;
}

struct rig {
    struct fake_kvm f;
    struct irqchip *ic;
};

static int setup(void **state)
{
    struct rig *r = calloc(1, sizeof(*r));

    assert_non_null(r);
    assert_int_equal(irqchip_create(&r->f.kvm, &r->ic), 0);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    struct rig *r = *state;

    irqchip_destroy(r->ic);
    free(r);
    return 0;
}

static void test_base_table(void **state)
{
    struct rig *r = *state;
    const struct kvm_irq_routing_entry *e;

    assert_true(r->f.platform);
    assert_int_equal(r->f.tss, X86_KVM_TSS_GPA);
    assert_int_equal(r->f.commits, 1);
    assert_int_equal(r->f.n, 15 + 23); /* no cascade pin on either */
    e = find(&r->f, 0, KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQCHIP_IOAPIC);
    assert_non_null(e);
    assert_int_equal(e->u.irqchip.pin, 2); /* the ISA IRQ0 override */
    assert_null(find(&r->f, 2, KVM_IRQ_ROUTING_IRQCHIP, -1));
    e = find(&r->f, 9, KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQCHIP_PIC_SLAVE);
    assert_non_null(e);
    assert_int_equal(e->u.irqchip.pin, 1);
    e = find(&r->f, 4, KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQCHIP_PIC_MASTER);
    assert_non_null(e);
    assert_int_equal(e->u.irqchip.pin, 4);
    e = find(&r->f, 23, KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQCHIP_IOAPIC);
    assert_non_null(e);
    assert_int_equal(e->u.irqchip.pin, 23);
    assert_null(find(&r->f, 16, KVM_IRQ_ROUTING_IRQCHIP,
                     KVM_IRQCHIP_PIC_MASTER));
}

static void test_lines(void **state)
{
    struct rig *r = *state;
    struct irq_chip c = irqchip_lines(r->ic);

    assert_int_equal(irq_set_level(&c, 4, true), 0);
    assert_int_equal(r->f.line_gsi, 4);
    assert_true(r->f.line_level);
    assert_int_equal(irq_set_level(&c, 23, false), 0);
    assert_int_equal(r->f.line_gsi, 23);
    assert_false(r->f.line_level);
    assert_int_equal(irq_set_level(&c, IRQCHIP_IOAPIC_PINS, true), -EINVAL);
    assert_int_equal(r->f.lines, 2);
}

static void test_msi_routes(void **state)
{
    struct rig *r = *state;
    const struct kvm_irq_routing_entry *e;
    uint32_t g1, g2, g3;

    assert_int_equal(irqchip_msi_add(r->ic, 0x1fee01000ULL, 0x4041, &g1), 0);
    assert_int_equal(g1, IRQCHIP_MSI_GSI_BASE);
    assert_int_equal(irqchip_msi_add(r->ic, 0xfee00000, 0x22, &g2), 0);
    assert_int_equal(g2, IRQCHIP_MSI_GSI_BASE + 1);
    assert_int_equal(r->f.n, 38 + 2);
    e = find(&r->f, g1, KVM_IRQ_ROUTING_MSI, -1);
    assert_non_null(e);
    assert_int_equal(e->u.msi.address_lo, 0xfee01000);
    assert_int_equal(e->u.msi.address_hi, 1);
    assert_int_equal(e->u.msi.data, 0x4041);

    assert_int_equal(irqchip_msi_update(r->ic, g2, 0xfee02000, 0x33), 0);
    e = find(&r->f, g2, KVM_IRQ_ROUTING_MSI, -1);
    assert_int_equal(e->u.msi.address_lo, 0xfee02000);
    assert_int_equal(e->u.msi.data, 0x33);

    /* A freed GSI is handed out again, lowest first. */
    assert_int_equal(irqchip_msi_del(r->ic, g1), 0);
    assert_null(find(&r->f, g1, KVM_IRQ_ROUTING_MSI, -1));
    assert_int_equal(r->f.n, 38 + 1);
    assert_int_equal(irqchip_msi_add(r->ic, 0xfee00000, 0x44, &g3), 0);
    assert_int_equal(g3, g1);

    /* Unknown GSIs: pins, never allocated, out of range. */
    assert_int_equal(irqchip_msi_update(r->ic, 5, 0, 0), -ENOENT);
    assert_int_equal(irqchip_msi_update(r->ic, g2 + 1, 0, 0), -ENOENT);
    assert_int_equal(irqchip_msi_del(r->ic, IRQCHIP_MAX_GSI), -ENOENT);
    assert_int_equal(irqchip_msi_del(r->ic, g1 + 100), -ENOENT);
}

static void test_full(void **state)
{
    struct rig *r = *state;
    uint32_t gsi = 0;

    for (uint32_t i = IRQCHIP_MSI_GSI_BASE; i < IRQCHIP_MAX_GSI; i++) {
        assert_int_equal(irqchip_msi_add(r->ic, 0xfee00000, i, &gsi), 0);
        assert_int_equal(gsi, i);
    }
    assert_int_equal(irqchip_msi_add(r->ic, 0xfee00000, 0, &gsi),
                     -ENOSPC);
    assert_int_equal(r->f.n, 38 + IRQCHIP_MAX_GSI - IRQCHIP_MSI_GSI_BASE);
}

/* KVM refuses a table: ours stays what KVM has. */
static void test_refused(void **state)
{
    struct rig *r = *state;
    const struct kvm_irq_routing_entry *e;
    uint32_t g = 0, g2 = 0;

    r->f.fail_routing = -ENOMEM;
    assert_int_equal(irqchip_msi_add(r->ic, 0xfee00000, 1, &g), -ENOMEM);
    assert_int_equal(r->f.n, 38);
    assert_int_equal(irqchip_msi_add(r->ic, 0xfee00000, 2, &g), 0);
    assert_int_equal(g, IRQCHIP_MSI_GSI_BASE); /* the slot was given back */

    r->f.fail_routing = -EINVAL;
    assert_int_equal(irqchip_msi_update(r->ic, g, 0xfee0f000, 3), -EINVAL);
    /* Another change re-pushes the whole table: g keeps message 2. */
    assert_int_equal(irqchip_msi_add(r->ic, 0xfee00000, 4, &g2), 0);
    e = find(&r->f, g, KVM_IRQ_ROUTING_MSI, -1);
    assert_non_null(e);
    assert_int_equal(e->u.msi.data, 2);
    assert_int_equal(e->u.msi.address_lo, 0xfee00000);

    r->f.fail_routing = -EINVAL;
    assert_int_equal(irqchip_msi_del(r->ic, g), -EINVAL);
    assert_int_equal(irqchip_msi_update(r->ic, g, 0xfee00000, 5), 0);
    assert_non_null(find(&r->f, g, KVM_IRQ_ROUTING_MSI, -1));
    assert_int_equal(irqchip_msi_del(r->ic, g), 0);
    assert_null(find(&r->f, g, KVM_IRQ_ROUTING_MSI, -1));
}

static void test_create_fails(void **state)
{
    struct fake_kvm *f = calloc(1, sizeof(*f));
    struct irqchip *ic = NULL;

    (void)state;
    assert_non_null(f);
    f->fail_platform = -EEXIST;
    assert_int_equal(irqchip_create(&f->kvm, &ic), -EEXIST);
    assert_null(ic);
    f->fail_platform = 0;
    f->fail_routing = -EINVAL;
    assert_int_equal(irqchip_create(&f->kvm, &ic), -EINVAL);
    assert_null(ic);
    assert_int_equal(irqchip_create(&f->kvm, &ic), 0);
    irqchip_destroy(ic);
    irqchip_destroy(NULL);
    free(f);
}

/* irqchip_create_chip() + irqchip_commit(): nothing in KVM until the
 * commit (or an MSI route, which pushes the whole table, base included). */
static void test_deferred_commit(void **state)
{
    struct fake_kvm *f = calloc(1, sizeof(*f));
    struct irqchip *ic = NULL;
    uint32_t g;

    (void)state;
    assert_non_null(f);
    assert_int_equal(irqchip_create_chip(&f->kvm, &ic), 0);
    assert_true(f->platform);
    assert_int_equal(f->commits, 0);
    assert_int_equal(irqchip_commit(ic), 0);
    assert_int_equal(f->commits, 1);
    assert_non_null(find(f, 0, KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQCHIP_IOAPIC));
    assert_int_equal(find(f, 0, KVM_IRQ_ROUTING_IRQCHIP,
                          KVM_IRQCHIP_IOAPIC)->u.irqchip.pin, 2);
    irqchip_destroy(ic);
    memset(f, 0, sizeof(*f));
    assert_int_equal(irqchip_create_chip(&f->kvm, &ic), 0);
    assert_int_equal(irqchip_msi_add(ic, 0xfee00000, 0x41, &g), 0);
    assert_int_equal(f->commits, 1);
    assert_non_null(find(f, 4, KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQCHIP_IOAPIC));
    assert_non_null(find(f, g, KVM_IRQ_ROUTING_MSI, -1));
    f->fail_routing = -EINVAL;
    assert_int_equal(irqchip_commit(ic), -EINVAL);
    irqchip_destroy(ic);
    f->fail_platform = -EEXIST;
    ic = NULL;
    assert_int_equal(irqchip_create_chip(&f->kvm, &ic), -EEXIST);
    assert_null(ic);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_base_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msi_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test(test_create_fails),
        cmocka_unit_test(test_deferred_commit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
