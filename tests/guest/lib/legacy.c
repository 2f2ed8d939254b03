/* SPDX-License-Identifier: BSD-3-Clause */
/* 8259 PIC and 8254 PIT. */
#include "lib/legacy.h"

#include "lib/io.h"

void pic_disable(void)
{
    outb(0x20, 0x11);                   /* ICW1: init, ICW4 follows */
    outb(0xA0, 0x11);
    outb(0x21, PIC_VECTOR_BASE);        /* ICW2: vector base */
    outb(0xA1, PIC_VECTOR_BASE + 8);
    outb(0x21, 0x04);                   /* ICW3: slave on IRQ 2 */
    outb(0xA1, 0x02);
    outb(0x21, 0x01);                   /* ICW4: 8086 mode */
    outb(0xA1, 0x01);
    outb(0x21, 0xFF);                   /* OCW1: mask all */
    outb(0xA1, 0xFF);
}

void pit_periodic(uint16_t divisor)
{
    outb(0x43, 0x34);                   /* ch 0, lo/hi, mode 2, binary */
    outb(0x40, (uint8_t)divisor);
    outb(0x40, (uint8_t)(divisor >> 8));
}

void pit_stop(void)
{
    /* Mode 0 with no count written: OUT stays low, no more edges. */
    outb(0x43, 0x30);
}
