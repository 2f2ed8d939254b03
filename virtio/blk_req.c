/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-blk requests: parsing (spec 5.2.6 "Device Operation") and the
 * io_uring backend. See blk_req.h; blk.h for the threading and memory
 * model. */
#define VIRTIO_BLK_REQ_INTERNAL
#include "virtio/blk_req.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>

#include <linux/virtio_ring.h>
#include <unistd.h>

#include "virtio/queue_fetch.h"
#include "vmm/iov.h"

#define BLK_RING_ENTRIES     128u   /* SQ size; CQ is twice that */

static struct blk_req *req_alloc(unsigned int nslices, unsigned int nops)
{
    struct blk_req *req;
    size_t sz = sizeof(*req) + nslices * sizeof(struct virtq_seg) +
                nslices * sizeof(struct iovec) +
                nops * sizeof(struct blk_op);

    req = calloc(1, sz);
    if (!req)
        return NULL;
    req->slices = (struct virtq_seg *)(req + 1);
    req->iov = (struct iovec *)(req->slices + nslices);
    req->ops = (struct blk_op *)(req->iov + nslices);
    req->nslices = nslices;
    req->nops = nops;
    return req;
}

static void req_free(struct blk_req *req)
{
    free(req->bounce);
    free(req);
}

/* Write the status byte, push the chain, count it. */
void blk_complete(struct blk_io *blk, uint16_t qidx, uint16_t head,
                  uint64_t status_gpa, uint8_t status, uint32_t used)
{
    struct virtq *q = &blk->queues[qidx];

    blk->stats.requests++;
    if (status != VIRTIO_BLK_S_OK)
        blk->stats.errors++;
    /* Posted: the batch's status bytes and used elements go out
     * together; blk_flush_notify() flushes before the used index. */
    if (virtio_mem_write_posted(&blk->mem, status_gpa, &status, 1) < 0)
        used = 0;       /* nothing could be written */
    if (virtq_push_deferred(q, head, used) < 0) {
        virtio_dev_queue_failed(blk->vdev, q);
        return;
    }
    blk->to_notify |= 1ULL << qidx;
}

void blk_complete_early(struct blk_io *blk, const struct blk_parse *ps,
                        uint8_t status)
{
    blk_complete(blk, ps->qidx, ps->e->head, ps->status_gpa, status, 1);
}

/* A new request for the chain @ps parsed (@nslices data slices, @nops
 * SQEs); NULL (the chain completed with IOERR) when out of memory. */
struct blk_req *blk_req_new(struct blk_io *blk, const struct blk_parse *ps,
                            unsigned int nslices, unsigned int nops)
{
    struct blk_req *req = req_alloc(nslices, nops);

    if (!req) {
        blk_complete_early(blk, ps, VIRTIO_BLK_S_IOERR);
        return NULL;
    }
    req->qidx = ps->qidx;
    req->head = ps->e->head;
    req->type = ps->type;
    req->status_gpa = ps->status_gpa;
    return req;
}

struct slicer {
    struct virtq_seg *out;
    unsigned int n;
    bool write;
};

static int add_slice(void *opaque, uint64_t gpa, uint64_t len)
{
    struct slicer *sl = opaque;

    sl->out[sl->n++] = (struct virtq_seg){ .gpa = gpa, .len = (uint32_t)len,
                                           .write = sl->write };
    return 0;
}

/* Cut [@off, @off + @len) of the readable or writable bytes of @e into
 * @out (at most e->nsegs slices). Returns the number of slices. */
static unsigned int slice(const struct virtq_elem *e, bool write,
                          uint64_t off, uint64_t len, struct virtq_seg *out)
{
    struct slicer sl = { .out = out, .write = write };

    virtq_elem_walk(e, write, off, len, add_slice, &sl);
    return sl.n;
}

