/* SPDX-License-Identifier: BSD-3-Clause */
/* COM1 16550A UART: polled output, register access for tests. */
#ifndef GUEST_LIB_SERIAL_H
#define GUEST_LIB_SERIAL_H

#include <stdint.h>

#define COM1_BASE     0x3F8
#define UART_THR      0       /* transmit holding (write) */
#define UART_RBR      0       /* receive buffer (read) */
#define UART_IER      1       /* interrupt enable */
#define UART_IIR      2       /* interrupt identification (read) */
#define UART_FCR      2       /* FIFO control (write) */
#define UART_LCR      3       /* line control */
#define UART_MCR      4       /* modem control */
#define UART_LSR      5       /* line status */
#define UART_MSR      6       /* modem status */
#define UART_SCR      7       /* scratch */
#define UART_IER_THRI 0x02
#define UART_IIR_NOINT 0x01
#define UART_IIR_THRI 0x02
#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT2 0x08    /* gates the IRQ line on PCs */
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define COM1_IRQ      4

/* 8N1, FIFOs on, interrupts off, MCR = DTR | RTS | OUT2. */
void serial_init(void);

/* Write one byte, waiting (bounded) for THRE. "\n" is sent as "\r\n". */
void serial_putc(char c);

/* Write a NUL-terminated string. */
void serial_write(const char *s);

static inline uint16_t serial_reg(unsigned int reg)
{
    return (uint16_t)(COM1_BASE + reg);
}

#endif
