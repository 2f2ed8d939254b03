/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-blk requests and their io_uring backend (virtio 1.x section
 * 5.2.6 "Device Operation"), below the device model (virtio/blk.c):
 * pops chains from the device's queues, parses and validates them,
 * submits the I/O and completes requests into the guest (status byte,
 * used entry, interrupt through the device core).
 *
 * The device model owns the struct virtio_dev and its queues; this engine
 * is given pointers to them and to the guest-memory interface, all of
 * which must outlive it. One thread at a time (the device's lock).
 * Functions return 0 or -errno unless said otherwise. */
#ifndef MINIVMM_VIRTIO_BLK_REQ_H
#define MINIVMM_VIRTIO_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_blk.h>

#include "virtio/device.h"
#include "virtio/guest_mem.h"
#include "virtio/queue.h"

#define BLK_SECTOR_SHIFT     9
#define BLK_SECTOR_SIZE      (1u << BLK_SECTOR_SHIFT)
#define BLK_MAX_DWZ_SEG      16u    /* discard/write-zeroes ranges */
#define BLK_MAX_DWZ_SECTORS  (1u << 22)     /* 2 GiB per range */

struct virtio_blk_stats {
    uint64_t requests;      /* completed requests, any type or status */
    uint64_t bytes_read;    /* by successful IN requests */
    uint64_t bytes_written; /* by successful OUT requests */
    uint64_t errors;        /* requests completed with IOERR or UNSUPP */
};

struct blk_io_params {
    int fd;                         /* backing file (the caller's) */
    bool readonly;                  /* refuse OUT with IOERR */
    uint64_t capacity;              /* 512-byte sectors */
    uint32_t seg_max;               /* data segments per request */
    const char *serial;             /* GET_ID bytes (≤ 20), or NULL */
    struct virtio_dev *vdev;        /* the device core (features, status) */
    struct virtq *queues;           /* vdev's queues */
    const struct virtio_mem *mem;   /* copied */
};

struct blk_io;

/* Create the engine: io_uring (128 SQEs), its eventfd, scratch space.
 * 0, -ENOMEM or io_uring/eventfd errors. */
int blk_io_create(const struct blk_io_params *p, struct blk_io **out);
/* Waits for in-flight I/O (results dropped), frees everything. */
void blk_io_destroy(struct blk_io *io);

/* The io_uring's eventfd: readable when completions are pending. */
int blk_io_poll_fd(const struct blk_io *io);
/* Doorbell: pop and start requests on queue @qidx until empty or the ring
 * is full. -errno: the queue broke (DEVICE_NEEDS_RESET already set). */
int blk_io_process_queue(struct blk_io *io, uint16_t qidx);
/* Reap completions, complete requests, continue blocked queues, raise
 * interrupts. */
int blk_io_handle_ready(struct blk_io *io);
/* Block until nothing is in flight, completing everything into the guest
 * (or nothing with @drop: device reset, spec 2.4.1). */
int blk_io_quiesce(struct blk_io *io, bool drop);
/* Process every enabled queue once (after load or un-pause). */
int blk_io_resume(struct blk_io *io);
/* Requests in flight; SQEs in flight (save refuses while non-zero). */
unsigned int blk_io_inflight(const struct blk_io *io);
unsigned int blk_io_inflight_ops(const struct blk_io *io);
void blk_io_get_stats(const struct blk_io *io, struct virtio_blk_stats *st);

#endif
