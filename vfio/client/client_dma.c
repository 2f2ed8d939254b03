/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user client: DMA windows (DMA_MAP/UNMAP mirrored in the software
 * IOMMU) and the server's DMA_READ/WRITE served from it. See client.h.
 * Spec: vfio-user.rst "VFIO_USER_DMA_MAP", "VFIO_USER_DMA_UNMAP",
 * "VFIO_USER_DMA_READ", "VFIO_USER_DMA_WRITE". */
#include "vfio/client/client_dma.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACC_SIZE ((uint32_t)sizeof(struct vfio_user_dma_access))

/* DMA_READ: the device reads guest memory through a mapped window. */
static int serve_dma_read(struct vfio_client *c, enum vfio_user_chan chan,
                          struct vfio_user_msg *msg)
{
    struct vfio_user_dma_access a;
    uint8_t *out;
    int r;

    if (msg->payload_len != ACC_SIZE)
        return -EINVAL;
    memcpy(&a, msg->payload, sizeof(a));
    if (a.count > c->proposed.max_data_xfer_size)
        return -EINVAL;
    out = malloc(ACC_SIZE + a.count);
    if (!out)
        return -ENOMEM;
    memcpy(out, &a, ACC_SIZE);
    pthread_rwlock_rdlock(&c->iommu_lock);
    r = iommu_dma_read(&c->iommu, a.address, out + ACC_SIZE, a.count);
    pthread_rwlock_unlock(&c->iommu_lock);
    if ((r == -EFAULT || r == -EPERM) && c->opts.on_dma_fault)
        c->opts.on_dma_fault(c->opts.fault_opaque, a.address, a.count, false);
    if (r == 0) {
        atomic_fetch_add(&c->n_dma_reads, 1);
        atomic_fetch_add_explicit(&c->n_dma_bytes, a.count,
                                  memory_order_relaxed);
        /* A failed send fails the connection; the next receive sees it. */
        vfio_user_ep_reply(c->ep, chan, &msg->hdr, out,
                                   ACC_SIZE + a.count);
    }
    free(out);
    return r;
}

/* DMA_WRITE: the device writes guest memory through a mapped window. */
static int serve_dma_write(struct vfio_client *c, enum vfio_user_chan chan,
                           struct vfio_user_msg *msg)
{
    struct vfio_user_dma_access a;
    int r;

    if (msg->payload_len < ACC_SIZE)
        return -EINVAL;
    memcpy(&a, msg->payload, sizeof(a));
    /* At least count bytes of data; anything after them is padding
     * (libvfio-user 2022 sizes every message for max_data_xfer_size;
     * docs/interop.md) and is ignored. */
    if (a.count > msg->payload_len - ACC_SIZE)
        return -EINVAL;
    pthread_rwlock_rdlock(&c->iommu_lock);
    r = iommu_dma_write(&c->iommu, a.address,
                        (const uint8_t *)msg->payload + ACC_SIZE, a.count);
    pthread_rwlock_unlock(&c->iommu_lock);
    if ((r == -EFAULT || r == -EPERM) && c->opts.on_dma_fault)
        c->opts.on_dma_fault(c->opts.fault_opaque, a.address, a.count, true);
    if (r)
        return r;
    /* Dirty before the ack: once the server sees the reply, a dirty-log
     * harvest must already include these pages. */
    if (c->opts.on_dma_write && a.count)
        c->opts.on_dma_write(c->opts.opaque, a.address, a.count);
    atomic_fetch_add(&c->n_dma_writes, 1);
    atomic_fetch_add_explicit(&c->n_dma_bytes, a.count, memory_order_relaxed);
    return vfio_user_ep_reply(c->ep, chan, &msg->hdr, &a,
                                      ACC_SIZE);
}

int client_dma_serve(void *opaque, struct vfio_user_ep *ep,
                     enum vfio_user_chan chan, struct vfio_user_msg *msg)
{
    struct vfio_client *c = opaque;

    (void)ep;
    switch (msg->hdr.cmd) {
    case VFIO_USER_DMA_READ:
        return serve_dma_read(c, chan, msg);
    case VFIO_USER_DMA_WRITE:
        return serve_dma_write(c, chan, msg);
    default:
        return -ENOTSUP;
    }
}

static int send_map(struct vfio_client *c, const struct iommu_window *w)
{
    struct vfio_user_dma_map m = {
        .argsz = sizeof(m),
        .flags = ((w->prot & IOMMU_PROT_READ) ? VFIO_USER_F_DMA_REGION_READ
                                               : 0) |
                 ((w->prot & IOMMU_PROT_WRITE) ? VFIO_USER_F_DMA_REGION_WRITE
                                                : 0),
        .offset = w->fd >= 0 ? w->fd_offset : 0,
        .address = w->iova,
        .size = w->size,
    };
    struct vfio_user_call call = {
        .cmd = VFIO_USER_DMA_MAP, .req = &m, .req_len = sizeof(m),
        .fds = w->fd >= 0 ? &w->fd : NULL, .nfds = w->fd >= 0 ? 1 : 0,
    };

    return client_call(c, &call);
}

