/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Application processors: INIT-SIPI-SIPI through the real-mode trampoline
 * (boot/trampoline.S). Each AP comes up at CPL3 on its own stack and TSS,
 * records its LAPIC ID, then runs smp_ap_work (if set) or parks.
 */
#ifndef GUEST_LIB_SMP_H
#define GUEST_LIB_SMP_H

#include <stdint.h>

#include "boot/layout.h"

struct smp_cpu {
    volatile uint32_t online;
    volatile uint32_t apic_id;
};

/* Index 0 is the BSP; APs get 1, 2, ... in check-in order. */
extern struct smp_cpu smp_cpus[MAX_CPUS];

/* If set before smp_start_aps(), each AP calls it with its index. */
extern void (*volatile smp_ap_work)(unsigned int cpu);

/*
 * Start all APs (broadcast INIT-SIPI-SIPI) and wait until `expected` CPUs
 * (BSP included) are online or timeout_us passes. Returns the number of
 * CPUs online, or -EBUSY if already called, -ETIMEDOUT if an IPI stuck.
 */
int smp_start_aps(unsigned int expected, uint64_t timeout_us);

/* CPUs online so far (BSP included). */
unsigned int smp_cpus_online(void);

/*
 * Stop this CPU for good: hlt at CPL3 faults (#GP) and the exception
 * handler recognises cpu_park_hlt and halts with IF=0 at CPL0, so a
 * parked vCPU costs no host CPU.
 */
void cpu_park(void) __attribute__((noreturn));

#endif
