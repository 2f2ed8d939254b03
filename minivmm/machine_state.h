/* SPDX-License-Identifier: BSD-3-Clause */
/* The machine's own state in the state tree: the program registers its
 * vCPUs ("vcpus": /vcpus/cpu@N, arch/x86/cpu_state.h) and its in-kernel
 * irqchip ("irqchip": /irqchip, arch/x86/irqchip_state.h, optional on
 * load) as device-registry entries flagged DEVREG_F_ROOT, so the state
 * walk (minivmm/persist/vmstate.h) knows no vCPU and no irqchip. What a
 * host cannot save is noted on the log ("note: not saved on this host");
 * why a load is refused is logged before the walk names the entry. */
#ifndef MINIVMM_MACHINE_STATE_H
#define MINIVMM_MACHINE_STATE_H

#include <stdbool.h>
#include <stddef.h>

struct devreg;
struct kvm;
struct vcpu;

struct machine_state {
    const struct kvm *kvm;
    struct vcpu *vcpus;         /* created, not yet run on load */
    unsigned int nvcpus;
    struct devreg *devs;
    bool joined;
};

/* Register both entries in @m->devs (fill the other fields first; @m must
 * outlive them). 0 or -errno with the reason in @err. */
int machine_state_join(struct machine_state *m, char *err, size_t errlen);

/* Unregister them (before the vCPUs go away). No-op if not joined. */
void machine_state_leave(struct machine_state *m);

#endif
