/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI core for bus 0 (see pci.h): config space emulation, registration,
 * guest config access, INTx, reset, save/load. The write-mask model follows
 * QEMU's hw/pci/pci.c; header layout per PCI Local Bus 3.0 §6.1-6.2. */
#include "devices/pci_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Status bits the guest clears by writing 1 (§6.2.3). */
#define PCI_STATUS_W1C                                                        \
    (PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |                        \
     PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT |              \
     PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)
#define PCI_COMMAND_WMASK                                                     \
    (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |               \
     PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

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

void pci_dev_set_wmask(struct pci_dev *dev, uint32_t off, uint32_t len,
                       uint32_t mask)
{
    for (uint32_t i = 0; i < len; i++)
        dev->wmask[off + i] = (uint8_t)(mask >> (8 * i));
}

int pci_dev_init(struct pci_dev *dev, const struct pci_dev_info *info,
                 const struct pci_dev_ops *ops, void *opaque)
{
    if (info->irq_pin > 4)
        return -EINVAL;
    if (ops && (ops->flags & PCI_DEV_OWNS_CONFIG) &&
        (!ops->cfg_read || !ops->cfg_write))
        return -EINVAL;
    memset(dev, 0, sizeof(*dev));
    dev->cfg_size = info->ext_cfg ? PCI_CFG_SPACE_EXP_SIZE
                                  : PCI_CFG_SPACE_SIZE;
    dev->ops = ops;
    dev->opaque = opaque;
    pci_cfg_set(dev, PCI_VENDOR_ID, 2, info->vendor_id);
    pci_cfg_set(dev, PCI_DEVICE_ID, 2, info->device_id);
    pci_cfg_set(dev, PCI_REVISION_ID, 1, info->revision);
    pci_cfg_set(dev, PCI_CLASS_PROG, 3, info->class_code);
    pci_cfg_set(dev, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL);
    pci_cfg_set(dev, PCI_SUBSYSTEM_VENDOR_ID, 2, info->subsys_vendor_id);
    pci_cfg_set(dev, PCI_SUBSYSTEM_ID, 2, info->subsys_id);
    pci_cfg_set(dev, PCI_INTERRUPT_PIN, 1, info->irq_pin);
    pci_dev_set_wmask(dev, PCI_COMMAND, 2, PCI_COMMAND_WMASK);
    pci_dev_set_wmask(dev, PCI_CACHE_LINE_SIZE, 1, 0xFF);
    pci_dev_set_wmask(dev, PCI_LATENCY_TIMER, 1, 0xFF);
    pci_dev_set_wmask(dev, PCI_INTERRUPT_LINE, 1, 0xFF);
    dev->w1cmask[PCI_STATUS + 1] = PCI_STATUS_W1C >> 8;
    dev->w1cmask[PCI_STATUS] = PCI_STATUS_W1C & 0xFF;
    return 0;
}

static uint32_t pci_intx_line(const struct pci_dev *dev)
{
    unsigned int pin = dev->cfg[PCI_INTERRUPT_PIN];

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
                dev->cfg[PCI_INTERRUPT_PIN];
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

/* pci_register_slot(); with @fit, a BAR that finds no room refuses the
 * registration (-ENOSPC, the function left off the bus). */
static int register_slot(struct pci_bus *bus, struct pci_dev *dev,
                         unsigned int slot, bool fit)
{
    uint8_t pin = dev->cfg[PCI_INTERRUPT_PIN];

    if (slot >= PCI_NR_SLOTS || dev->bus)
        return -EINVAL;
    pthread_mutex_lock(&bus->lock);
    if (bus->devs[slot << 3]) {
        pthread_mutex_unlock(&bus->lock);
        return -EBUSY;
    }
    dev->devfn = (uint8_t)(slot << 3);
    if (pin)
        dev->cfg[PCI_INTERRUPT_LINE] =
            (uint8_t)(bus->cfg.intx_gsi_base + (slot + pin - 1) % 4);
    bus->devs[dev->devfn] = dev;
    __atomic_store_n(&dev->bus, bus, __ATOMIC_RELEASE);
    if (pci_bars_assign(dev) && fit) {
        bus->devs[dev->devfn] = NULL;
        __atomic_store_n(&dev->bus, NULL, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&bus->lock);
        return -ENOSPC;
    }
    pci_bars_update(bus);
    pci_intx_refresh(dev, true);
    pthread_mutex_unlock(&bus->lock);
    return 0;
}

int pci_register_slot(struct pci_bus *bus, struct pci_dev *dev,
                      unsigned int slot)
{
    return register_slot(bus, dev, slot, false);
}

int pci_register(struct pci_bus *bus, struct pci_dev *dev)
{
    return pci_hotplug_register(bus, dev, 0, false);
}

int pci_hotplug_register(struct pci_bus *bus, struct pci_dev *dev,
                         unsigned int slot, bool fit)
{
    if (slot)
        return register_slot(bus, dev, slot, fit);
    for (slot = 1; slot < PCI_NR_SLOTS; slot++) {
        int r = register_slot(bus, dev, slot, fit);

        if (r != -EBUSY)
            return r;
    }
    return -ENOSPC;
}

void pci_unregister(struct pci_dev *dev)
{
    struct pci_bus *bus = dev->bus;

    if (!bus)
        return;
    pthread_mutex_lock(&bus->lock);
    pci_bars_unmap(dev);
    bus->devs[dev->devfn] = NULL;
    pci_intx_refresh(dev, false); /* clears dev->bus */
    pthread_mutex_unlock(&bus->lock);
}

void pci_dev_emulate_read(struct pci_dev *dev, uint32_t off, uint32_t len,
                          uint32_t *val)
{
    *val = pci_cfg_get(dev, off, len);
    if (off <= PCI_STATUS && PCI_STATUS < off + len &&
        __atomic_load_n(&dev->intx_level, __ATOMIC_ACQUIRE))
        *val |= (uint32_t)PCI_STATUS_INTERRUPT << (8 * (PCI_STATUS - off));
}

void pci_dev_emulate_write(struct pci_dev *dev, uint32_t off, uint32_t len,
                           uint32_t val)
{
    uint32_t old_cmd = pci_cfg_get(dev, PCI_COMMAND, 2);

    for (uint32_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint32_t o = off + i;

        dev->cfg[o] = (dev->cfg[o] & ~dev->wmask[o]) | (b & dev->wmask[o]);
        dev->cfg[o] &= ~(b & dev->w1cmask[o]);
    }
    if (!dev->bus)
        return;
    if (pci_cfg_overlaps(off, len, PCI_COMMAND, 2) ||
        pci_cfg_overlaps(off, len, PCI_BASE_ADDRESS_0, 4 * PCI_STD_NUM_BARS) ||
        pci_cfg_overlaps(off, len, PCI_ROM_ADDRESS, 4))
        pci_bars_update(dev->bus);
    if ((old_cmd ^ pci_cfg_get(dev, PCI_COMMAND, 2)) &
        PCI_COMMAND_INTX_DISABLE)
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
    return off + len <= dev->cfg_size ? dev : NULL;
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
    for (uint32_t i = 0; i < len; i++)
        ((uint8_t *)data)[i] = (uint8_t)(val >> (8 * i));
    return 0;
}

void pci_dev_write(struct pci_dev *dev, uint32_t off, uint32_t len,
                   uint32_t val)
{
    if (!dev->ops || !(dev->ops->flags & PCI_DEV_OWNS_CONFIG))
        pci_dev_emulate_write(dev, off, len, val);
    if (dev->ops && dev->ops->cfg_write)
        dev->ops->cfg_write(dev, off, len, val);
}

int pci_cfg_write(struct pci_bus *bus, uint16_t bdf, uint32_t off,
                  const void *data, uint32_t len)
{
    uint32_t val = 0;
    struct pci_dev *dev;
    int r = 0;

    pthread_mutex_lock(&bus->lock);
    dev = pci_lookup(bus, bdf, off, len, &r);
    if (dev) {
        for (uint32_t i = 0; i < len; i++)
            val |= (uint32_t)((const uint8_t *)data)[i] << (8 * i);
        pci_dev_write(dev, off, len, val);
    }
    pthread_mutex_unlock(&bus->lock);
    return dev ? 0 : r;
}

static void pci_dev_reset_regs(struct pci_dev *dev)
{
    pci_cfg_set(dev, PCI_COMMAND, 2, 0);
    pci_cfg_set(dev, PCI_STATUS, 2,
                pci_cfg_get(dev, PCI_STATUS, 2) & ~PCI_STATUS_W1C);
    for (unsigned int i = 0; i < PCI_NR_BAR_SLOTS; i++) {
        uint32_t reg = pci_bar_reg(i);

        for (uint32_t b = reg; b < reg + 4; b++)
            dev->cfg[b] &= ~dev->wmask[b];
    }
}

void pci_bus_reset(struct pci_bus *bus)
{
    pthread_mutex_lock(&bus->lock);
    for (unsigned int d = 0; d < PCI_NR_DEVFN; d++) {
        struct pci_dev *dev = bus->devs[d];

        if (!dev)
            continue;
        pci_dev_reset_regs(dev);
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

    r = state_put_bytes(fdt, node, "config", dev->cfg, dev->cfg_size);
    if (r == 0)
        r = state_put_u32(fdt, node, "intx-level", level);
    if (r == 0)
        r = state_put_u32(fdt, node, "devfn", dev->devfn);
    pci_dev_unlock(bus);
    if (r == 0 && dev->ops && dev->ops->save)
        r = dev->ops->save(dev, fdt, node);
    return r;
}

/* Identity bytes a snapshot must share with the device it is loaded into:
 * IDs, revision, class, header type, subsystem IDs, interrupt pin. */
static bool pci_same_identity(const struct pci_dev *dev, const uint8_t *cfg)
{
    static const struct {
        uint8_t off, len;
    } ids[] = { { PCI_VENDOR_ID, 4 },       { PCI_REVISION_ID, 4 },
                { PCI_HEADER_TYPE, 1 },     { PCI_SUBSYSTEM_VENDOR_ID, 4 },
                { PCI_INTERRUPT_PIN, 1 } };

    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (memcmp(dev->cfg + ids[i].off, cfg + ids[i].off, ids[i].len))
            return false;
    return true;
}

/* Take @cfg into @dev, keeping BAR type bits and the Interrupt Status bit
 * (kept outside the image) as the device defines them. Bus lock held. */
static void pci_dev_take_config(struct pci_dev *dev, const uint8_t *cfg)
{
    uint8_t old[4 * PCI_NR_BAR_SLOTS];

    for (unsigned int i = 0; i < PCI_NR_BAR_SLOTS; i++)
        memcpy(old + 4 * i, dev->cfg + pci_bar_reg(i), 4);
    memcpy(dev->cfg, cfg, dev->cfg_size);
    for (unsigned int i = 0; i < PCI_NR_BAR_SLOTS; i++) {
        uint32_t reg = pci_bar_reg(i);

        for (uint32_t b = 0; b < 4; b++)
            dev->cfg[reg + b] = (old[4 * i + b] & ~dev->wmask[reg + b]) |
                                (cfg[reg + b] & dev->wmask[reg + b]);
    }
    dev->cfg[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
}

int pci_dev_load(struct pci_dev *dev, const void *fdt, int node)
{
    uint8_t *cfg = malloc(PCI_CFG_SPACE_EXP_SIZE);
    struct pci_bus *bus;
    uint32_t level, devfn;
    int r;

    if (!cfg)
        return -ENOMEM;
    r = state_get_bytes(fdt, node, "config", cfg, dev->cfg_size);
    if (r == 0)
        r = state_get_u32(fdt, node, "intx-level", &level);
    if (r == 0 && (level > 1 || !pci_same_identity(dev, cfg)))
        r = -EINVAL;
    /* Saved at another slot (a device set given in another order): the
     * guest would look for it where it was. Older states lack it. */
    if (r == 0 && dev->bus &&
        state_get_u32(fdt, node, "devfn", &devfn) == 0 &&
        devfn != dev->devfn) {
        fprintf(stderr, "minivmm: pci 00:%02x.%x: its saved state is of "
                "slot %u: give the device slot=%u\n", dev->devfn >> 3,
                dev->devfn & 7, devfn >> 3, devfn >> 3);
        r = -EINVAL;
    }
    if (r < 0)
        goto out;
    bus = pci_dev_lock(dev);
    pci_dev_take_config(dev, cfg);
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
