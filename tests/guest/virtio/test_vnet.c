/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnet: IPv4 over virtio-net to the host side of the tap. The guest is
 * vnet-ip (default 10.99.0.2), the tap's address vnet-peer (default
 * 10.99.0.1; both hex or decimal u32 on the command line): ARP for the
 * peer, then an ICMP echo request, and wait for the matching reply.
 */
#include "lib/bootinfo.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"
#include "lib/time.h"
#include "lib/virtio.h"
#include "virtio/vtests.h"

#define VNET_F_MAC    5
#define VNET_F_STATUS 16
#define HDR_LEN       12            /* virtio_net_hdr_v1 */
#define RX_BUFS       16
#define RX_BUF_LEN    2048
#define ETH_ARP       0x0806
#define ETH_IP        0x0800

struct vnet {
    struct vdev dev;
    struct vq rx, tx;
    uint8_t mac[6];
    uint8_t *rxbuf[RX_BUFS];
    uint8_t *txbuf;
    uint32_t ip, peer;
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint16_t csum(const uint8_t *p, unsigned int len)
{
    uint32_t s = 0;

    for (unsigned int i = 0; i + 1 < len; i += 2)
        s += get16(p + i);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}

/* Repost buffer @i: vq_get_used() put its descriptor at the head of the
 * free list, so it lands at descriptor @i again. */
static void post_rx(struct vnet *n, unsigned int i)
{
    struct vq_buf b = { n->rxbuf[i], RX_BUF_LEN, 1 };

    vq_add(&n->rx, &b, 1);
}

static int vnet_open(struct vnet *n)
{
    uint64_t v;
    int r = vdev_find(VIRTIO_ID_NET, 0, &n->dev);

    if (r < 0)
        return test_fail("no virtio-net device (%d)", r);
    if (vdev_init(&n->dev, 1ULL << VNET_F_MAC | 1ULL << VNET_F_STATUS) < 0 ||
        vdev_msix_enable(&n->dev) < 0)
        return test_fail("device setup failed");
    if (vq_setup(&n->dev, &n->rx, 0, RX_BUFS, 1, VEC_VNET_RX) < 0 ||
        vq_setup(&n->dev, &n->tx, 1, 16, 2, VEC_VNET_TX) < 0)
        return test_fail("queue setup failed");
    for (unsigned int i = 0; i < 6; i++)
        n->mac[i] = vdev_cfg8(&n->dev, i);
    if (!(vdev_cfg8(&n->dev, 6) & 1))
        return test_fail("link is down");
    n->ip = 0x0A630002;
    n->peer = 0x0A630001;
    if (cmdline_get_u64("vnet-ip", &v) == 0)
        n->ip = (uint32_t)v;
    if (cmdline_get_u64("vnet-peer", &v) == 0)
        n->peer = (uint32_t)v;
    n->txbuf = vdma_alloc(RX_BUF_LEN, 64);
    /* Descriptor i holds buffer i: heads come back in order at first. */
    for (unsigned int i = 0; i < RX_BUFS; i++) {
        struct vq_buf b;

        n->rxbuf[i] = vdma_alloc(RX_BUF_LEN, 64);
        b = (struct vq_buf){ n->rxbuf[i], RX_BUF_LEN, 1 };
        if (vq_add(&n->rx, &b, 1) != (int)i)
            return test_fail("rx buffer %u not at descriptor %u", i, i);
    }
    vdev_driver_ok(&n->dev);
    vq_kick(&n->rx);
    printf("vnet: mac %02x:%02x:%02x:%02x:%02x:%02x features %#lx\n",
           n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5],
           n->dev.features);
    return 0;
}

static int send(struct vnet *n, unsigned int len)
{
    struct vq_buf b = { n->txbuf, HDR_LEN + len, 0 };
    uint32_t id, got;

    memset(n->txbuf, 0, HDR_LEN);
    if (vq_add(&n->tx, &b, 1) < 0)
        return test_fail("tx queue full");
    vq_kick(&n->tx);
    if (vq_wait_used(&n->tx, &id, &got, 1000000) < 0)
        return test_fail("tx not completed");
    return 0;
}

