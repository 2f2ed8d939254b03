/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI core for bus 0 (docs/platform.md "PCI"): configuration space of type
 * 0 functions, BAR emulation, INTx, capability lists.
 *
 * A device embeds struct pci_dev: a 4 KiB config space image plus, per
 * byte, a write mask (bits the guest may change) and a write-1-to-clear
 * mask, following QEMU's hw/pci/pci.c. Generic handling covers the header:
 * Command (I/O, Memory, Bus Master, Parity, SERR, INTx Disable), Status
 * (error bits W1C, Interrupt Status, Capabilities List), Cache Line Size,
 * Latency Timer, BARs, Expansion ROM BAR and Interrupt Line. A device makes
 * its own registers guest-writable with pci_dev_set_wmask(), or handles
 * them in ops->cfg_read/cfg_write, which run after the generic handling.
 *
 * A device that sets PCI_DEV_OWNS_CONFIG in its ops (a vfio-user proxy
 * whose config space lives in a remote server) gets every config access of
 * the guest in cfg_read/cfg_write instead, and calls pci_dev_emulate_read()
 * / pci_dev_emulate_write() itself for what it virtualises (BARs, Command
 * decode bits, MSI/MSI-X), reusing the BAR machinery below.
 *
 * BARs (PCI Local Bus 3.0 §6.2.5): pci_dev_set_bar() declares a BAR's
 * type and size; sizing (write all-ones, read back ~(size - 1) | flags) then
 * works through the write mask. A BAR is decoded when the Command register
 * enables its space (and, for the ROM, its enable bit is set) and its
 * address is non-zero and fits the space with room to spare (the all-ones
 * sizing pattern and the top slot of the 32-bit memory space never decode;
 * an I/O BAR decodes anywhere inside the 64 KiB port space). When a BAR
 * becomes decoded at an address, or moves, the core registers bar->ops on
 * the PIO (I/O BAR) or MMIO bus at that address (if bar->ops is set) and
 * then calls ops->bar_map; on the way out it calls ops->bar_unmap and then
 * unregisters. A BAR that cannot be mapped (overlap, bar_map failure) stays
 * unmapped and is retried on the next Command/BAR write to any device;
 * such a refusal (also: a memory BAR over a reserved range of
 * pci_bus_config, e.g. RAM or ECAM) is logged once per BAR and address on
 * stderr with the function's BDF.
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

#include "vmm/irq.h"
#include "devices/pci_alloc.h"
#include "vmm/bus.h"
#include "vmm/state.h"

#define PCI_NR_SLOTS     32
#define PCI_NR_DEVFN     256
#define PCI_ROM_BAR      PCI_STD_NUM_BARS /* bars[] index of the ROM */
#define PCI_NR_BAR_SLOTS (PCI_STD_NUM_BARS + 1)
#define PCI_CAP_FIRST    0x40  /* first byte after the type 0 header */

/* pci_dev_set_bar() types, optionally | PCI_BAR_PREFETCH (memory only). */
#define PCI_BAR_NONE     0
#define PCI_BAR_IO       1
#define PCI_BAR_MEM32    2
#define PCI_BAR_MEM64    3 /* uses index and index + 1 */
#define PCI_BAR_ROM      4 /* only at PCI_ROM_BAR */
#define PCI_BAR_TYPE     0xFF
#define PCI_BAR_PREFETCH 0x100

/* pci_dev_ops.flags */
#define PCI_DEV_OWNS_CONFIG 0x1

#define PCI_BDF(bus, dev, fn) \
    ((uint16_t)(((bus) << 8) | ((dev) << 3) | (fn)))

struct pci_bus;
struct pci_dev;

struct pci_bar {
    unsigned int type;          /* PCI_BAR_*; MEM64 high half: NONE */
    uint64_t size;              /* bytes, a power of two */
    const struct bus_ops *ops;  /* NULL: nothing registered on the bus */
    void *opaque;               /* for ops */
    bool mapped;                /* owned by the core: */
    uint64_t addr;              /*   where it is mapped (bus address) */
    bool refused;               /*   a placement was refused (logged) */
    uint64_t refused_addr;      /*   at this address */
};

