/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Time: the TSC, calibrated once against the LAPIC timer (which counts at
 * LAPIC_TIMER_HZ with divide-by-1 on KVM and QEMU).
 */
#ifndef GUEST_LIB_TIME_H
#define GUEST_LIB_TIME_H

#include <stdint.h>

/* Calibrate the TSC (~10 ms). Needs the LAPIC enabled (lapic_init). */
int time_init(void);

/* TSC ticks per second (after time_init). */
uint64_t tsc_hz(void);

/* Microseconds since time_init. */
uint64_t time_us(void);

/* Busy-wait at least us microseconds. */
void delay_us(uint64_t us);

#endif
