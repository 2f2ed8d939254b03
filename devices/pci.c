/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI core for bus 0 (see pci.h): registration, guest config access
 * through the config-space model (pci_cfg.c), BAR mapping through
 * pci_bar.c, firmware BAR placement, INTx, reset, save/load. */
#include "devices/pci.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PCI_NR_INTX_LINES 4

struct pci_bus {
    pthread_mutex_t lock;     /* config access, registration, BAR maps */
    pthread_mutex_t irq_lock; /* INTx state of every function */
    struct pci_bus_config cfg;
    struct pci_bar_space space; /* from cfg */
    struct pci_alloc alloc;   /* cfg.assign_bars */
    struct pci_dev *devs[PCI_NR_DEVFN];
    unsigned int intx_count[PCI_NR_INTX_LINES]; /* asserting functions */
};

int pci_bus_create(const struct pci_bus_config *cfg, struct pci_bus **out)
{
    struct pci_bus *bus;

    if (!cfg->mmio || !cfg->pio || (cfg->irq.ops && !cfg->irq.ops->set_level))
        return -EINVAL;
    if (cfg->nreserved > PCI_MAX_RESERVED)
        return -EINVAL;
    bus = calloc(1, sizeof(*bus));
    if (!bus)
        return -ENOMEM;
    if (cfg->assign_bars && pci_alloc_init(&bus->alloc, &cfg->windows)) {
        free(bus);
        return -EINVAL;
    }
    pthread_mutex_init(&bus->lock, NULL);
    pthread_mutex_init(&bus->irq_lock, NULL);
    bus->cfg = *cfg;
    bus->space.mmio = cfg->mmio;
    bus->space.pio = cfg->pio;
    memcpy(bus->space.reserved, cfg->reserved, sizeof(cfg->reserved));
    bus->space.nreserved = cfg->nreserved;
    *out = bus;
    return 0;
}

void pci_bus_destroy(struct pci_bus *bus)
{
    if (!bus)
        return;
    for (unsigned int d = 0; d < PCI_NR_DEVFN; d++)
        if (bus->devs[d])
            pci_unregister(bus->devs[d]);
    pthread_mutex_destroy(&bus->irq_lock);
    pthread_mutex_destroy(&bus->lock);
    free(bus);
}

int pci_dev_init(struct pci_dev *dev, const struct pci_dev_info *info,
                 const struct pci_dev_ops *ops, void *opaque)
{
    int r;

    if (ops && (ops->flags & PCI_DEV_OWNS_CONFIG) &&
        (!ops->cfg_read || !ops->cfg_write))
        return -EINVAL;
    memset(dev, 0, sizeof(*dev));
    r = pcfg_init(&dev->cs, info);
    if (r < 0)
        return r;
    dev->ops = ops;
    dev->opaque = opaque;
    return 0;
}

int pci_dev_set_bar(struct pci_dev *dev, unsigned int idx, unsigned int type,
                    uint64_t size, const struct bus_ops *ops, void *opaque)
{
    int r;

    if (dev->bus)
        return -EBUSY;
    r = pcfg_set_bar(&dev->cs, idx, type, size);
    if (r == 0)
        dev->bars[idx] = (struct pci_bar){ .ops = ops, .opaque = opaque };
    return r;
}

/* --- BAR mapping (pci_bar.c) ------------------------------------------- */

static int pci_hook_map(void *owner, unsigned int bar, uint64_t addr,
                        uint64_t size)
{
    struct pci_dev *dev = owner;

    if (!dev->ops || !dev->ops->bar_map)
        return 0;
    return dev->ops->bar_map(dev, bar, addr, size);
}

static void pci_hook_unmap(void *owner, unsigned int bar, uint64_t addr,
                           uint64_t size)
{
    struct pci_dev *dev = owner;

    if (dev->ops && dev->ops->bar_unmap)
        dev->ops->bar_unmap(dev, bar, addr, size);
}

static const struct pci_bar_hooks pci_hooks = {
    .map = pci_hook_map,
    .unmap = pci_hook_unmap,
};

static struct pci_bar_fn pci_fn(struct pci_dev *dev)
{
    return (struct pci_bar_fn){ .cs = &dev->cs, .bars = dev->bars,
                                .devfn = dev->devfn, .hooks = &pci_hooks,
                                .owner = dev };
}

/* Bring every BAR mapping of @bus in line with config space: unmap what
 * moved or lost decode, then map what is decoded. Bus lock held. */
