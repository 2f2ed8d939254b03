/* SPDX-License-Identifier: BSD-3-Clause */
/* GSI routing table and in-kernel irqchip (see irqchip.h). */
#include "arch/x86/irqchip.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "vmm/kvm.h"

#define MSI_SLOTS (IRQCHIP_MAX_GSI - IRQCHIP_MSI_GSI_BASE)

struct irqchip {
    struct kvm *kvm;
    pthread_mutex_t lock;
    unsigned int nbase;  /* entries for PIC + IOAPIC pins */
    struct kvm_irq_routing_entry base[16 + IRQCHIP_IOAPIC_PINS];
    uint8_t msi_used[MSI_SLOTS];
    struct kvm_irq_routing_entry msi[MSI_SLOTS];
};

static void add_pin(struct irqchip *ic, uint32_t gsi, uint32_t chip,
                    uint32_t pin)
{
    struct kvm_irq_routing_entry *e = &ic->base[ic->nbase++];

    memset(e, 0, sizeof(*e));
    e->gsi = gsi;
    e->type = KVM_IRQ_ROUTING_IRQCHIP;
    e->u.irqchip.irqchip = chip;
    e->u.irqchip.pin = pin;
}

/* Same table QEMU installs for a PC with a kernel irqchip. */
static void build_base(struct irqchip *ic)
{
    for (uint32_t i = 0; i < 16; i++) {
        if (i == 2)
            continue; /* the PIC cascade */
        add_pin(ic, i, i < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
                i % 8);
    }
    for (uint32_t i = 0; i < IRQCHIP_IOAPIC_PINS; i++) {
        if (i == 2)
            continue;
        add_pin(ic, i, KVM_IRQCHIP_IOAPIC, i == 0 ? 2 : i);
    }
}

/* Push the whole table to KVM. Called with ic->lock held. */
static int commit(struct irqchip *ic)
{
    struct kvm_irq_routing_entry *all;
    uint32_t n = ic->nbase;
    int r;

    all = malloc(sizeof(*all) * (ic->nbase + MSI_SLOTS));
    if (!all)
        return -ENOMEM;
    memcpy(all, ic->base, sizeof(*all) * ic->nbase);
    for (unsigned int i = 0; i < MSI_SLOTS; i++)
        if (ic->msi_used[i])
            all[n++] = ic->msi[i];
    r = kvm_set_gsi_routing(ic->kvm, all, n);
    free(all);
    return r;
}

int irqchip_create_chip(struct kvm *kvm, struct irqchip **out)
{
    struct irqchip *ic = calloc(1, sizeof(*ic));
    int r;

    if (!ic)
        return -ENOMEM;
    ic->kvm = kvm;
    pthread_mutex_init(&ic->lock, NULL);
    r = kvm_create_platform(kvm, X86_KVM_TSS_GPA);
    if (r < 0) {
        irqchip_destroy(ic);
        return r;
    }
    build_base(ic);
    *out = ic;
    return 0;
}

int irqchip_commit(struct irqchip *ic)
{
    int r;

    pthread_mutex_lock(&ic->lock);
    r = commit(ic);
    pthread_mutex_unlock(&ic->lock);
    return r;
}

int irqchip_create(struct kvm *kvm, struct irqchip **out)
{
    struct irqchip *ic;
    int r = irqchip_create_chip(kvm, &ic);

    if (r == 0 && (r = irqchip_commit(ic)) < 0)
        irqchip_destroy(ic);
    if (r == 0)
        *out = ic;
    return r;
}

void irqchip_destroy(struct irqchip *ic)
{
    if (!ic)
        return;
    pthread_mutex_destroy(&ic->lock);
    free(ic);
}

static int line_set(void *opaque, uint32_t gsi, bool level)
{
    struct irqchip *ic = opaque;

    if (gsi >= IRQCHIP_IOAPIC_PINS)
        return -EINVAL;
    return kvm_irq_line(ic->kvm, gsi, level);
}

static const struct irq_ops line_ops = { .set_level = line_set };

struct irq_chip irqchip_lines(struct irqchip *ic)
{
    return (struct irq_chip){ .ops = &line_ops, .opaque = ic };
}

static void msi_entry(struct kvm_irq_routing_entry *e, uint32_t gsi,
                      uint64_t addr, uint32_t data)
{
    memset(e, 0, sizeof(*e));
    e->gsi = gsi;
    e->type = KVM_IRQ_ROUTING_MSI;
    e->u.msi.address_lo = (uint32_t)addr;
    e->u.msi.address_hi = (uint32_t)(addr >> 32);
    e->u.msi.data = data;
}

int irqchip_msi_add(struct irqchip *ic, uint64_t addr, uint32_t data,
                    uint32_t *gsi)
{
    int r = -ENOSPC;

    pthread_mutex_lock(&ic->lock);
    for (unsigned int i = 0; i < MSI_SLOTS; i++) {
        if (ic->msi_used[i])
            continue;
        ic->msi_used[i] = 1;
        msi_entry(&ic->msi[i], IRQCHIP_MSI_GSI_BASE + i, addr, data);
        r = commit(ic);
        if (r < 0)
            ic->msi_used[i] = 0;
        else
            *gsi = IRQCHIP_MSI_GSI_BASE + i;
        break;
    }
    pthread_mutex_unlock(&ic->lock);
    return r;
}

static int msi_slot(uint32_t gsi)
{
    if (gsi < IRQCHIP_MSI_GSI_BASE || gsi >= IRQCHIP_MAX_GSI)
        return -1;
    return (int)(gsi - IRQCHIP_MSI_GSI_BASE);
}

int irqchip_msi_update(struct irqchip *ic, uint32_t gsi, uint64_t addr,
                       uint32_t data)
{
    int i = msi_slot(gsi), r = -ENOENT;

    pthread_mutex_lock(&ic->lock);
    if (i >= 0 && ic->msi_used[i]) {
        struct kvm_irq_routing_entry old = ic->msi[i];

        msi_entry(&ic->msi[i], gsi, addr, data);
        r = commit(ic);
        if (r < 0) /* KVM kept the old table: so do we */
            ic->msi[i] = old;
    }
    pthread_mutex_unlock(&ic->lock);
    return r;
}

int irqchip_msi_del(struct irqchip *ic, uint32_t gsi)
{
    int i = msi_slot(gsi), r = -ENOENT;

    pthread_mutex_lock(&ic->lock);
    if (i >= 0 && ic->msi_used[i]) {
        ic->msi_used[i] = 0;
        r = commit(ic);
        if (r < 0) /* still routed in KVM: still ours */
            ic->msi_used[i] = 1;
    }
    pthread_mutex_unlock(&ic->lock);
    return r;
}