/* Wait for a frame accepted by @match; 0 or -ETIMEDOUT. The buffer is
 * reposted after @match looked at it. */
static int receive(struct vnet *n, int (*match)(struct vnet *,
                                                const uint8_t *, uint32_t))
{
    uint64_t start = time_us();
    uint32_t id, len;
    int ok = 0;

    while (!ok && time_us() - start < 3000000) {
        if (vq_wait_used(&n->rx, &id, &len, 100000) < 0)
            continue;
        if (id < RX_BUFS && len > HDR_LEN)
            ok = match(n, n->rxbuf[id] + HDR_LEN, len - HDR_LEN);
        post_rx(n, id);
        vq_kick(&n->rx);
    }
    return ok ? 0 : -ETIMEDOUT;
}

static uint8_t peer_mac[6];

static int arp_reply(struct vnet *n, const uint8_t *f, uint32_t len)
{
    if (len < 42 || get16(f + 12) != ETH_ARP || get16(f + 20) != 2 ||
        get32(f + 28) != n->peer)
        return 0;
    memcpy(peer_mac, f + 22, 6);
    return 1;
}

static int echo_reply(struct vnet *n, const uint8_t *f, uint32_t len)
{
    const uint8_t *ip = f + 14, *icmp = f + 34;

    return len >= 42 && get16(f + 12) == ETH_IP && ip[9] == 1 &&
           get32(ip + 12) == n->peer && icmp[0] == 0 &&
           get16(icmp + 4) == 0x4D56 && get16(icmp + 6) == 1;
}

static unsigned int build_arp(struct vnet *n, uint8_t *f)
{
    memset(f, 0xFF, 6);
    memcpy(f + 6, n->mac, 6);
    put16(f + 12, ETH_ARP);
    put16(f + 14, 1);
    put16(f + 16, ETH_IP);
    f[18] = 6, f[19] = 4;
    put16(f + 20, 1);
    memcpy(f + 22, n->mac, 6);
    put32(f + 28, n->ip);
    memset(f + 32, 0, 6);
    put32(f + 38, n->peer);
    return 42;
}

static unsigned int build_ping(struct vnet *n, uint8_t *f)
{
    static const char data[] = "minivmm virtio-net ping";
    uint8_t *ip = f + 14, *icmp = f + 34;
    unsigned int dlen = sizeof(data), ilen = 8 + dlen;

    memcpy(f, peer_mac, 6);
    memcpy(f + 6, n->mac, 6);
    put16(f + 12, ETH_IP);
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + ilen));
    ip[8] = 64;
    ip[9] = 1;
    put32(ip + 12, n->ip);
    put32(ip + 16, n->peer);
    put16(ip + 10, csum(ip, 20));
    memset(icmp, 0, 8);
    icmp[0] = 8;
    put16(icmp + 4, 0x4D56);
    put16(icmp + 6, 1);
    memcpy(icmp + 8, data, dlen);
    put16(icmp + 2, csum(icmp, ilen));
    return 34 + ilen;
}

int test_vnet(void)
{
    struct vnet n;

    if (vnet_open(&n) < 0)
        return -1;
    for (int tries = 0;; tries++) {
        if (send(&n, build_arp(&n, n.txbuf + HDR_LEN)) < 0)
            return -1;
        if (receive(&n, arp_reply) == 0)
            break;
        if (tries == 2)
            return test_fail("no ARP reply from the peer");
    }
    printf("vnet: peer is at %02x:%02x:%02x:%02x:%02x:%02x\n", peer_mac[0],
           peer_mac[1], peer_mac[2], peer_mac[3], peer_mac[4], peer_mac[5]);
    if (send(&n, build_ping(&n, n.txbuf + HDR_LEN)) < 0)
        return -1;
    if (receive(&n, echo_reply) < 0)
        return test_fail("no ICMP echo reply");
    printf("vnet: ICMP echo reply received\n");
    return 0;
}
