/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-blk's virtio-pci modern transport as a pure register model (virtio
 * 1.x section 4.1 "Virtio Over PCI Bus"): PCI configuration space with the
 * MSI-X and virtio vendor capabilities, the virtio structures BAR and the
 * MSI-X table BAR. No I/O of its own: the vfio-user region callbacks call
 * these, and the owner supplies doorbell and interrupt hooks.
 *
 * Layout (like virtio/pci.h):
 *   BAR 0 (32-bit memory, 4 KiB): MSI-X table at 0, PBA at 0x800;
 *   BAR 2 (64-bit memory, 16 KiB): the virtio structures, whose registers
 *   are the shared model of virtio/pci_model.h.
 * In vfio-user the client virtualises MSI-X (it traps BAR 0 and hands the
 * server one eventfd per vector), so BAR 0 here is plain storage.
 *
 * Offsets are bytes within the region; accesses of 1, 2, 4 or 8 bytes.
 * All functions return 0 or -errno (-EINVAL for a bad offset/size).
 */
#ifndef VFU_BLK_VPCI_H
#define VFU_BLK_VPCI_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/device.h"
#include "virtio/pci_model.h"

#define VPCI_CFG_SIZE      256u
#define VPCI_MSIX_BAR      0u
#define VPCI_MSIX_BAR_SIZE 0x1000u
#define VPCI_MSIX_PBA_OFF  0x800u
#define VPCI_BAR           2u
#define VPCI_MAX_VECTORS   (VIRTIO_DEV_MAX_QUEUES + 1)

struct vpci_ops {
    /* Trapped write to queue @qidx's doorbell. */
    void (*doorbell)(void *opaque, uint16_t qidx);
};

struct vpci {
    struct virtio_dev *vdev;
    const struct vpci_ops *ops;
    void *opaque;
    uint16_t nvec;          /* MSI-X vectors: queues + 1 */
    uint32_t devcfg_size;   /* device config bytes */
    uint8_t cfg[VPCI_CFG_SIZE];
    uint8_t wmask[VPCI_CFG_SIZE];
    uint8_t msix[VPCI_MSIX_BAR_SIZE];
    struct vpm regs;        /* BAR 2 */
};

/* Set up the function for device core @vdev (already initialised):
 * vendor 0x1af4, device 0x1040 + @vdev->device_id, class @class_code,
 * @devcfg_size bytes of device config (<= 4096). 0 or -EINVAL (queue
 * count 0 or above VIRTIO_DEV_MAX_QUEUES, config too large). */
int vpci_init(struct vpci *p, struct virtio_dev *vdev, uint32_t class_code,
              uint32_t devcfg_size, const struct vpci_ops *ops, void *opaque);

/* Region accessors. */
int vpci_cfg_access(struct vpci *p, uint64_t off, void *buf, uint32_t len,
                    bool write);
int vpci_bar_access(struct vpci *p, uint64_t off, void *buf, uint32_t len,
                    bool write);
int vpci_msix_access(struct vpci *p, uint64_t off, void *buf, uint32_t len,
                     bool write);

/* MSI-X vector of queue @qidx / of config changes (VIRTIO_MSI_NO_VECTOR
 * when none). */
uint16_t vpci_queue_vector(const struct vpci *p, uint16_t qidx);
uint16_t vpci_config_vector(const struct vpci *p);
/* INTx path: set ISR bits (1 queue, 2 config); read of ISR clears. */
void vpci_set_isr(struct vpci *p, uint8_t bits);
/* True if MSI-X is enabled in the capability's message control. */
bool vpci_msix_enabled(const struct vpci *p);
/* True if the driver disabled INTx (PCI command bit 10). */
bool vpci_intx_disabled(const struct vpci *p);

/* Transport registers back to their reset values (device reset). */
void vpci_reset(struct vpci *p);

/* Transport state (config space, MSI-X storage, registers) into/from node
 * @node of @fdt (vmm/state.h). Load validates sizes and re-reads queue
 * registers from the already-loaded device core. */
int vpci_save(const struct vpci *p, void *fdt, int node);
int vpci_load(struct vpci *p, const void *fdt, int node);

#endif
