/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-blk's vfio-user regions of its virtio-pci modern function (virtio
 * 1.x §4.1 "Virtio Over PCI Bus"), on the project's shared models: config
 * space is the PCI config-space model (devices/pci_cfg.h) with the virtio
 * capabilities of virtio/pci_caps.h, BAR 0 the MSI-X table/PBA model
 * (devices/msix.h), BAR 2 the virtio-pci register model
 * (virtio/pci_model.h, the same behaviour as the VMM's transport). No I/O of its own: the vfio-user region callbacks
 * call these, and the owner supplies the doorbell hook.
 *
 * Layout (as virtio/pci.c):
 *   BAR 0 (32-bit memory, 4 KiB): MSI-X table at 0, PBA at 0x800;
 *   BAR 2 (64-bit memory, 16 KiB): the virtio structures.
 * In vfio-user the client virtualises MSI-X (it traps BAR 0 and hands the
 * server one eventfd per vector), so BAR 0 here only stores what the
 * client writes; pending bits stay 0.
 *
 * Offsets are bytes within the region. All functions return 0 or -errno
 * (-EINVAL for a bad offset/size). One thread.
 */
#ifndef VFU_BLK_REGIONS_H
#define VFU_BLK_REGIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/msix.h"
#include "devices/pci_cfg.h"
#include "virtio/device.h"
#include "virtio/pci_caps.h"
#include "virtio/pci_model.h"

#define VFR_CFG_SIZE       256u
#define VFR_MSIX_BAR       0u
#define VFR_MSIX_BAR_SIZE  0x1000u
#define VFR_MSIX_PBA_OFF   0x800u
#define VFR_BAR            2u
#define VFR_MAX_VECTORS    (VIRTIO_DEV_MAX_QUEUES + 1)

struct vfr_ops {
    /* Trapped write to queue @qidx's doorbell. */
    void (*doorbell)(void *opaque, uint16_t qidx);
};

struct vfr {
    struct virtio_dev *vdev;
    const struct vfr_ops *ops;
    void *opaque;
    uint16_t nvec;          /* MSI-X vectors: queues + 1 */
    struct pcfg cs;         /* config space */
    struct vpc_caps caps;
    struct msix msix;       /* BAR 0 */
    struct vpm regs;        /* BAR 2 */
};

/* Set up the function for device core @vdev (already initialised):
 * vendor 0x1af4, device 0x1040 + @vdev->device_id, class @class_code,
 * @devcfg_size bytes of device config (<= 4096). 0, -EINVAL (queue count
 * 0 or above VIRTIO_DEV_MAX_QUEUES, config too large), -ENOMEM. */
int vfr_init(struct vfr *p, struct virtio_dev *vdev, uint32_t class_code,
             uint32_t devcfg_size, const struct vfr_ops *ops, void *opaque);
void vfr_fini(struct vfr *p);

/* Region accessors: config space (any offset and length inside its 256
 * bytes), BAR 2 (virtio/pci_model.h rules), BAR 0 (MSI-X: 4- or 8-byte
 * table accesses, PBA read-only). */
int vfr_cfg_access(struct vfr *p, uint64_t off, void *buf, uint32_t len,
                   bool write);
int vfr_bar_access(struct vfr *p, uint64_t off, void *buf, uint32_t len,
                   bool write);
int vfr_msix_access(struct vfr *p, uint64_t off, void *buf, uint32_t len,
                    bool write);

/* MSI-X vector of queue @qidx / of config changes (VIRTIO_MSI_NO_VECTOR
 * when none). */
uint16_t vfr_queue_vector(const struct vfr *p, uint16_t qidx);
uint16_t vfr_config_vector(const struct vfr *p);
/* INTx path: set ISR bits (1 queue, 2 config); read of ISR clears. */
void vfr_set_isr(struct vfr *p, uint8_t bits);
/* MSI-X Enable set in the capability; Command.INTx Disable set. */
bool vfr_msix_enabled(const struct vfr *p);
bool vfr_intx_disabled(const struct vfr *p);

/* Transport registers back to their reset values (device reset). */
void vfr_reset(struct vfr *p);

/* Transport state into/from node @node of @fdt (vmm/state.h): properties
 * "pci-config" (256 bytes), "msix" (BAR 0 image, 4 KiB), "queues",
 * "queue-select", "msix-config", "isr". Load refuses another device's
 * state (identity, sizes, vector numbers) and re-reads queue registers
 * from the already-loaded device core. */
int vfr_save(struct vfr *p, void *fdt, int node);
int vfr_load(struct vfr *p, const void *fdt, int node);

#endif
