/* PCI BAR emulation (see pci.h): declaration, decode, and keeping the
 * address buses in line with what the guest programmed. Encoding per PCI
 * Local Bus 3.0 §6.2.5.1 (BARs) and §6.2.5.2 (Expansion ROM BAR). */
#include "devices/pci_priv.h"

#include <errno.h>

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
        a = lo & PCI_BASE_ADDRESS_IO_MASK;
        limit = 1ULL << 16;
        break;
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

static void pci_bar_map(struct pci_dev *dev, unsigned int idx, uint64_t addr)
{
    struct pci_bar *bar = &dev->bars[idx];
    struct bus *space = pci_bar_space(dev->bus, bar);

    if (bar->ops &&
        bus_register(space, addr, bar->size, bar->ops, bar->opaque) < 0)
        return;
    if (dev->ops && dev->ops->bar_map &&
        dev->ops->bar_map(dev, idx, addr, bar->size) < 0) {
        if (bar->ops)
            bus_unregister(space, addr);
        return;
    }
    bar->mapped = true;
    bar->addr = addr;
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
