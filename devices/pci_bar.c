/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI BAR emulation (see pci.h): declaration, decode, and keeping the
 * address buses in line with what the guest programmed. Encoding per PCI
 * Local Bus 3.0 §6.2.5.1 (BARs) and §6.2.5.2 (Expansion ROM BAR). */
#include "devices/pci_priv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool pci_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static int pci_bar_check(const struct pci_dev *dev, unsigned int idx,
                         unsigned int type, uint64_t size)
{
    unsigned int t = type & PCI_BAR_TYPE;
    bool pf = type & PCI_BAR_PREFETCH;

    if (idx >= PCI_NR_BAR_SLOTS || (idx == PCI_ROM_BAR) != (t == PCI_BAR_ROM))
        return -EINVAL;
    if (!pci_pow2(size) || (type & ~(PCI_BAR_TYPE | PCI_BAR_PREFETCH)))
        return -EINVAL;
    if (dev->bars[idx].type != PCI_BAR_NONE ||
        (idx > 0 && idx < PCI_ROM_BAR &&
         (dev->bars[idx - 1].type & PCI_BAR_TYPE) == PCI_BAR_MEM64))
        return -EBUSY;
    switch (t) {
    case PCI_BAR_IO:
        return !pf && size >= 4 && size <= 0x10000 ? 0 : -EINVAL;
    case PCI_BAR_MEM32:
        return size >= 16 && size <= (1ULL << 31) ? 0 : -EINVAL;
    case PCI_BAR_MEM64:
        if (idx + 1 >= PCI_STD_NUM_BARS)
            return -EINVAL;
        if (dev->bars[idx + 1].type != PCI_BAR_NONE)
            return -EBUSY;
        return size >= 16 && size <= (1ULL << 63) ? 0 : -EINVAL;
    case PCI_BAR_ROM:
        return !pf && size >= 2048 && size <= (1ULL << 31) ? 0 : -EINVAL;
    default:
        return -EINVAL;
    }
}

int pci_dev_set_bar(struct pci_dev *dev, unsigned int idx, unsigned int type,
                    uint64_t size, const struct bus_ops *ops, void *opaque)
{
    uint32_t reg = pci_bar_reg(idx), flags = 0;
    uint64_t mask = ~(size - 1);
    int r;

    if (dev->bus)
        return -EBUSY;
    r = pci_bar_check(dev, idx, type, size);
    if (r < 0)
        return r;
    dev->bars[idx] = (struct pci_bar){ .type = type, .size = size,
                                       .ops = ops, .opaque = opaque };
    if (type & PCI_BAR_PREFETCH)
        flags |= PCI_BASE_ADDRESS_MEM_PREFETCH;
    switch (type & PCI_BAR_TYPE) {
    case PCI_BAR_IO:
        pci_cfg_set(dev, reg, 4, PCI_BASE_ADDRESS_SPACE_IO);
        pci_dev_set_wmask(dev, reg, 4, (uint32_t)mask & ~3u);
        break;
    case PCI_BAR_MEM32:
        pci_cfg_set(dev, reg, 4, flags | PCI_BASE_ADDRESS_MEM_TYPE_32);
        pci_dev_set_wmask(dev, reg, 4, (uint32_t)mask & ~0xFu);
        break;
    case PCI_BAR_MEM64:
        pci_cfg_set(dev, reg, 4, flags | PCI_BASE_ADDRESS_MEM_TYPE_64);
        pci_dev_set_wmask(dev, reg, 4, (uint32_t)mask & ~0xFu);
        pci_cfg_set(dev, reg + 4, 4, 0);
        pci_dev_set_wmask(dev, reg + 4, 4, (uint32_t)(mask >> 32));
        break;
    default: /* ROM */
        pci_cfg_set(dev, reg, 4, 0);
        pci_dev_set_wmask(dev, reg, 4,
                          ((uint32_t)mask & PCI_ROM_ADDRESS_MASK) |
                              PCI_ROM_ADDRESS_ENABLE);
        break;
    }
    return 0;
}

