/* SPDX-License-Identifier: BSD-3-Clause */
/* The bus side of PCI BARs (docs/platform.md "PCI"): puts the BARs a
 * function's config space decodes (devices/pci_cfg.h) on the PIO (I/O
 * BARs) or MMIO bus (vmm/bus.h) and takes them off again, and places BARs
 * from the firmware windows (devices/pci_alloc.h) as firmware would.
 *
 * When a BAR becomes decoded at an address, or moves, it is registered
 * (its bus_ops, if any) at that address and then the owner's map hook
 * runs; on the way out the unmap hook runs and then it is unregistered. A
 * BAR that cannot be mapped (a memory BAR over a reserved range such as
 * RAM or ECAM, an overlap on its bus, a refusing map hook) stays unmapped
 * and is retried by the next sync; each refusal is logged once per BAR and
 * address with the function's BDF. No locking of its own: the caller (the
 * PCI bus, devices/pci.c) serialises. Addresses and sizes in bytes. */
#ifndef MINIVMM_PCI_BAR_H
#define MINIVMM_PCI_BAR_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pci_alloc.h"
#include "devices/pci_cfg.h"
#include "vmm/bus.h"

#define PCI_MAX_RESERVED 8

/* A guest-physical range no memory BAR may decode in (RAM, ECAM, the
 * interrupt controllers): a BAR placed over it is refused and logged. */
struct pci_reserved {
    uint64_t base, size;  /* bytes */
    const char *what;     /* for the log; a string constant */
};

/* Where BARs go. */
struct pci_bar_space {
    struct bus *mmio;     /* memory BARs, the ROM */
    struct bus *pio;      /* I/O BARs */
    struct pci_reserved reserved[PCI_MAX_RESERVED];
    unsigned int nreserved;
};

/* The bus side of one BAR. */
struct pci_bar {
    const struct bus_ops *ops;  /* NULL: nothing registered on the bus */
    void *opaque;               /* for ops */
    bool mapped;                /* owned by this module: */
    uint64_t addr;              /*   where it is mapped (bus address) */
    bool refused;               /*   a placement was refused (logged) */
    uint64_t refused_addr;      /*   at this address */
};

/* The owner's hooks: @bar was registered at @addr (map: 0 or -errno, then
 * it is unregistered again and left unmapped), @bar is about to leave
 * @addr (unmap). Either may be NULL. */
struct pci_bar_hooks {
    int (*map)(void *owner, unsigned int bar, uint64_t addr, uint64_t size);
    void (*unmap)(void *owner, unsigned int bar, uint64_t addr,
                  uint64_t size);
};

/* One function as this module sees it. */
struct pci_bar_fn {
    const struct pcfg *cs;             /* BAR types, sizes and decode */
    struct pci_bar *bars;              /* [PCI_NR_BAR_SLOTS] */
    uint8_t devfn;                     /* bus 0; for the log */
    const struct pci_bar_hooks *hooks;
    void *owner;                       /* for hooks */
};

/* Take off the bus every mapped BAR of @fn that no longer decodes at its
 * address. A bus syncs every function this way before any is mapped
 * (pci_bars_map), so a BAR may move onto another's old place. */
void pci_bars_unmap_stale(const struct pci_bar_space *sp,
                          const struct pci_bar_fn *fn);
/* Put on the bus every decoded, unmapped BAR of @fn (refusals logged). */
void pci_bars_map(const struct pci_bar_space *sp, const struct pci_bar_fn *fn);
/* Take off every BAR of @fn (it leaves the bus). */
void pci_bars_unmap(const struct pci_bar_space *sp,
                    const struct pci_bar_fn *fn);

/* Firmware's placement of a function's BARs: in the order to program
 * them (largest first), each slot with its address. */
struct pci_bar_plan {
    unsigned int n;
    unsigned int idx[PCI_NR_BAR_SLOTS];
    uint64_t addr[PCI_NR_BAR_SLOTS];
    uint32_t cmd;  /* Command bits to set: I/O and/or Memory */
};

/* Place every declared BAR of @cs (function @devfn) from @a into @plan; a
 * BAR that finds no room is logged and left out (stays at 0). */
void pci_bars_plan(struct pci_alloc *a, const struct pcfg *cs, uint8_t devfn,
                   struct pci_bar_plan *plan);

#endif
