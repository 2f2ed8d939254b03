/* SPDX-License-Identifier: BSD-3-Clause */
/* Save and load the in-kernel interrupt controllers and timers of a VM as
 * properties of one state-tree node (docs/snapshot-format.md): PIC master
 * and slave and the IOAPIC (KVM_GET/SET_IRQCHIP), the PIT
 * (KVM_GET/SET_PIT2) and the kvmclock base (KVM_GET/SET_CLOCK). Values are
 * KVM's UAPI structs byte for byte. An ioctl the host does not support
 * (ENOTTY/EINVAL/ENXIO) is left out with a note in @note; load skips what
 * is absent. Every ioctl goes through vmm/kvm.h.
 */
#ifndef MINIVMM_X86_IRQCHIP_STATE_H
#define MINIVMM_X86_IRQCHIP_STATE_H

#include <stddef.h>

struct kvm;

/* With every vCPU paused. 0 or -errno (-ENOSPC: tree full). */
int x86_irqchip_state_save(const struct kvm *kvm, void *fdt, int node,
                           char *note, size_t notelen);

/* Before any vCPU runs. 0; -EINVAL with the reason in @err for a property
 * of the wrong size or a value KVM refuses; other -errno. */
int x86_irqchip_state_load(const struct kvm *kvm, const void *fdt, int node,
                           char *err, size_t errlen);

#endif
