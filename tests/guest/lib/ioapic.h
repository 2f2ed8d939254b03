/* SPDX-License-Identifier: BSD-3-Clause */
/* IOAPIC at 0xFEC00000: redirection table programming. */
#ifndef GUEST_LIB_IOAPIC_H
#define GUEST_LIB_IOAPIC_H

#include <stdint.h>

#define IOAPIC_BASE      0xFEC00000ULL
#define IOAPIC_REG_ID    0x00
#define IOAPIC_REG_VER   0x01
#define IOAPIC_REDTBL    0x10    /* + 2 * pin: low, + 1: high */

#define IOAPIC_LEVEL     0x8000  /* trigger mode: level */
#define IOAPIC_LOW       0x2000  /* polarity: active low */
#define IOAPIC_MASKED    0x10000

uint32_t ioapic_read(uint32_t reg);
void ioapic_write(uint32_t reg, uint32_t v);

/* Number of redirection entries (from the version register). */
unsigned int ioapic_pins(void);

/*
 * Route pin to vector on APIC ID dest, fixed delivery, physical mode;
 * flags is IOAPIC_LEVEL / IOAPIC_LOW (0 = edge, active high). Unmasked.
 */
void ioapic_route(unsigned int pin, uint8_t vector, unsigned int dest,
                  uint32_t flags);

/* Mask a pin. */
void ioapic_mask(unsigned int pin);

#endif
