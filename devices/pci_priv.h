/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals shared by pci.c, pci_bar.c and pci_cap.c; not for devices. */
#ifndef MINIVMM_PCI_PRIV_H
#define MINIVMM_PCI_PRIV_H

#include <pthread.h>

#include "devices/pci.h"

#define PCI_NR_INTX_LINES 4

struct pci_bus {
    pthread_mutex_t lock;     /* config access, registration, BAR maps */
    pthread_mutex_t irq_lock; /* INTx state of every function */
    struct pci_bus_config cfg;
    struct pci_alloc alloc;   /* cfg.assign_bars */
    struct pci_dev *devs[PCI_NR_DEVFN];
    unsigned int intx_count[PCI_NR_INTX_LINES]; /* asserting functions */
};

/* Config offset of BAR @idx (0-5, PCI_ROM_BAR). */
static inline uint32_t pci_bar_reg(unsigned int idx)
{
    return idx == PCI_ROM_BAR ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * idx;
}

/* Bring every BAR mapping of @bus in line with config space: unmap what
 * moved or lost decode, then map what is decoded. Bus lock held. */
void pci_bars_update(struct pci_bus *bus);
/* Place @dev's BARs and enable decoding (pci_bus_config.assign_bars).
 * Bus lock held, @dev on the bus. Returns how many found no room. */
unsigned int pci_bars_assign(struct pci_dev *dev);
/* A config write of @len bytes at @off as the guest would make it (the
 * generic emulation, then ops->cfg_write). Bus lock held. */
void pci_dev_write(struct pci_dev *dev, uint32_t off, uint32_t len,
                   uint32_t val);
/* Unmap every BAR of @dev (leaving the bus). Bus lock held. */
void pci_bars_unmap(struct pci_dev *dev);

#endif
