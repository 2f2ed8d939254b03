/* SPDX-License-Identifier: BSD-3-Clause */
/* 16550A UART (see serial.h). Register semantics follow the PC16550D
 * datasheet; interrupt-identification details follow QEMU's hw/char/serial.c
 * (THRE pending flag, IER.ETBEI enabling raising THRE at once). */
#include "devices/serial.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    REG_RBR = 0, REG_IER, REG_IIR, REG_LCR, REG_MCR, REG_LSR, REG_MSR, REG_SCR,
};

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* THR empty */
#define IER_ELSI  0x04 /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */
#define IER_MASK  0x0F

#define IIR_NONE    0x01
#define IIR_MSI     0x00
#define IIR_THRI    0x02
#define IIR_RDI     0x04
#define IIR_RLSI    0x06
#define IIR_TIMEOUT 0x0C
#define IIR_FIFO    0xC0

#define FCR_ENABLE    0x01
#define FCR_CLEAR_RX  0x02
#define FCR_CLEAR_TX  0x04
#define FCR_TRIG_MASK 0xC0

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1F

#define LSR_DR     0x01
#define LSR_OE     0x02
#define LSR_PE     0x04
#define LSR_FE     0x08
#define LSR_BI     0x10
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_DELTA 0x0F
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80

struct serial_regs {
    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr, dll, dlm;
    uint8_t thr_ipending; /* THRE interrupt pending (cleared by IIR read) */
};

struct serial {
    pthread_mutex_t lock;
    struct serial_config cfg;
    struct serial_regs r;
    uint8_t rx[SERIAL_RX_FIFO_SIZE];
    uint32_t rx_head; /* index of the oldest byte */
    uint32_t rx_count;
    bool irq_level;
    uint64_t tx_dropped;
};

static uint8_t serial_trigger_level(const struct serial *s)
{
    static const uint8_t levels[4] = { 1, 4, 8, 14 };

    return levels[(s->r.fcr & FCR_TRIG_MASK) >> 6];
}

/* The highest-priority enabled pending interrupt, as IIR bits 0-3. */
static uint8_t serial_iid(const struct serial *s)
{
    const struct serial_regs *r = &s->r;

    if ((r->ier & IER_ELSI) && (r->lsr & LSR_ERRORS))
        return IIR_RLSI;
    if ((r->ier & IER_ERBFI) && s->rx_count) {
        if ((r->fcr & FCR_ENABLE) && s->rx_count < serial_trigger_level(s))
            return IIR_TIMEOUT;
        return IIR_RDI;
    }
    if ((r->ier & IER_ETBEI) && r->thr_ipending)
        return IIR_THRI;
    if ((r->ier & IER_EDSSI) && (r->msr & MSR_DELTA))
        return IIR_MSI;
    return IIR_NONE;
}

static void serial_drive_irq(struct serial *s, bool level)
{
    s->irq_level = level;
    if (s->cfg.irq.ops)
        irq_set_level(&s->cfg.irq, s->cfg.gsi, level);
}

/* Called with the lock held after any state change. */
static void serial_update_irq(struct serial *s)
{
    bool level = serial_iid(s) != IIR_NONE;

    if (level != s->irq_level)
        serial_drive_irq(s, level);
}

static void serial_rx_clear(struct serial *s)
{
    s->rx_head = 0;
    s->rx_count = 0;
    s->r.lsr &= ~LSR_DR;
}

/* Append one byte; false if the FIFO is full. */
static bool serial_rx_push(struct serial *s, uint8_t b)
{
    if (s->rx_count == SERIAL_RX_FIFO_SIZE)
        return false;
    s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_FIFO_SIZE] = b;
    s->rx_count++;
    s->r.lsr |= LSR_DR;
    return true;
}

