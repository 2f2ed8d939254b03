/* SPDX-License-Identifier: BSD-3-Clause */
/* Split virtqueues, device side: batching for message-based DMA (every
 * guest-memory access a DMA_READ/DMA_WRITE round trip to the client).
 * virtio 1.x section 2.7; vfio-user.rst "VFIO_USER_DMA_READ".
 *
 * A fetch is two rounds:
 *   1. one read of the whole driver area (flags, idx, ring[]): the index
 *      says which chains are available;
 *   2. posted reads, one flush: the ring entries of those chains, the
 *      whole descriptor table, and each chain's prefix (virtio-blk: the
 *      request header) at the address the previous table copy gives its
 *      guessed head.
 * Nothing from a read that may have run concurrently with the driver
 * publishing a chain is trusted: entries and descriptors come from round
 * 2, sent after round 1's reply showed the chains published (the driver
 * wrote them before the index and leaves them alone until they are used;
 * spec 2.7.13). A prefix counts only if the walk of the fresh table puts
 * the chain's first readable buffer exactly where it was read; otherwise
 * the caller reads it again. A message client may serve concurrent
 * messages in any order: no ordering between them is assumed.
 *
 * Completions: used elements staged by virtq_push_deferred() go out as
 * one write per contiguous run at virtq_publish() (before its flush).
 *
 * The buffers belong to the device (virtq_msg_alloc(), kept across reset
 * and load). Errors: 0 or -errno. */
#ifndef MINIVMM_VIRTIO_QUEUE_FETCH_H
#define MINIVMM_VIRTIO_QUEUE_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "virtio/guest_mem.h"
#include "virtio/queue_types.h"

#define VIRTQ_FETCH_GUESSES 24u     /* prefix reads per fetch, at most */

struct virtq_msg {
    uint8_t *avail;                 /* [4 + 2 * cap]: flags, idx, ring[] */
    uint8_t (*pfx)[VIRTQ_PREFIX_MAX];   /* [cap]: prefix read, per head */
    uint64_t *pfx_gpa;              /* [cap]: where pfx[h] was read */
    uint32_t *pfx_round;            /* [cap]: the fetch it was read in */
    struct vring_used_elem *used;   /* [cap]: staged used elements */
    uint32_t round;                 /* current fetch (never 0 once valid) */
    uint16_t cap;                   /* entries (the queue's max size) */
    uint16_t prefix_len;            /* bytes (<= VIRTQ_PREFIX_MAX), 0 none */
    uint16_t ring_first, ring_n;    /* avail entries fresh in avail[] */
    uint16_t used_first, used_n;    /* staged: used ring idx, count */
    bool desc_valid;                /* desc_snap holds a whole table */
    bool fetched;                   /* a fetch since the doorbell began */
    bool area_ready;                /* avail[] read by virtq_need_notify() */
    bool area_spec;                 /* avail[] read with the used index */
    bool no_irq;                    /* the last area read had
                                       VRING_AVAIL_F_NO_INTERRUPT */
};

/* Give @q batching buffers for up to q->max_size entries (and its
 * descriptor snapshot, desc_snap, when it has none), prefixes of
 * @prefix_len bytes (<= VIRTQ_PREFIX_MAX). 0, -EINVAL or -ENOMEM. */
int virtq_msg_alloc(struct virtq *q, uint16_t prefix_len);
/* Free what virtq_msg_alloc() gave (desc_snap too). */
void virtq_msg_free(struct virtq *q);
/* Forget everything read (reset, enable, load). */
void virtq_msg_invalidate(struct virtq *q);
/* True if @q batches: buffers big enough and neither the driver area
 * nor the descriptor table translates (message-based DMA). */
bool virtq_msg_usable(const struct virtq *q);

/* A fetch (two rounds, above). Sets q->avail_seen and *@pending (chains
 * past last_avail_idx). -EINVAL when the index moved by more than the
 * queue size, or the read's -errno; a failed second round is not an
 * error (nothing is cached; the chains are then read the slow way). */
int virtq_fetch(struct virtq *q, uint16_t *pending);
/* The head at last_avail_idx from the fetch, if it has it. */
bool virtq_msg_head(const struct virtq *q, uint16_t *head);
/* After the walk of @e (head e->head): set e->has_prefix/prefix when the
 * fetch read the chain's prefix where the walk puts it. */
void virtq_msg_take_prefix(struct virtq *q, struct virtq_elem *e);
/* For virtq_need_notify() without event-idx: read the whole driver area
 * (its flags are what it needs, after the used index landed) and keep it
 * as the next fetch's first round. -errno from the read. */
int virtq_msg_read_area(struct virtq *q, uint16_t *flags);
/* True if the area read by virtq_need_notify() shows chains not yet
 * seen: the caller then pops at once (the fetch uses the area); else the
 * area is dropped. Whatever the caller does, it calls
 * virtq_msg_drop_area() before it returns to waiting for doorbells: a
 * later doorbell must read the index afresh. */
bool virtq_msg_area_new(struct virtq *q);
void virtq_msg_drop_area(struct virtq *q);
/* virtq_publish() without event-idx: the used index write and, unless
 * the last area read had NO_INTERRUPT (the check would read afresh
 * anyway), a read of the driver area posted together, one flush (the
 * caller flushed the used elements before). 1 if not batching (the caller writes the index
 * itself), 0, or -errno of the write. */
int virtq_msg_publish_idx(struct virtq *q);
/* virtq_need_notify() without event-idx: true if the area read beside
 * the index wants interrupts (flags 0). Read concurrently with the index
 * write it may be stale, but an interrupt is never wrong (spurious ones
 * are the driver's to ignore), and it is raised after the index write
 * was acknowledged; it is then kept like virtq_msg_read_area()'s. False:
 * the caller reads the flags afresh (a stale NO_INTERRUPT could miss the
 * driver turning interrupts back on). Consumes the read. */
bool virtq_msg_spec_wants_irq(struct virtq *q);
/* Stage used element (@head, @len) at used ring index @idx; false if it
 * cannot be staged (the caller writes it itself). */
bool virtq_msg_stage_used(struct virtq *q, uint16_t idx, uint16_t head,
                          uint32_t len);
/* Post the staged elements (one write per contiguous run). */
int virtq_msg_post_used(struct virtq *q);

#endif
