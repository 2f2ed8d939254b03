/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-blk helpers (see vblk.h). */
#include "virtio/vblk.h"

#include "lib/errno.h"
#include "lib/test.h"

int vblk_open(struct vblk *b, uint8_t vector)
{
    return vblk_open_nth(b, 0, vector);
}

int vblk_open_nth(struct vblk *b, unsigned int nth, uint8_t vector)
{
    return vblk_open_feat(b, nth, vector, 0);
}

int vblk_open_feat(struct vblk *b, unsigned int nth, uint8_t vector,
                   uint64_t want)
{
    int r = vdev_find(VIRTIO_ID_BLOCK, nth, &b->dev);

    if (r < 0)
        return test_fail("no virtio-blk device (%d)", r);
    if (vdev_init(&b->dev, want) < 0)
        return test_fail("feature negotiation failed");
    if (vdev_msix_enable(&b->dev) < 0)
        return test_fail("no MSI-X capability");
    if (vdev_config_msix(&b->dev, 0, vector + 1) < 0)
        return test_fail("config vector refused");
    r = vq_setup(&b->dev, &b->q, 0, 128, 1, vector);
    if (r < 0)
        return test_fail("queue setup: %d", r);
    b->reqs = vdma_alloc(sizeof(*b->reqs) * b->q.size, 64);
    if (!b->reqs)
        return test_fail("out of DMA memory");
    vdev_driver_ok(&b->dev);
    if (vdev_status(&b->dev) & (VIRTIO_S_NEEDS_RESET | VIRTIO_S_FAILED))
        return test_fail("device status %#x", vdev_status(&b->dev));
    b->capacity = vdev_cfg64(&b->dev, 0);
    return 0;
}

int vblk_submit(struct vblk *b, uint32_t type, uint64_t sector, void *buf,
                uint32_t len)
{
    struct vblk_req *rq = &b->reqs[b->q.free_head];
    struct vq_buf bufs[3] = {
        { &rq->hdr, sizeof(rq->hdr), 0 },
        { buf, len, type != VBLK_T_OUT },
        { &rq->status, 1, 1 },
    };

    rq->hdr = (struct vblk_hdr){ .type = type, .sector = sector };
    rq->status = 0xFF;
    return vq_add(&b->q, bufs, 3);
}

int vblk_rw(struct vblk *b, uint32_t type, uint64_t sector, void *buf,
            uint32_t len)
{
    uint32_t id, used_len;
    int head = vblk_submit(b, type, sector, buf, len);

    if (head < 0)
        return head;
    vq_kick(&b->q);
    if (vq_wait_used(&b->q, &id, &used_len, 2000000) < 0)
        return -ETIMEDOUT;
    if (id != (uint32_t)head)
        return -EIO;
    return b->reqs[head].status;
}
