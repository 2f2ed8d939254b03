/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI core for bus 0 (docs/platform.md "PCI"): type 0 functions on the
 * bus, guest config access, BAR mapping, INTx, reset, save/load. The
 * wiring on top of three lower modules: the config-space model
 * (devices/pci_cfg.h: header, write masks, BAR sizing and decode,
 * capabilities), the bus side of BARs (devices/pci_bar.h) and the BAR
 * allocator (devices/pci_alloc.h).
 *
 * A device embeds struct pci_dev, whose config space is a struct pcfg
 * (dev->cs). Generic handling covers the header (pci_cfg.h); a device
 * makes its own registers guest-writable with pci_dev_set_wmask(), or
 * handles them in ops->cfg_read/cfg_write, which run after the generic
 * handling.
 *
 * A device that sets PCI_DEV_OWNS_CONFIG in its ops (a vfio-user proxy
 * whose config space lives in a remote server) gets every config access of
 * the guest in cfg_read/cfg_write instead, and calls pci_dev_emulate_read()
 * / pci_dev_emulate_write() itself for what it virtualises (BARs, Command
 * decode bits, MSI/MSI-X), reusing the BAR machinery below.
 *
 * BARs: pci_dev_set_bar() declares a BAR (pcfg_set_bar()) and the bus_ops
 * registered while it decodes. After every config write touching Command,
 * a BAR or the ROM BAR, the bus brings every BAR mapping in line with
 * config space (devices/pci_bar.h): the core registers bar ops on the PIO
 * or MMIO bus and then calls ops->bar_map; on the way out ops->bar_unmap,
 * then unregisters. Refusals (overlap, reserved range of pci_bus_config,
 * bar_map failure) are logged once per BAR and address and retried on the
 * next Command/BAR write to any device.
 *
 * Locking: config accesses on one bus are serialized by a bus mutex; every
 * pci_dev_ops callback except save/load runs with it held and must not call
 * pci_cfg_read/pci_cfg_write/pci_register/pci_unregister. BAR handlers on
 * the address buses run without it. pci_dev_set_intx() may be called from
 * any thread (its own mutex).
 *
 * Config values cross this API as host integers (uint32_t, the low @len
 * bytes significant); config space itself is little-endian.
 */
#ifndef MINIVMM_PCI_H
#define MINIVMM_PCI_H

#include <linux/pci_regs.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/pci_alloc.h"
#include "devices/pci_bar.h"
#include "devices/pci_cfg.h"
#include "vmm/bus.h"
#include "vmm/irq.h"
#include "vmm/state.h"

#define PCI_NR_SLOTS     32
#define PCI_NR_DEVFN     256

/* pci_dev_ops.flags */
#define PCI_DEV_OWNS_CONFIG 0x1

#define PCI_BDF(bus, dev, fn) \
    ((uint16_t)(((bus) << 8) | ((dev) << 3) | (fn)))

struct pci_bus;
struct pci_dev;

struct pci_dev_ops {
    unsigned int flags; /* PCI_DEV_OWNS_CONFIG */
    /* Config read of @len (1, 2, 4) bytes at @off (naturally aligned, below
     * cs.size). Normally *@val holds the emulated value and the device may
     * change it; with PCI_DEV_OWNS_CONFIG the device must fill *@val. */
    void (*cfg_read)(struct pci_dev *dev, uint32_t off, uint32_t len,
                     uint32_t *val);
    /* Config write; normally called after the generic update. */
    void (*cfg_write)(struct pci_dev *dev, uint32_t off, uint32_t len,
                      uint32_t val);
    /* BAR @bar (0-5, PCI_ROM_BAR) was registered on its bus at @addr
     * (@size bytes): map memslots, ioeventfds. 0 or -errno (the core then
     * unregisters it and leaves it unmapped). */
    int (*bar_map)(struct pci_dev *dev, unsigned int bar, uint64_t addr,
                   uint64_t size);
    /* BAR @bar is about to leave @addr. */
    void (*bar_unmap)(struct pci_dev *dev, unsigned int bar, uint64_t addr,
                      uint64_t size);
    /* After the generic reset (Command cleared, BARs unmapped). */
    void (*reset)(struct pci_dev *dev);
    /* Device-specific state, in the node the core saves config into. */
    int (*save)(struct pci_dev *dev, void *fdt, int node);
    int (*load)(struct pci_dev *dev, const void *fdt, int node);
};

struct pci_dev {
    struct pcfg cs;                          /* config space */
    const struct pci_dev_ops *ops;
    void *opaque;                            /* the owning device */
    struct pci_bar bars[PCI_NR_BAR_SLOTS];   /* bus side (pci_bar.h) */
    /* Owned by the core. */
    struct pci_bus *bus;                     /* set by pci_register() */
    uint8_t devfn;
    bool intx_level;                         /* device's INTx input */
    bool intx_disabled;                      /* Command.INTx Disable */
    bool intx_asserted;                      /* counted on its GSI */
};

struct pci_bus_config {
    struct bus *mmio;        /* memory BARs, the ROM */
    struct bus *pio;         /* I/O BARs */
    struct irq_chip irq;     /* INTx; irq.ops == NULL: no INTx */
    uint32_t intx_gsi_base;  /* slot S pin P (INTA = 0): base + (S+P) % 4 */
    /* Firmware's job: with assign_bars, pci_register() places every BAR
     * and the ROM of the function in @windows (devices/pci_alloc.h), by
     * config writes as firmware would make them (so a device owning its
     * config sees them), then sets Command I/O and/or Memory for the
     * spaces it has BARs in (not Bus Master; the ROM stays disabled). A
     * BAR that finds no room is logged and left at 0. */
    bool assign_bars;
    struct pci_alloc_config windows;
    struct pci_reserved reserved[PCI_MAX_RESERVED];
    unsigned int nreserved;
};

