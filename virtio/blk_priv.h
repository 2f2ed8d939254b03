/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-blk internals shared by blk.c (device, config, state) and
 * blk_req.c (request parsing and io_uring). Not a public header. */
#ifndef MINIVMM_VIRTIO_BLK_PRIV_H
#define MINIVMM_VIRTIO_BLK_PRIV_H

#include <liburing.h>
#include <stdint.h>

#include <linux/virtio_blk.h>

#include "virtio/blk.h"
#include "virtio/device.h"
#include "virtio/queue.h"

#define BLK_SECTOR_SHIFT     9
#define BLK_SECTOR_SIZE      (1u << BLK_SECTOR_SHIFT)
#define BLK_RING_ENTRIES     128u   /* SQ size; CQ is twice that */
#define BLK_MAX_DWZ_SEG      16u    /* discard/write-zeroes ranges */
#define BLK_MAX_DWZ_SECTORS  (1u << 22)     /* 2 GiB per range */
#define BLK_OPS_PER_REQ      BLK_MAX_DWZ_SEG  /* worst case SQEs */

struct virtio_blk {
    struct virtio_dev vdev;
    struct virtq *queues;           /* [num_queues] */
    struct virtio_mem mem;
    struct virtio_blk_config cfg;   /* little-endian, as the guest sees */
    int fd;
    bool readonly;
    uint64_t capacity;              /* 512-byte sectors */
    uint32_t seg_max;
    uint32_t size_max;
    char serial[VIRTIO_BLK_ID_BYTES];
    struct io_uring ring;
    int efd;                        /* eventfd registered with the ring */
    unsigned int inflight_ops;      /* SQEs submitted, CQE not reaped */
    unsigned int inflight_reqs;
    unsigned int max_ops;           /* CQ ring size */
    bool dropping;                  /* reset: complete nothing to guest */
    uint64_t blocked;               /* queues waiting for ring space */
    uint64_t to_notify;             /* queues with new used entries */
    struct virtq_seg *scratch;      /* [seg_max + 2] for popping */
    struct virtio_blk_stats stats;
};

/* Pop and start requests on queue @qidx until empty or the ring is full.
 * 0 or -errno (queue broken: DEVICE_NEEDS_RESET already set). */
int blk_process_queue(struct virtio_blk *blk, uint16_t qidx);
/* Reap every available completion. 0 or -errno. */
int blk_reap(struct virtio_blk *blk);
/* Raise interrupts for queues in blk->to_notify. */
void blk_flush_notify(struct virtio_blk *blk);

#endif
