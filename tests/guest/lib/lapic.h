/* SPDX-License-Identifier: BSD-3-Clause */
/* Local APIC (xAPIC MMIO at 0xFEE00000): ID, EOI, timer, ICR. */
#ifndef GUEST_LIB_LAPIC_H
#define GUEST_LIB_LAPIC_H

#include <stdint.h>

#define LAPIC_BASE       0xFEE00000ULL
#define LAPIC_ID         0x020
#define LAPIC_VER        0x030
#define LAPIC_TPR        0x080
#define LAPIC_EOI        0x0B0
#define LAPIC_SVR        0x0F0
#define LAPIC_ESR        0x280
#define LAPIC_ICR_LO     0x300
#define LAPIC_ICR_HI     0x310
#define LAPIC_LVT_TIMER  0x320
#define LAPIC_LVT_LINT0  0x350
#define LAPIC_LVT_LINT1  0x360
#define LAPIC_LVT_ERROR  0x370
#define LAPIC_TICR       0x380
#define LAPIC_TCCR       0x390
#define LAPIC_TDCR       0x3E0

#define LAPIC_SVR_ENABLE   0x100
#define LAPIC_LVT_MASKED   0x10000
#define LAPIC_TIMER_PERIODIC 0x20000
#define LAPIC_TDCR_DIV1    0xB
#define LAPIC_TDCR_DIV16   0x3
#define LAPIC_TIMER_HZ     1000000000ULL  /* divide-by-1 tick rate */

#define LAPIC_ICR_INIT     0x00500
#define LAPIC_ICR_SIPI     0x00600
#define LAPIC_ICR_PENDING  0x01000
#define LAPIC_ICR_ASSERT   0x04000
#define LAPIC_ICR_LEVEL    0x08000
#define LAPIC_ICR_ALL_BUT_SELF 0xC0000

#define SPURIOUS_VECTOR    0xFF

static inline uint32_t lapic_read(uint32_t reg)
{
    return *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

static inline void lapic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg) = v;
}

/* Software-enable the LAPIC (spurious vector 0xFF), TPR 0, LINT0/LINT1
 * and the error LVT masked (legacy PIC interrupts stay out). */
void lapic_init(void);

/* This CPU's APIC ID (bits 31:24 of the ID register). */
unsigned int lapic_id(void);

void lapic_eoi(void);

/* Periodic timer on vector; period in LAPIC ticks at divide-by-16. */
void lapic_timer_periodic(uint8_t vector, uint32_t count);
void lapic_timer_stop(void);

/*
 * Send an IPI: ICR high = dest << 24, low = lo. Waits (bounded) for the
 * delivery status to clear. Returns 0 or -ETIMEDOUT.
 */
int lapic_send_ipi(unsigned int dest, uint32_t lo);

#endif
