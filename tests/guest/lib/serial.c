/* SPDX-License-Identifier: BSD-3-Clause */
/* COM1 polled output. Each port access is a VM exit (~30 us on kvm_pvm). */
#include "lib/serial.h"

#include "lib/io.h"

void serial_init(void)
{
    outb(serial_reg(UART_IER), 0);
    outb(serial_reg(UART_LCR), 0x80);    /* DLAB: divisor 1 = 115200 */
    outb(serial_reg(0), 1);
    outb(serial_reg(1), 0);
    outb(serial_reg(UART_LCR), 0x03);    /* 8N1 */
    outb(serial_reg(UART_FCR), 0x07);    /* FIFOs on, cleared */
    outb(serial_reg(UART_MCR), UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
}

static void put_raw(char c)
{
    /* Bounded: a broken UART must not hang the payload. */
    for (unsigned int i = 0; i < 100000; i++)
        if (inb(serial_reg(UART_LSR)) & UART_LSR_THRE)
            break;
    outb(serial_reg(UART_THR), (uint8_t)c);
}

void serial_putc(char c)
{
    if (c == '\n')
        put_raw('\r');
    put_raw(c);
}

void serial_write(const char *s)
{
    while (*s)
        serial_putc(*s++);
}
