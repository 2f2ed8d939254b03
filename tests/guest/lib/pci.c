/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI config space access and BAR helpers. */
#include "lib/pci.h"

#include "lib/errno.h"
#include "lib/io.h"

static uint64_t ecam_base = PCI_ECAM_BASE;

void pci_set_ecam_base(uint64_t base)
{
    ecam_base = base;
}

uint64_t pci_ecam_base(void)
{
    return ecam_base;
}

static uint32_t cf8_addr(struct pci_addr a, unsigned int off)
{
    return 0x80000000U | (uint32_t)a.bus << 16 | (uint32_t)a.dev << 11 |
           (uint32_t)a.fn << 8 | (off & 0xFC);
}

static uint64_t ecam_addr(struct pci_addr a, unsigned int off)
{
    return ecam_base + ((uint64_t)a.bus << 20 | (uint64_t)a.dev << 15 |
                        (uint64_t)a.fn << 12 | (off & 0xFFF));
}

uint32_t pci_read32(enum pci_method m, struct pci_addr a, unsigned int off)
{
    if (m == PCI_ECAM)
        return mmio_read32(ecam_addr(a, off & ~3U));
    outl(0xCF8, cf8_addr(a, off));
    return inl(0xCFC);
}

uint16_t pci_read16(enum pci_method m, struct pci_addr a, unsigned int off)
{
    if (m == PCI_ECAM)
        return mmio_read16(ecam_addr(a, off & ~1U));
    outl(0xCF8, cf8_addr(a, off));
    return inw((uint16_t)(0xCFC + (off & 2)));
}

uint8_t pci_read8(enum pci_method m, struct pci_addr a, unsigned int off)
{
    if (m == PCI_ECAM)
        return mmio_read8(ecam_addr(a, off));
    outl(0xCF8, cf8_addr(a, off));
    return inb((uint16_t)(0xCFC + (off & 3)));
}

void pci_write32(enum pci_method m, struct pci_addr a, unsigned int off,
                 uint32_t v)
{
    if (m == PCI_ECAM) {
        mmio_write32(ecam_addr(a, off & ~3U), v);
        return;
    }
    outl(0xCF8, cf8_addr(a, off));
    outl(0xCFC, v);
}

void pci_write16(enum pci_method m, struct pci_addr a, unsigned int off,
                 uint16_t v)
{
    if (m == PCI_ECAM) {
        mmio_write16(ecam_addr(a, off & ~1U), v);
        return;
    }
    outl(0xCF8, cf8_addr(a, off));
    outw((uint16_t)(0xCFC + (off & 2)), v);
}

void pci_write8(enum pci_method m, struct pci_addr a, unsigned int off,
                uint8_t v)
{
    if (m == PCI_ECAM) {
        mmio_write8(ecam_addr(a, off), v);
        return;
    }
    outl(0xCF8, cf8_addr(a, off));
    outb((uint16_t)(0xCFC + (off & 3)), v);
}

/* Write all-ones to the BAR at off and return what reads back. */
static uint32_t bar_mask(enum pci_method m, struct pci_addr a,
                         unsigned int off, uint32_t *orig)
{
    uint32_t v;

    *orig = pci_read32(m, a, off);
    pci_write32(m, a, off, 0xFFFFFFFF);
    v = pci_read32(m, a, off);
    pci_write32(m, a, off, *orig);
    return v;
}

int pci_bar_probe(enum pci_method m, struct pci_addr a, unsigned int idx,
                  struct pci_bar *bar)
{
    unsigned int off = PCI_BAR0 + 4 * idx;
    uint16_t cmd;
    uint32_t lo, hi = 0, orig, orig_hi = 0;
    uint64_t mask;

    if (idx > 5)
        return -EINVAL;
    cmd = pci_read16(m, a, PCI_COMMAND);
    pci_write16(m, a, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
    lo = bar_mask(m, a, off, &orig);
    *bar = (struct pci_bar){ .io = orig & 1 };
    if (!bar->io && (orig & 6) == 4 && idx < 5) {
        bar->is64 = 1;
        hi = bar_mask(m, a, off + 4, &orig_hi);
    }
    pci_write16(m, a, PCI_COMMAND, cmd);
    if (bar->io) {
        bar->addr = orig & ~3U;
        bar->size = (uint32_t)(~(lo & ~3U) + 1) & 0xFFFF;
        return 0;
    }
    bar->prefetch = (orig >> 3) & 1;
    bar->addr = (uint64_t)orig_hi << 32 | (orig & ~0xFU);
    if (bar->is64) {
        mask = (uint64_t)hi << 32 | (lo & ~0xFU);
        bar->size = mask ? ~mask + 1 : 0;
    } else {
        bar->size = (lo & ~0xFU) ? (uint32_t)(~(lo & ~0xFU) + 1) : 0;
    }
    return 0;
}

void pci_bar_set(enum pci_method m, struct pci_addr a, unsigned int idx,
                 const struct pci_bar *bar, uint64_t addr)
{
    unsigned int off = PCI_BAR0 + 4 * idx;
    uint32_t low_bits = pci_read32(m, a, off) & (bar->io ? 3U : 0xFU);

    pci_write32(m, a, off, (uint32_t)addr | low_bits);
    if (bar->is64)
        pci_write32(m, a, off + 4, (uint32_t)(addr >> 32));
}

int pci_window_alloc(struct pci_window *w, uint64_t size, uint64_t *addr)
{
    uint64_t a;

    if (!size || (size & (size - 1)))
        return -EINVAL;
    a = (w->next + size - 1) & ~(size - 1);
    if (a < w->next || a + size > w->limit || a + size < a)
        return -ENOSPC;
    w->next = a + size;
    *addr = a;
    return 0;
}

unsigned int pci_find_cap(enum pci_method m, struct pci_addr a, uint8_t id)
{
    unsigned int off, guard = 48;

    if (!(pci_read16(m, a, PCI_STATUS) & PCI_STATUS_CAP))
        return 0;
    off = pci_read8(m, a, PCI_CAP_PTR) & 0xFC;
    while (off && guard--) {
        if (pci_read8(m, a, off) == id)
            return off;
        off = pci_read8(m, a, off + 1) & 0xFC;
    }
    return 0;
}
