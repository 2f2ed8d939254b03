/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-blk requests: parsing (spec 5.2.6 "Device Operation") and the
 * io_uring backend. See blk_req.h; blk.h for the threading and memory
 * model. */
#include "virtio/blk_req.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vmm/iov.h"

#define BLK_RING_ENTRIES     128u   /* SQ size; CQ is twice that */
#define BLK_OPS_PER_REQ      BLK_MAX_DWZ_SEG  /* worst case SQEs */

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
    uint64_t to_notify;             /* queues with new used entries */
    struct virtq_seg *scratch;      /* [seg_max + 2] for popping */
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
static void complete(struct blk_io *blk, uint16_t qidx, uint16_t head,
                     uint64_t status_gpa, uint8_t status, uint32_t used)
{
    struct virtq *q = &blk->queues[qidx];

    blk->stats.requests++;
    if (status != VIRTIO_BLK_S_OK)
        blk->stats.errors++;
    if (virtio_mem_write(&blk->mem, status_gpa, &status, 1) < 0)
        used = 0;       /* nothing could be written */
    if (virtq_push(q, head, used) < 0) {
        virtio_dev_queue_failed(blk->vdev, q);
        return;
    }
    blk->to_notify |= 1ULL << qidx;
}

static void complete_early(struct blk_io *blk,
                           const struct blk_parse *ps, uint8_t status)
{
    complete(blk, ps->qidx, ps->e->head, ps->status_gpa, status, 1);
}

/* A new request for the chain @ps parsed (@nslices data slices, @nops
 * SQEs); NULL (the chain completed with IOERR) when out of memory. */
