/* SPDX-License-Identifier: BSD-3-Clause */
/* Driver side of a split virtqueue, for tests and tools (see
 * vring_driver.h). */
#include "virtio/vring_driver.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>

#include <linux/virtio_ring.h>

#define PAGE 4096ULL

static uint64_t align_up(uint64_t v)
{
    return (v + PAGE - 1) & ~(PAGE - 1);
}

static int put16(const struct vring_drv *d, uint64_t gpa, uint16_t v)
{
    uint16_t le = htole16(v);

    __atomic_thread_fence(__ATOMIC_RELEASE);
    return virtio_mem_write(d->mem, gpa, &le, sizeof(le));
}

static int get16(const struct vring_drv *d, uint64_t gpa, uint16_t *v)
{
    uint16_t le;
    int r = virtio_mem_read(d->mem, gpa, &le, sizeof(le));

    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    *v = le16toh(le);
    return r;
}

static int zero(const struct vring_drv *d, uint64_t gpa, uint64_t len)
{
    uint8_t *z = calloc(1, len);
    int r;

    if (!z)
        return -ENOMEM;
    r = virtio_mem_write(d->mem, gpa, z, len);
    free(z);
    return r;
}

int vring_drv_init(struct vring_drv *d, const struct virtio_mem *mem,
                   uint16_t size, uint64_t base, uint64_t *end)
{
    int r;

    d->mem = mem;
    d->size = size;
    d->desc_gpa = align_up(base);
    d->avail_gpa = align_up(d->desc_gpa + 16ULL * size);
    d->used_gpa = align_up(d->avail_gpa + 6 + 2ULL * size);
    d->avail_idx = d->last_used_idx = d->next_desc = 0;
    r = zero(d, d->desc_gpa, d->used_gpa + 6 + 8ULL * size - d->desc_gpa);
    if (end)
        *end = align_up(d->used_gpa + 6 + 8ULL * size);
    return r;
}

int vring_drv_write_desc(const struct vring_drv *d, uint64_t table_gpa,
                         uint16_t i, uint64_t addr, uint32_t len,
                         uint16_t flags, uint16_t next)
{
    struct vring_desc desc = {
        .addr = htole64(addr),
        .len = htole32(len),
        .flags = htole16(flags),
        .next = htole16(next),
    };

    return virtio_mem_write(d->mem, table_gpa + 16ULL * i, &desc,
                            sizeof(desc));
}

static uint16_t buf_flags(const struct vring_drv_buf *b, bool more)
{
    return (b->write ? VRING_DESC_F_WRITE : 0) |
           (more ? VRING_DESC_F_NEXT : 0);
}

int vring_drv_add_chain(struct vring_drv *d, const struct vring_drv_buf *b,
                        unsigned int n, uint64_t indirect_gpa,
                        uint16_t *head)
{
    uint16_t mask = d->size - 1, idx, next;
    unsigned int i;
    int r = 0;

    if (!n)
        return -EINVAL;
    *head = d->next_desc & mask;
    if (indirect_gpa) {
        for (i = 0; i < n && !r; i++)
            r = vring_drv_write_desc(d, indirect_gpa, i, b[i].gpa,
                                     b[i].len, buf_flags(&b[i], i + 1 < n),
                                     i + 1);
        d->next_desc++;
        return r ? r : vring_drv_write_desc(d, d->desc_gpa, *head,
                                            indirect_gpa, 16 * n,
                                            VRING_DESC_F_INDIRECT, 0);
    }
    if (n > d->size)
        return -E2BIG;
    for (i = 0; i < n && !r; i++) {
        idx = d->next_desc++ & mask;
        next = d->next_desc & mask;
        r = vring_drv_write_desc(d, d->desc_gpa, idx, b[i].gpa, b[i].len,
                                 buf_flags(&b[i], i + 1 < n), next);
    }
    return r;
}

