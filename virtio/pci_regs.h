/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci BAR 2 (virtio 1.x 4.1.4: common configuration, ISR, device
 * configuration, notifications) through the register model
 * (virtio/pci_model.h) under the transport lock, and the PCI
 * configuration access capability's window onto it (4.1.4.9).
 *
 * The lock, the PCI function and the doorbells belong to the transport
 * (virtio/pci.c) and must outlive this. Functions return 0 or -errno. */
#ifndef MINIVMM_VIRTIO_PCI_REGS_H
#define MINIVMM_VIRTIO_PCI_REGS_H

#include <pthread.h>
#include <stdint.h>

#include "devices/pci.h"
#include "virtio/pci_doorbell.h"
#include "virtio/pci_model.h"
#include "vmm/bus.h"

struct vp_regs {
    struct vpm m;                   /* the registers (lock held) */
    pthread_mutex_t *lock;          /* the transport lock */
    struct pci_dev *pci;            /* INTx, the PCI_CFG capability */
    struct vp_doorbells *db;        /* trapped doorbells ring these */
    int cfg_cap;                    /* VIRTIO_PCI_CAP_PCI_CFG offset */
};

/* Registers in reset state for @num_queues queues, @nvec MSI-X vectors
 * and @config_size bytes of device configuration. -EINVAL (ranges). */
int vp_regs_init(struct vp_regs *r, uint16_t num_queues, uint16_t nvec,
                 uint32_t config_size, pthread_mutex_t *lock,
                 struct pci_dev *pci, struct vp_doorbells *db);

/* BAR 2: opaque = struct vp_regs. Doorbell writes take no lock. */
extern const struct bus_ops vp_regs_bar_ops;

/* The PCI_CFG window (capability at r->cfg_cap): a config read/write of
 * pci_cfg_data reaches the BAR 2 range the capability selects (only BAR 2
 * is reachable). Called from the function's config hooks. */
void vp_regs_cfg_cap_read(struct vp_regs *r, uint32_t off, uint32_t len,
                          uint32_t *val);
void vp_regs_cfg_cap_write(struct vp_regs *r, uint32_t off, uint32_t len);

#endif