static struct io_uring_sqe *get_sqe(struct blk_io *blk)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&blk->ring);

    if (!sqe) {
        io_uring_submit(&blk->ring);
        sqe = io_uring_get_sqe(&blk->ring);
    }
    return sqe;
}

/* Queue one SQE for @op. 0 or -EBUSY (cannot happen while inflight_ops
 * stays within max_ops, but is handled). */
static int submit_op(struct blk_io *blk, struct blk_op *op)
{
    struct io_uring_sqe *sqe = get_sqe(blk);
    struct blk_req *req = op->req;
    int mode;

    if (!sqe)
        return -EBUSY;
    switch (op->kind) {
    case BLK_OP_RW:
        if (req->type == VIRTIO_BLK_T_IN)
            io_uring_prep_readv(sqe, blk->fd, req->cur, (unsigned)req->ncur,
                                req->offset + req->done);
        else
            io_uring_prep_writev(sqe, blk->fd, req->cur,
                                 (unsigned)req->ncur,
                                 req->offset + req->done);
        break;
    case BLK_OP_FLUSH:
        io_uring_prep_fsync(sqe, blk->fd, 0);
        break;
    default:
        mode = op->kind == BLK_OP_ZERO ? FALLOC_FL_ZERO_RANGE
                                       : FALLOC_FL_PUNCH_HOLE;
        io_uring_prep_fallocate(sqe, blk->fd, mode | FALLOC_FL_KEEP_SIZE,
                                op->off, op->len);
        break;
    }
    io_uring_sqe_set_data(sqe, op);
    req->pending++;
    blk->inflight_ops++;
    return 0;
}

/* Submit all ops of a new request; on failure complete it with IOERR. */
void blk_start_ops(struct blk_io *blk, struct blk_req *req)
{
    unsigned int i;

    blk->inflight_reqs++;
    for (i = 0; i < req->nops; i++) {
        req->ops[i].req = req;
        if (submit_op(blk, &req->ops[i]) < 0)
            req->err = -EBUSY;
    }
    if (req->pending == 0) {
        blk->inflight_reqs--;
        blk_complete(blk, req->qidx, req->head, req->status_gpa,
                 VIRTIO_BLK_S_IOERR, 1);
        req_free(req);
    }
}

/* --- reads and writes ------------------------------------------------- */

static int map_iov(struct blk_io *blk, struct blk_req *req)
{
    bool write = req->type == VIRTIO_BLK_T_IN;
    unsigned int i;
    void *p;

    for (i = 0; i < req->nslices; i++) {
        p = virtio_mem_translate(&blk->mem, req->slices[i].gpa,
                                 req->slices[i].len, write);
        if (!p)
            return -EFAULT;
        req->iov[i].iov_base = p;
        req->iov[i].iov_len = req->slices[i].len;
    }
    req->niov = req->nslices;
    return 0;
}

/* The next run of guest-contiguous slices from *@i: [*@gpa, +*@len)
 * (adjacent guest segments become one DMA message). Advances *@i. */
static void next_run(const struct blk_req *req, unsigned int *i,
                     uint64_t *gpa, uint64_t *len)
{
    const struct virtq_seg *s = &req->slices[*i];

    *gpa = s->gpa;
    *len = s->len;
    for ((*i)++; *i < req->nslices; (*i)++) {
        s = &req->slices[*i];
        if (s->gpa != *gpa + *len || *gpa + *len < *gpa)
            break;
        *len += s->len;
    }
}

/* Message-based DMA: stage the data in a host buffer. */
static int map_bounce(struct blk_io *blk, struct blk_req *req)
{
    uint64_t gpa, len;
    uint8_t *p;
    unsigned int i;
    int r;

    if (!blk->mem.ops->read || !blk->mem.ops->write)
        return -EFAULT;
    req->bounce = malloc(req->len);
    if (!req->bounce)
        return -ENOMEM;
    p = req->bounce;
    for (i = 0; req->type == VIRTIO_BLK_T_OUT && i < req->nslices;) {
        next_run(req, &i, &gpa, &len);
        r = virtio_mem_read(&blk->mem, gpa, p, len);
        if (r < 0)
            return r;
        p += len;
    }
    req->iov[0].iov_base = req->bounce;
    req->iov[0].iov_len = req->len;
    req->niov = 1;
    return 0;
}

