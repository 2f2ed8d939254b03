/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ioapic: route GSI 4 (COM1 THRE interrupt) and GSI 2 (PIT channel 0 via
 * the ISA IRQ 0 override) to vectors and watch the counters move.
 */
#include "lib/io.h"
#include "lib/ioapic.h"
#include "lib/irq.h"
#include "lib/lapic.h"
#include "lib/legacy.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/test.h"
#include "lib/time.h"
#include "tests/tests.h"

#define WAIT_US 500000

static int com1_irq(void)
{
    uint64_t c0 = irq_count(VEC_COM1);
    int r;

    outb(serial_reg(UART_MCR), UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
    ioapic_route(COM1_IRQ, VEC_COM1, lapic_id(), 0);
    outb(serial_reg(UART_IER), UART_IER_THRI);
    r = irq_wait(VEC_COM1, c0 + 1, WAIT_US);
    if (r == 0) {
        /* Reading IIR clears THRI; the next write must raise it again. */
        inb(serial_reg(UART_IIR));
        printf("ioapic: com1 thre interrupt %lu\n",
               irq_count(VEC_COM1) - c0);
        r = irq_wait(VEC_COM1, c0 + 2, WAIT_US);
    }
    outb(serial_reg(UART_IER), 0);
    ioapic_mask(COM1_IRQ);
    if (r < 0)
        return test_fail("COM1 (GSI %d): %lu interrupts, wanted 2",
                         COM1_IRQ, irq_count(VEC_COM1) - c0);
    return 0;
}

/* PIT at ~1 kHz routed to pin; returns the interrupts seen in 50 ms. */
static uint64_t pit_ticks_on(unsigned int pin, uint8_t vec)
{
    uint64_t c0 = irq_count(vec);

    ioapic_route(pin, vec, lapic_id(), 0);
    pit_periodic(PIT_HZ / 1000);
    irq_wait(vec, c0 + 5, WAIT_US);
    pit_stop();
    ioapic_mask(pin);
    return irq_count(vec) - c0;
}

static int pit_irq(void)
{
    uint64_t n = pit_ticks_on(PIT_IRQ_GSI, VEC_PIT), n0;

    if (n >= 5) {
        printf("ioapic: pit interrupts %lu\n", n);
        return 0;
    }
    n0 = pit_ticks_on(0, VEC_PIT_PIN0);
    return test_fail("PIT (GSI %d): %lu interrupts, wanted 5 (on pin 0: "
                     "%lu)", PIT_IRQ_GSI, n, n0);
}

int test_ioapic(void)
{
    unsigned int pins = ioapic_pins();

    if (pins < 24)
        return test_fail("IOAPIC has %u pins, want 24", pins);
    if (com1_irq() < 0 || pit_irq() < 0)
        return -1;
    return 0;
}
