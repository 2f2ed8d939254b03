/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-blk helpers shared by the vblk test and the benchmark. */
#ifndef GUEST_VIRTIO_VBLK_H
#define GUEST_VIRTIO_VBLK_H

#include <stdint.h>

#include "lib/virtio.h"

#define VBLK_T_IN     0
#define VBLK_T_OUT    1
#define VBLK_T_FLUSH  4
#define VBLK_T_GET_ID 8

struct vblk_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

/* One request slot: header and status byte in DMA memory. */
struct vblk_req {
    struct vblk_hdr hdr;
    uint8_t status;
};

struct vblk {
    struct vdev dev;
    struct vq q;
    uint64_t capacity;          /* 512-byte sectors */
    struct vblk_req *reqs;      /* [q.size], indexed by head */
};

/* Find the first virtio-blk device, set it up with queue 0 on MSI-X
 * entry 1 (@vector), config changes on entry 0. 0 or -1 (test_fail
 * called). */
int vblk_open(struct vblk *b, uint8_t vector);
/* The same for the @nth (0-based) virtio-blk device. */
int vblk_open_nth(struct vblk *b, unsigned int nth, uint8_t vector);
/* The same, also accepting the offered features of @want (e.g.
 * VIRTIO_F_ACCESS_PLATFORM, which a driver behind an IOMMU accepts). */
int vblk_open_feat(struct vblk *b, unsigned int nth, uint8_t vector,
                   uint64_t want);
/* Queue a request (no kick); returns its head or -ENOSPC. */
int vblk_submit(struct vblk *b, uint32_t type, uint64_t sector, void *buf,
                uint32_t len);
/* One synchronous request; returns the status byte (0 = OK) or -errno. */
int vblk_rw(struct vblk *b, uint32_t type, uint64_t sector, void *buf,
            uint32_t len);

#endif
