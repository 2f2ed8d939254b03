/* SPDX-License-Identifier: BSD-3-Clause */
/* Split virtqueues, device side (virtio 1.x, section 2.7 "Split
 * Virtqueues"; 2.7.7/2.7.10 for notification suppression and event-idx).
 *
 * A virtq lives in the device model (embedded, not shared between
 * threads): the transport configures it (size, ring addresses, enable),
 * the device pops descriptor chains and pushes used entries. Guest memory
 * is reached only through struct virtio_mem, so the same code works for
 * shared memory (translate) and message-based DMA (copy ops).
 *
 * Trust: everything read from guest memory is validated. A malformed ring
 * or chain (loop, index or address out of range, nested or empty indirect
 * table, writable-before-readable order, total length over
 * VIRTQ_MAX_CHAIN_BYTES, avail index jumping by more than the queue size)
 * makes the operation fail with -errno and latches virtq.broken; the
 * device then sets DEVICE_NEEDS_RESET (virtio_dev_set_needs_reset()).
 *
 * Ordering: the avail index is read with acquire semantics before ring
 * entries; the used index is written with release semantics after the used
 * element; a full fence separates the used-index store from reading the
 * driver's used_event / flags, and the avail_event store from re-reading
 * the avail index.
 */
#ifndef MINIVMM_VIRTIO_QUEUE_H
#define MINIVMM_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/guest_mem.h"

struct vring_desc;

#define VIRTQ_MAX_SIZE        32768u        /* spec maximum queue size */
#define VIRTQ_HEAD_CACHE      16u           /* avail entries read ahead */
#define VIRTQ_MAX_CHAIN_BYTES (256u << 20)  /* cap on a chain's total len */
#define VIRTQ_PREFIX_MAX      16u           /* bytes of a chain's prefix */

/* One buffer of a chain, in chain order: readable ones first. */
struct virtq_seg {
    uint64_t gpa;   /* guest address, bytes */
    uint32_t len;   /* bytes, > 0 (zero-length descriptors are skipped) */
    bool write;     /* device-writable (VRING_DESC_F_WRITE) */
};

/* A popped chain. The caller provides segs[max_segs]; a longer chain is
 * still consumed (and must be completed with virtq_push()), but only the
 * first max_segs segments are recorded and truncated is set. */
struct virtq_elem {
    struct virtq_seg *segs;
    unsigned int max_segs;
    uint16_t head;          /* id to pass to virtq_push() */
    unsigned int nsegs;     /* segments recorded */
    unsigned int nout;      /* readable segments: segs[0..nout) */
    uint64_t out_bytes;     /* total device-readable bytes */
    uint64_t in_bytes;      /* total device-writable bytes */
    bool truncated;
    struct virtq_seg last;  /* final non-empty segment (len 0 if none),
                               recorded even when truncated */
    /* With message batching (struct virtq_msg): the first prefix_len
     * bytes of the readable part, read in the round that fetched the
     * descriptor table, when segs[0] is readable and holds them. */
    bool has_prefix;
    uint8_t prefix[VIRTQ_PREFIX_MAX];
};

struct virtq_msg;

/* Fields are owned by queue.c; transports set them only through the
 * functions below. Embedded by devices, hence public. */
struct virtq {
    const struct virtio_mem *mem;
    uint16_t max_size;      /* device maximum, power of two */
    uint16_t size;          /* negotiated entries, power of two */
    bool enabled;
    bool event_idx;         /* VIRTIO_RING_F_EVENT_IDX negotiated */
    bool indirect;          /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
    bool broken;
    const char *broken_why; /* what failed (static text), with broken */
    int broken_err;         /* -errno it failed with */
    bool notify_enabled;    /* device wants avail notifications */
    bool signalled_used_valid;
    uint64_t desc_gpa;      /* descriptor table, 16-byte aligned */
    uint64_t avail_gpa;     /* driver area, 2-byte aligned */
    uint64_t used_gpa;      /* device area, 4-byte aligned */
    uint16_t last_avail_idx;
    uint16_t used_idx;      /* device's copy of used->idx */
    uint16_t signalled_used;
    uint16_t avail_seen;    /* chains known available past last_avail_idx
                               (from the last read of avail->idx) */
    bool unpublished;       /* used_idx moved, used->idx not yet written */
    bool notify_kept;       /* disable_notify left them on (no translate) */
    /* Without translate: avail->ring[] entries read ahead, for indices
     * [heads_first, heads_first + nheads) (little-endian as read). */
    uint16_t heads_first, nheads;
    uint16_t heads[VIRTQ_HEAD_CACHE];
    /* Optional, the device's (kept across reset and load): room for the
     * whole descriptor table (desc_snap_cap bytes). Without translate,
     * when several chains are available the table is read in one access
     * and the chains published before that read are walked from it. */
    struct vring_desc *desc_snap;
    uint32_t desc_snap_cap;
    uint16_t snap_first, snap_n;   /* chains the snapshot is valid for */
    /* Optional, the device's (virtio/queue_fetch.h): batching buffers
     * for message-based DMA; kept across reset and load. */
    struct virtq_msg *msg;
};