static uint8_t serial_rx_pop(struct serial *s)
{
    uint8_t b;

    if (!s->rx_count)
        return 0;
    b = s->rx[s->rx_head];
    s->rx_head = (s->rx_head + 1) % SERIAL_RX_FIFO_SIZE;
    if (--s->rx_count == 0)
        s->r.lsr &= ~LSR_DR;
    return b;
}

/* Modem status inputs: loopback wires MCR outputs back (RTS→CTS, DTR→DSR,
 * OUT1→RI, OUT2→DCD); otherwise the "cable" asserts DCD, DSR and CTS. */
static void serial_update_msr(struct serial *s)
{
    uint8_t mcr = s->r.mcr, old = s->r.msr, now;

    if (mcr & MCR_LOOP)
        now = ((mcr & MCR_RTS) ? MSR_CTS : 0) |
              ((mcr & MCR_DTR) ? MSR_DSR : 0) |
              ((mcr & MCR_OUT1) ? MSR_RI : 0) |
              ((mcr & MCR_OUT2) ? MSR_DCD : 0);
    else
        now = MSR_DCD | MSR_DSR | MSR_CTS;
    s->r.msr = (old & MSR_DELTA) | now;
    if ((old ^ now) & MSR_CTS)
        s->r.msr |= MSR_DCTS;
    if ((old ^ now) & MSR_DSR)
        s->r.msr |= MSR_DDSR;
    if ((old ^ now) & MSR_DCD)
        s->r.msr |= MSR_DDCD;
    if ((old & MSR_RI) && !(now & MSR_RI))
        s->r.msr |= MSR_TERI;
}

static void serial_reset(struct serial *s)
{
    memset(&s->r, 0, sizeof(s->r));
    s->r.lsr = LSR_THRE | LSR_TEMT;
    s->r.msr = MSR_DCD | MSR_DSR | MSR_CTS;
    s->r.mcr = MCR_OUT2;
    s->r.dll = 0x0C; /* 9600 baud */
    serial_rx_clear(s);
}

int serial_create(const struct serial_config *cfg, struct serial **out)
{
    struct serial *s;
    int r;

    if (cfg->irq.ops && !cfg->irq.ops->set_level)
        return -EINVAL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    r = pthread_mutex_init(&s->lock, NULL);
    if (r) {
        free(s);
        return -r;
    }
    s->cfg = *cfg;
    serial_reset(s);
    *out = s;
    return 0;
}