static void pci_bars_update(struct pci_bus *bus)
{
    struct pci_bar_fn fn;

    for (unsigned int d = 0; d < PCI_NR_DEVFN; d++) {
        if (!bus->devs[d])
            continue;
        fn = pci_fn(bus->devs[d]);
        pci_bars_unmap_stale(&bus->space, &fn);
    }
    for (unsigned int d = 0; d < PCI_NR_DEVFN; d++) {
        if (!bus->devs[d])
            continue;
        fn = pci_fn(bus->devs[d]);
        pci_bars_map(&bus->space, &fn);
    }
}

static uint32_t pci_intx_line(const struct pci_dev *dev)
{
    unsigned int pin = dev->cs.cfg[PCI_INTERRUPT_PIN];

    return ((dev->devfn >> 3) + pin - 1) % PCI_NR_INTX_LINES;
}

uint32_t pci_dev_intx_gsi(const struct pci_dev *dev)
{
    return dev->bus->cfg.intx_gsi_base + pci_intx_line(dev);
}

/* Recount @dev's contribution to its line. irq_lock held. */
static void pci_intx_sync(struct pci_bus *bus, struct pci_dev *dev,
                          bool present)
{
    bool want = present && dev->intx_level && !dev->intx_disabled &&
                dev->cs.cfg[PCI_INTERRUPT_PIN];
    uint32_t line;
    unsigned int before;

    if (want == dev->intx_asserted)
        return;
    dev->intx_asserted = want;
    line = pci_intx_line(dev);
    before = bus->intx_count[line];
    bus->intx_count[line] += want ? 1 : -1;
    if (bus->cfg.irq.ops && !before != !bus->intx_count[line])
        irq_set_level(&bus->cfg.irq, bus->cfg.intx_gsi_base + line,
                      bus->intx_count[line] != 0);
}

void pci_dev_set_intx(struct pci_dev *dev, bool level)
{
    struct pci_bus *bus = __atomic_load_n(&dev->bus, __ATOMIC_ACQUIRE);

    if (!bus) {
        __atomic_store_n(&dev->intx_level, level, __ATOMIC_RELEASE);
        return;
    }
    pthread_mutex_lock(&bus->irq_lock);
    __atomic_store_n(&dev->intx_level, level, __ATOMIC_RELEASE);
    /* Unregistered meanwhile: its line was already dropped. */
    if (__atomic_load_n(&dev->bus, __ATOMIC_ACQUIRE) == bus)
        pci_intx_sync(bus, dev, true);
    pthread_mutex_unlock(&bus->irq_lock);
}

/* Command.INTx Disable changed, or the function joins (@present) or leaves
 * the bus (then dev->bus is cleared here, under irq_lock). */
