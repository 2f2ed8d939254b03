/* SPDX-License-Identifier: BSD-3-Clause */
/* The base payload's tests (tests/guest/tests/test_*.c). */
#ifndef GUEST_TESTS_H
#define GUEST_TESTS_H

/* Interrupt vectors the tests use. */
#define VEC_TIMER    0x40
#define VEC_PIT      0x42
#define VEC_PIT_PIN0 0x43
#define VEC_COM1     0x44

int test_serial(void);
int test_pci(void);
int test_timer(void);
int test_ioapic(void);
int test_smp(void);
int test_fault(void);
int test_counter(void);
int test_bars(void);      /* BARs placed by the VMM */   /* count in RAM, print ticks (snapshot tests) */

#endif
