/* SPDX-License-Identifier: BSD-3-Clause */
/* Split virtqueues, device side: the types (see virtio/queue.h for the
 * functions and the rules; virtio/queue_fetch.h for message batching),
 * apart so that queue_fetch.c needs no queue.c. */
#ifndef MINIVMM_VIRTIO_QUEUE_TYPES_H
#define MINIVMM_VIRTIO_QUEUE_TYPES_H

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

#endif
