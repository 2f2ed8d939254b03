/* SPDX-License-Identifier: BSD-3-Clause */
/* The vfio-user PCI device as pci_dev.c composes it from its parts; for
 * pci_dev.c and unit tests only. Includes only the parts' headers (never
 * pci_dev.h): the parts sit below the top file. */
#ifndef MINIVMM_VFIO_PCI_DEV_PRIV_H
#define MINIVMM_VFIO_PCI_DEV_PRIV_H

#include "devices/pci.h"
#include "vfio/pci/pci_dev_bar.h"
#include "vfio/pci/pci_dev_ctx.h"
#include "vfio/pci/pci_dev_irq.h"
#include "vfio/pci/pci_dev_state.h"

/* epoll tags of the device's poll fd. */
#define VPD_EV_CLIENT  0u
#define VPD_EV_FAIL    1u
#define VPD_EV_TIMER   2u
#define VPD_EV_MSIX    3u  /* masked MSI-X vectors signalled */
#define VPD_EV_MSI     4u  /* masked MSI vectors signalled */

struct vfio_pci {
    struct pci_dev pci;
    struct vfio_pci_env env;
    struct vfio_pci_opts opts;
    char socket[108];
    struct vpd_ctx ctx;            /* name, client, hv, liveness */
    uint32_t cfg_size;             /* config region bytes (256 / 4096) */
    uint8_t emu[PCI_CFG_SPACE_EXP_SIZE]; /* 1: byte virtualised here */
    struct vpd_bars bars;          /* config/BAR forwarding */
    struct vpd_irq irq;            /* MSI-X, MSI, INTx */
    struct vpd_state st;           /* snapshots, migration, dirty log */
    /* Failure and reconnect */
    int epfd;
    int fail_efd;
    int timer_fd;
};

#endif
