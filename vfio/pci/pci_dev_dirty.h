/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: the server's DMA dirty logging for live migration
 * (see pci_dev.h, vfio_pci_dirty_*: pci_dev.c forwards to these). v2's
 * DMA_LOGGING_* or v1's DIRTY_PAGES, and the pre-copy data read alongside.
 * 0 or -errno. */
#ifndef MINIVMM_VFIO_PCI_DEV_DIRTY_H
#define MINIVMM_VFIO_PCI_DEV_DIRTY_H

#include <stdint.h>

#include "vfio/pci/pci_dev_state.h"

int vpd_dirty_start(struct vpd_state *s);
int vpd_dirty_sync(struct vpd_state *s, uint64_t *bits, uint64_t npages,
                   uint64_t *count);
int vpd_dirty_stop(struct vpd_state *s);

#endif
