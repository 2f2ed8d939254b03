/* SPDX-License-Identifier: BSD-3-Clause */
/* Register model of the virtio-pci modern capabilities structures BAR
 * (virtio 1.x section 4.1.4), shared by the in-VMM transport
 * (virtio/pci.c) and vfu-blk's vfio-user transport (tools/vfu-blk/regions.c).
 *
 * Pure: no PCI bus, KVM, eventfd or lock knowledge. The owner serialises
 * calls (struct virtio_dev is not thread-safe), except that the ISR is
 * atomic so it may be set and read from different threads. What differs
 * per transport goes through struct vpm_ops (doorbells, queue-enable side
 * effects, INTx deassertion).
 *
 * Layout of the BAR (byte offsets, 16 KiB):
 *   0x0000 common configuration (4.1.4.3), VIRTIO_PCI_COMMON_SIZE bytes;
 *   0x1000 ISR status (4.1.4.5), one byte, read-to-clear;
 *   0x2000 device configuration (4.1.4.6), config_size bytes;
 *   0x3000 notifications (4.1.4.4): queue N's doorbell at 0x3000 + 4 * N
 *          (queue_notify_off = N, notify_off_multiplier 4).
 */
#ifndef MINIVMM_VIRTIO_PCI_MODEL_H
#define MINIVMM_VIRTIO_PCI_MODEL_H

#include <stdint.h>

#include "virtio/device.h"

#define VIRTIO_PCI_MSIX_BAR      0         /* MSI-X table and PBA */
#define VIRTIO_PCI_CFG_BAR       2         /* the layout below */
#define VIRTIO_PCI_CFG_BAR_SIZE  0x4000u
#define VIRTIO_PCI_COMMON_OFF    0x0000u
#define VIRTIO_PCI_ISR_OFF       0x1000u
#define VIRTIO_PCI_DEVICE_OFF    0x2000u
#define VIRTIO_PCI_NOTIFY_OFF    0x3000u
#define VIRTIO_PCI_NOTIFY_MULT   4u
#define VIRTIO_PCI_COMMON_SIZE   0x38u     /* through queue_used_hi */

#define VPM_ISR_QUEUE  0x1u
#define VPM_ISR_CONFIG 0x2u
#define VPM_NO_VECTOR  0xFFFFu             /* VIRTIO_MSI_NO_VECTOR */

/* Common configuration semantics, one for every transport (virtio 1.2):
 * - access widths (4.1.3.1): reads see the bytes of struct
 *   virtio_pci_common_cfg at any offset and length; a write must be
 *   exactly one field, or a 4-byte half of a 64-bit queue address, and is
 *   ignored otherwise. queue_msix_vector of a missing queue (queue_select
 *   >= num_queues) reads VPM_NO_VECTOR, its other fields 0.
 * - an enabled queue (4.1.4.3.2: the driver configures a queue before
 *   enabling it and cannot disable it but by a reset): queue_size and the
 *   queue addresses ignore writes and read the live virtqueue's values;
 *   queue_msix_vector stays writable. */
struct vpm_ops {
    /* The driver wrote queue @qidx's doorbell (@qidx < num_queues).
     * Required. */
    void (*notify)(void *opaque, uint16_t qidx);
    /* A queue_enable write of 1 tried to enable idle queue @qidx;
     * @result is 0 or the -errno virtq_set_size/virtq_set_addrs/
     * virtq_enable refused it with (queue_enable then reads 0).
     * Optional. */
    void (*queue_enable)(void *opaque, uint16_t qidx, int result);
    /* The ISR went from non-zero to 0 (read or reset). Optional. */
    void (*isr_cleared)(void *opaque);
};

/* Transport registers of one queue, kept while it is not selected. The
 * layout (32 bytes) is part of vfu-blk's saved state. */
struct vpm_queue {
    uint16_t size;          /* queue_size */
    uint16_t vector;        /* queue_msix_vector */
    uint64_t desc, driver, device;
};

/* Embedded by the transports; fields are theirs to read for save/load. */
struct vpm {
    const struct vpm_ops *ops;
    void *opaque;
    struct virtio_dev *vdev;        /* NULL until vpm_attach() */
    uint16_t num_queues;
    uint16_t nvec;                  /* MSI-X vectors; higher ones are
                                       stored as VPM_NO_VECTOR */
    uint32_t config_size;           /* device configuration bytes */
    uint16_t msix_config;
    uint16_t queue_select;
    uint8_t isr;                    /* atomic: VPM_ISR_* bits */
    struct vpm_queue q[VIRTIO_DEV_MAX_QUEUES];
};

struct vpm_params {
    uint16_t num_queues;            /* 1..VIRTIO_DEV_MAX_QUEUES */
    uint16_t nvec;                  /* MSI-X table size, 0..2048 */
    uint32_t config_size;           /* 0..0x1000 */
    const struct vpm_ops *ops;      /* notify required */
    void *opaque;
};

/* Initialise @m in the reset state, no device attached. 0 or -EINVAL
 * (queue count, config size or ops out of range). */
int vpm_init(struct vpm *m, const struct vpm_params *p);
/* Attach the device core (its num_queues must equal the model's) and
 * reset the registers. 0 or -EINVAL. */
int vpm_attach(struct vpm *m, struct virtio_dev *vdev);
/* Transport registers back to reset values (spec 4.1.4.3.1: msix vectors
 * VPM_NO_VECTOR, queue_size the maximum, ISR 0). Does not reset the
 * device core; a device_status write of 0 does both. */
void vpm_reset(struct vpm *m);

/* Access @len bytes at BAR offset @off (little-endian data). Without an
 * attached device reads return 0 and writes are ignored. A read fills all
 * @len bytes. 0, or -EINVAL (@data untouched) when the access does not
 * lie within the BAR. Reading the ISR clears it. */
int vpm_read(struct vpm *m, uint64_t off, void *data, uint32_t len);
int vpm_write(struct vpm *m, uint64_t off, const void *data, uint32_t len);

/* MSI-X vector of queue @qidx (VPM_NO_VECTOR for none or a bad index),
 * and of configuration changes. */
uint16_t vpm_queue_vector(const struct vpm *m, uint16_t qidx);
uint16_t vpm_config_vector(const struct vpm *m);
/* INTx path: OR VPM_ISR_* @bits into the ISR (atomic). */
void vpm_set_isr(struct vpm *m, uint8_t bits);

#endif
