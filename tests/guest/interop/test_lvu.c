/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lvu: tests/interop/lvu-test-server (its header comment has the register
 * map). BAR0's sparse-mmap areas are KVM memslots: 2048 accesses there
 * cost no message, which the server's own message counter (TRAPS) proves,
 * while its SUM0 register proves it saw the data; the gaps are trapped;
 * doorbell writes reach the server through ioeventfds without a message
 * (the datamatch one only for the matching value).
 * lvu-intx: the server raises INTx on demand; the guest routes the
 * Interrupt Line's GSI (level, active high) and counts two interrupts.
 */
#include "interop/interop.h"

#include "lib/bootinfo.h"
#include "lib/io.h"
#include "lib/ioapic.h"
#include "lib/irq.h"
#include "lib/lapic.h"
#include "lib/printf.h"
#include "lib/test.h"
#include "lib/time.h"

#define LVU_VENDOR 0x4d56
#define LVU_DEVICE 0x1f01
#define REG_SCRATCH 0x1000
#define REG_MAGIC 0x1004
#define REG_DOORBELLS 0x1008
#define REG_IRQ 0x100c
#define REG_SUM0 0x1010
#define REG_TRAPS 0x1014
#define REG_DMLATCH 0x1018
#define REG_STORE 0x1800
#define REG_DOORBELL 0x3000
#define REG_DOORBELL2 0x3008
#define AREA1 0x2000
#define MAGIC 0x4c565554u
#define DATAMATCH 0x1234u

static int lvu_open(struct idev *d)
{
    static const int io[6] = {0};
    static const uint64_t size[6] = {0x4000, 0, 0, 0, 0, 0};
    uint32_t v;
    int r;

    if ((r = idev_find(LVU_VENDOR, LVU_DEVICE, 0, d)) < 0)
        return test_fail("%04x:%04x: %d (no function, or no room)",
                         LVU_VENDOR, LVU_DEVICE, r);
    if (idev_expect(d, 0xff0000, io, size) < 0)
        return -1;
    v = mmio_read32(d->bar[0].addr + REG_MAGIC);
    if (v != MAGIC)
        return test_fail("MAGIC reads %#x, want %#x", v, MAGIC);
    return 0;
}

/* Poll register @reg until it reads @want (1 s); *polls counts reads. */
static int poll_reg(uint64_t base, unsigned int reg, uint32_t want,
                    uint32_t *polls)
{
    uint64_t end = time_us() + 1000000;
    uint32_t v;

    do {
        v = mmio_read32(base + reg);
        (*polls)++;
        if (v == want)
            return 0;
    } while (time_us() < end);
    return test_fail("register %#x reads %u, want %u", reg, v, want);
}

/* 2048 accesses in the mapped areas: no message, the server sees them. */
static int mapped_areas(uint64_t base)
{
    uint32_t sum = 0, t0, t1, s;

    t0 = mmio_read32(base + REG_TRAPS);
    for (uint32_t i = 0; i < 1024; i++) {
        uint32_t v = i * 2654435761u ^ 0x5a5a0000u;

        mmio_write32(base + 4 * i, v);
        mmio_write32(base + AREA1 + 4 * i, ~v);
        sum += v;
    }
    for (uint32_t i = 0; i < 1024; i++)
        if (mmio_read32(base + AREA1 + 4 * i) != ~(i * 2654435761u ^
                                                     0x5a5a0000u))
            return test_fail("area 1 word %u reads back wrong", i);
    s = mmio_read32(base + REG_SUM0);
    t1 = mmio_read32(base + REG_TRAPS);
    printf("lvu: 3072 mapped accesses, server messages %u -> %u, SUM0 %#x "
           "(guest %#x)\n", t0, t1, s, sum);
    if (s != sum)
        return test_fail("server's SUM0 %#x, guest wrote sum %#x", s, sum);
    if (t1 - t0 != 2)
        return test_fail("%u server messages for 2 trapped reads: mapped "
                         "areas are trapped", t1 - t0);
    return 0;
}

