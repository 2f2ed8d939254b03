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
#include "virtio/queue_types.h"

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