int vring_drv_publish(struct vring_drv *d, uint16_t head)
{
    uint64_t slot = d->avail_gpa + 4 + 2ULL * (d->avail_idx & (d->size - 1));
    int r = put16(d, slot, head);

    if (r < 0)
        return r;
    d->avail_idx++;
    return put16(d, d->avail_gpa + 2, d->avail_idx);
}

int vring_drv_set_avail_idx(struct vring_drv *d, uint16_t idx)
{
    d->avail_idx = idx;
    return put16(d, d->avail_gpa + 2, idx);
}

int vring_drv_start_at(struct vring_drv *d, uint16_t idx)
{
    int r = vring_drv_set_avail_idx(d, idx);

    d->last_used_idx = idx;
    return r ? r : put16(d, d->used_gpa + 2, idx);
}

int vring_drv_get_used(struct vring_drv *d, uint32_t *id, uint32_t *len)
{
    struct vring_used_elem ue;
    uint16_t idx;
    int r = get16(d, d->used_gpa + 2, &idx);

    if (r < 0)
        return r;
    if (idx == d->last_used_idx)
        return 0;
    r = virtio_mem_read(d->mem, d->used_gpa + 4 +
                        8ULL * (d->last_used_idx & (d->size - 1)),
                        &ue, sizeof(ue));
    if (r < 0)
        return r;
    d->last_used_idx++;
    *id = le32toh(ue.id);
    *len = le32toh(ue.len);
    return 1;
}

int vring_drv_set_used_event(const struct vring_drv *d, uint16_t v)
{
    return put16(d, d->avail_gpa + 4 + 2ULL * d->size, v);
}

int vring_drv_get_avail_event(const struct vring_drv *d, uint16_t *v)
{
    return get16(d, d->used_gpa + 4 + 8ULL * d->size, v);
}

int vring_drv_set_avail_flags(const struct vring_drv *d, uint16_t flags)
{
    return put16(d, d->avail_gpa, flags);
}

int vring_drv_get_used_flags(const struct vring_drv *d, uint16_t *flags)
{
    return get16(d, d->used_gpa, flags);
}

int vring_drv_get_used_idx(const struct vring_drv *d, uint16_t *idx)
{
    return get16(d, d->used_gpa + 2, idx);
}

static int accept_all_features(struct virtio_dev *vdev)
{
    unsigned int i;
    int r;

    for (i = 0; i < 2; i++) {
        virtio_dev_select_device_features(vdev, i);
        virtio_dev_select_driver_features(vdev, i);
        r = virtio_dev_write_driver_features(
            vdev, virtio_dev_read_device_features(vdev));
        if (r < 0)
            return r;
    }
    return 0;
}

int vring_drv_setup_device(struct virtio_dev *vdev,
                           const struct vring_drv *drv)
{
    uint8_t st = VIRTIO_DEV_S_ACKNOWLEDGE | VIRTIO_DEV_S_DRIVER;
    struct virtq *q;
    unsigned int i;
    int r;

    r = virtio_dev_write_status(vdev, st);
    if (!r)
        r = accept_all_features(vdev);
    if (!r)
        r = virtio_dev_write_status(vdev, st |= VIRTIO_DEV_S_FEATURES_OK);
    if (r < 0)
        return r;
    if (!(virtio_dev_read_status(vdev) & VIRTIO_DEV_S_FEATURES_OK))
        return -EPROTO;
    for (i = 0; i < vdev->num_queues; i++) {
        q = virtio_dev_queue(vdev, i);
        r = virtq_set_size(q, drv[i].size);
        if (!r)
            r = virtq_set_addrs(q, drv[i].desc_gpa, drv[i].avail_gpa,
                                drv[i].used_gpa);
        if (!r)
            r = virtq_enable(q);
        if (r < 0)
            return r;
    }
    return virtio_dev_write_status(vdev, st | VIRTIO_DEV_S_DRIVER_OK);
}
