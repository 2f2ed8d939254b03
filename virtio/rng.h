/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-rng (entropy) device model (virtio 1.x section 5.4): one
 * request queue; every device-writable buffer the driver posts is filled
 * from getrandom() and returned at once. No backend fd: all work happens
 * in the doorbell (virtio_dev_queue_notify()). Calls for one device come
 * from one thread at a time (the transport's lock).
 */
#ifndef MINIVMM_VIRTIO_RNG_H
#define MINIVMM_VIRTIO_RNG_H

#include "virtio/device.h"
#include "virtio/guest_mem.h"
#include "vmm/state.h"

#define VIRTIO_RNG_QUEUE_SIZE 64u
#define VIRTIO_RNG_MAX_REQ    (64u << 10) /* bytes filled per request */

struct virtio_rng;

/* Create the device over @mem raising interrupts through @irq (both
 * copied; their opaques must outlive it). 0, -EINVAL or -ENOMEM. */
int virtio_rng_create(const struct virtio_mem *mem,
                      const struct virtio_irq *irq, struct virtio_rng **out);
void virtio_rng_destroy(struct virtio_rng *rng);
struct virtio_dev *virtio_rng_vdev(struct virtio_rng *rng);

/* Bytes handed to the guest so far. */
uint64_t virtio_rng_bytes(const struct virtio_rng *rng);

/* virtio_dev state only (requests complete synchronously). Opaque:
 * struct virtio_rng. */
extern const struct state_ops virtio_rng_state_ops;

#endif