bool blk_in_capacity(const struct blk_io *blk, uint64_t sector,
                     uint64_t sectors)
{
    return sector <= blk->capacity && sectors <= blk->capacity - sector;
}

void blk_start_rw(struct blk_io *blk, const struct blk_parse *ps)
{
    const struct virtq_elem *e = ps->e;
    bool in = ps->type == VIRTIO_BLK_T_IN;
    struct blk_req *req;
    uint64_t len;

    if (!in && blk->readonly) {
        blk_complete_early(blk, ps, VIRTIO_BLK_S_IOERR);  /* spec 5.2.6.2 */
        return;
    }
    len = in ? e->in_bytes - 1
             : e->out_bytes - sizeof(struct virtio_blk_outhdr);
    if (len % BLK_SECTOR_SIZE ||
        !blk_in_capacity(blk, ps->sector, len >> BLK_SECTOR_SHIFT)) {
        blk_complete_early(blk, ps, VIRTIO_BLK_S_IOERR);
        return;
    }
    if (len == 0) {
        blk_complete_early(blk, ps, VIRTIO_BLK_S_OK);
        return;
    }
    req = blk_req_new(blk, ps, e->nsegs, 1);
    if (!req)
        return;
    req->offset = ps->sector << BLK_SECTOR_SHIFT;
    req->len = len;
    req->nslices = slice(e, in, in ? 0 : sizeof(struct virtio_blk_outhdr),
                         len, req->slices);
    if (map_iov(blk, req) < 0 && map_bounce(blk, req) < 0) {
        req_free(req);
        blk_complete_early(blk, ps, VIRTIO_BLK_S_IOERR);
        return;
    }
    req->cur = req->iov;
    req->ncur = (int)req->niov;
    req->ops[0].kind = BLK_OP_RW;
    blk_start_ops(blk, req);
}

/* --- completions ------------------------------------------------------- */

/* IN data reached the guest: copy out the bounce buffer (@posted: with
 * posted writes, flushed by the caller), or re-mark the pages dirty (the
 * write landed after translate marked them). */
static int deliver_in(struct blk_io *blk, struct blk_req *req, bool posted)
{
    const uint8_t *p = req->bounce;
    uint64_t gpa, len;
    unsigned int i;
    int r;

    for (i = 0; i < req->nslices;) {
        if (!p) {
            virtio_mem_mark_dirty(&blk->mem, req->slices[i].gpa,
                                  req->slices[i].len);
            i++;
            continue;
        }
        next_run(req, &i, &gpa, &len);
        r = posted ? virtio_mem_write_posted(&blk->mem, gpa, p, len)
                   : virtio_mem_write(&blk->mem, gpa, p, len);
        if (r < 0)
            return r;
        p += len;
    }
    return 0;
}

static void req_finish(struct blk_io *blk, struct blk_req *req)
{
    uint8_t status = req->err ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
    uint32_t used = 1;

    blk->inflight_reqs--;
    if (blk->dropping) {
        req_free(req);
        return;
    }
    if (!req->err && req->type == VIRTIO_BLK_T_IN) {
        if (!req->delivered && deliver_in(blk, req, false) < 0) {
            status = VIRTIO_BLK_S_IOERR;
        } else {
            used += (uint32_t)req->len;
            blk->stats.bytes_read += req->len;
        }
    } else if (!req->err && req->type == VIRTIO_BLK_T_OUT) {
        blk->stats.bytes_written += req->len;
    }
    blk_complete(blk, req->qidx, req->head, req->status_gpa, status, used);
    req_free(req);
}