static struct blk_req *req_new(struct blk_io *blk, const struct blk_parse *ps,
                               unsigned int nslices, unsigned int nops)
{
    struct blk_req *req = req_alloc(nslices, nops);

    if (!req) {
        complete_early(blk, ps, VIRTIO_BLK_S_IOERR);
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
static void start_ops(struct blk_io *blk, struct blk_req *req)
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
        complete(blk, req->qidx, req->head, req->status_gpa,
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

/* Message-based DMA: stage the data in a host buffer. */
static int map_bounce(struct blk_io *blk, struct blk_req *req)
{
    uint8_t *p;
    unsigned int i;
    int r;

    if (!blk->mem.ops->read || !blk->mem.ops->write)
        return -EFAULT;
    req->bounce = malloc(req->len);
    if (!req->bounce)
        return -ENOMEM;
    p = req->bounce;
    for (i = 0; req->type == VIRTIO_BLK_T_OUT && i < req->nslices; i++) {
        r = virtio_mem_read(&blk->mem, req->slices[i].gpa, p,
                            req->slices[i].len);
        if (r < 0)
            return r;
        p += req->slices[i].len;
    }
    req->iov[0].iov_base = req->bounce;
    req->iov[0].iov_len = req->len;
    req->niov = 1;
    return 0;
}

static bool in_capacity(const struct blk_io *blk, uint64_t sector,
                        uint64_t sectors)
{
    return sector <= blk->capacity && sectors <= blk->capacity - sector;
}

static void start_rw(struct blk_io *blk, const struct blk_parse *ps)
{
    const struct virtq_elem *e = ps->e;
    bool in = ps->type == VIRTIO_BLK_T_IN;
    struct blk_req *req;
    uint64_t len;

    if (!in && blk->readonly) {
        complete_early(blk, ps, VIRTIO_BLK_S_IOERR);  /* spec 5.2.6.2 */
        return;
    }
    len = in ? e->in_bytes - 1
             : e->out_bytes - sizeof(struct virtio_blk_outhdr);
    if (len % BLK_SECTOR_SIZE ||
        !in_capacity(blk, ps->sector, len >> BLK_SECTOR_SHIFT)) {
        complete_early(blk, ps, VIRTIO_BLK_S_IOERR);
        return;
    }
    if (len == 0) {
        complete_early(blk, ps, VIRTIO_BLK_S_OK);
        return;
    }
    req = req_new(blk, ps, e->nsegs, 1);
    if (!req)
        return;
    req->offset = ps->sector << BLK_SECTOR_SHIFT;
    req->len = len;
    req->nslices = slice(e, in, in ? 0 : sizeof(struct virtio_blk_outhdr),
                         len, req->slices);
    if (map_iov(blk, req) < 0 && map_bounce(blk, req) < 0) {
        req_free(req);
        complete_early(blk, ps, VIRTIO_BLK_S_IOERR);
        return;
    }
    req->cur = req->iov;
    req->ncur = (int)req->niov;
    req->ops[0].kind = BLK_OP_RW;
    start_ops(blk, req);
}

/* --- flush, get-id, discard, write-zeroes ----------------------------- */

static void start_flush(struct blk_io *blk, const struct blk_parse *ps)
{
    struct blk_req *req;

    if (!virtio_dev_has_feature(blk->vdev, VIRTIO_BLK_F_FLUSH)) {
        complete_early(blk, ps, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    req = req_new(blk, ps, 0, 1);
    if (!req)
        return;
    req->ops[0].kind = BLK_OP_FLUSH;
    start_ops(blk, req);
}

static void do_get_id(struct blk_io *blk, const struct blk_parse *ps)
{
    uint64_t n = ps->e->in_bytes - 1;
    int r;

    if (n > VIRTIO_BLK_ID_BYTES)
        n = VIRTIO_BLK_ID_BYTES;
    r = virtq_elem_write(&blk->queues[ps->qidx], ps->e, 0, blk->serial, n);
    if (r < 0) {
        complete_early(blk, ps, VIRTIO_BLK_S_IOERR);
        return;
    }
    complete(blk, ps->qidx, ps->e->head, ps->status_gpa, VIRTIO_BLK_S_OK,
             (uint32_t)n + 1);
}

/* Check one range; returns a VIRTIO_BLK_S_* status. */
static uint8_t check_range(const struct blk_io *blk, uint32_t type,
                           const struct virtio_blk_discard_write_zeroes *rg)
{
    uint32_t flags = le32toh(rg->flags);
    uint32_t allowed = type == VIRTIO_BLK_T_WRITE_ZEROES ?
                       VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;

    if (flags & ~allowed)
        return VIRTIO_BLK_S_UNSUPP;     /* spec 5.2.6.2 */
    if (le32toh(rg->num_sectors) > BLK_MAX_DWZ_SECTORS ||
        !in_capacity(blk, le64toh(rg->sector), le32toh(rg->num_sectors)))
        return VIRTIO_BLK_S_IOERR;
    return VIRTIO_BLK_S_OK;
}

/* Read and validate the ranges; returns a status, *@n ranges in @rg. */
static uint8_t read_ranges(struct blk_io *blk, const struct blk_parse *ps,
                           struct virtio_blk_discard_write_zeroes *rg,
                           unsigned int *n)
{
    uint64_t bytes = ps->e->out_bytes - sizeof(struct virtio_blk_outhdr);
    unsigned int i;
    uint8_t st;

    if (bytes == 0 || bytes % sizeof(*rg) ||
        bytes / sizeof(*rg) > BLK_MAX_DWZ_SEG)
        return VIRTIO_BLK_S_IOERR;
    *n = bytes / sizeof(*rg);
    if (virtq_elem_read(&blk->queues[ps->qidx], ps->e,
                        sizeof(struct virtio_blk_outhdr), rg, bytes) < 0)
        return VIRTIO_BLK_S_IOERR;
    for (i = 0; i < *n; i++) {
        st = check_range(blk, ps->type, &rg[i]);
        if (st != VIRTIO_BLK_S_OK)
            return st;
    }
    return VIRTIO_BLK_S_OK;
}

static void start_dwz(struct blk_io *blk, const struct blk_parse *ps)
{
    struct virtio_blk_discard_write_zeroes rg[BLK_MAX_DWZ_SEG];
    unsigned int feature = ps->type == VIRTIO_BLK_T_DISCARD ?
                           VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;
    unsigned int i, n = 0, nops = 0;
    struct blk_req *req;
    uint8_t st;

    if (!virtio_dev_has_feature(blk->vdev, feature)) {
        complete_early(blk, ps, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    st = read_ranges(blk, ps, rg, &n);
    for (i = 0; i < n; i++)
        nops += rg[i].num_sectors != 0;
    if (st != VIRTIO_BLK_S_OK || nops == 0) {
        complete_early(blk, ps, st);
        return;
    }
    req = req_new(blk, ps, 0, nops);
    if (!req)
        return;
    for (i = 0, nops = 0; i < n; i++) {
        if (!rg[i].num_sectors)
            continue;
        req->ops[nops].off = le64toh(rg[i].sector) << BLK_SECTOR_SHIFT;
        req->ops[nops].len = (uint64_t)le32toh(rg[i].num_sectors)
                             << BLK_SECTOR_SHIFT;
        req->ops[nops++].kind = ps->type == VIRTIO_BLK_T_DISCARD ?
                                BLK_OP_DISCARD : BLK_OP_ZERO;
    }
    start_ops(blk, req);
}

/* --- dispatch ---------------------------------------------------------- */

static void blk_start(struct blk_io *blk, uint16_t qidx,
                      const struct virtq_elem *e)
{
    struct blk_parse ps = { .qidx = qidx, .e = e };
    struct virtio_blk_outhdr hdr;

    if (!e->last.len || !e->last.write) {
        /* no status byte to report anything in */
        blk->stats.requests++;
        blk->stats.errors++;
        if (virtq_push(&blk->queues[qidx], e->head, 0) < 0)
            virtio_dev_queue_failed(blk->vdev, &blk->queues[qidx]);
        blk->to_notify |= 1ULL << qidx;
        return;
    }
    ps.status_gpa = e->last.gpa + e->last.len - 1;
    if (e->truncated ||
        virtq_elem_read(&blk->queues[qidx], e, 0, &hdr, sizeof(hdr)) < 0) {
        complete_early(blk, &ps, VIRTIO_BLK_S_IOERR);
        return;
    }
    ps.type = le32toh(hdr.type);
    ps.sector = le64toh(hdr.sector);
    switch (ps.type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT:
        start_rw(blk, &ps);
        break;
    case VIRTIO_BLK_T_FLUSH:
        start_flush(blk, &ps);
        break;
    case VIRTIO_BLK_T_GET_ID:
        do_get_id(blk, &ps);
        break;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        start_dwz(blk, &ps);
        break;
    default:
        complete_early(blk, &ps, VIRTIO_BLK_S_UNSUPP);
        break;
    }
}

/* --- completions ------------------------------------------------------- */

/* IN data reached the guest: copy out the bounce buffer, or re-mark the
 * pages dirty (the write landed after translate marked them). */
static int deliver_in(struct blk_io *blk, struct blk_req *req)
{
    const uint8_t *p = req->bounce;
    unsigned int i;
    int r;

    for (i = 0; i < req->nslices; i++) {
        const struct virtq_seg *s = &req->slices[i];

        if (!p) {
            virtio_mem_mark_dirty(&blk->mem, s->gpa, s->len);
            continue;
        }
        r = virtio_mem_write(&blk->mem, s->gpa, p, s->len);
        if (r < 0)
            return r;
        p += s->len;
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
        if (deliver_in(blk, req) < 0) {
            status = VIRTIO_BLK_S_IOERR;
        } else {
            used += (uint32_t)req->len;
            blk->stats.bytes_read += req->len;
        }
    } else if (!req->err && req->type == VIRTIO_BLK_T_OUT) {
        blk->stats.bytes_written += req->len;
    }
    complete(blk, req->qidx, req->head, req->status_gpa, status, used);
    req_free(req);
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
    if (req->pending == 0)
        req_finish(blk, req);
}

static int blk_reap(struct blk_io *blk)
{
    struct io_uring_cqe *cqe;
    struct blk_op *op;
    int r;

    for (;;) {
        r = io_uring_peek_cqe(&blk->ring, &cqe);
        if (r == -EAGAIN)
            return 0;
        if (r < 0)
            return r;
        op = io_uring_cqe_get_data(cqe);
        r = cqe->res;
        io_uring_cqe_seen(&blk->ring, cqe);
        op_done(blk, op, r);
    }
}

static void blk_flush_notify(struct blk_io *blk)
{
    uint16_t i;

    for (i = 0; blk->to_notify && i < blk->vdev->num_queues; i++) {
        if (!(blk->to_notify & (1ULL << i)))
            continue;
        blk->to_notify &= ~(1ULL << i);
        virtio_dev_notify_queue(blk->vdev, i);
    }
    blk->to_notify = 0;
}

/* Reap what completed inline in the submit (page-cache hits), eventfd
 * drained first: no second loop wakeup per I/O (docs/bench.md). A later
 * CQE signals it again; blocked queues and errors go to the handler. */
static void blk_reap_inline(struct blk_io *blk)
{
    uint64_t v;

    if (blk->blocked || !io_uring_cq_ready(&blk->ring) ||
        (read(blk->efd, &v, sizeof(v)) < 0 && errno != EAGAIN))
        return;
    if (blk_reap(blk) < 0)
        eventfd_write(blk->efd, 1);
    io_uring_submit(&blk->ring); /* resubmitted short transfers */
}

int blk_io_process_queue(struct blk_io *blk, uint16_t qidx)
{
    struct virtq *q = &blk->queues[qidx];
    struct virtq_elem e = {
        .segs = blk->scratch,
        .max_segs = blk->seg_max + 2,
    };
    int r = 0;

    blk->blocked &= ~(1ULL << qidx);
    do {
        virtq_disable_notify(q);
        for (;;) {
            if (blk->inflight_ops + BLK_OPS_PER_REQ > blk->max_ops) {
                blk->blocked |= 1ULL << qidx;   /* resumed on reap */
                goto out;
            }
            r = virtq_pop(q, &e);
            if (r < 0) {
                virtio_dev_queue_failed(blk->vdev, q);
                goto out;
            }
            if (r == 0)
                break;
            blk_start(blk, qidx, &e);
        }
    } while (virtq_enable_notify(q));
out:
    io_uring_submit(&blk->ring);
    blk_reap_inline(blk);
    blk_flush_notify(blk);
    return r < 0 ? r : 0;
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
    blk->capacity = p->capacity;
    blk->seg_max = p->seg_max;
    if (p->serial)
        memcpy(blk->serial, p->serial,
               strnlen(p->serial, sizeof(blk->serial)));
    blk->scratch = calloc(p->seg_max + 2u, sizeof(*blk->scratch));
    r = blk->scratch ? setup_ring(blk) : -ENOMEM;
    if (r < 0) {
        free(blk->scratch);
        free(blk);
        return r;
    }
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
    free(blk->scratch);
    free(blk);
}

int blk_io_poll_fd(const struct blk_io *blk)
{
    return blk->efd;
}

static bool queue_runnable(const struct blk_io *blk)
{
    return virtio_dev_driver_ok(blk->vdev) &&
           !(blk->vdev->status & VIRTIO_DEV_S_NEEDS_RESET);
}

int blk_io_handle_ready(struct blk_io *blk)
{
    uint64_t v;
    uint16_t i;
    int r, ret;

    if (read(blk->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        return -errno;
    ret = blk_reap(blk);
    for (i = 0; blk->blocked && i < blk->vdev->num_queues; i++) {
        if (!(blk->blocked & (1ULL << i)) || !queue_runnable(blk))
            continue;
        r = blk_io_process_queue(blk, i);
        if (r < 0 && !ret)
            ret = r;
    }
    io_uring_submit(&blk->ring);
    blk_flush_notify(blk);
    return ret;
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
    if (drop) {
        blk->dropping = false;
        blk->blocked = 0;
        blk->to_notify = 0;
    }
    return r < 0 ? r : 0;
}

int blk_io_resume(struct blk_io *blk)
{
    uint16_t i;
    int r;

    for (i = 0; i < blk->vdev->num_queues && queue_runnable(blk); i++) {
        r = blk_io_process_queue(blk, i);
        if (r < 0)
            return r;
    }
    return 0;
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
