/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-vector interrupt counters, incremented by the CPL0 stubs in
 * boot/vectors.S (which also send the LAPIC EOI). Vectors 32-254 are free
 * for the payload's use; 0xFF is the LAPIC spurious vector.
 */
#ifndef GUEST_LIB_IRQ_H
#define GUEST_LIB_IRQ_H

#include <stdint.h>

extern volatile uint64_t irq_counts[256];

static inline uint64_t irq_count(uint8_t vector)
{
    return irq_counts[vector];
}

/*
 * Wait until irq_count(vector) >= target or timeout_us passes. Returns 0
 * or -ETIMEDOUT.
 */
int irq_wait(uint8_t vector, uint64_t target, uint64_t timeout_us);

#endif
