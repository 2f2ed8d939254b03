/* SPDX-License-Identifier: BSD-3-Clause */
/* The driver side of a split virtqueue (virtio 1.x section 2.7), over
 * struct virtio_mem: what a guest driver does, for unit tests and for
 * tools that exercise a device (e.g. tests of vfu-blk). Not used by the
 * VMM itself. Addresses are guest-physical bytes; indices are ring
 * indices (free-running 16-bit) unless said otherwise.
 */
#ifndef MINIVMM_VIRTIO_VRING_DRIVER_H
#define MINIVMM_VIRTIO_VRING_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/device.h"
#include "virtio/guest_mem.h"

struct vring_drv {
    const struct virtio_mem *mem;
    uint16_t size;
    uint64_t desc_gpa, avail_gpa, used_gpa;
    uint16_t avail_idx;         /* next avail index to publish */
    uint16_t last_used_idx;     /* next used entry to consume */
    uint16_t next_desc;         /* descriptor allocator (round robin) */
};

/* One buffer of a chain to add. */
struct vring_drv_buf {
    uint64_t gpa;
    uint32_t len;
    bool write;                 /* device-writable */
};

/* Lay out the three rings from @base (4 KiB aligned each) and zero them.
 * Returns the first guest address after the rings through @end. 0 or
 * -errno. */
int vring_drv_init(struct vring_drv *d, const struct virtio_mem *mem,
                   uint16_t size, uint64_t base, uint64_t *end);

/* Write descriptor @i of the table at @table_gpa (the ring's or an
 * indirect one). 0 or -errno. */
int vring_drv_write_desc(const struct vring_drv *d, uint64_t table_gpa,
                         uint16_t i, uint64_t addr, uint32_t len,
                         uint16_t flags, uint16_t next);

/* Build a chain of @n buffers from the descriptor allocator, or, if
 * @indirect_gpa is non-zero, as an indirect table at that address
 * referenced by one ring descriptor. Returns the head index through
 * @head. Does not publish. 0 or -errno. */
int vring_drv_add_chain(struct vring_drv *d, const struct vring_drv_buf *b,
                        unsigned int n, uint64_t indirect_gpa,
                        uint16_t *head);

/* Put @head in the avail ring and bump avail->idx (release). */
int vring_drv_publish(struct vring_drv *d, uint16_t head);
/* Set avail->idx directly (for malformed-ring tests). */
int vring_drv_set_avail_idx(struct vring_drv *d, uint16_t idx);
/* Start both rings' indices at @idx (wrap-around tests). */
int vring_drv_start_at(struct vring_drv *d, uint16_t idx);

/* Consume one used entry. 1 if one was there, 0 if none, -errno. */
int vring_drv_get_used(struct vring_drv *d, uint32_t *id, uint32_t *len);

/* Event-idx fields and flags. */
int vring_drv_set_used_event(const struct vring_drv *d, uint16_t v);
int vring_drv_get_avail_event(const struct vring_drv *d, uint16_t *v);
int vring_drv_set_avail_flags(const struct vring_drv *d, uint16_t flags);
int vring_drv_get_used_flags(const struct vring_drv *d, uint16_t *flags);
int vring_drv_get_used_idx(const struct vring_drv *d, uint16_t *idx);

/* Initialise @vdev as a driver would (spec 3.1.1): ACKNOWLEDGE, DRIVER,
 * accept every offered feature, FEATURES_OK, configure and enable queue i
 * from @drv[i] (num_queues of them), DRIVER_OK. 0 or -errno (-EPROTO if
 * the device did not latch FEATURES_OK). */
int vring_drv_setup_device(struct virtio_dev *vdev,
                           const struct vring_drv *drv);

#endif