/* Whether BAR @idx decodes now, and where. */
static bool pci_bar_decoded(const struct pci_dev *dev, unsigned int idx,
                            uint64_t *addr)
{
    const struct pci_bar *bar = &dev->bars[idx];
    uint32_t cmd = pci_cfg_get(dev, PCI_COMMAND, 2);
    uint32_t lo = pci_cfg_get(dev, pci_bar_reg(idx), 4);
    uint64_t a, limit = 1ULL << 32; /* 0: 2^64 */

    switch (bar->type & PCI_BAR_TYPE) {
    case PCI_BAR_IO:
        if (!(cmd & PCI_COMMAND_IO))
            return false;
        /* Within the 64 KiB port space, the top slot included (sizing
         * leaves bits 31:16 set, so it cannot look like an address). */
        a = lo & PCI_BASE_ADDRESS_IO_MASK;
        if (a == 0 || a + bar->size > (1ULL << 16))
            return false;
        *addr = a;
        return true;
    case PCI_BAR_MEM32:
    case PCI_BAR_MEM64:
        if (!(cmd & PCI_COMMAND_MEMORY))
            return false;
        a = lo & PCI_BASE_ADDRESS_MEM_MASK;
        if ((bar->type & PCI_BAR_TYPE) == PCI_BAR_MEM64) {
            a |= (uint64_t)pci_cfg_get(dev, pci_bar_reg(idx) + 4, 4) << 32;
            limit = 0;
        }
        break;
    case PCI_BAR_ROM:
        if (!(cmd & PCI_COMMAND_MEMORY) || !(lo & PCI_ROM_ADDRESS_ENABLE))
            return false;
        a = lo & PCI_ROM_ADDRESS_MASK;
        break;
    default:
        return false;
    }
    /* Not 0, and ending strictly below the top of the space: that rules
     * out the all-ones sizing pattern. */
    if (a == 0 || a >= limit - bar->size)
        return false;
    *addr = a;
    return true;
}

static struct bus *pci_bar_space(const struct pci_bus *bus,
                                 const struct pci_bar *bar)
{
    return (bar->type & PCI_BAR_TYPE) == PCI_BAR_IO ? bus->cfg.pio
                                                      : bus->cfg.mmio;
}

static const char *pci_bar_name(unsigned int idx, char buf[8])
{
    if (idx == PCI_ROM_BAR)
        return "ROM";
    snprintf(buf, 8, "BAR %u", idx);
    return buf;
}

/* A placement of BAR @idx at @addr is refused: say so once per address. */
static void pci_bar_refuse(struct pci_dev *dev, unsigned int idx,
                           uint64_t addr, const char *why)
{
    struct pci_bar *bar = &dev->bars[idx];
    char name[8];

    if (bar->refused && bar->refused_addr == addr)
        return;
    bar->refused = true;
    bar->refused_addr = addr;
    fprintf(stderr, "minivmm: pci 00:%02x.%x %s at %#llx (%#llx bytes) "
            "not mapped: %s\n", dev->devfn >> 3, dev->devfn & 7,
            pci_bar_name(idx, name), (unsigned long long)addr,
            (unsigned long long)bar->size, why);
}

/* The reserved range a memory BAR at @addr would overlap, or NULL. */
static const char *pci_bar_reserved(const struct pci_bus *bus,
                                    const struct pci_bar *bar, uint64_t addr)
{
    if ((bar->type & PCI_BAR_TYPE) == PCI_BAR_IO)
        return NULL;
    for (unsigned int i = 0; i < bus->cfg.nreserved; i++) {
        const struct pci_reserved *r = &bus->cfg.reserved[i];

        if (r->size && addr < r->base + r->size && r->base < addr + bar->size)
            return r->what;
    }
    return NULL;
}

static void pci_bar_map(struct pci_dev *dev, unsigned int idx, uint64_t addr)
{
    struct pci_bar *bar = &dev->bars[idx];
    struct bus *space = pci_bar_space(dev->bus, bar);
    const char *what = pci_bar_reserved(dev->bus, bar, addr);
    char why[96];
    int r;

    if (what) {
        snprintf(why, sizeof(why), "overlaps %s", what);
        pci_bar_refuse(dev, idx, addr, why);
        return;
    }
    if (bar->ops &&
        (r = bus_register(space, addr, bar->size, bar->ops, bar->opaque))) {
        snprintf(why, sizeof(why), "%s",
                 r == -EEXIST || r == -EBUSY
                     ? "overlaps another mapping on its bus" : strerror(-r));
        pci_bar_refuse(dev, idx, addr, why);
        return;
    }
    if (dev->ops && dev->ops->bar_map &&
        (r = dev->ops->bar_map(dev, idx, addr, bar->size)) < 0) {
        if (bar->ops)
            bus_unregister(space, addr);
        snprintf(why, sizeof(why), "device refused it: %s", strerror(-r));
        pci_bar_refuse(dev, idx, addr, why);
        return;
    }
    bar->mapped = true;
    bar->addr = addr;
    bar->refused = false;
}

