/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-net device model on a tap (see net.h; spec 5.1). */
#include "virtio/net.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#define NET_RX        0
#define NET_TX        1
#define NET_MAX_SEGS  64
#define NET_MAX_FRAME (VIRTIO_NET_HDR_LEN + 65536u + 64u)
#define NET_CFG_SIZE  offsetof(struct virtio_net_config, speed)

struct virtio_net {
    struct virtio_dev vdev;
    struct virtq queues[2];
    struct virtio_mem mem;
    struct virtio_net_params p;
    struct virtio_net_config cfg;       /* little-endian */
    bool rx_have;                       /* rx_elem popped, not filled */
    bool rx_blocked;                    /* tap may hold frames for us */
    struct virtq_seg rx_segs[NET_MAX_SEGS];
    struct virtq_elem rx_elem;
    struct virtq_seg tx_segs[NET_MAX_SEGS];
    struct iovec iov[NET_MAX_SEGS];
    struct virtio_net_stats stats;
    uint8_t bounce[NET_MAX_FRAME];
};

int virtio_net_tap_open(const char *name, int *out, bool *offloads,
                        char *err, size_t errlen)
{
    struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
    int hdr = VIRTIO_NET_HDR_LEN, fd, r;
    unsigned int all = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

    if (strlen(name) >= IFNAMSIZ)
        return -EINVAL;
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        snprintf(err, errlen, "--net tap=%s: /dev/net/tun: %s", name,
                 strerror(errno));
        return r;
    }
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
        ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
        r = -errno;
        snprintf(err, errlen, "--net tap=%s: cannot attach: %s", name,
                 strerror(errno));
        close(fd);
        return r;
    }
    *offloads = ioctl(fd, TUNSETOFFLOAD, all) == 0;
    ioctl(fd, TUNSETOFFLOAD, 0);    /* until the guest negotiates */
    *out = fd;
    return 0;
}

/* --- receive --------------------------------------------------------- */

/* iovecs for the segments [@from, @to) of @e, or -EFAULT if one does not
 * translate (the caller bounces then). Returns the count. */
static int build_iov(struct virtio_net *net, const struct virtq_elem *e,
                     unsigned int from, unsigned int to, bool write)
{
    int n = 0;

    if (e->truncated)
        return -EFAULT;
    for (unsigned int i = from; i < to; i++, n++) {
        const struct virtq_seg *s = &e->segs[i];

        net->iov[n].iov_base = virtio_mem_translate(&net->mem, s->gpa,
                                                    s->len, write);
        net->iov[n].iov_len = s->len;
        if (!net->iov[n].iov_base)
            return -EFAULT;
    }
    return n;
}

/* Read one frame into @e. Bytes written, or -errno (-EAGAIN: none). */
static ssize_t read_frame(struct virtio_net *net, const struct virtq_elem *e)
{
    struct virtq *q = &net->queues[NET_RX];
    uint16_t one = htole16(1);
    int n = build_iov(net, e, e->nout, e->nsegs, true);
    ssize_t got;

    if (n >= 0) {
        got = readv(net->p.tap_fd, net->iov, n);
        /* The frame landed after translate marked the pages: mark them
         * again, or a dirty-log harvest in between loses it. */
        for (unsigned int i = e->nout; got > 0 && i < e->nsegs; i++)
            virtio_mem_mark_dirty(&net->mem, e->segs[i].gpa,
                                  e->segs[i].len);
    } else {
        got = read(net->p.tap_fd, net->bounce, sizeof(net->bounce));
        if (got > (ssize_t)e->in_bytes)
            got = (ssize_t)e->in_bytes;     /* frame truncated */
        if (got > 0 && virtq_elem_write(q, e, 0, net->bounce,
                                        (uint64_t)got) < 0)
            return -EFAULT;
    }
    if (got < 0)
        return -errno;
    if (got < (ssize_t)VIRTIO_NET_HDR_LEN)
        return -EINVAL;
    /* The tap leaves num_buffers alone (it is past its 10-byte header). */
    if (virtq_elem_write(q, e, offsetof(struct virtio_net_hdr_v1,
                                        num_buffers), &one, 2) < 0)
        return -EFAULT;
    return got;
}

