/* SPDX-License-Identifier: BSD-3-Clause */
/* serial: COM1 prints, its scratch register holds values, LSR THRE. */
#include "lib/io.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/test.h"
#include "lib/time.h"
#include "tests/tests.h"

static int wait_lsr(uint8_t bits)
{
    uint64_t start = time_us();

    while ((inb(serial_reg(UART_LSR)) & bits) != bits)
        if (time_us() - start > 100000)
            return -1;
    return 0;
}

int test_serial(void)
{
    static const uint8_t pattern[] = { 0x5A, 0xA5, 0x00, 0xFF, 0x3C };
    uint8_t lsr;

    printf("serial: the quick brown fox jumps over the lazy dog\n");
    for (unsigned int i = 0; i < sizeof(pattern); i++) {
        uint8_t v;

        outb(serial_reg(UART_SCR), pattern[i]);
        v = inb(serial_reg(UART_SCR));
        if (v != pattern[i])
            return test_fail("scratch wrote %#x read %#x", pattern[i], v);
    }
    lsr = inb(serial_reg(UART_LSR));
    if (lsr == 0xFF)
        return test_fail("LSR reads 0xff: no UART");
    if (wait_lsr(UART_LSR_THRE | UART_LSR_TEMT) < 0)
        return test_fail("LSR THRE|TEMT never set (LSR %#x)", lsr);
    serial_putc('\n');
    if (wait_lsr(UART_LSR_THRE) < 0)
        return test_fail("LSR THRE not set after a write");
    return 0;
}