/* Initialise a disabled queue whose size may be at most @max_size
 * (a power of two, 1..VIRTQ_MAX_SIZE). 0 or -EINVAL. */
int virtq_init(struct virtq *q, const struct virtio_mem *mem,
               uint16_t max_size);
/* Back to the post-init state (device reset, spec 2.4). */
void virtq_reset(struct virtq *q);

/* Transport-side configuration, valid only while disabled (-EBUSY
 * otherwise). Size must be a power of two ≤ max_size (-EINVAL). */
int virtq_set_size(struct virtq *q, uint16_t size);
int virtq_set_addrs(struct virtq *q, uint64_t desc_gpa, uint64_t avail_gpa,
                    uint64_t used_gpa);
/* Ring features from the negotiated feature bits (VIRTIO_RING_F_*). */
void virtq_set_features(struct virtq *q, uint64_t features);
/* Validate alignment, size and (when translate is available) that all
 * three rings are mapped, then enable. 0, -EINVAL or -EFAULT. */
int virtq_enable(struct virtq *q);

/* Pop the next available chain into @e. 1 if popped, 0 if none, -errno
 * for a malformed ring/chain (queue then broken; -EIO once broken):
 * -ELOOP loop, -E2BIG too long, -EFAULT unmapped address, -EINVAL other
 * rule violations. */
int virtq_pop(struct virtq *q, struct virtq_elem *e);
/* Return chain @head as used, @len bytes written into its buffers.
 * 0 or -errno (queue broken on a memory access failure). */
int virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* Batched completion: as virtq_push(), but the element goes out with
 * virtio_mem_write_posted() and used->idx is not written; virtq_publish()
 * then flushes the posted writes (the buffers' data too, when the caller
 * posted them before) and writes used->idx once for the whole batch. Call
 * virtq_publish() before virtq_need_notify() and before saving. */
int virtq_push_deferred(struct virtq *q, uint16_t head, uint32_t len);
/* 0 or -errno (queue broken: a posted write or the index failed). */
int virtq_publish(struct virtq *q);
/* After pushing: should the driver be interrupted? Honours
 * VRING_AVAIL_F_NO_INTERRUPT, or used_event with event-idx (then it also
 * records the used index as signalled). */
bool virtq_need_notify(struct virtq *q);
/* Ask the driver not to notify (processing in progress). */
void virtq_disable_notify(struct virtq *q);
/* Ask for notifications again; true if buffers arrived meanwhile (the
 * caller must then pop again, or it would miss them). */
bool virtq_enable_notify(struct virtq *q);
/* True if there is at least one available chain (or the ring is bad). */
bool virtq_has_avail(struct virtq *q);

/* Walk [@off, @off + @len) of the readable (@write false) or writable
 * part of a popped chain: @fn(@opaque, gpa, bytes) once per piece, in
 * order; a negative return stops the walk and is returned. 0, or -ERANGE
 * if the chain is too short. */
int virtq_elem_walk(const struct virtq_elem *e, bool write, uint64_t off,
                    uint64_t len,
                    int (*fn)(void *opaque, uint64_t gpa, uint64_t n),
                    void *opaque);

/* Copy bytes at offset @off of the readable (from) or writable (to) part
 * of a popped chain. 0, -EFAULT, or -ERANGE if the chain is too short
 * (or truncated). */
int virtq_elem_read(const struct virtq *q, const struct virtq_elem *e,
                    uint64_t off, void *buf, uint64_t len);
int virtq_elem_write(const struct virtq *q, const struct virtq_elem *e,
                     uint64_t off, const void *buf, uint64_t len);

/* State (vmm/state.h) in node @node: size, enabled, ring addresses,
 * last_avail_idx, used_idx, event-idx and indirect flags. Load validates
 * like virtq_enable(). 0 or -errno. */
int virtq_save(const struct virtq *q, void *fdt, int node);
int virtq_load(struct virtq *q, const void *fdt, int node);

#endif