void virtio_net_handle_tap(struct virtio_net *net)
{
    struct virtq *q = &net->queues[NET_RX];
    ssize_t got;
    int r;

    net->rx_blocked = true;
    if (!virtio_dev_driver_ok(&net->vdev) || !q->enabled)
        return;
    for (;;) {
        if (!net->rx_have) {
            r = virtq_pop(q, &net->rx_elem);
            if (r <= 0)
                break;      /* no buffers (stay blocked) or broken */
            net->rx_have = true;
        }
        got = read_frame(net, &net->rx_elem);
        if (got == -EAGAIN || got == -EINTR) {
            net->rx_blocked = false;
            break;
        }
        if (got < 0) {
            net->stats.rx_dropped++;
            got = 0;
        } else {
            net->stats.rx_frames++;
        }
        net->rx_have = false;
        if (virtq_push(q, net->rx_elem.head, (uint32_t)got) < 0)
            break;
    }
    if (q->broken)
        virtio_dev_queue_failed(&net->vdev, q);
    virtio_dev_notify_queue(&net->vdev, NET_RX);
}

/* --- transmit -------------------------------------------------------- */

static int send_frame(struct virtio_net *net, const struct virtq_elem *e)
{
    struct virtq *q = &net->queues[NET_TX];
    int n = build_iov(net, e, 0, e->nout, false);
    ssize_t put;

    if (e->out_bytes < VIRTIO_NET_HDR_LEN || e->out_bytes > NET_MAX_FRAME)
        return -EINVAL;
    if (n >= 0) {
        put = writev(net->p.tap_fd, net->iov, n);
    } else {
        if (virtq_elem_read(q, e, 0, net->bounce, e->out_bytes) < 0)
            return -EFAULT;
        put = write(net->p.tap_fd, net->bounce, e->out_bytes);
    }
    return put < 0 ? -errno : 0;
}

static int drain_tx(struct virtio_net *net)
{
    struct virtq *q = &net->queues[NET_TX];
    struct virtq_elem e = { .segs = net->tx_segs, .max_segs = NET_MAX_SEGS };
    int r;

    while ((r = virtq_pop(q, &e)) == 1) {
        if (send_frame(net, &e) < 0)
            net->stats.tx_errors++;     /* dropped, like a full link */
        else
            net->stats.tx_frames++;
        r = virtq_push(q, e.head, 0);
        if (r < 0)
            break;
    }
    if (q->broken)
        virtio_dev_queue_failed(&net->vdev, q);
    virtio_dev_notify_queue(&net->vdev, NET_TX);
    return r < 0 ? r : 0;
}

/* --- virtio_dev_ops -------------------------------------------------- */

static int net_features_ok(struct virtio_dev *vdev, uint64_t f)
{
    struct virtio_net *net = vdev->priv;
    unsigned int off = 0;

    if (f & (1ULL << VIRTIO_NET_F_GUEST_CSUM)) {
        off |= TUN_F_CSUM;
        if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO4))
            off |= TUN_F_TSO4;
        if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO6))
            off |= TUN_F_TSO6;
    }
    if (net->p.tap_offloads && ioctl(net->p.tap_fd, TUNSETOFFLOAD, off) < 0)
        return -errno;
    return 0;
}

static void net_reset(struct virtio_dev *vdev)
{
    struct virtio_net *net = vdev->priv;

    net->rx_have = false;       /* the queue forgets it too */
    net->rx_blocked = true;
}

static int net_config_read(struct virtio_dev *vdev, uint32_t off, void *buf,
                           uint32_t len)
{
    struct virtio_net *net = vdev->priv;

    if (off > NET_CFG_SIZE || len > NET_CFG_SIZE - off)
        return -EINVAL;
    memcpy(buf, (uint8_t *)&net->cfg + off, len);
    return 0;
}

static int net_queue_notify(struct virtio_dev *vdev, uint16_t qidx)
{
    struct virtio_net *net = vdev->priv;

    if (qidx == NET_TX)
        return drain_tx(net);
    if (net->rx_blocked)
        virtio_net_handle_tap(net);
    return 0;
}