void serial_destroy(struct serial *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static uint8_t serial_read_iir(struct serial *s)
{
    uint8_t iid = serial_iid(s);

    if (iid == IIR_THRI)
        s->r.thr_ipending = 0;
    return iid | ((s->r.fcr & FCR_ENABLE) ? IIR_FIFO : 0);
}

static uint8_t serial_read_reg(struct serial *s, uint64_t reg)
{
    uint8_t v;
    bool dlab = s->r.lcr & LCR_DLAB;

    switch (reg) {
    case REG_RBR:
        return dlab ? s->r.dll : serial_rx_pop(s);
    case REG_IER:
        return dlab ? s->r.dlm : s->r.ier;
    case REG_IIR:
        return serial_read_iir(s);
    case REG_LCR:
        return s->r.lcr;
    case REG_MCR:
        return s->r.mcr;
    case REG_LSR:
        v = s->r.lsr;
        s->r.lsr &= ~LSR_ERRORS;
        return v;
    case REG_MSR:
        v = s->r.msr;
        s->r.msr &= ~MSR_DELTA;
        return v;
    default:
        return s->r.scr;
    }
}

static void serial_read(void *opaque, uint64_t offset, void *data,
                        uint32_t len)
{
    struct serial *s = opaque;

    if (len != 1 || offset >= SERIAL_NR_REGS) {
        memset(data, 0xff, len);
        return;
    }
    pthread_mutex_lock(&s->lock);
    *(uint8_t *)data = serial_read_reg(s, offset);
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
}

/* THR write. Returns true if @b must be sent to the output fd. */
static bool serial_write_thr(struct serial *s, uint8_t b)
{
    s->r.thr_ipending = 0;
    s->r.lsr &= ~(LSR_THRE | LSR_TEMT);
    serial_update_irq(s); /* drop a THRE interrupt: next raise is an edge */
    if ((s->r.mcr & MCR_LOOP) && !serial_rx_push(s, b))
        s->r.lsr |= LSR_OE;
    /* Transmission completes at once. */
    s->r.lsr |= LSR_THRE | LSR_TEMT;
    s->r.thr_ipending = 1;
    return !(s->r.mcr & MCR_LOOP);
}

static void serial_write_ier(struct serial *s, uint8_t v)
{
    uint8_t changed = (s->r.ier ^ v) & IER_MASK;

    s->r.ier = v & IER_MASK;
    if (changed & IER_ETBEI)
        s->r.thr_ipending = (s->r.ier & IER_ETBEI) && (s->r.lsr & LSR_THRE);
}

static void serial_write_fcr(struct serial *s, uint8_t v)
{
    if ((v ^ s->r.fcr) & FCR_ENABLE)
        v |= FCR_CLEAR_RX | FCR_CLEAR_TX;
    if (v & FCR_CLEAR_RX)
        serial_rx_clear(s);
    /* The transmitter is always empty: nothing to clear. */
    s->r.fcr = v & (FCR_ENABLE | FCR_TRIG_MASK);
}

/* Returns true if @v must be sent to the output fd. */
static bool serial_write_reg(struct serial *s, uint64_t reg, uint8_t v)
{
    bool dlab = s->r.lcr & LCR_DLAB;

    switch (reg) {
    case REG_RBR:
        if (dlab) {
            s->r.dll = v;
            return false;
        }
        return serial_write_thr(s, v);
    case REG_IER:
        if (dlab)
            s->r.dlm = v;
        else
            serial_write_ier(s, v);
        break;
    case REG_IIR:
        serial_write_fcr(s, v);
        break;
    case REG_LCR:
        s->r.lcr = v;
        break;
    case REG_MCR:
        s->r.mcr = v & MCR_MASK;
        serial_update_msr(s);
        break;
    case REG_LSR:
    case REG_MSR:
        break; /* read-only (factory test writes ignored) */
    default:
        s->r.scr = v;
        break;
    }
    return false;
}

/* Send one byte; never loops on EAGAIN. */
static void serial_output(struct serial *s, uint8_t b)
{
    ssize_t n;

    if (s->cfg.out_fd < 0)
        return;
    do {
        n = write(s->cfg.out_fd, &b, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) {
        pthread_mutex_lock(&s->lock);
        s->tx_dropped++;
        pthread_mutex_unlock(&s->lock);
    }
}

static void serial_write(void *opaque, uint64_t offset, const void *data,
                         uint32_t len)
{
    struct serial *s = opaque;
    uint8_t v;
    bool send;

    if (len != 1 || offset >= SERIAL_NR_REGS)
        return;
    v = *(const uint8_t *)data;
    pthread_mutex_lock(&s->lock);
    send = serial_write_reg(s, offset, v);
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
    if (send)
        serial_output(s, v);
}

const struct bus_ops serial_bus_ops = {
    .read = serial_read,
    .write = serial_write,
};

int serial_input(struct serial *s, const uint8_t *buf, size_t len)
{
    size_t n = 0;

    pthread_mutex_lock(&s->lock);
    /* In loopback mode the receiver is disconnected from the line. */
    if (!(s->r.mcr & MCR_LOOP))
        while (n < len && serial_rx_push(s, buf[n]))
            n++;
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
    return (int)n;
}

size_t serial_rx_space(struct serial *s)
{
    size_t n;

    pthread_mutex_lock(&s->lock);
    n = SERIAL_RX_FIFO_SIZE - s->rx_count;
    pthread_mutex_unlock(&s->lock);
    return n;
}

uint64_t serial_tx_dropped(struct serial *s)
{
    uint64_t n;

    pthread_mutex_lock(&s->lock);
    n = s->tx_dropped;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* Saved registers: property name, field, bits a valid value may have. */
struct serial_field {
    const char *name;
    size_t off;
    uint8_t mask;
};

#define SERIAL_FIELD(n, f, m) { n, offsetof(struct serial_regs, f), m }
static const struct serial_field serial_fields[] = {
    SERIAL_FIELD("ier", ier, IER_MASK),
    SERIAL_FIELD("lcr", lcr, 0xFF),
    SERIAL_FIELD("mcr", mcr, MCR_MASK),
    SERIAL_FIELD("lsr", lsr, 0xFF),
    SERIAL_FIELD("msr", msr, 0xFF),
    SERIAL_FIELD("scr", scr, 0xFF),
    SERIAL_FIELD("fcr", fcr, FCR_ENABLE | FCR_TRIG_MASK),
    SERIAL_FIELD("dll", dll, 0xFF),
    SERIAL_FIELD("dlm", dlm, 0xFF),
    SERIAL_FIELD("thr-ipending", thr_ipending, 0x01),
};
#define SERIAL_NR_FIELDS (sizeof(serial_fields) / sizeof(serial_fields[0]))

static int serial_save(void *opaque, void *fdt, int node)
{
    struct serial *s = opaque;
    uint8_t fifo[SERIAL_RX_FIFO_SIZE] = { 0 };
    int r = 0;

    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < SERIAL_NR_FIELDS && r == 0; i++) {
        const uint8_t *p = (const uint8_t *)&s->r + serial_fields[i].off;

        r = state_put_u32(fdt, node, serial_fields[i].name, *p);
    }
    for (uint32_t i = 0; i < s->rx_count; i++)
        fifo[i] = s->rx[(s->rx_head + i) % SERIAL_RX_FIFO_SIZE];
    if (r == 0)
        r = state_put_u32(fdt, node, "rx-count", s->rx_count);
    if (r == 0)
        r = state_put_bytes(fdt, node, "rx-fifo", fifo, sizeof(fifo));
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* Read and validate everything into @regs/@fifo/@count; no side effects. */
static int serial_load_fields(const void *fdt, int node,
                              struct serial_regs *regs, uint8_t *fifo,
                              uint32_t *count)
{
    uint32_t v;
    int r;

    for (size_t i = 0; i < SERIAL_NR_FIELDS; i++) {
        r = state_get_u32(fdt, node, serial_fields[i].name, &v);
        if (r < 0)
            return r;
        if (v & ~(uint32_t)serial_fields[i].mask)
            return -EINVAL;
        *((uint8_t *)regs + serial_fields[i].off) = (uint8_t)v;
    }
    r = state_get_u32(fdt, node, "rx-count", count);
    if (r < 0)
        return r;
    if (*count > SERIAL_RX_FIFO_SIZE)
        return -EINVAL;
    return state_get_bytes(fdt, node, "rx-fifo", fifo, SERIAL_RX_FIFO_SIZE);
}

static int serial_load(void *opaque, const void *fdt, int node)
{
    struct serial *s = opaque;
    struct serial_regs regs;
    uint8_t fifo[SERIAL_RX_FIFO_SIZE];
    uint32_t count;
    int r = serial_load_fields(fdt, node, &regs, fifo, &count);

    if (r < 0)
        return r;
    pthread_mutex_lock(&s->lock);
    s->r = regs;
    memcpy(s->rx, fifo, sizeof(fifo));
    s->rx_head = 0;
    s->rx_count = count;
    s->r.lsr = (s->r.lsr & ~LSR_DR) | (count ? LSR_DR : 0);
    serial_drive_irq(s, serial_iid(s) != IIR_NONE);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

const struct state_ops serial_state_ops = {
    .save = serial_save,
    .load = serial_load,
};
