/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-blk's migration stream (v2): an optional pre-copy part, then the
 * final state, each one flattened device tree (FDT) blob.
 *
 *   pre-copy part (sent in PRE_COPY, while the device runs): root property
 *     "vfu-blk-precopy" (u32 version) and the device's identity, which
 *     does not change while it runs: offered virtio features, the disk's
 *     capacity and block size, segment limits, queue count and size, MSI-X
 *     vectors. The destination checks it against its own device.
 *   final part (STOP_COPY): root "vfu-blk-version" (blkdev.c).
 *
 * A client that skips PRE_COPY (a snapshot: RUNNING -> STOP -> STOP_COPY)
 * delivers only the final part; one that reads part of the pre-copy data
 * gets the rest first in STOP_COPY (vfio/server.h mig_precopy), so the
 * destination always receives [pre-copy part] final part, in one stream.
 */
#ifndef VFU_BLK_PRECOPY_H
#define VFU_BLK_PRECOPY_H

#include <stddef.h>
#include <stdint.h>

#define VFU_BLK_PRECOPY_VERSION 1u
#define VFU_BLK_STREAM_MAX      (1u << 20) /* bytes per part */

struct vfu_blk_ident {
    uint64_t features;   /* virtio device features offered */
    uint64_t capacity;   /* 512-byte sectors */
    uint32_t blk_size;   /* bytes */
    uint32_t size_max;   /* bytes per segment */
    uint32_t seg_max;    /* segments per request */
    uint32_t queues;     /* virtqueues */
    uint32_t queue_size; /* maximum entries per queue */
    uint32_t vectors;    /* MSI-X vectors */
};

/* The pre-copy part for @id: a malloc'd FDT in *@buf, *@len bytes.
 * 0, -ENOMEM or -ENOSPC. */
int vfu_blk_precopy_encode(const struct vfu_blk_ident *id, void **buf,
                           size_t *len);

/* 0 if the pre-copy part @buf (@len bytes, already split) was made by a
 * device identical to @own; else -EINVAL with the first difference (or
 * the format error) in @why. */
int vfu_blk_precopy_check(const void *buf, size_t len,
                          const struct vfu_blk_ident *own, char *why,
                          size_t wlen);

/* Split a received stream: an optional pre-copy FDT (*@pre, *@pre_len;
 * NULL/0 when absent), then exactly one final FDT (*@fin, *@fin_len) that
 * ends the stream. Only the FDT headers are checked here (sizes within
 * the stream and VFU_BLK_STREAM_MAX); -EINVAL otherwise. */
int vfu_blk_stream_split(const void *buf, size_t len, const void **pre,
                         size_t *pre_len, const void **fin, size_t *fin_len);

#endif