static void pci_bar_unmap(struct pci_dev *dev, unsigned int idx)
{
    struct pci_bar *bar = &dev->bars[idx];

    if (!bar->mapped)
        return;
    if (dev->ops && dev->ops->bar_unmap)
        dev->ops->bar_unmap(dev, idx, bar->addr, bar->size);
    if (bar->ops)
        bus_unregister(pci_bar_space(dev->bus, bar), bar->addr);
    bar->mapped = false;
}

void pci_bars_unmap(struct pci_dev *dev)
{
    for (unsigned int i = 0; i < PCI_NR_BAR_SLOTS; i++)
        pci_bar_unmap(dev, i);
}

void pci_bars_update(struct pci_bus *bus)
{
    uint64_t addr;

    for (unsigned int d = 0; d < PCI_NR_DEVFN; d++) {
        struct pci_dev *dev = bus->devs[d];

        for (unsigned int i = 0; dev && i < PCI_NR_BAR_SLOTS; i++) {
            bool on = pci_bar_decoded(dev, i, &addr);

            if (dev->bars[i].mapped && (!on || addr != dev->bars[i].addr))
                pci_bar_unmap(dev, i);
        }
    }
    for (unsigned int d = 0; d < PCI_NR_DEVFN; d++) {
        struct pci_dev *dev = bus->devs[d];

        for (unsigned int i = 0; dev && i < PCI_NR_BAR_SLOTS; i++)
            if (!dev->bars[i].mapped && pci_bar_decoded(dev, i, &addr))
                pci_bar_map(dev, i, addr);
    }
}

/* Write BAR @idx's address as firmware would (low dword, then the high
 * one of a 64-bit BAR; the type bits are read-only). */
static void pci_bar_program(struct pci_dev *dev, unsigned int idx,
                            uint64_t addr)
{
    uint32_t reg = pci_bar_reg(idx);

    pci_dev_write(dev, reg, 4, (uint32_t)addr);
    if ((dev->bars[idx].type & PCI_BAR_TYPE) == PCI_BAR_MEM64)
        pci_dev_write(dev, reg + 4, 4, (uint32_t)(addr >> 32));
}

/* @dev's declared BAR slots, largest first (fewest alignment gaps). */
static unsigned int pci_bars_by_size(const struct pci_dev *dev,
                                     unsigned int order[PCI_NR_BAR_SLOTS])
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < PCI_NR_BAR_SLOTS; i++) {
        unsigned int j = n++;

        if (dev->bars[i].type == PCI_BAR_NONE) {
            n--;
            continue;
        }
        for (; j > 0 && dev->bars[order[j - 1]].size < dev->bars[i].size; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    return n;
}

unsigned int pci_bars_assign(struct pci_dev *dev)
{
    struct pci_bus *bus = dev->bus;
    unsigned int order[PCI_NR_BAR_SLOTS];
    unsigned int n = pci_bars_by_size(dev, order);
    uint32_t cmd = 0;
    uint64_t addr;
    char name[8];
    unsigned int failed = 0;

    if (!bus->cfg.assign_bars)
        return 0;
    for (unsigned int k = 0; k < n; k++) {
        const struct pci_bar *bar = &dev->bars[order[k]];
        unsigned int t = bar->type & PCI_BAR_TYPE;

        if (pci_alloc_bar(&bus->alloc, bar->type, bar->size, &addr) < 0) {
            fprintf(stderr, "minivmm: pci 00:%02x.%x %s (%#llx bytes): no "
                    "room in the PCI %s window; left unassigned\n",
                    dev->devfn >> 3, dev->devfn & 7,
                    pci_bar_name(order[k], name),
                    (unsigned long long)bar->size,
                    t == PCI_BAR_IO ? "I/O" : "memory");
            failed++;
            continue;
        }
        pci_bar_program(dev, order[k], addr);
        if (t == PCI_BAR_IO)
            cmd |= PCI_COMMAND_IO;
        else if (t != PCI_BAR_ROM)
            cmd |= PCI_COMMAND_MEMORY;
    }
    if (cmd)
        pci_dev_write(dev, PCI_COMMAND, 2,
                      pci_cfg_get(dev, PCI_COMMAND, 2) | cmd);
    return failed;
}
