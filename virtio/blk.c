/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-blk device model: creation, config space, features, state
 * (virtio 1.x section 5.2). Requests live in blk_req.c (the engine below
 * this file). */
#include "virtio/blk.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#define BLK_DEFAULT_QUEUE_SIZE 256u
#define BLK_DEFAULT_SIZE_MAX   (1u << 20)
#define BLK_MAX_SEG            (UIO_MAXIOV - 2)

struct virtio_blk {
    struct virtio_dev vdev;
    struct virtq *queues;           /* [num_queues] */
    struct virtio_mem mem;
    struct virtio_blk_config cfg;   /* little-endian, as the guest sees */
    uint64_t capacity;              /* 512-byte sectors */
    struct blk_io *io;              /* requests and the io_uring */
};

/* Fill defaults and check ranges. 0 or -EINVAL. */
static int normalise(const struct virtio_blk_params *p,
                     struct virtio_blk_params *np)
{
    uint64_t max_req;

    *np = *p;
    if (!np->blk_size)
        np->blk_size = BLK_SECTOR_SIZE;
    if (!np->num_queues)
        np->num_queues = 1;
    if (!np->queue_size)
        np->queue_size = BLK_DEFAULT_QUEUE_SIZE;
    if (!np->seg_max)
        np->seg_max = np->queue_size > 2 ? np->queue_size - 2u : 1u;
    if (!np->size_max)
        np->size_max = BLK_DEFAULT_SIZE_MAX;
    if (np->fd < 0 || np->blk_size < BLK_SECTOR_SIZE ||
        np->blk_size > 65536 || (np->blk_size & (np->blk_size - 1)) ||
        np->num_queues > VIRTIO_DEV_MAX_QUEUES ||
        np->queue_size > VIRTQ_MAX_SIZE ||
        (np->queue_size & (np->queue_size - 1)) ||
        np->seg_max > BLK_MAX_SEG || np->size_max < 4096)
        return -EINVAL;
    /* A maximal request must stay under the queue's chain cap. */
    max_req = VIRTQ_MAX_CHAIN_BYTES - 4096;
    if ((uint64_t)np->seg_max * np->size_max > max_req)
        np->size_max = (uint32_t)(max_req / np->seg_max) & ~4095u;
    if (np->readonly)
        np->discard = np->write_zeroes = false;
    return 0;
}

static int backing_size(int fd, uint64_t *bytes)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return -errno;
    if (S_ISBLK(st.st_mode))
        return ioctl(fd, BLKGETSIZE64, bytes) < 0 ? -errno : 0;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    *bytes = (uint64_t)st.st_size;
    return 0;
}

