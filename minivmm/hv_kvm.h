/* SPDX-License-Identifier: BSD-3-Clause */
/* The hypervisor-services table (devices/hv.h) for a running VM, over
 * KVM and the GSI routing table. */
#ifndef MINIVMM_VMM_HV_H
#define MINIVMM_VMM_HV_H

#include "vmm/hv.h"

struct kvm;
struct irqchip;
struct vmm_hv;

/* Memslots for device memory are numbered after guest RAM's (from
 * GUEST_MEM_MAX_REGIONS). 0/-errno. */
int vmm_hv_create(struct kvm *kvm, struct irqchip *ic, struct vmm_hv **out);
void vmm_hv_destroy(struct vmm_hv *h);
struct hv vmm_hv_services(struct vmm_hv *h);

#endif