/* Create an empty bus 0. @cfg is copied; the buses must outlive it.
 * 0, -EINVAL, -ENOMEM. */
int pci_bus_create(const struct pci_bus_config *cfg, struct pci_bus **out);
/* Devices still registered are unregistered (BARs unmapped). */
void pci_bus_destroy(struct pci_bus *bus);

/* Set up @dev: header from @info, masks, no BARs, no capabilities.
 * @ops may be NULL (pure header). 0 or -EINVAL (bad pin; owner of config
 * without cfg_read and cfg_write). */
int pci_dev_init(struct pci_dev *dev, const struct pci_dev_info *info,
                 const struct pci_dev_ops *ops, void *opaque);

/* Declare BAR @idx (0-5, or PCI_ROM_BAR with PCI_BAR_ROM) of @size bytes,
 * a power of two (I/O: 4 B..64 KiB; MEM32, ROM: 16 B / 2 KiB..2 GiB;
 * MEM64: 16 B..2^63). @ops/@opaque are registered on the bus while it is
 * decoded. Before pci_register() only. 0, -EINVAL, -EBUSY. */
int pci_dev_set_bar(struct pci_dev *dev, unsigned int idx, unsigned int type,
                    uint64_t size, const struct bus_ops *ops, void *opaque);

/* Put @dev on function 0 of the first free slot from 1 up, or of @slot
 * (0-31). Sets Interrupt Line to the pin's GSI. 0, -EBUSY (slot taken),
 * -ENOSPC (bus full), -EINVAL (already registered, bad slot). */
int pci_register(struct pci_bus *bus, struct pci_dev *dev);
int pci_register_slot(struct pci_bus *bus, struct pci_dev *dev,
                      unsigned int slot);
/* Unmap its BARs, drop its INTx, remove it. No-op if not registered. */
void pci_unregister(struct pci_dev *dev);

/* Guest config access to @bdf (PCI_BDF()): @len 1, 2 or 4 bytes at @off,
 * naturally aligned, @off + @len <= 4096; @data is little-endian. Returns
 * 0; -ENODEV for an absent function (reads all-ones, write ignored);
 * -EINVAL for a bad access or @off beyond the function's config space
 * (same effect). */
int pci_cfg_read(struct pci_bus *bus, uint16_t bdf, uint32_t off,
                 void *data, uint32_t len);
int pci_cfg_write(struct pci_bus *bus, uint16_t bdf, uint32_t off,
                  const void *data, uint32_t len);

/* Reset every function: Command and error Status bits cleared, BAR and ROM
 * addresses zeroed (BARs unmapped), INTx Status cleared, then ops->reset. */
void pci_bus_reset(struct pci_bus *bus);

/* The generic config handling, for PCI_DEV_OWNS_CONFIG devices (call from
 * inside cfg_read/cfg_write only: they expect the bus mutex held). */
void pci_dev_emulate_read(struct pci_dev *dev, uint32_t off, uint32_t len,
                          uint32_t *val);
void pci_dev_emulate_write(struct pci_dev *dev, uint32_t off, uint32_t len,
                           uint32_t val);

/* Drive the function's INTx input. The pin is asserted while @level and
 * Command.INTx Disable is clear; Status.Interrupt Status follows @level.
 * Lines shared by several functions are ORed. */
void pci_dev_set_intx(struct pci_dev *dev, bool level);
/* GSI of the function's pin (valid once registered with a pin). */
uint32_t pci_dev_intx_gsi(const struct pci_dev *dev);

/* Save/load the config image and INTx level, then ops->save/load, into
 * one node; opaque = struct pci_dev *. load refuses a snapshot of another
 * device (IDs, class, header type) and keeps BAR type bits. */
int pci_dev_save(struct pci_dev *dev, void *fdt, int node);
int pci_dev_load(struct pci_dev *dev, const void *fdt, int node);
extern const struct state_ops pci_dev_state_ops;

/* Config space of @dev through the model (devices/pci_cfg.h): capability
 * lists, write masks and little-endian image accessors, as devices use
 * them before and after registration (bus lock held once registered). */
static inline int pci_add_capability(struct pci_dev *dev, uint8_t id,
                                     uint8_t size)
{
    return pcfg_add_cap(&dev->cs, id, size);
}

static inline int pci_find_capability(const struct pci_dev *dev, uint8_t id)
{
    return pcfg_find_cap(&dev->cs, id);
}

static inline int pci_add_ext_capability(struct pci_dev *dev, uint16_t id,
                                         uint8_t version, uint16_t size)
{
    return pcfg_add_ext_cap(&dev->cs, id, version, size);
}

static inline int pci_find_ext_capability(const struct pci_dev *dev,
                                          uint16_t id)
{
    return pcfg_find_ext_cap(&dev->cs, id);
}

static inline void pci_dev_set_wmask(struct pci_dev *dev, uint32_t off,
                                     uint32_t len, uint32_t mask)
{
    pcfg_set_wmask(&dev->cs, off, len, mask);
}

static inline uint32_t pci_cfg_get(const struct pci_dev *dev, uint32_t off,
                                   uint32_t len)
{
    return pcfg_get(&dev->cs, off, len);
}

static inline void pci_cfg_set(struct pci_dev *dev, uint32_t off,
                               uint32_t len, uint32_t v)
{
    pcfg_set(&dev->cs, off, len, v);
}

static inline bool pci_cfg_overlaps(uint32_t off, uint32_t len,
                                    uint32_t start, uint32_t size)
{
    return pcfg_overlaps(off, len, start, size);
}

#endif
