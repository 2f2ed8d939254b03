/* SPDX-License-Identifier: BSD-3-Clause */
/* Legacy PC devices: 8259 PIC pair and the 8254 PIT. */
#ifndef GUEST_LIB_LEGACY_H
#define GUEST_LIB_LEGACY_H

#include <stdint.h>

#define PIC_VECTOR_BASE 0x20    /* where pic_disable() remaps IRQ 0-15 */
#define PIT_HZ          1193182
#define PIT_IRQ_GSI     2       /* ISA IRQ 0 via the interrupt override */

/* Remap both PICs to PIC_VECTOR_BASE and mask every line. */
void pic_disable(void);

/* PIT channel 0, mode 2 (rate generator), reload value divisor. */
void pit_periodic(uint16_t divisor);

/* PIT channel 0 to mode 0 with no count: stops the periodic interrupt. */
void pit_stop(void);

#endif
