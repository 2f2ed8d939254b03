/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-rng device model (see rng.h; spec 5.4). */
#include "virtio/rng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#define RNG_MAX_SEGS 16

struct virtio_rng {
    struct virtio_dev vdev;
    struct virtq queue;
    struct virtio_mem mem;
    uint64_t bytes;
    uint8_t buf[VIRTIO_RNG_MAX_REQ];
};

static void rng_reset(struct virtio_dev *vdev)
{
    (void)vdev;     /* nothing in flight, ever */
}

static int rng_config_read(struct virtio_dev *vdev, uint32_t off, void *buf,
                           uint32_t len)
{
    (void)vdev, (void)off, (void)buf, (void)len;
    return -EINVAL; /* no config space */
}

/* Fill the writable part of @e (up to VIRTIO_RNG_MAX_REQ). Returns the
 * bytes written or -errno. */
static int fill(struct virtio_rng *rng, const struct virtq_elem *e)
{
    uint64_t want = e->in_bytes < sizeof(rng->buf) ? e->in_bytes
                                                   : sizeof(rng->buf);
    ssize_t got = getrandom(rng->buf, want, GRND_NONBLOCK);
    int r;

    if (got < 0)
        return errno == EAGAIN ? 0 : -errno;  /* pool not ready: 0 bytes */
    r = virtq_elem_write(&rng->queue, e, 0, rng->buf, (uint64_t)got);
    return r < 0 ? r : (int)got;
}

static int rng_queue_notify(struct virtio_dev *vdev, uint16_t qidx)
{
    struct virtio_rng *rng = vdev->priv;
    struct virtq_seg segs[RNG_MAX_SEGS];
    struct virtq_elem e = { .segs = segs, .max_segs = RNG_MAX_SEGS };
    int r, n;

    if (qidx != 0)
        return -EINVAL;
    while ((r = virtq_pop(&rng->queue, &e)) == 1) {
        n = e.truncated ? 0 : fill(rng, &e);
        if (n < 0) {
            r = n;
            break;
        }
        r = virtq_push(&rng->queue, e.head, (uint32_t)n);
        if (r < 0)
            break;
        rng->bytes += (uint64_t)n;
    }
    if (r < 0 && rng->queue.broken)
        virtio_dev_queue_failed(vdev, &rng->queue);
    virtio_dev_notify_queue(vdev, 0);
    return r < 0 ? r : 0;
}

static const struct virtio_dev_ops rng_dev_ops = {
    .reset = rng_reset,
    .config_read = rng_config_read,
    .queue_notify = rng_queue_notify,
};

int virtio_rng_create(const struct virtio_mem *mem,
                      const struct virtio_irq *irq, struct virtio_rng **out)
{
    struct virtio_rng *rng = calloc(1, sizeof(*rng));
    uint64_t f = (1ULL << VIRTIO_RING_F_EVENT_IDX) |
                 (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
    int r;

    if (!rng)
        return -ENOMEM;
    rng->mem = *mem;
    r = virtq_init(&rng->queue, &rng->mem, VIRTIO_RNG_QUEUE_SIZE);
    if (r == 0)
        r = virtio_dev_init(&rng->vdev, VIRTIO_ID_RNG, f, &rng->queue, 1,
                            &rng_dev_ops, rng, irq);
    if (r < 0) {
        free(rng);
        return r;
    }
    *out = rng;
    return 0;
}

void virtio_rng_destroy(struct virtio_rng *rng)
{
    free(rng);
}

struct virtio_dev *virtio_rng_vdev(struct virtio_rng *rng)
{
    return &rng->vdev;
}

uint64_t virtio_rng_bytes(const struct virtio_rng *rng)
{
    return rng->bytes;
}

static int rng_save(void *opaque, void *fdt, int node)
{
    return virtio_dev_save(&((struct virtio_rng *)opaque)->vdev, fdt, node);
}

static int rng_load(void *opaque, const void *fdt, int node)
{
    return virtio_dev_load(&((struct virtio_rng *)opaque)->vdev, fdt, node);
}

const struct state_ops virtio_rng_state_ops = {
    .save = rng_save,
    .load = rng_load,
};
