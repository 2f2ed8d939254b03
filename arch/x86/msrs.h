/* SPDX-License-Identifier: BSD-3-Clause */
/* KVM_SET_MSRS of a list of MSRs with the result of one call per MSR, in
 * as few ioctls as the host allows (KVM API, Documentation/virt/kvm/
 * api.rst, "KVM_SET_MSRS": the entries are set in order and the return
 * value is the number set; KVM stops at the first one it refuses). */
#ifndef MINIVMM_X86_MSRS_H
#define MINIVMM_X86_MSRS_H

#include <stdint.h>

#include <linux/kvm.h>

/* Most entries per KVM_SET_MSRS (KVM refuses 256 and more: MAX_IO_MSRS). */
#define X86_MSRS_BATCH 128

/* Called for each MSR the host refused (and was skipped). */
typedef void (*x86_msr_refused_fn)(void *opaque, uint32_t index);

/* Set the @n MSRs at @e (any count) on vCPU @vcpu_fd in their order: a
 * batch of up to X86_MSRS_BATCH per ioctl; an MSR KVM refuses is reported
 * through @refused (may be NULL) and skipped, the ones after it still go
 * in, as if each were set by a call of its own. Returns how many were set
 * (0..@n), or -errno when KVM_SET_MSRS itself fails (-EFAULT, -E2BIG,
 * -ENOMEM for the buffer). */
int x86_set_msrs(int vcpu_fd, const struct kvm_msr_entry *e, uint32_t n,
                 x86_msr_refused_fn refused, void *opaque);

#endif
