/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-blk device model (virtio 1.x section 5.2 "Block Device").
 *
 * Backend: a file or block device fd driven through io_uring (liburing):
 * IN/OUT are readv/writev straight into guest buffers when the memory
 * interface can translate, or through bounce buffers and the copy ops
 * (message-based DMA); FLUSH is fsync; DISCARD punches holes; WRITE_ZEROES
 * uses FALLOC_FL_ZERO_RANGE, falling back to PUNCH_HOLE.
 *
 * No threads: the owner polls virtio_blk_poll_fd() (the io_uring's
 * eventfd) and calls virtio_blk_handle_ready(), which reaps completions,
 * writes status bytes, pushes used entries and raises interrupts through
 * the struct virtio_irq given at creation. Doorbells (an ioeventfd or a
 * trapped write) call virtio_blk_queue_notify(). All calls for one device
 * must come from one thread at a time.
 *
 * Save/load rule: in-flight requests are not serialised. Before saving,
 * stop the doorbells and call virtio_blk_quiesce(), which waits for every
 * submitted request and completes it into the guest; virtio_blk_save()
 * returns -EBUSY while anything is in flight. Chains the guest made
 * available but the device had not popped stay in the ring (last_avail_idx
 * is saved); after load call virtio_blk_resume() to process them.
 */
#ifndef MINIVMM_VIRTIO_BLK_H
#define MINIVMM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/blk_req.h"
#include "virtio/device.h"
#include "virtio/guest_mem.h"
#include "vmm/state.h"

struct virtio_blk;

struct virtio_blk_params {
    int fd;                 /* backing file/block device; stays the
                               caller's (not closed by destroy) */
    bool readonly;          /* offer VIRTIO_BLK_F_RO, refuse writes */
    bool discard;           /* offer DISCARD (ignored when readonly) */
    bool write_zeroes;      /* offer WRITE_ZEROES (ignored when readonly) */
    uint32_t blk_size;      /* logical block size, bytes; 0 = 512 */
    uint16_t num_queues;    /* 1..VIRTIO_DEV_MAX_QUEUES; 0 = 1 (MQ offered
                               when > 1) */
    uint16_t queue_size;    /* max entries per queue, power of two;
                               0 = 256 */
    uint32_t seg_max;       /* data segments per request; 0 = size - 2 */
    uint32_t size_max;      /* bytes per segment; 0 = 1 MiB */
    const char *serial;     /* GET_ID string (≤ 20 bytes used), or NULL */
    bool defer_completions; /* complete only in virtio_blk_handle_ready(),
                               never inside the doorbell (default: reap
                               what completed during the submit at once,
                               saving a loop wakeup per I/O); tests use it
                               to hold a request in flight */
};

/* Create a device over @p->fd (capacity from its size, in 512-byte
 * sectors, rounded down), reading guest memory through @mem and raising
 * interrupts through @irq (both copied; their opaques must outlive the
 * device). 0 or -errno (-EINVAL bad params, io_uring/eventfd errors). */
int virtio_blk_create(const struct virtio_blk_params *p,
                      const struct virtio_mem *mem,
                      const struct virtio_irq *irq,
                      struct virtio_blk **out);
/* Waits for in-flight I/O (results dropped), frees everything. */
void virtio_blk_destroy(struct virtio_blk *blk);

/* The generic core for the transport (status, features, queues, config). */
struct virtio_dev *virtio_blk_vdev(struct virtio_blk *blk);

/* The io_uring's eventfd: readable when completions are pending. */
int virtio_blk_poll_fd(const struct virtio_blk *blk);
/* Reap completions, complete requests into the guest, signal queues, and
 * continue queues that were waiting for ring space. 0 or -errno (a broken
 * queue has already set DEVICE_NEEDS_RESET). */
int virtio_blk_handle_ready(struct virtio_blk *blk);
/* Doorbell for queue @qidx: pop and submit available requests. Same as
 * virtio_dev_queue_notify(virtio_blk_vdev(blk), qidx). 0 or -errno. */
int virtio_blk_queue_notify(struct virtio_blk *blk, uint16_t qidx);

/* Block until nothing is in flight, completing everything into the guest.
 * Does not pop new requests. 0 or -errno from io_uring. */
int virtio_blk_quiesce(struct virtio_blk *blk);
/* After load (or un-pause): process every enabled queue once. */
int virtio_blk_resume(struct virtio_blk *blk);
unsigned int virtio_blk_inflight(const struct virtio_blk *blk);

void virtio_blk_get_stats(const struct virtio_blk *blk,
                          struct virtio_blk_stats *st);
/* Capacity in 512-byte sectors. */
uint64_t virtio_blk_capacity(const struct virtio_blk *blk);

/* Device state into/from node @node: the virtio_dev state (status,
 * features, queues) plus the config space, which must match the loading
 * device's (same backing size and parameters), else -EINVAL. Save fails
 * with -EBUSY while requests are in flight. Opaque: struct virtio_blk. */
extern const struct state_ops virtio_blk_state_ops;

#endif