static uint64_t blk_features(const struct virtio_blk_params *np)
{
    uint64_t f = (1ULL << VIRTIO_BLK_F_FLUSH) |
                 (1ULL << VIRTIO_BLK_F_SEG_MAX) |
                 (1ULL << VIRTIO_BLK_F_SIZE_MAX) |
                 (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
                 (1ULL << VIRTIO_RING_F_EVENT_IDX) |
                 (1ULL << VIRTIO_RING_F_INDIRECT_DESC);

    if (np->num_queues > 1)
        f |= 1ULL << VIRTIO_BLK_F_MQ;
    if (np->readonly)
        f |= 1ULL << VIRTIO_BLK_F_RO;
    if (np->discard)
        f |= 1ULL << VIRTIO_BLK_F_DISCARD;
    if (np->write_zeroes)
        f |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
    return f;
}

static void build_config(struct virtio_blk *blk,
                         const struct virtio_blk_params *np)
{
    struct virtio_blk_config *c = &blk->cfg;

    memset(c, 0, sizeof(*c));
    c->capacity = htole64(blk->capacity);
    c->size_max = htole32(np->size_max);
    c->seg_max = htole32(np->seg_max);
    c->blk_size = htole32(np->blk_size);
    c->num_queues = htole16(np->num_queues);
    c->max_discard_sectors = htole32(BLK_MAX_DWZ_SECTORS);
    c->max_discard_seg = htole32(BLK_MAX_DWZ_SEG);
    c->discard_sector_alignment = htole32(np->blk_size / BLK_SECTOR_SIZE);
    c->max_write_zeroes_sectors = htole32(BLK_MAX_DWZ_SECTORS);
    c->max_write_zeroes_seg = htole32(BLK_MAX_DWZ_SEG);
    c->write_zeroes_may_unmap = 1;
}

/* --- virtio_dev_ops ----------------------------------------------------- */

static void blk_reset(struct virtio_dev *vdev)
{
    struct virtio_blk *blk = vdev->priv;

    /* Spec 2.4.1: after reset the device must not touch the rings. */
    blk_io_quiesce(blk->io, true);
}

static int blk_config_read(struct virtio_dev *vdev, uint32_t off, void *buf,
                           uint32_t len)
{
    struct virtio_blk *blk = vdev->priv;

    if (off > sizeof(blk->cfg) || len > sizeof(blk->cfg) - off)
        return -EINVAL;
    memcpy(buf, (const uint8_t *)&blk->cfg + off, len);
    return 0;
}

static int blk_config_write(struct virtio_dev *vdev, uint32_t off,
                            const void *buf, uint32_t len)
{
    struct virtio_blk *blk = vdev->priv;

    (void)buf;
    /* Only wce is writable, and only with CONFIG_WCE (not offered). */
    if (off > sizeof(blk->cfg) || len > sizeof(blk->cfg) - off)
        return -EINVAL;
    return 0;
}

static int blk_queue_notify(struct virtio_dev *vdev, uint16_t qidx)
{
    struct virtio_blk *blk = vdev->priv;

    return blk_io_process_queue(blk->io, qidx);
}

static const struct virtio_dev_ops blk_dev_ops = {
    .reset = blk_reset,
    .config_read = blk_config_read,
    .config_write = blk_config_write,
    .queue_notify = blk_queue_notify,
};

/* --- lifetime ------------------------------------------------------------ */

static int setup_queues(struct virtio_blk *blk,
                        const struct virtio_blk_params *np,
                        const struct virtio_irq *irq)
{
    unsigned int i;
    int r;

    blk->queues = calloc(np->num_queues, sizeof(*blk->queues));
    if (!blk->queues)
        return -ENOMEM;
    for (i = 0; i < np->num_queues; i++) {
        r = virtq_init(&blk->queues[i], &blk->mem, np->queue_size);
        if (r < 0)
            return r;
    }
    return virtio_dev_init(&blk->vdev, VIRTIO_ID_BLOCK, blk_features(np),
                           blk->queues, np->num_queues, &blk_dev_ops, blk,
                           irq);
}

int virtio_blk_create(const struct virtio_blk_params *p,
                      const struct virtio_mem *mem,
                      const struct virtio_irq *irq,
                      struct virtio_blk **out)
{
    struct virtio_blk_params np;
    struct virtio_blk *blk;
    uint64_t bytes;
    int r;

    r = normalise(p, &np);
    if (r < 0)
        return r;
    r = backing_size(np.fd, &bytes);
    if (r < 0)
        return r;
    blk = calloc(1, sizeof(*blk));
    if (!blk)
        return -ENOMEM;
    blk->mem = *mem;
    blk->capacity = bytes >> BLK_SECTOR_SHIFT;
    r = setup_queues(blk, &np, irq);
    if (r < 0)
        goto err_free;
    build_config(blk, &np);
    r = blk_io_create(&(struct blk_io_params){
                          .fd = np.fd, .readonly = np.readonly,
                          .capacity = blk->capacity, .seg_max = np.seg_max,
                          .serial = np.serial, .vdev = &blk->vdev,
                          .queues = blk->queues, .mem = &blk->mem,
                          .defer_completions = np.defer_completions },
                      &blk->io);
    if (r < 0)
        goto err_free;
    *out = blk;
    return 0;

err_free:
    free(blk->queues);
    free(blk);
    return r;
}

void virtio_blk_destroy(struct virtio_blk *blk)
{
    if (!blk)
        return;
    blk_io_destroy(blk->io);
    free(blk->queues);
    free(blk);
}

struct virtio_dev *virtio_blk_vdev(struct virtio_blk *blk)
{
    return &blk->vdev;
}

/* --- event loop ---------------------------------------------------------- */

int virtio_blk_poll_fd(const struct virtio_blk *blk)
{
    return blk_io_poll_fd(blk->io);
}

int virtio_blk_handle_ready(struct virtio_blk *blk)
{
    return blk_io_handle_ready(blk->io);
}

int virtio_blk_queue_notify(struct virtio_blk *blk, uint16_t qidx)
{
    return virtio_dev_queue_notify(&blk->vdev, qidx);
}

int virtio_blk_quiesce(struct virtio_blk *blk)
{
    return blk_io_quiesce(blk->io, false);
}

int virtio_blk_resume(struct virtio_blk *blk)
{
    return blk_io_resume(blk->io);
}

unsigned int virtio_blk_inflight(const struct virtio_blk *blk)
{
    return blk_io_inflight(blk->io);
}

void virtio_blk_get_stats(const struct virtio_blk *blk,
                          struct virtio_blk_stats *st)
{
    blk_io_get_stats(blk->io, st);
}

uint64_t virtio_blk_capacity(const struct virtio_blk *blk)
{
    return blk->capacity;
}

/* --- state --------------------------------------------------------------- */

static int blk_save(void *opaque, void *fdt, int node)
{
    struct virtio_blk *blk = opaque;
    int r;

    if (blk_io_inflight_ops(blk->io))
        return -EBUSY;      /* virtio_blk_quiesce() first */
    r = virtio_dev_save(&blk->vdev, fdt, node);
    if (r < 0)
        return r;
    return state_put_bytes(fdt, node, "blk-config", &blk->cfg,
                           sizeof(blk->cfg));
}

static int blk_load(void *opaque, const void *fdt, int node)
{
    struct virtio_blk *blk = opaque;
    struct virtio_blk_config cfg;
    int r;

    if (blk_io_inflight_ops(blk->io))
        return -EBUSY;
    r = state_get_bytes(fdt, node, "blk-config", &cfg, sizeof(cfg));
    if (r < 0)
        return r;
    if (memcmp(&cfg, &blk->cfg, sizeof(cfg)))
        return -EINVAL;     /* different disk size or parameters */
    return virtio_dev_load(&blk->vdev, fdt, node);
}

const struct state_ops virtio_blk_state_ops = {
    .save = blk_save,
    .load = blk_load,
};
