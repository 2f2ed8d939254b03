/* SPDX-License-Identifier: BSD-3-Clause */
/* Save and load one x86 vCPU's complete state as properties of a state
 * tree node (vmm/state.h; layout in docs/snapshot-format.md): regs, sregs,
 * FPU and XSAVE, XCRs, a filtered set of MSRs, LAPIC, pending events,
 * MP state, debug registers and CPUID. Values are KVM's UAPI structs
 * (<linux/kvm.h>, x86_64 little-endian) stored byte for byte.
 *
 * Host support varies (kvm_pvm, old kernels): an ioctl failing with
 * ENOTTY/EINVAL/ENXIO/EOPNOTSUPP leaves its property out and appends a
 * note ("xsave: Invalid argument; ") to @note, which the caller prints;
 * load skips properties that are absent. Every ioctl goes through
 * vmm/kvm.h. Source: Documentation/virt/kvm/api.rst, QEMU target/i386/
 * kvm/kvm.c (kvm_arch_get/put_registers order).
 */
#ifndef MINIVMM_X86_CPU_STATE_H
#define MINIVMM_X86_CPU_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm;

/* The vCPU must be out of KVM_RUN (paused). 0 or -errno (-ENOSPC: the
 * tree is full, grow and retry). */
int x86_cpu_state_save(const struct kvm *kvm, int vcpu_fd, void *fdt,
                       int node, char *note, size_t notelen);

/* Load into a vCPU that has not run since creation and setup. 0; -EINVAL
 * with the reason in @err for a property of the wrong size or a value KVM
 * refuses; other -errno from KVM. */
int x86_cpu_state_load(int vcpu_fd, const void *fdt, int node, char *err,
                       size_t errlen);

/* Whether MSR @index belongs in a snapshot (pure; unit-tested): the
 * syscall/sysenter MSRs, TSC and TSC_ADJUST/DEADLINE/AUX, PAT, MISC_ENABLE,
 * MTRRs, SPEC_CTRL, XSS, and KVM's paravirtual MSRs (kvmclock, async PF,
 * steal time, PV EOI, poll control). */
bool x86_msr_wanted(uint32_t index);

#endif
