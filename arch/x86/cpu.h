/* SPDX-License-Identifier: BSD-3-Clause */
/* x86 vCPU state at creation and boot, crash dumps, and completion of
 * instructions KVM could not emulate. All ioctls go through vmm/kvm.h.
 * Sources: Intel SDM vol. 3 (initial state, long mode), Linux boot
 * protocol (64-bit entry: GDT __BOOT_CS 0x10 / __BOOT_DS 0x18), PVH entry
 * ABI (xen/include/public/arch-x86/hvm/start_info.h). */
#ifndef MINIVMM_X86_CPU_H
#define MINIVMM_X86_CPU_H

#include <stdint.h>

#include <linux/kvm.h>

struct boot_entry;
struct guest_memory;

/* Per-vCPU setup for every vCPU: CPUID (@cpuid, already filtered for this
 * vCPU), architectural MSRs, LAPIC LINT0 = ExtINT, LINT1 = NMI. 0/-errno. */
int x86_vcpu_setup(int vcpu_fd, const struct kvm_cpuid2 *cpuid);

/* Boot state of vCPU 0: registers and segments for @e, and for a 64-bit
 * entry the boot GDT and identity page tables (4 GiB) in guest RAM. */
int x86_vcpu_boot(int vcpu_fd, const struct boot_entry *e,
                  struct guest_memory *mem);

/* Log (LOG_ERROR, one message per indented line) the registers, segments
 * and the bytes at RIP, for a crash report. */
void x86_vcpu_dump(int vcpu_fd, const struct guest_memory *mem);

/* KVM reported an emulation failure: complete the instruction ourselves if
 * it is one we know (int3 at any CPL: inject #BP with RIP after it; fwait:
 * nothing is pending, step over it). 1 handled, 0 not ours, -errno. */
int x86_complete_emulation(int vcpu_fd, const struct guest_memory *mem);

/* Read up to @len instruction bytes at the vCPU's RIP (translating through
 * the guest's page tables). Bytes read, or -errno. */
int x86_fetch_insn(int vcpu_fd, const struct guest_memory *mem,
                   unsigned char *buf, int len);

/* Guest page-table walk (4-level, PAE/PSE large pages; no paging when
 * CR0.PG = 0). 0 with *@gpa, or -EFAULT. Pure over @mem; used when
 * KVM_TRANSLATE is unavailable. */
int x86_gva_to_gpa(const struct guest_memory *mem, const struct kvm_sregs *s,
                   uint64_t gva, uint64_t *gpa);

#endif
