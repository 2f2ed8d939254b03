/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-blk: dispatching chains, popping them in batches (doorbells),
 * the completion hook; see blk_req.h (internal part). With message-based
 * DMA the headers of a batch are read with posted reads: one round trip
 * for the batch. */
#define VIRTIO_BLK_REQ_INTERNAL
#include "virtio/blk_req.h"
#include "virtio/queue_fetch.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* --- dispatch ---------------------------------------------------------- */

/* Start chain @e; @pre is its header if already read, else NULL. */
static void blk_start(struct blk_io *blk, uint16_t qidx,
                      const struct virtq_elem *e,
                      const struct virtio_blk_outhdr *pre)
{
    struct blk_parse ps = { .qidx = qidx, .e = e };
    struct virtio_blk_outhdr hdr;

    if (!e->last.len || !e->last.write) {
        /* no status byte to report anything in */
        blk->stats.requests++;
        blk->stats.errors++;
        if (virtq_push_deferred(&blk->queues[qidx], e->head, 0) < 0)
            virtio_dev_queue_failed(blk->vdev, &blk->queues[qidx]);
        blk->to_notify |= 1ULL << qidx;
        return;
    }
    ps.status_gpa = e->last.gpa + e->last.len - 1;
    if (pre)
        hdr = *pre;
    if (e->truncated || (!pre && virtq_elem_read(&blk->queues[qidx], e, 0,
                                                 &hdr, sizeof(hdr)) < 0)) {
        blk_complete_early(blk, &ps, VIRTIO_BLK_S_IOERR);
        return;
    }
    ps.type = le32toh(hdr.type);
    ps.sector = le64toh(hdr.sector);
    switch (ps.type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT:
        blk_start_rw(blk, &ps);
        break;
    case VIRTIO_BLK_T_FLUSH:
        blk_start_flush(blk, &ps);
        break;
    case VIRTIO_BLK_T_GET_ID:
        blk_do_get_id(blk, &ps);
        break;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        blk_start_dwz(blk, &ps);
        break;
    default:
        blk_complete_early(blk, &ps, VIRTIO_BLK_S_UNSUPP);
        break;
    }
}

/* --- popping in batches ---------------------------------------------- */

/* Post the read of @p's request header when it sits in the first
 * (readable) segment, as it does with every driver we know; unless the
 * queue's fetch already read it there (virtq_elem.prefix). */
static void post_hdr(struct blk_io *blk, struct blk_popped *p)
{
    const struct virtq_elem *e = &p->e;

    _Static_assert(sizeof(p->hdr) <= VIRTQ_PREFIX_MAX, "header prefix");
    if (e->has_prefix && e->last.len && e->last.write && !e->truncated) {
        memcpy(&p->hdr, e->prefix, sizeof(p->hdr));
        p->have_hdr = true;
        return;
    }
    p->have_hdr = e->last.len && e->last.write && !e->truncated &&
                  e->nsegs && !e->segs[0].write &&
                  e->segs[0].len >= sizeof(p->hdr) &&
                  virtio_mem_read_posted(&blk->mem, e->segs[0].gpa,
                                         &p->hdr, sizeof(p->hdr)) == 0;
}

/* Pop up to BLK_POP_BATCH chains into blk->popped (*@n of them). 1: more may be available; 0: the ring is empty
 * or full (blocked); -errno: the queue broke. */
static int pop_batch(struct blk_io *blk, uint16_t qidx, unsigned int *n)
{
    struct virtq *q = &blk->queues[qidx];
    int r;

    for (*n = 0; *n < BLK_POP_BATCH; (*n)++) {
        struct blk_popped *p = &blk->popped[*n];

        if (blk->inflight_ops + (*n + 1) * BLK_OPS_PER_REQ > blk->max_ops) {
            blk->blocked |= 1ULL << qidx;   /* resumed on reap */
            return 0;
        }
        p->e.segs = blk->scratch + (size_t)*n * (blk->seg_max + 2);
        p->e.max_segs = blk->seg_max + 2;
        r = virtq_pop(q, &p->e);
        if (r < 0) {
            virtio_dev_queue_failed(blk->vdev, q);
            return r;
        }
        if (r == 0)
            return 0;
    }
    return 1;
}