int vfio_client_dma_map(struct vfio_client *c, const struct iommu_window *w)
{
    int r;

    /* Mirror first: the server may DMA as soon as it has the window. */
    pthread_rwlock_wrlock(&c->iommu_lock);
    r = iommu_map(&c->iommu, w);
    pthread_rwlock_unlock(&c->iommu_lock);
    if (r)
        return r;
    r = send_map(c, w);
    if (r) {
        pthread_rwlock_wrlock(&c->iommu_lock);
        iommu_unmap(&c->iommu, w->iova, w->size);
        pthread_rwlock_unlock(&c->iommu_lock);
    }
    return r;
}

int vfio_client_dma_unmap(struct vfio_client *c, uint64_t iova,
                          uint64_t size)
{
    struct vfio_user_dma_unmap u = {
        .argsz = sizeof(u), .address = iova, .size = size,
    };
    struct vfio_user_dma_unmap rep;
    struct vfio_user_call call = {
        .cmd = VFIO_USER_DMA_UNMAP, .req = &u, .req_len = sizeof(u),
        .reply = &rep, .reply_cap = sizeof(rep),
    };
    int r = client_call(c, &call);

    /* Gone from the server (or the server is gone): drop the mirror. */
    if (r == 0 || r == -ENODEV) {
        pthread_rwlock_wrlock(&c->iommu_lock);
        iommu_unmap(&c->iommu, iova, size);
        pthread_rwlock_unlock(&c->iommu_lock);
    }
    return r == -ENODEV ? 0 : r;
}

int client_dma_replay(struct vfio_client *c, char *err, size_t errlen)
{
    struct iommu_window *ws;
    size_t n;
    int r = 0;

    pthread_rwlock_rdlock(&c->iommu_lock);
    n = c->iommu.n;
    ws = malloc((n ? n : 1) * sizeof(*ws));
    if (ws && n) /* no window yet: iommu.w may be NULL */
        memcpy(ws, c->iommu.w, n * sizeof(*ws));
    pthread_rwlock_unlock(&c->iommu_lock);
    if (!ws)
        return -ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++) {
        r = send_map(c, &ws[i]);
        if (r)
            snprintf(err, errlen, "replaying DMA_MAP [%#llx, +%#llx): %s",
                     (unsigned long long)ws[i].iova,
                     (unsigned long long)ws[i].size, strerror(-r));
    }
    free(ws);
    return r;
}

int vfio_client_check_dma(struct vfio_client *c,
                          const struct iommu_needs *needs, char *err,
                          size_t errlen)
{
    struct iommu_caps caps = {
        .pgsizes = c->eff.pgsizes,
        .max_dma_maps = c->eff.max_dma_maps,
        .max_data_xfer_size = c->eff.max_data_xfer_size,
        /* the protocol states no IOVA width; our extension may */
        .iova_bits = c->eff.iova_bits ? (unsigned int)c->eff.iova_bits : 64,
    };

    return iommu_caps_check(&caps, needs, err, errlen);
}

void vfio_client_host_iommu(const struct vfio_client *c,
                            struct host_iommu_caps *caps)
{
    memset(caps, 0, sizeof(*caps));
    caps->pgsizes = c->eff.pgsizes;
    caps->iova_bits = c->eff.iova_bits ? (unsigned int)c->eff.iova_bits : 64;
    caps->max_mappings = c->eff.max_dma_maps;
}

int vfio_client_dma_unmap_range(struct vfio_client *c, uint64_t iova,
                                uint64_t last)
{
    struct iommu_window *ws;
    size_t n = 0;
    int r = 0, done = 0;

    pthread_rwlock_rdlock(&c->iommu_lock);
    ws = malloc((c->iommu.n ? c->iommu.n : 1) * sizeof(*ws));
    for (size_t i = 0; ws && i < c->iommu.n; i++) {
        const struct iommu_window *w = &c->iommu.w[i];

        if (w->iova >= iova && w->iova + w->size - 1 <= last)
            ws[n++] = *w;
    }
    pthread_rwlock_unlock(&c->iommu_lock);
    if (!ws)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int e = vfio_client_dma_unmap(c, ws[i].iova, ws[i].size);

        if (e && !r)
            r = e;
        done += e == 0;
    }
    free(ws);
    return r ? r : done;
}
