/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A tiny virtio 1.x driver over the modern virtio-pci transport (spec
 * 4.1), for test payloads: find a device by type on bus 0, assign its
 * BARs in the 32-bit MMIO window (no firmware does it for us), negotiate
 * features, set up split virtqueues with MSI-X vectors pointing at this
 * CPU's LAPIC, add buffers, notify, reap used entries.
 *
 * DMA memory (rings, buffers) comes from vdma_alloc(): a bump allocator
 * over guest RAM at VDMA_BASE..VDMA_LIMIT (identity mapped, physical =
 * virtual), well above the payload image.
 */
#ifndef GUEST_LIB_VIRTIO_H
#define GUEST_LIB_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/pci.h"

#define VDMA_BASE  0x01000000ULL   /* 16 MiB */
#define VDMA_LIMIT 0x08000000ULL   /* 128 MiB: guests need >= 160M RAM */

#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4

#define VIRTIO_F_VERSION_1 32
#define VRING_DESC_F_NEXT  1
#define VRING_DESC_F_WRITE 2
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VIRTIO_NO_VECTOR   0xFFFF

#define VIRTIO_S_ACK       1
#define VIRTIO_S_DRIVER    2
#define VIRTIO_S_DRIVER_OK 4
#define VIRTIO_S_FEATURES_OK 8
#define VIRTIO_S_NEEDS_RESET 0x40
#define VIRTIO_S_FAILED    0x80

struct vring_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct vring_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];
};

struct vring_used_elem {
    uint32_t id;
    uint32_t len;
};

struct vring_used {
    uint16_t flags;
    uint16_t idx;
    struct vring_used_elem ring[];
};

/* One virtio-pci function, its register windows mapped. */
struct vdev {
    struct pci_addr pci;
    uint16_t type;          /* VIRTIO_ID_* */
    uint64_t common;        /* MMIO addresses of the structures */
    uint64_t isr;
    uint64_t device;        /* 0 if none */
    uint64_t notify;
    uint32_t notify_mult;
    uint64_t msix_table;    /* 0 if no MSI-X */
    uint64_t msix_pba;
    uint16_t nvec;
    uint64_t features;      /* negotiated */
};

struct vq {
    struct vdev *dev;
    uint16_t index;
    uint16_t size;
    volatile struct vring_desc *desc;
    volatile struct vring_avail *avail;
    volatile struct vring_used *used;
    uint64_t notify_addr;
    uint16_t free_head;
    uint16_t num_free;
    uint16_t last_used;
    uint16_t *chain_len;    /* [size]: descriptors per head */
    uint8_t vector;         /* IDT vector of its MSI-X entry, 0: none */
};

/* A buffer to add to a queue. */
struct vq_buf {
    void *addr;
    uint32_t len;
    int write;              /* device-writable */
};

void *vdma_alloc(uint64_t size, uint64_t align);

/*
 * Find the @nth (0-based) virtio device of @type on bus 0, assign its
 * BARs in the 32-bit window, enable memory decoding and bus mastering,
 * parse the virtio capabilities. 0, -ENODEV, -EINVAL.
 */
int vdev_find(uint16_t type, unsigned int nth, struct vdev *d);

/*
 * Reset, ACKNOWLEDGE, DRIVER, accept the offered subset of @want (plus
 * VERSION_1), FEATURES_OK, check it stuck. 0 or -EIO.
 */
int vdev_init(struct vdev *d, uint64_t want);

/* Enable MSI-X (all entries masked first). 0 or -ENODEV. */
int vdev_msix_enable(struct vdev *d);
/* Point table entry @entry at this CPU's LAPIC with @vector, unmasked
 * (or masked if @masked). */
void vdev_msix_set(struct vdev *d, uint16_t entry, uint8_t vector,
                   int masked);
/* Read the PBA bit of @entry. */
int vdev_msix_pending(struct vdev *d, uint16_t entry);

/*
 * Set up queue @index with at most @size entries (0: the device's
 * maximum), MSI-X entry @msix (VIRTIO_NO_VECTOR: none) delivering
 * @vector. 0, -EINVAL, -ENOMEM, -EIO (device refused the vector).
 */
int vq_setup(struct vdev *d, struct vq *q, uint16_t index, uint16_t size,
             uint16_t msix, uint8_t vector);

/* Config-change interrupts to MSI-X entry @msix with @vector. 0 or -EIO
 * (device refused the entry). */
int vdev_config_msix(struct vdev *d, uint16_t msix, uint8_t vector);

void vdev_driver_ok(struct vdev *d);
uint8_t vdev_status(struct vdev *d);

/* Device config space accessors. */
uint8_t vdev_cfg8(struct vdev *d, unsigned int off);
uint32_t vdev_cfg32(struct vdev *d, unsigned int off);
uint64_t vdev_cfg64(struct vdev *d, unsigned int off);

/* Add a chain (readable buffers first); returns its head, or -ENOSPC.
 * Publishes it but does not notify. */
int vq_add(struct vq *q, const struct vq_buf *bufs, unsigned int n);
void vq_kick(struct vq *q);
/* Reap one used entry: its head through @id, bytes written through @len.
 * 1 if one was there, 0 if not. */
int vq_get_used(struct vq *q, uint32_t *id, uint32_t *len);
/* Poll for a used entry up to @timeout_us. 1, or -ETIMEDOUT. */
int vq_wait_used(struct vq *q, uint32_t *id, uint32_t *len,
                 uint64_t timeout_us);

#endif
