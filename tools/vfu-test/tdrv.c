/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-test virtio-blk driver; see tdrv.h. */
#include "tdrv.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#define BAR  2u   /* virtio structures */
#define NOTIFY 0x3000u

static int wr(struct tdrv *d, uint32_t off, uint64_t v, uint32_t len)
{
    return tc_wr(d->tc, BAR, off, v, len);
}

static uint32_t rd(struct tdrv *d, uint32_t off, uint32_t len)
{
    return tc_rd(d->tc, BAR, off, len);
}

int tdrv_attach(struct tdrv *d, struct tc *tc, uint8_t *base, uint64_t iova)
{
    memset(d, 0, sizeof(*d));
    d->base = base;
    d->iova = iova;
    d->irq[0] = d->irq[1] = d->ioev = -1;
    virtio_flat_mem_init(&d->fm, base, iova, TD_MEM_SIZE, true, &d->mem);
    return tdrv_rebind(d, tc);
}

int tdrv_rebind(struct tdrv *d, struct tc *tc)
{
    struct vfio_user_region_io_fds_request rq = {
        .argsz = 16 + 40, .index = BAR};
    struct vfio_user_region_io_fds_reply rp;
    struct vfio_user_sub_region_ioeventfd e;
    int r;

    tdrv_close(d);
    d->tc = tc;
    d->irq[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    d->irq[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (d->irq[0] < 0 || d->irq[1] < 0)
        return -errno;
    r = tc_set_irq_fds(tc, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2, d->irq);
    if (r)
        return r;
    r = tc_call(tc, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &rq, sizeof(rq),
                NULL, 0);
    if (r)
        return r;
    memcpy(&rp, tc->rbuf, sizeof(rp));
    if (rp.count < 1 || tc->reply.nfds < 1 || tc->reply.payload_len < 56)
        return -EPROTO;
    memcpy(&e, tc->rbuf + 16, sizeof(e));
    if (e.offset != NOTIFY || e.fd_index >= tc->reply.nfds)
        return -EPROTO;
    d->ioev = tc->reply.fds[e.fd_index];
    tc->reply.fds[e.fd_index] = -1;
    return 0;
}

void tdrv_close(struct tdrv *d)
{
    int i;

    for (i = 0; i < 2; i++)
        if (d->irq[i] >= 0)
            close(d->irq[i]);
    if (d->ioev >= 0)
        close(d->ioev);
    d->irq[0] = d->irq[1] = d->ioev = -1;
}

static int negotiate(struct tdrv *d)
{
    uint64_t f;

    wr(d, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
    f = rd(d, VIRTIO_PCI_COMMON_DF, 4);
    wr(d, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
    f |= (uint64_t)rd(d, VIRTIO_PCI_COMMON_DF, 4) << 32;
    if (!(f & (1ull << VIRTIO_F_VERSION_1)))
        return -EPROTO;
    f &= ~(1ull << VIRTIO_RING_F_EVENT_IDX);
    wr(d, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
    wr(d, VIRTIO_PCI_COMMON_GF, (uint32_t)f, 4);
    wr(d, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    wr(d, VIRTIO_PCI_COMMON_GF, f >> 32, 4);
    wr(d, VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
    return rd(d, VIRTIO_PCI_COMMON_STATUS, 1) & 0x08 ? 0 : -EPROTO;
}

/* Ring addresses in one REGION_WRITE_MULTI (six 32-bit halves). */
static int queue_addrs(struct tdrv *d)
{
    uint8_t pl[8 + 6 * 24];
    struct vfio_user_write_multi h = {.wr_cnt = 6};
    struct vfio_user_write_multi_entry e;
    uint64_t a[3] = {d->vr.desc_gpa, d->vr.avail_gpa, d->vr.used_gpa};
    int i, r;

    memcpy(pl, &h, sizeof(h));
    for (i = 0; i < 6; i++) {
        memset(&e, 0, sizeof(e));
        e.offset = VIRTIO_PCI_COMMON_Q_DESCLO + 4 * i;
        e.region = BAR;
        e.count = 4;
        memcpy(e.data, &(uint32_t){(uint32_t)(a[i / 2] >> (32 * (i & 1)))},
               4);
        memcpy(pl + 8 + i * 24, &e, sizeof(e));
    }
    r = tc_call(d->tc, VFIO_USER_REGION_WRITE_MULTI, pl, sizeof(pl), NULL, 0);
    if (r)
        return r;
    memcpy(&h, d->tc->rbuf, sizeof(h));
    return h.wr_cnt == 6 ? 0 : -EPROTO;
}

int tdrv_init_device(struct tdrv *d)
{
    uint64_t end;
    int r;

    wr(d, VIRTIO_PCI_COMMON_STATUS, 0, 1);
    wr(d, VIRTIO_PCI_COMMON_STATUS, 1, 1);
    wr(d, VIRTIO_PCI_COMMON_STATUS, 3, 1);
    r = negotiate(d);
    if (r)
        return r;
    r = vring_drv_init(&d->vr, &d->mem, TD_QSIZE, d->iova, &end);
    if (r)
        return r;
    wr(d, VIRTIO_PCI_COMMON_MSIX, 0, 2);
    wr(d, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    wr(d, VIRTIO_PCI_COMMON_Q_SIZE, TD_QSIZE, 2);
    wr(d, VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
    if (rd(d, VIRTIO_PCI_COMMON_Q_MSIX, 2) != 1)
        return -EPROTO;
    r = queue_addrs(d);
    if (r)
        return r;
    wr(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
    if (rd(d, VIRTIO_PCI_COMMON_Q_ENABLE, 2) != 1)
        return -EIO;
    wr(d, VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
    return rd(d, VIRTIO_PCI_COMMON_STATUS, 1) == 0x0f ? 0 : -EIO;
}

int tdrv_submit(struct tdrv *d, uint32_t type, uint64_t sector,
                uint64_t gpa, uint32_t len)
{
    uint16_t slot = d->next_slot++ % TD_QSIZE, head;
    uint64_t h = d->iova + TD_HDRS + slot * 32u;
    struct virtio_blk_outhdr oh = {.type = type, .sector = sector};
    struct vring_drv_buf b[3] = {
        {h, sizeof(oh), false},
        {gpa, len, type == VIRTIO_BLK_T_IN},
        {h + 16, 1, true},
    };
    int r;

    memcpy(d->base + TD_HDRS + slot * 32u, &oh, sizeof(oh));
    d->base[TD_HDRS + slot * 32u + 16] = 0xff;
    r = vring_drv_add_chain(&d->vr, b, 3, 0, &head);
    if (r)
        return r;
    d->slot_of[head % TD_QSIZE] = slot;
    return vring_drv_publish(&d->vr, head);
}

int tdrv_kick(struct tdrv *d, bool ioev)
{
    uint64_t one = 1;

    if (ioev && d->ioev >= 0)
        return write(d->ioev, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
    return wr(d, NOTIFY, 0, 2);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tdrv_wait(struct tdrv *d, unsigned int n)
{
    int64_t deadline = now_ms() + 10000;
    struct pollfd p = {.fd = d->irq[1], .events = POLLIN};
    uint32_t id, len;
    uint64_t v;

    while (n) {
        while (n && vring_drv_get_used(&d->vr, &id, &len) == 1) {
            uint16_t slot = d->slot_of[id % TD_QSIZE];

            if (d->base[TD_HDRS + slot * 32u + 16] != VIRTIO_BLK_S_OK)
                d->errors++;
            n--;
        }
        if (!n)
            break;
        if (now_ms() > deadline)
            return -ETIMEDOUT;
        tc_poll_serve(d->tc, 0);
        if (poll(&p, 1, d->tc->twin ? 100 : 5) > 0 &&
            read(d->irq[1], &v, sizeof(v)) < 0)
            return -errno;
    }
    /* Without a twin socket the server may still need us to serve its
     * DMA_READ of the avail flags: serve until it goes quiet. */
    while (tc_poll_serve(d->tc, 20))
        ;
    return d->errors ? -EIO : 0;
}

int tdrv_transfer(struct tdrv *d, bool write, uint64_t sector, uint64_t gpa,
                  uint32_t total, uint32_t chunk, bool mixed)
{
    uint32_t done = 0, batch = 0, n;
    int r;

    while (done < total) {
        for (n = 0; n < 8 && done < total; n++) {
            uint32_t len = total - done < chunk ? total - done : chunk;

            r = tdrv_submit(d, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
                            sector + done / 512, gpa + done, len);
            if (r)
                return r;
            done += len;
        }
        r = tdrv_kick(d, !mixed || (batch++ & 1) == 0);
        if (!r)
            r = tdrv_wait(d, n);
        if (r)
            return r;
    }
    return 0;
}
