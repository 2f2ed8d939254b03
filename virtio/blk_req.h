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
    bool defer_completions;         /* no reaping inside the doorbell */
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

/* ---- internal: only for virtio/blk_*.c, which define
 * VIRTIO_BLK_REQ_INTERNAL before including this header. ---------------- */
/* The engine is split over three files, in call order
 * blk_pop.c -> blk_cmd.c -> blk_req.c (blk_pop.c: dispatch, popping
 * chains in batches, the completion hook; blk_cmd.c: flush, get-id,
 * discard and write-zeroes; blk_req.c: requests, reads and writes,
 * completions, life cycle). Not for use outside virtio/blk_*.c: the
 * interface is above. */
#ifdef VIRTIO_BLK_REQ_INTERNAL
#include <liburing.h>
#include <sys/uio.h>

#define BLK_OPS_PER_REQ      BLK_MAX_DWZ_SEG  /* worst case SQEs */
#define BLK_POP_BATCH        8u     /* chains popped before starting */
#define BLK_POP_AGAIN        8u     /* pops per doorbell on new chains */

/* A chain popped in a batch and its request header, read posted. */
struct blk_popped {
    struct virtq_elem e;
    struct virtio_blk_outhdr hdr;
    bool have_hdr;              /* else blk_start() reads it */
};

struct blk_io {
    struct virtio_dev *vdev;
    struct virtq *queues;           /* [vdev->num_queues] */
    struct virtio_mem mem;
    int fd;
    bool readonly;
    uint64_t capacity;              /* 512-byte sectors */
    uint32_t seg_max;
    char serial[VIRTIO_BLK_ID_BYTES];
    struct io_uring ring;
    int efd;                        /* eventfd registered with the ring */
    unsigned int inflight_ops;      /* SQEs submitted, CQE not reaped */
    unsigned int inflight_reqs;
    unsigned int max_ops;           /* CQ ring size */
    bool dropping;                  /* reset: complete nothing to guest */
    uint64_t blocked;               /* queues waiting for ring space */
    bool defer_completions;         /* no reaping inside the doorbell */
    uint64_t to_notify;             /* queues with new used entries */
    uint64_t area_new;              /* queues whose notify check saw new
                                       chains (queue_fetch.h) */
    struct blk_req *fin;            /* finished, completed by the batch */
    struct blk_req **fin_tail;
    struct virtq_seg *scratch;      /* [BLK_POP_BATCH][seg_max + 2] */
    struct blk_popped popped[BLK_POP_BATCH];
    struct virtio_blk_stats stats;
};

enum blk_op_kind {
    BLK_OP_RW,
    BLK_OP_FLUSH,
    BLK_OP_DISCARD,
    BLK_OP_ZERO,        /* FALLOC_FL_ZERO_RANGE */
    BLK_OP_ZERO_PUNCH,  /* fallback: FALLOC_FL_PUNCH_HOLE */
};

/* One SQE's worth of work; user_data points here. */
struct blk_op {
    struct blk_req *req;
    uint64_t off, len;          /* bytes, for fallocate */
    enum blk_op_kind kind;
};

struct blk_req {
    uint16_t qidx, head;
    uint32_t type;
    uint64_t offset;            /* disk offset, bytes */
    uint64_t len;               /* data bytes */
    uint64_t done;              /* bytes transferred so far */
    uint64_t status_gpa;
    unsigned int pending;       /* ops in flight */
    int err;                    /* first failure, -errno */
    struct blk_req *next;       /* on blk->fin */
    bool delivered;             /* IN data copied out of the bounce */
    void *bounce;               /* message-based DMA buffer, or NULL */
    unsigned int nslices;
    struct virtq_seg *slices;   /* data buffers in guest memory */
    unsigned int niov;
    struct iovec *iov;          /* [niov] */
    struct iovec *cur;          /* not yet transferred: cur[0, ncur) */
    int ncur;
    unsigned int nops;
    struct blk_op *ops;
};

/* What the parser decided about a chain, before any I/O. */
struct blk_parse {
    uint16_t qidx;
    const struct virtq_elem *e;
    uint32_t type;
    uint64_t sector;
    uint64_t status_gpa;
};

/* The status byte (posted) and the used element (deferred until
 * blk_flush_notify()) of chain @head on queue @qidx. */
void blk_complete(struct blk_io *blk, uint16_t qidx, uint16_t head,
                  uint64_t status_gpa, uint8_t status, uint32_t used);
/* Complete the chain @ps parsed with @status before any I/O. */
void blk_complete_early(struct blk_io *blk, const struct blk_parse *ps,
                        uint8_t status);
/* A request for chain @ps (@nslices data slices, @nops SQEs); NULL (the
 * chain then completed with IOERR) when out of memory. */
struct blk_req *blk_req_new(struct blk_io *blk, const struct blk_parse *ps,
                            unsigned int nslices, unsigned int nops);
/* Submit all ops of a new request; on failure complete it with IOERR. */
void blk_start_ops(struct blk_io *blk, struct blk_req *req);
/* [@sector, +@sectors) lies within the disk. */
bool blk_in_capacity(const struct blk_io *blk, uint64_t sector,
                     uint64_t sectors);
/* Start an IN/OUT request. */
void blk_start_rw(struct blk_io *blk, const struct blk_parse *ps);
/* Reap completions and complete the finished requests as one batch. */
int blk_reap(struct blk_io *blk);
/* Publish the used entries and raise the interrupts owed; queues whose
 * check (message batching) saw new chains go into area_new. */
void blk_flush_notify(struct blk_io *blk);
/* Forget those driver-area reads (before waiting for doorbells again). */
void blk_drop_areas(struct blk_io *blk);

/* blk_cmd.c: VIRTIO_BLK_T_FLUSH, _GET_ID, _DISCARD and _WRITE_ZEROES. */
void blk_start_flush(struct blk_io *blk, const struct blk_parse *ps);
void blk_do_get_id(struct blk_io *blk, const struct blk_parse *ps);
void blk_start_dwz(struct blk_io *blk, const struct blk_parse *ps);

#endif /* VIRTIO_BLK_REQ_INTERNAL */

#endif
