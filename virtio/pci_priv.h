/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci internals shared by pci.c (lifetime, capabilities, state),
 * pci_regs.c (BAR registers) and pci_irq.c (MSI-X, INTx, ioeventfds).
 * Not a public header. */
#ifndef MINIVMM_VIRTIO_PCI_PRIV_H
#define MINIVMM_VIRTIO_PCI_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/msix.h"
#include "virtio/pci.h"

/* Doorbell of one queue (its registers are in struct vpm). */
struct vp_queue {
    int efd;                /* doorbell eventfd */
    bool ioeventfd;         /* registered with KVM (bus lock) */
};

/* One MSI-X vector's fast path; touched only under the MSI-X lock. */
struct vp_vector {
    int efd;                /* irqfd eventfd */
    uint32_t gsi;
    bool routed;            /* MSI route + irqfd exist */
    uint64_t addr;
    uint32_t data;
};

struct virtio_pci {
    struct pci_dev pci;             /* first: pci.opaque is us anyway */
    pthread_mutex_t lock;
    struct hv hv;
    struct virtio_dev *vdev;
    const struct state_ops *dev_state;
    void *dev_opaque;
    uint16_t num_queues;
    uint32_t config_size;
    struct vpm regs;                /* BAR 2 registers (lock held) */
    struct vp_queue *q;             /* [num_queues] */
    struct msix msix;
    unsigned int nvec;
    struct vp_vector *vec;          /* [nvec] */
    uint32_t pba_off;               /* in the MSI-X BAR */
    int msix_cap;                   /* config offsets */
    int cfg_cap;
    /* Counters (vmm/stats.h: relaxed atomics). */
    uint64_t st_doorbells;          /* eventfd signals consumed, any kind */
    uint64_t st_trapped;            /* of which written by regs_notify() */
    uint64_t st_interrupts;         /* MSI-X messages and INTx raises */
};

/* pci_regs.c: BAR 2 and the PCI_CFG window. */
extern const struct bus_ops vp_cfg_bar_ops;
extern const struct bus_ops vp_msix_bar_ops;
/* Set up vp->regs (num_queues, nvec, config_size already set). */
int vp_regs_init(struct virtio_pci *vp);
void vp_cfg_cap_read(struct virtio_pci *vp, uint32_t off, uint32_t len,
                     uint32_t *val);
void vp_cfg_cap_write(struct virtio_pci *vp, uint32_t off, uint32_t len);

/* pci_irq.c */
extern const struct msix_ops vp_msix_ops;
extern const struct virtio_irq_ops vp_irq_ops;
int vp_bar_map(struct pci_dev *dev, unsigned int bar, uint64_t addr,
               uint64_t size);
void vp_bar_unmap(struct pci_dev *dev, unsigned int bar, uint64_t addr,
                  uint64_t size);
/* Drop every MSI route and irqfd (destroy). */
void vp_vectors_release(struct virtio_pci *vp);

#endif