/* Start the @n popped chains once their headers are in: posted only now,
 * after the pops (which may flush), so this flush is theirs (if it
 * fails, each header is read again alone). */
static void start_batch(struct blk_io *blk, uint16_t qidx, unsigned int n)
{
    bool ok;

    for (unsigned int i = 0; i < n; i++)
        post_hdr(blk, &blk->popped[i]);
    ok = n == 0 || virtio_mem_flush(&blk->mem) == 0;
    for (unsigned int i = 0; i < n; i++) {
        struct blk_popped *p = &blk->popped[i];

        blk_start(blk, qidx, &p->e, ok && p->have_hdr ? &p->hdr : NULL);
    }
}

/* Reap what completed inline in the submit (page-cache hits), eventfd
 * drained first: no second loop wakeup per I/O (docs/bench.md). A later
 * CQE signals it again; blocked queues and errors go to the handler. */
static void blk_reap_inline(struct blk_io *blk)
{
    uint64_t v;

    if (blk->defer_completions || blk->blocked ||
        !io_uring_cq_ready(&blk->ring) ||
        (read(blk->efd, &v, sizeof(v)) < 0 && errno != EAGAIN))
        return;
    if (blk_reap(blk) < 0)
        eventfd_write(blk->efd, 1);
    io_uring_submit(&blk->ring); /* resubmitted short transfers */
}

static bool queue_runnable(const struct blk_io *blk)
{
    return virtio_dev_driver_ok(blk->vdev) &&
           !(blk->vdev->status & VIRTIO_DEV_S_NEEDS_RESET);
}

/* After a completion whose notify check (message batching) read the
 * driver area and saw chains added meanwhile: true (the area kept for
 * the next fetch) if queue @qidx should be popped again at once. */
static bool pop_again(struct blk_io *blk, uint16_t qidx)
{
    uint64_t bit = 1ULL << qidx;

    if (!(blk->area_new & bit))
        return false;
    blk->area_new &= ~bit;
    if (queue_runnable(blk) && virtq_msg_area_new(&blk->queues[qidx]))
        return true;
    virtq_msg_drop_area(&blk->queues[qidx]);
    return false;
}

static int process_once(struct blk_io *blk, uint16_t qidx)
{
    struct virtq *q = &blk->queues[qidx];
    unsigned int n;
    int r = 0, more;

    blk->blocked &= ~(1ULL << qidx);
    do {
        virtq_disable_notify(q);
        do {
            more = pop_batch(blk, qidx, &n);
            start_batch(blk, qidx, n);
        } while (more > 0);
        if (more < 0 || (blk->blocked & (1ULL << qidx))) {
            r = more;
            break;
        }
    } while (virtq_enable_notify(q));
    io_uring_submit(&blk->ring);
    blk_reap_inline(blk);
    blk_flush_notify(blk);
    return r < 0 ? r : 0;
}

/* Pop, start, and (page-cache hits) complete; again while the
 * completion's notify check found new chains (pop_again(), at most
 * BLK_POP_AGAIN times: their doorbells are pending anyway). No
 * driver-area read is left behind. */
int blk_io_process_queue(struct blk_io *blk, uint16_t qidx)
{
    unsigned int n = 0;
    int r;

    do {
        r = process_once(blk, qidx);
    } while (r == 0 && ++n < BLK_POP_AGAIN && pop_again(blk, qidx));
    blk_drop_areas(blk);
    return r;
}

/* Message batching: a completion's notify check read the driver area
 * after the used index landed; where it shows chains the driver added
 * meanwhile, pop them now with that read as the fetch's first round (one
 * round trip less than waiting for their doorbell; the doorbell still
 * comes and fetches afresh). Then no area read is left behind. */
static void pop_new(struct blk_io *blk, int *ret)
{
    uint64_t pend = blk->area_new;
    int r;

    blk->area_new = 0;
    for (uint16_t i = 0; pend && i < blk->vdev->num_queues; i++) {
        struct virtq *q = &blk->queues[i];

        if (!(pend & (1ULL << i)))
            continue;
        if (queue_runnable(blk) && virtq_msg_area_new(q)) {
            r = blk_io_process_queue(blk, i);
            if (r < 0 && !*ret)
                *ret = r;
        }
        virtq_msg_drop_area(q);
    }
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
    pop_new(blk, &ret);
    return ret;
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
