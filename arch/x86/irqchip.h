/* SPDX-License-Identifier: BSD-3-Clause */
/* In-kernel interrupt controllers (PIC, IOAPIC, LAPIC) and PIT, and the GSI
 * routing table, owned here: GSI 0-23 are IOAPIC pins (GSI 0 → pin 2, as
 * the MADT's ISA IRQ0 override says; PIC pins for GSI 0-15), MSI routes are
 * allocated from GSI 24 up. KVM API: KVM_CREATE_IRQCHIP, KVM_SET_GSI_ROUTING.
 * Thread-safe (one lock per irqchip, never held on the interrupt path). */
#ifndef MINIVMM_IRQCHIP_H
#define MINIVMM_IRQCHIP_H

#include <stdint.h>

#include "vmm/irq.h"

#define IRQCHIP_IOAPIC_PINS 24
#define IRQCHIP_MSI_GSI_BASE 24
#define IRQCHIP_MAX_GSI 1024

struct kvm;
struct irqchip;

/* Create the in-kernel irqchip and PIT on @kvm and install the base routing
 * table. 0 or -errno. */
int irqchip_create(struct kvm *kvm, struct irqchip **out);

/* The same in two steps, so the routing ioctl (KVM_SET_GSI_ROUTING waits
 * for an SRCU grace period) can run on another thread while the VM is
 * built: irqchip_create_chip() makes the irqchip and PIT with the base
 * table built but not yet in KVM (until then KVM routes GSIs by its
 * default table: GSI 0 to IOAPIC pin 0, not 2); irqchip_commit() installs
 * the whole table (base + MSI routes), thread-safe like every call here.
 * Commit before anything raises a line or the vCPUs run. 0 or -errno. */
int irqchip_create_chip(struct kvm *kvm, struct irqchip **out);
int irqchip_commit(struct irqchip *ic);
void irqchip_destroy(struct irqchip *ic);

/* Line-level interface for devices (KVM_IRQ_LINE on GSI 0-23). */
struct irq_chip irqchip_lines(struct irqchip *ic);

/* Add an MSI route (@addr, @data as the guest programmed them in an MSI or
 * MSI-X entry); *@gsi gets the GSI to bind an irqfd to. 0, -ENOSPC, or
 * -errno from KVM_SET_GSI_ROUTING (nothing allocated). */
int irqchip_msi_add(struct irqchip *ic, uint64_t addr, uint32_t data,
                    uint32_t *gsi);
/* Change an existing MSI route's message. 0, -ENOENT, or -errno from
 * KVM_SET_GSI_ROUTING (the route keeps its old message). */
int irqchip_msi_update(struct irqchip *ic, uint32_t gsi, uint64_t addr,
                       uint32_t data);
/* Free an MSI route. 0, -ENOENT, or -errno from KVM_SET_GSI_ROUTING (the
 * route stays allocated). */
int irqchip_msi_del(struct irqchip *ic, uint32_t gsi);

#endif
