/* SPDX-License-Identifier: BSD-3-Clause */
/* 16550A UART (COM1 in docs/platform.md: ports 0x3F8-0x3FF, IRQ 4).
 *
 * Registers follow the National PC16550D datasheet: RBR/THR/DLL at 0,
 * IER/DLM at 1, IIR (read) / FCR (write) at 2, LCR 3, MCR 4, LSR 5, MSR 6,
 * SCR 7. Only 1-byte accesses are meaningful: wider reads return all-ones,
 * wider writes are ignored.
 *
 * Transmission is instantaneous: a THR write goes straight to the output
 * fd, so THRE/TEMT read as set again right after it and a THRE interrupt
 * (if IER.ETBEI) is raised again at once (the line drops and rises, an edge
 * for the edge-triggered ISA pin). Output never blocks the guest for long
 * if the fd is non-blocking: bytes the fd does not take (EAGAIN, or an
 * error) are dropped and counted (serial_tx_dropped()). A blocking fd
 * (regular file, or a tty the caller accepts blocking on) is written in
 * full; no device lock is held while writing.
 *
 * The receive FIFO holds SERIAL_RX_FIFO_SIZE bytes whether or not FCR
 * enables the FIFOs. Input comes from serial_input() on another thread (the
 * event loop); it accepts what fits and never sets overrun, so the caller
 * keeps the rest and retries later (serial_rx_space() says how much fits).
 * In loopback mode (MCR bit 4) THR bytes go to the receive FIFO instead,
 * and a full FIFO sets LSR.OE. With FIFOs enabled, received-data interrupts
 * report "trigger level reached" (IIR 0x04) at or above the FCR trigger and
 * "character timeout" (IIR 0x0C) below it, without waiting 4 characters.
 *
 * The interrupt is level-style: the GSI is asserted while any enabled
 * interrupt is pending and deasserted otherwise (MCR.OUT2 does not gate it,
 * as in QEMU). All register access is serialized by a per-device mutex.
 */
#ifndef MINIVMM_SERIAL_H
#define MINIVMM_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/irq.h"
#include "vmm/bus.h"
#include "vmm/state.h"

#define SERIAL_COM1_BASE    0x3F8
#define SERIAL_COM1_GSI     4
#define SERIAL_NR_REGS      8   /* bytes of port space to register */
#define SERIAL_RX_FIFO_SIZE 64  /* bytes */

struct serial_config {
    int out_fd;             /* transmitted bytes; -1 discards them */
    struct irq_chip irq;    /* irq.ops == NULL: no interrupt line */
    uint32_t gsi;           /* SERIAL_COM1_GSI for COM1 */
};

struct serial;

/* Create a UART in its reset state. @cfg is copied; @cfg->out_fd stays
 * owned by the caller and must outlive the device. 0 or -errno. */
int serial_create(const struct serial_config *cfg, struct serial **out);
void serial_destroy(struct serial *s);

/* Port handlers, opaque = struct serial *, registered for SERIAL_NR_REGS
 * bytes at the base port (offset = register number). */
extern const struct bus_ops serial_bus_ops;

/* Queue up to @len received bytes from @buf. Returns how many were
 * accepted (0..@len; fewer when the FIFO fills, never an error). Safe
 * against concurrent register access from vCPU threads. */
int serial_input(struct serial *s, const uint8_t *buf, size_t len);

/* Free bytes in the receive FIFO now (0..SERIAL_RX_FIFO_SIZE). */
size_t serial_rx_space(struct serial *s);

/* Bytes dropped because the output fd would block or failed. */
uint64_t serial_tx_dropped(struct serial *s);

/* Save/load the registers and receive FIFO; opaque = struct serial *.
 * load validates every value and re-drives the interrupt line. */
extern const struct state_ops serial_state_ops;

#endif