static int doorbells(uint64_t base)
{
    uint32_t d0, m0, t0, t1, polls = 0;

    mmio_write32(base + REG_STORE, 0xdeadbeef);
    if (mmio_read32(base + REG_STORE) != 0xdeadbeef)
        return test_fail("trapped gap storage does not read back");
    d0 = mmio_read32(base + REG_DOORBELLS);
    m0 = mmio_read32(base + REG_DMLATCH);
    t0 = mmio_read32(base + REG_TRAPS);
    for (uint32_t i = 0; i < 100; i++)
        mmio_write32(base + REG_DOORBELL, i);
    for (uint32_t i = 0; i < 50; i++)
        mmio_write32(base + REG_DOORBELL2, DATAMATCH);
    for (uint32_t i = 0; i < 10; i++)
        mmio_write32(base + REG_DOORBELL2, 0x9999);
    if (poll_reg(base, REG_DOORBELLS, d0 + 100, &polls) < 0 ||
        poll_reg(base, REG_DMLATCH, m0 + 50, &polls) < 0)
        return -1;
    t1 = mmio_read32(base + REG_TRAPS);
    printf("lvu: 160 doorbell writes, %u polls, server messages %u -> %u\n",
           polls, t0, t1);
    if (t1 - t0 != polls + 1 + 10)
        return test_fail("%u server messages, want %u (polls + TRAPS + the "
                         "10 non-matching DOORBELL2 writes)", t1 - t0,
                         polls + 11);
    return 0;
}

int test_lvu(void)
{
    struct idev d;

    if (lvu_open(&d) < 0)
        return -1;
    if (mapped_areas(d.bar[0].addr) < 0 || doorbells(d.bar[0].addr) < 0)
        return -1;
    printf("lvu: sparse mmap, trapped gaps and ioeventfds ok\n");
    return 0;
}

int test_lvu_intx(void)
{
    struct idev d;
    uint8_t gsi;
    uint64_t c0 = irq_count(VEC_LVU_INTX);
    int r = 0;

    if (lvu_open(&d) < 0)
        return -1;
    gsi = pci_read8(PCI_CF8, d.a, PCI_INTERRUPT_LINE);
    if (gsi < 16 || gsi > 23)
        return test_fail("interrupt line %u, want a PCI GSI 16-23", gsi);
    ioapic_route(gsi, VEC_LVU_INTX, lapic_id(), IOAPIC_LEVEL);
    for (unsigned int i = 1; i <= 2 && r == 0; i++) {
        mmio_write32(d.bar[0].addr + REG_IRQ, 1);
        r = irq_wait(VEC_LVU_INTX, c0 + i, 1000000);
    }
    ioapic_mask(gsi);
    printf("lvu-intx: GSI %u, %lu interrupts for 2 triggers\n", gsi,
           irq_count(VEC_LVU_INTX) - c0);
    if (r < 0)
        return test_fail("INTx: %lu interrupts, want 2",
                         irq_count(VEC_LVU_INTX) - c0);
    return 0;
}

/* For test_survive: the lvu device still serves traps, doorbells and its
 * mapped areas. */
int lvu_still_works(void)
{
    struct idev d;

    if (lvu_open(&d) < 0)
        return -1;
    return mapped_areas(d.bar[0].addr) < 0 ? -1 : doorbells(d.bar[0].addr);
}

/* lvu-reconnect: the host kills lvu-test-server after "lvu-reconnect:
 * alive" and starts a new one; minivmm (reconnect=) must map the new
 * server's BAR0 memfd into the memslots and register its ioeventfds: the
 * same checks then pass against the new process. Waits secs=N (20). */
int test_lvu_reconnect(void)
{
    struct idev d;
    uint64_t secs = 20, end;
    uint32_t v = 0;

    cmdline_get_u64("secs", &secs);
    end = time_us() + secs * 1000000;
    if (lvu_open(&d) < 0 || mapped_areas(d.bar[0].addr) < 0 ||
        doorbells(d.bar[0].addr) < 0)
        return -1;
    printf("lvu-reconnect: alive\n");
    while (time_us() < end &&
           (v = mmio_read32(d.bar[0].addr + REG_MAGIC)) == MAGIC)
        delay_us(1000);
    if (v != 0xFFFFFFFF)
        return test_fail("MAGIC reads %#x, want all-ones (dead)", v);
    printf("lvu-reconnect: dead\n");
    /* No delay: catch the first moment the device answers again. */
    while (time_us() < end &&
           (v = mmio_read32(d.bar[0].addr + REG_MAGIC)) != MAGIC)
        cpu_relax();
    if (v != MAGIC)
        return test_fail("the device did not come back");
    printf("lvu-reconnect: back\n");
    /* Once the device answers, its memslots must be back (no message
     * for the mapped areas) and map the new server's memory. Same BAR
     * address: minivmm replayed it. */
    return mapped_areas(d.bar[0].addr) < 0 ? -1 : doorbells(d.bar[0].addr);
}