/* Complete the requests the reap finished, as one batch: the IN data of
 * every bounce buffer goes out as posted writes, back to back, then the
 * status bytes and used elements (posted too); blk_flush_notify() then
 * waits for all of them once and writes the used index. A write that
 * fails before sending (-EFAULT: not mapped) fails its request; one the
 * client refuses after sending breaks the queue there (DEVICE_NEEDS_RESET:
 * the client refused a write to memory it had mapped writable). */
static void finish_batch(struct blk_io *blk)
{
    struct blk_req *req, *next;

    for (req = blk->fin; req; req = req->next) {
        if (blk->dropping || req->err || req->type != VIRTIO_BLK_T_IN ||
            !req->bounce)
            continue;
        req->err = deliver_in(blk, req, true);
        req->delivered = !req->err;
    }
    for (req = blk->fin; req; req = next) {
        next = req->next;
        req_finish(blk, req);
    }
    blk->fin = NULL;
    blk->fin_tail = &blk->fin;
}

/* Returns 1 if @op was resubmitted (short transfer, fallback). */
static int op_result(struct blk_io *blk, struct blk_op *op, int res)
{
    struct blk_req *req = op->req;

    switch (op->kind) {
    case BLK_OP_RW:
        if (res <= 0)
            return res < 0 ? res : -EIO;  /* 0: unexpected end of file */
        req->done += (uint64_t)res;
        if (req->done >= req->len || blk->dropping)
            return 0;
        iov_advance(&req->cur, &req->ncur, (size_t)res);
        return submit_op(blk, op) < 0 ? -EBUSY : 1;
    case BLK_OP_DISCARD:
        return res == -EOPNOTSUPP ? 0 : res;   /* discard is a hint */
    case BLK_OP_ZERO:
        if (res != -EOPNOTSUPP || blk->dropping)
            return res;
        op->kind = BLK_OP_ZERO_PUNCH;
        return submit_op(blk, op) < 0 ? -EBUSY : 1;
    default:
        return res;
    }
}

static void op_done(struct blk_io *blk, struct blk_op *op, int res)
{
    struct blk_req *req = op->req;
    int r;

    req->pending--;
    blk->inflight_ops--;
    r = op_result(blk, op, res);
    if (r < 0 && !req->err)
        req->err = r;
    if (req->pending == 0) { /* finish_batch() completes it */
        req->next = NULL;
        *blk->fin_tail = req;
        blk->fin_tail = &req->next;
    }
}

int blk_reap(struct blk_io *blk)
{
    struct io_uring_cqe *cqe;
    struct blk_op *op;
    int r;

    for (;;) {
        r = io_uring_peek_cqe(&blk->ring, &cqe);
        if (r < 0) {
            finish_batch(blk);
            return r == -EAGAIN ? 0 : r;
        }
        op = io_uring_cqe_get_data(cqe);
        r = cqe->res;
        io_uring_cqe_seen(&blk->ring, cqe);
        op_done(blk, op, r);
    }
}

void blk_flush_notify(struct blk_io *blk)
{
    uint16_t i;

    for (i = 0; blk->to_notify && i < blk->vdev->num_queues; i++) {
        if (!(blk->to_notify & (1ULL << i)))
            continue;
        blk->to_notify &= ~(1ULL << i);
        if (virtq_publish(&blk->queues[i]) < 0) {
            virtio_dev_queue_failed(blk->vdev, &blk->queues[i]);
            continue;
        }
        virtio_dev_notify_queue(blk->vdev, i);
        if (virtq_msg_area_new(&blk->queues[i]))
            blk->area_new |= 1ULL << i;
    }
    blk->to_notify = 0;
}

void blk_drop_areas(struct blk_io *blk)
{
    for (uint16_t i = 0; blk->area_new && i < blk->vdev->num_queues; i++)
        if (blk->area_new & (1ULL << i))
            virtq_msg_drop_area(&blk->queues[i]);
    blk->area_new = 0;
}