static const struct virtio_dev_ops net_dev_ops = {
    .features_ok = net_features_ok,
    .reset = net_reset,
    .config_read = net_config_read,
    .queue_notify = net_queue_notify,
};

/* --- lifetime and state ---------------------------------------------- */

static uint64_t net_features(bool tap_offloads)
{
    uint64_t f = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |
                 (1ULL << VIRTIO_NET_F_CSUM) |
                 (1ULL << VIRTIO_NET_F_HOST_TSO4) |
                 (1ULL << VIRTIO_NET_F_HOST_TSO6) |
                 (1ULL << VIRTIO_RING_F_EVENT_IDX) |
                 (1ULL << VIRTIO_RING_F_INDIRECT_DESC);

    if (tap_offloads)
        f |= (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
             (1ULL << VIRTIO_NET_F_GUEST_TSO4) |
             (1ULL << VIRTIO_NET_F_GUEST_TSO6);
    return f;
}

int virtio_net_create(const struct virtio_net_params *p,
                      const struct virtio_mem *mem,
                      const struct virtio_irq *irq, struct virtio_net **out)
{
    struct virtio_net *net;
    int r = 0;

    if (p->tap_fd < 0 || (p->mac[0] & 1))
        return -EINVAL;
    net = calloc(1, sizeof(*net));
    if (!net)
        return -ENOMEM;
    net->p = *p;
    net->mem = *mem;
    net->rx_blocked = true;
    net->rx_elem = (struct virtq_elem){ .segs = net->rx_segs,
                                        .max_segs = NET_MAX_SEGS };
    memcpy(net->cfg.mac, p->mac, 6);
    net->cfg.status = htole16(VIRTIO_NET_S_LINK_UP);
    net->cfg.max_virtqueue_pairs = htole16(1);
    for (int i = 0; r == 0 && i < 2; i++)
        r = virtq_init(&net->queues[i], &net->mem, VIRTIO_NET_QUEUE_SIZE);
    if (r == 0)
        r = virtio_dev_init(&net->vdev, VIRTIO_ID_NET,
                            net_features(p->tap_offloads), net->queues, 2,
                            &net_dev_ops, net, irq);
    if (r < 0) {
        free(net);
        return r;
    }
    *out = net;
    return 0;
}

void virtio_net_destroy(struct virtio_net *net)
{
    free(net);
}

struct virtio_dev *virtio_net_vdev(struct virtio_net *net)
{
    return &net->vdev;
}

int virtio_net_tap_fd(const struct virtio_net *net)
{
    return net->p.tap_fd;
}

void virtio_net_get_stats(const struct virtio_net *net,
                          struct virtio_net_stats *st)
{
    *st = net->stats;
}

/* A popped-but-unfilled rx chain is not saved: the queue's
 * last_avail_idx is saved one lower so it is popped again after load. */
static int net_save(void *opaque, void *fdt, int node)
{
    struct virtio_net *net = opaque;
    struct virtq *rxq = &net->queues[NET_RX];
    int r;

    if (net->rx_have)
        rxq->last_avail_idx--;
    r = virtio_dev_save(&net->vdev, fdt, node);
    if (net->rx_have)
        rxq->last_avail_idx++;
    if (r == 0)
        r = state_put_bytes(fdt, node, "config", &net->cfg, NET_CFG_SIZE);
    return r;
}

static int net_load(void *opaque, const void *fdt, int node)
{
    struct virtio_net *net = opaque;
    uint8_t cfg[NET_CFG_SIZE];
    int r;

    r = state_get_bytes(fdt, node, "config", cfg, sizeof(cfg));
    if (r == 0 && memcmp(cfg, &net->cfg, sizeof(cfg)))
        r = -EINVAL;    /* another MAC: not this device */
    if (r == 0)
        r = virtio_dev_load(&net->vdev, fdt, node);
    if (r == 0) {
        net->rx_have = false;
        net->rx_blocked = true;
        if (net->vdev.status & VIRTIO_DEV_S_FEATURES_OK)
            r = net_features_ok(&net->vdev, net->vdev.driver_features);
    }
    return r;
}

const struct state_ops virtio_net_state_ops = {
    .save = net_save,
    .load = net_load,
};