static void pci_intx_refresh(struct pci_dev *dev, bool present)
{
    struct pci_bus *bus = dev->bus;

    pthread_mutex_lock(&bus->irq_lock);
    dev->intx_disabled =
        pci_cfg_get(dev, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
    pci_intx_sync(bus, dev, present);
    if (!present)
        __atomic_store_n(&dev->bus, NULL, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&bus->irq_lock);
}

/* A config write of @len bytes at @off as the guest would make it (the
 * generic emulation, then ops->cfg_write). Bus lock held. */
static void pci_dev_write(struct pci_dev *dev, uint32_t off, uint32_t len,
                          uint32_t val)
{
    if (!dev->ops || !(dev->ops->flags & PCI_DEV_OWNS_CONFIG))
        pci_dev_emulate_write(dev, off, len, val);
    if (dev->ops && dev->ops->cfg_write)
        dev->ops->cfg_write(dev, off, len, val);
}

/* Firmware's placement (pci_bus_config.assign_bars): program @dev's BARs
 * as firmware would (low dword, then the high one of a 64-bit BAR), then
 * enable decoding. Bus lock held, @dev on the bus. */
static void pci_bars_assign(struct pci_dev *dev)
{
    struct pci_bus *bus = dev->bus;
    struct pci_bar_plan plan;

    if (!bus->cfg.assign_bars)
        return;
    pci_bars_plan(&bus->alloc, &dev->cs, dev->devfn, &plan);
    for (unsigned int k = 0; k < plan.n; k++) {
        unsigned int idx = plan.idx[k];
        uint32_t reg = pcfg_bar_reg(idx);

        pci_dev_write(dev, reg, 4, (uint32_t)plan.addr[k]);
        if ((dev->cs.bar[idx].type & PCI_BAR_TYPE) == PCI_BAR_MEM64)
            pci_dev_write(dev, reg + 4, 4, (uint32_t)(plan.addr[k] >> 32));
    }
    if (plan.cmd)
        pci_dev_write(dev, PCI_COMMAND, 2,
                      pci_cfg_get(dev, PCI_COMMAND, 2) | plan.cmd);
}

int pci_register_slot(struct pci_bus *bus, struct pci_dev *dev,
                      unsigned int slot)
{
    uint8_t pin = dev->cs.cfg[PCI_INTERRUPT_PIN];

    if (slot >= PCI_NR_SLOTS || dev->bus)
        return -EINVAL;
    pthread_mutex_lock(&bus->lock);
    if (bus->devs[slot << 3]) {
        pthread_mutex_unlock(&bus->lock);
        return -EBUSY;
    }
    dev->devfn = (uint8_t)(slot << 3);
    if (pin)
        dev->cs.cfg[PCI_INTERRUPT_LINE] =
            (uint8_t)(bus->cfg.intx_gsi_base + (slot + pin - 1) % 4);
    bus->devs[dev->devfn] = dev;
    __atomic_store_n(&dev->bus, bus, __ATOMIC_RELEASE);
    pci_bars_assign(dev);
    pci_bars_update(bus);
    pci_intx_refresh(dev, true);
    pthread_mutex_unlock(&bus->lock);
    return 0;
}

int pci_register(struct pci_bus *bus, struct pci_dev *dev)
{
    for (unsigned int slot = 1; slot < PCI_NR_SLOTS; slot++) {
        int r = pci_register_slot(bus, dev, slot);

        if (r != -EBUSY)
            return r;
    }
    return -ENOSPC;
}

void pci_unregister(struct pci_dev *dev)
{
    struct pci_bus *bus = dev->bus;
    struct pci_bar_fn fn;

    if (!bus)
        return;
    pthread_mutex_lock(&bus->lock);
    fn = pci_fn(dev);
    pci_bars_unmap(&bus->space, &fn);
    bus->devs[dev->devfn] = NULL;
    pci_intx_refresh(dev, false); /* clears dev->bus */
    pthread_mutex_unlock(&bus->lock);
}

void pci_dev_emulate_read(struct pci_dev *dev, uint32_t off, uint32_t len,
                          uint32_t *val)
{
    *val = pcfg_read(&dev->cs, off, len);
    if (off <= PCI_STATUS && PCI_STATUS < off + len &&
        __atomic_load_n(&dev->intx_level, __ATOMIC_ACQUIRE))
        *val |= (uint32_t)PCI_STATUS_INTERRUPT << (8 * (PCI_STATUS - off));
}

void pci_dev_emulate_write(struct pci_dev *dev, uint32_t off, uint32_t len,
                           uint32_t val)
{
    unsigned int chg = pcfg_write(&dev->cs, off, len, val);

    if (!dev->bus)
        return;
    if (chg & PCFG_CHG_DECODE)
        pci_bars_update(dev->bus);
    if (chg & PCFG_CHG_INTX)
        pci_intx_refresh(dev, true);
}

/* The function an access goes to, or NULL with -ENODEV/-EINVAL in @err. */
static struct pci_dev *pci_lookup(struct pci_bus *bus, uint16_t bdf,
                                  uint32_t off, uint32_t len, int *err)
{
    struct pci_dev *dev;

    *err = -EINVAL;
    if ((len != 1 && len != 2 && len != 4) || (off & (len - 1)) ||
        off + len > PCI_CFG_SPACE_EXP_SIZE)
        return NULL;
    *err = -ENODEV;
    dev = (bdf >> 8) ? NULL : bus->devs[bdf & 0xFF];
    if (!dev)
        return NULL;
    *err = -EINVAL;
    return off + len <= dev->cs.size ? dev : NULL;
}

int pci_cfg_read(struct pci_bus *bus, uint16_t bdf, uint32_t off,
                 void *data, uint32_t len)
{
    uint32_t val = 0xFFFFFFFF;
    struct pci_dev *dev;
    int r = 0;

    pthread_mutex_lock(&bus->lock);
    dev = pci_lookup(bus, bdf, off, len, &r);
    if (dev && dev->ops && (dev->ops->flags & PCI_DEV_OWNS_CONFIG)) {
        dev->ops->cfg_read(dev, off, len, &val);
    } else if (dev) {
        pci_dev_emulate_read(dev, off, len, &val);
        if (dev->ops && dev->ops->cfg_read)
            dev->ops->cfg_read(dev, off, len, &val);
    }
    pthread_mutex_unlock(&bus->lock);
    if (!dev) {
        memset(data, 0xFF, len);
        return r;
    }
    le_store(data, len, val);
    return 0;
}

int pci_cfg_write(struct pci_bus *bus, uint16_t bdf, uint32_t off,
                  const void *data, uint32_t len)
{
    struct pci_dev *dev;
    int r = 0;

    pthread_mutex_lock(&bus->lock);
    dev = pci_lookup(bus, bdf, off, len, &r);
    if (dev)
        pci_dev_write(dev, off, len, (uint32_t)le_load(data, len));
    pthread_mutex_unlock(&bus->lock);
    return dev ? 0 : r;
}

void pci_bus_reset(struct pci_bus *bus)
{
    pthread_mutex_lock(&bus->lock);
    for (unsigned int d = 0; d < PCI_NR_DEVFN; d++) {
        struct pci_dev *dev = bus->devs[d];

        if (!dev)
            continue;
        pcfg_reset(&dev->cs);
        __atomic_store_n(&dev->intx_level, false, __ATOMIC_RELEASE);
        pci_intx_refresh(dev, true);
    }
    pci_bars_update(bus);
    for (unsigned int d = 0; d < PCI_NR_DEVFN; d++)
        if (bus->devs[d] && bus->devs[d]->ops && bus->devs[d]->ops->reset)
            bus->devs[d]->ops->reset(bus->devs[d]);
    pthread_mutex_unlock(&bus->lock);
}

/* Lock the function's bus (if any) around save/load. */
static struct pci_bus *pci_dev_lock(struct pci_dev *dev)
{
    struct pci_bus *bus = dev->bus;

    if (bus)
        pthread_mutex_lock(&bus->lock);
    return bus;
}

static void pci_dev_unlock(struct pci_bus *bus)
{
    if (bus)
        pthread_mutex_unlock(&bus->lock);
}

int pci_dev_save(struct pci_dev *dev, void *fdt, int node)
{
    struct pci_bus *bus = pci_dev_lock(dev);
    bool level = __atomic_load_n(&dev->intx_level, __ATOMIC_ACQUIRE);
    int r;

    r = state_put_bytes(fdt, node, "config", dev->cs.cfg,
                        dev->cs.size);
    if (r == 0)
        r = state_put_u32(fdt, node, "intx-level", level);
    pci_dev_unlock(bus);
    if (r == 0 && dev->ops && dev->ops->save)
        r = dev->ops->save(dev, fdt, node);
    return r;
}

int pci_dev_load(struct pci_dev *dev, const void *fdt, int node)
{
    uint8_t *cfg = malloc(PCI_CFG_SPACE_EXP_SIZE);
    struct pci_bus *bus;
    uint32_t level;
    int r;

    if (!cfg)
        return -ENOMEM;
    r = state_get_bytes(fdt, node, "config", cfg, dev->cs.size);
    if (r == 0)
        r = state_get_u32(fdt, node, "intx-level", &level);
    if (r == 0 && (level > 1 || !pcfg_same_identity(&dev->cs, cfg)))
        r = -EINVAL;
    if (r < 0)
        goto out;
    bus = pci_dev_lock(dev);
    pcfg_take_image(&dev->cs, cfg);
    __atomic_store_n(&dev->intx_level, level != 0, __ATOMIC_RELEASE);
    if (bus) {
        pci_bars_update(bus);
        pci_intx_refresh(dev, true);
    }
    pci_dev_unlock(bus);
    if (dev->ops && dev->ops->load)
        r = dev->ops->load(dev, fdt, node);
out:
    free(cfg);
    return r;
}

static int pci_dev_state_save(void *opaque, void *fdt, int node)
{
    return pci_dev_save(opaque, fdt, node);
}

static int pci_dev_state_load(void *opaque, const void *fdt, int node)
{
    return pci_dev_load(opaque, fdt, node);
}

const struct state_ops pci_dev_state_ops = {
    .save = pci_dev_state_save,
    .load = pci_dev_state_load,
};
