/* SPDX-License-Identifier: BSD-3-Clause */
/* CPL0 side of the payload: descriptor tables, CPL3 entry, exceptions. */
#ifndef GUEST_BOOT_CPU_H
#define GUEST_BOOT_CPU_H

#include <stdint.h>

/* Registers saved by exc_common (vectors.S), lowest address first. */
struct exc_frame {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* Entry points at CPL3, provided by the payload (lib/smp.c). */
void payload_main(void);
void smp_ap_main(unsigned int cpu);

/* Called from entry.S on the CPU's kernel stack. */
void cpu_boot_bsp(void);
void cpu_boot_ap(unsigned int cpu);

/* Called from vectors.S for exceptions 0-31. Returns only to park. */
void exc_handle(struct exc_frame *f);

#endif
