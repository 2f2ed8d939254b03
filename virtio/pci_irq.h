/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci interrupts (virtio 1.x 4.1.4.5, 4.1.5.3-4): the function's
 * MSI-X table and PBA (devices/msix.h, BAR 0) with its vectors as MSI
 * routes and irqfds (devices/msix_route.h: a masked vector is not
 * signalled, its PBA bit is set, it fires on unmask), and the INTx/ISR
 * fallback while MSI-X is off. The device model raises interrupts through
 * vp_irq_ops with the transport lock held.
 *
 * The register model (@regs: queue vectors, ISR) and the PCI function
 * (@pci: INTx) belong to the transport (virtio/pci.c) and must outlive
 * this. Functions return 0 or -errno unless said otherwise. */
#ifndef MINIVMM_VIRTIO_PCI_IRQ_H
#define MINIVMM_VIRTIO_PCI_IRQ_H

#include <stdint.h>

#include "devices/msix.h"
#include "devices/msix_route.h"
#include "devices/pci.h"
#include "virtio/device.h"
#include "virtio/pci_model.h"
#include "vmm/bus.h"
#include "vmm/hv.h"

struct vp_irq {
    struct msix msix;
    struct msix_route route;
    struct pci_dev *pci;
    struct vpm *regs;
    uint32_t pba_off;               /* in the MSI-X BAR */
    uint64_t st_interrupts;         /* MSI-X messages and INTx raises */
};

/* @nvec vectors (1..MSIX_MAX_VECTORS), all masked, MSI-X off; @pba_off:
 * the PBA's offset in the MSI-X BAR (the table is at 0). On error
 * nothing is left to free. */
int vp_irq_init(struct vp_irq *irq, unsigned int nvec, uint32_t pba_off,
                const struct hv *hv, struct pci_dev *pci, struct vpm *regs);
/* Routes, irqfds and eventfds go away. A zeroed @irq is a no-op. */
void vp_irq_fini(struct vp_irq *irq);

/* The interrupt sink of the device model: opaque = struct vp_irq. */
extern const struct virtio_irq_ops vp_irq_ops;
/* The MSI-X BAR (table at 0, PBA at pba_off): opaque = struct vp_irq. */
extern const struct bus_ops vp_irq_msix_bar_ops;

/* Message Control as the guest wrote it (enable, function mask). */
void vp_irq_set_control(struct vp_irq *irq, uint16_t ctrl);
/* Function reset: table masked and cleared, PBA clear, MSI-X off. */
void vp_irq_reset(struct vp_irq *irq);

/* Snapshot: properties "msix-table" and "msix-pba" of @node. load puts
 * the table back (rewiring the routes), re-raises the pending vectors
 * and applies Message Control @ctrl (the restored config space's). */
int vp_irq_save(struct vp_irq *irq, void *fdt, int node);
int vp_irq_load(struct vp_irq *irq, const void *fdt, int node,
                uint16_t ctrl);

/* Interrupts raised so far (relaxed). */
uint64_t vp_irq_count(const struct vp_irq *irq);

#endif