/* --- engine life cycle ------------------------------------------------- */

static int setup_ring(struct blk_io *blk)
{
    int r;

    r = io_uring_queue_init(BLK_RING_ENTRIES, &blk->ring, 0);
    if (r < 0)
        return r;
    blk->max_ops = blk->ring.cq.ring_entries;
    blk->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (blk->efd < 0) {
        r = -errno;
        goto err_ring;
    }
    r = io_uring_register_eventfd(&blk->ring, blk->efd);
    if (r < 0)
        goto err_efd;
    return 0;

err_efd:
    close(blk->efd);
err_ring:
    io_uring_queue_exit(&blk->ring);
    return r;
}

/* Message-based DMA (a read op): each queue's batching buffers
 * (virtio/queue_fetch.h: descriptor table snapshot, driver area, request
 * headers read with the table), up to 1024 entries; best effort (without
 * them chains are read the slow way). Or free them. */
static void desc_snaps(struct blk_io *blk, bool alloc)
{
    for (uint16_t i = 0; i < blk->vdev->num_queues; i++) {
        struct virtq *q = &blk->queues[i];

        if (!alloc)
            virtq_msg_free(q);
        else if (blk->mem.ops->read && q->max_size <= 1024)
            virtq_msg_alloc(q, sizeof(struct virtio_blk_outhdr));
    }
}

int blk_io_create(const struct blk_io_params *p, struct blk_io **out)
{
    struct blk_io *blk = calloc(1, sizeof(*blk));
    int r;

    if (!blk)
        return -ENOMEM;
    blk->vdev = p->vdev;
    blk->queues = p->queues;
    blk->mem = *p->mem;
    blk->fd = p->fd;
    blk->readonly = p->readonly;
    blk->defer_completions = p->defer_completions;
    blk->capacity = p->capacity;
    blk->seg_max = p->seg_max;
    blk->fin_tail = &blk->fin;
    if (p->serial)
        memcpy(blk->serial, p->serial,
               strnlen(p->serial, sizeof(blk->serial)));
    blk->scratch = calloc((size_t)BLK_POP_BATCH * (p->seg_max + 2u),
                          sizeof(*blk->scratch));
    r = blk->scratch ? setup_ring(blk) : -ENOMEM;
    if (r < 0) {
        free(blk->scratch);
        free(blk);
        return r;
    }
    desc_snaps(blk, true);
    *out = blk;
    return 0;
}

void blk_io_destroy(struct blk_io *blk)
{
    if (!blk)
        return;
    blk_io_quiesce(blk, true);
    io_uring_unregister_eventfd(&blk->ring);
    io_uring_queue_exit(&blk->ring);
    close(blk->efd);
    desc_snaps(blk, false);
    free(blk->scratch);
    free(blk);
}

int blk_io_poll_fd(const struct blk_io *blk)
{
    return blk->efd;
}

int blk_io_quiesce(struct blk_io *blk, bool drop)
{
    int r = 0;

    blk->dropping = drop;
    while (blk->inflight_ops) {
        r = io_uring_submit_and_wait(&blk->ring, 1);
        if (r < 0 && r != -EINTR)
            break;
        r = blk_reap(blk);
        if (r < 0)
            break;
    }
    if (r >= 0)
        blk_flush_notify(blk);
    blk_drop_areas(blk);
    if (drop) {
        blk->dropping = false;
        blk->blocked = 0;
        blk->to_notify = 0;
    }
    return r < 0 ? r : 0;
}

unsigned int blk_io_inflight(const struct blk_io *blk)
{
    return blk->inflight_reqs;
}

unsigned int blk_io_inflight_ops(const struct blk_io *blk)
{
    return blk->inflight_ops;
}

void blk_io_get_stats(const struct blk_io *blk, struct virtio_blk_stats *st)
{
    *st = blk->stats;
}
