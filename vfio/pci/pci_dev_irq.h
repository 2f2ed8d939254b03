/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: interrupts (see pci_dev.h). MSI-X and MSI vectors
 * are eventfds the server signals (SET_IRQS), made irqfds on MSI routes by
 * the route engine (devices/msix_route.h: a masked vector is not signalled
 * into the guest, a signal while masked sets its pending bit, unmask
 * delivers it); INTx is an irqfd with a resample eventfd handed to the
 * server as UNMASK. Spec: vfio-user.rst "VFIO_USER_DEVICE_GET_IRQ_INFO",
 * "VFIO_USER_DEVICE_SET_IRQS"; PCI Local Bus 3.0 §6.8 (MSI, MSI-X).
 * Functions return 0 or -errno. */
#ifndef MINIVMM_VFIO_PCI_DEV_IRQ_H
#define MINIVMM_VFIO_PCI_DEV_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/msix.h"
#include "devices/msix_route.h"
#include "vfio/pci/pci_dev_ctx.h"

#define VPD_MSI_MAX 32

struct vpd_irq {
    struct vpd_ctx *ctx;
    uint8_t *emu;                  /* config bytes virtualised here */
    /* MSI-X */
    int msix_cap;                  /* config offset, -1: none */
    struct msix msix;
    struct msix_route vec;         /* the vectors given to the server */
    unsigned int msix_bar;
    uint64_t table_off, pba_off;
    bool msix_on;                  /* eventfds handed to the server */
    /* MSI */
    int msi_cap;                   /* -1: none */
    unsigned int msi_nvec;
    struct msix_route msi;
    bool msi_on;
    /* INTx */
    int intx_efd, intx_rfd;
    uint32_t intx_gsi;
    bool intx_on;
};

/* Parse the MSI-X and MSI capabilities of ctx->pci's config image against
 * the server's IRQ info; @bar_size(BAR) bounds the MSI-X table and PBA.
 * @emu marks the config bytes the guest reads from here. */
int vpd_irq_setup(struct vpd_irq *irq, struct vpd_ctx *ctx, uint8_t *emu,
                  const uint64_t bar_size[6], char *err, size_t errlen);
void vpd_irq_free(struct vpd_irq *irq);
/* Wire INTx (after pci_register: the GSI is known then). */
int vpd_irq_start(struct vpd_irq *irq);
/* Config write hook for the MSI/MSI-X capabilities (bus lock held). */
void vpd_irq_cfg_write(struct vpd_irq *irq, uint32_t off, uint32_t len);
/* The MSI-X / MSI route engines' poll fds (-1 if absent), readable when a
 * masked vector was signalled: then call _ready() (event loop). */
int vpd_irq_msix_poll_fd(const struct vpd_irq *irq);
int vpd_irq_msi_poll_fd(const struct vpd_irq *irq);
void vpd_irq_msix_ready(struct vpd_irq *irq);
void vpd_irq_msi_ready(struct vpd_irq *irq);
/* Failure: everything out of KVM (ctx->map_lock held). Reconnect: back,
 * eventfds to the new server (map_lock NOT held: SET_IRQS waits). */
void vpd_irq_detach(struct vpd_irq *irq);
int vpd_irq_reattach(struct vpd_irq *irq);
/* Function reset: MSI-X and MSI off. */
void vpd_irq_reset(struct vpd_irq *irq);

/* Snapshot: "msix-table" and "msix-pba" of @node (with MSI-X); load puts
 * them back (routes follow) and applies Message Control and MSI from the
 * already loaded config image (SET_IRQS when enabled). */
int vpd_irq_save(struct vpd_irq *irq, void *fdt, int node);
int vpd_irq_load(struct vpd_irq *irq, const void *fdt, int node);

#endif