struct pci_dev_ops {
    unsigned int flags; /* PCI_DEV_OWNS_CONFIG */
    /* Config read of @len (1, 2, 4) bytes at @off (naturally aligned, below
     * cfg_size). Normally *@val holds the emulated value and the device may
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

struct pci_dev_info {
    uint16_t vendor_id;
    uint16_t device_id;
    uint16_t subsys_vendor_id;
    uint16_t subsys_id;
    uint32_t class_code;    /* base << 16 | sub-class << 8 | prog-if */
    uint8_t revision;
    uint8_t irq_pin;        /* 0: none, 1..4: INTA..INTD */
    bool ext_cfg;           /* 4 KiB (PCIe) config space, else 256 bytes */
};

struct pci_dev {
    uint8_t cfg[PCI_CFG_SPACE_EXP_SIZE];     /* emulated config space */
    uint8_t wmask[PCI_CFG_SPACE_EXP_SIZE];   /* guest-writable bits */
    uint8_t w1cmask[PCI_CFG_SPACE_EXP_SIZE]; /* write-1-to-clear bits */
    uint32_t cfg_size;                       /* 256 or 4096 */
    const struct pci_dev_ops *ops;
    void *opaque;                            /* the owning device */
    struct pci_bar bars[PCI_NR_BAR_SLOTS];
    /* Owned by the core. */
    struct pci_bus *bus;                     /* set by pci_register() */
    uint8_t devfn;
    bool intx_level;                         /* device's INTx input */
    bool intx_disabled;                      /* Command.INTx Disable */
    bool intx_asserted;                      /* counted on its GSI */
    uint16_t cap_end;                        /* next free capability byte */
    uint16_t ext_cap_end;
};

#define PCI_MAX_RESERVED 8

/* A guest-physical range no memory BAR may decode in (RAM, ECAM, the
 * interrupt controllers): a BAR placed over it is refused and logged. */
struct pci_reserved {
    uint64_t base, size;  /* bytes */
    const char *what;     /* for the log; a string constant */
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
/* pci_register() (@slot 0) or pci_register_slot() (@slot 1-31) for a
 * function added at run time: with @fit, a BAR that finds no room in the
 * windows refuses it (-ENOSPC; the function is not on the bus, the space
 * its other BARs took stays taken). The function's slot: devfn >> 3. */
int pci_hotplug_register(struct pci_bus *bus, struct pci_dev *dev,
                         unsigned int slot, bool fit);
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

/* Append a capability of @size bytes (>= 2, header included) with @id to
 * the list, dword aligned from PCI_CAP_FIRST. Returns its offset, or
 * -ENOSPC / -EINVAL. Its body is zero and read-only until set. */
int pci_add_capability(struct pci_dev *dev, uint8_t id, uint8_t size);
/* Offset of the first capability @id, or -ENOENT. */
int pci_find_capability(const struct pci_dev *dev, uint8_t id);
/* Same for PCIe extended capabilities (from 0x100; needs ext_cfg). */
int pci_add_ext_capability(struct pci_dev *dev, uint16_t id, uint8_t version,
                           uint16_t size);
int pci_find_ext_capability(const struct pci_dev *dev, uint16_t id);

/* Set the guest-writable bits of the @len (1, 2, 4) bytes at @off. */
void pci_dev_set_wmask(struct pci_dev *dev, uint32_t off, uint32_t len,
                       uint32_t mask);

/* Save/load the config image and INTx level, then ops->save/load, into
 * one node; opaque = struct pci_dev *. load refuses a snapshot of another
 * device (IDs, class, header type) and keeps BAR type bits. */
int pci_dev_save(struct pci_dev *dev, void *fdt, int node);
int pci_dev_load(struct pci_dev *dev, const void *fdt, int node);
extern const struct state_ops pci_dev_state_ops;

/* Little-endian accessors of the config image (@off + size <= 4096). */
static inline uint32_t pci_cfg_get(const struct pci_dev *dev, uint32_t off,
                                   uint32_t len)
{
    uint32_t v = 0;

    for (uint32_t i = 0; i < len; i++)
        v |= (uint32_t)dev->cfg[off + i] << (8 * i);
    return v;
}

static inline void pci_cfg_set(struct pci_dev *dev, uint32_t off,
                               uint32_t len, uint32_t v)
{
    for (uint32_t i = 0; i < len; i++)
        dev->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

/* Whether [@off, @off + @len) overlaps [@start, @start + @size). */
static inline bool pci_cfg_overlaps(uint32_t off, uint32_t len,
                                    uint32_t start, uint32_t size)
{
    return off < start + size && start < off + len;
}

#endif
