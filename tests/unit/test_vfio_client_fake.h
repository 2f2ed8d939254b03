/* SPDX-License-Identifier: BSD-3-Clause */
/* A scriptable fake vfio-user server over a socketpair, for the client
 * and vfio-pci unit tests: a thread answering the client's commands from
 * plain arrays (regions, config space, IRQ counts), with hooks a test sets
 * to misbehave (wrong ids, short replies, stray fds, stalls, DMA requests
 * in the middle of a client request). Included by one test file each. */
#ifndef TEST_VFIO_CLIENT_FAKE_H
#define TEST_VFIO_CLIENT_FAKE_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfio/proto/conn.h"

#define FAKE_REGIONS 10
#define FAKE_REGION_BYTES 8192

struct fake;
/* Return 1 when the hook handled (replied to) the command, 0 for the
 * default handling. */
typedef int (*fake_hook_fn)(struct fake *f, struct vfio_user_msg *m);

struct fake {
    struct vfio_user_conn *conn;
    int cfd;                    /* the client's end */
    pthread_t th;
    struct vfio_user_caps caps; /* what the server supports */
    bool twin;                  /* offer twin_socket */
    fake_hook_fn hook;
    uint32_t num_irqs;
    uint32_t irq_count[5];
    uint64_t rsize[FAKE_REGIONS];
    uint32_t rflags[FAKE_REGIONS];
    uint8_t mem[FAKE_REGIONS][FAKE_REGION_BYTES];
    uint8_t *rcaps[FAKE_REGIONS];  /* region info cap chain (at 32) */
    uint32_t rcaps_len[FAKE_REGIONS];
    int rfd[FAKE_REGIONS];      /* mmap fd, -1 none */
    int rfd_list[FAKE_REGIONS][4]; /* if rfd_n[i]: these fds instead */
    unsigned int rfd_n[FAKE_REGIONS]; /* (libvfio-user: one per area) */
    uint8_t *iofds;             /* GET_REGION_IO_FDS reply body */
    uint32_t iofds_len;
    int iofd_efd;               /* eventfd sent with io-fds */
    atomic_int n_reads, n_writes, n_maps, n_unmaps, n_resets, n_setirqs;
    atomic_int n_cmds;
    int irq_fds[64];            /* last eventfds per MSI-X vector */
    uint32_t last_irq_index, last_irq_flags, last_irq_start, last_irq_count;
    int user;                   /* free for hooks */
    uint64_t dma_addr;          /* hook: DMA_READ target */
    uint8_t dma_buf[256];
    int dma_result;
};

static inline void *fake_main(void *arg);

static inline void fake_caps_default(struct vfio_user_caps *c)
{
    vfio_user_caps_default(c);
    c->max_msg_fds = 16;
    c->twin_socket = true;
    c->write_multiple = true;
}

/* A server with one 4 KiB config region (7) and a 4 KiB BAR0. */
static inline void fake_init(struct fake *f)
{
    int sv[2];

    memset(f, 0, sizeof(*f));
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    if (vfio_user_conn_new(sv[1], &f->conn))
        abort();
    f->cfd = sv[0];
    fake_caps_default(&f->caps);
    vfio_user_conn_set_caps(f->conn, &f->caps, &f->caps);
    f->num_irqs = 5;
    f->irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = 4;
    f->irq_count[VFIO_PCI_INTX_IRQ_INDEX] = 1;
    f->rsize[0] = 4096;
    f->rflags[0] = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    f->rsize[VFIO_PCI_CONFIG_REGION_INDEX] = 4096;
    f->rflags[VFIO_PCI_CONFIG_REGION_INDEX] = f->rflags[0];
    f->iofd_efd = -1;
    for (int i = 0; i < FAKE_REGIONS; i++)
        f->rfd[i] = -1;
    for (int i = 0; i < 64; i++)
        f->irq_fds[i] = -1;
}

static inline void fake_start(struct fake *f)
{
    if (pthread_create(&f->th, NULL, fake_main, f))
        abort();
}

/* Disconnect and join (the client may already be gone). */
static inline void fake_stop(struct fake *f)
{
    shutdown(vfio_user_conn_fd(f->conn, VFIO_USER_CHAN_MAIN), SHUT_RDWR);
    if (vfio_user_conn_fd(f->conn, VFIO_USER_CHAN_TWIN) >= 0)
        shutdown(vfio_user_conn_fd(f->conn, VFIO_USER_CHAN_TWIN), SHUT_RDWR);
    pthread_join(f->th, NULL);
    vfio_user_conn_free(f->conn);
    for (int i = 0; i < 64; i++)
        if (f->irq_fds[i] >= 0)
            close(f->irq_fds[i]);
    if (f->iofd_efd >= 0)
        close(f->iofd_efd);
}

static inline int fake_reply(struct fake *f, struct vfio_user_msg *m,
                             const void *p, size_t len, const int *fds,
                             unsigned int nfds)
{
    return vfio_user_conn_send_reply(f->conn, VFIO_USER_CHAN_MAIN, &m->hdr, p,
                                     len, fds, nfds);
}

/* Send a raw header (+ payload) with any id/flags: misbehaviour. */
static inline int fake_raw(struct fake *f, uint16_t id, uint16_t cmd,
                           uint32_t flags, const void *p, size_t len,
                           const int *fds, unsigned int nfds)
{
    struct vfio_user_header h = {.msg_id = id, .cmd = cmd, .flags = flags};

    return vfio_user_conn_send(f->conn, VFIO_USER_CHAN_MAIN, &h, p, len, fds,
                               nfds);
}

static inline int fake_version(struct fake *f, struct vfio_user_msg *m)
{
    struct vfio_user_caps cli, rep;
    uint16_t major, minor;
    void *p;
    size_t len;
    int peer = -1, r;

    if (vfio_user_version_decode(m->payload, m->payload_len, &major, &minor,
                                 &cli, NULL, 0) ||
        vfio_user_caps_negotiate_server(&f->caps, &cli, &rep, NULL, 0))
        return -EINVAL;
    if (!f->twin)
        rep.twin_socket = false;
    if (rep.twin_socket) {
        if (vfio_user_conn_twin_pair(f->conn, &peer))
            return -EIO;
        rep.twin_fd_index = 0;
    }
    if (vfio_user_version_encode(major, minor, &rep, &p, &len))
        return -ENOMEM;
    r = fake_reply(f, m, p, len, &peer, peer >= 0 ? 1 : 0);
    free(p);
    if (peer >= 0)
        close(peer);
    vfio_user_conn_set_caps(f->conn, &f->caps, &rep);
    return r;
}

static inline int fake_region_info(struct fake *f, struct vfio_user_msg *m)
{
    struct vfio_region_info ri;
    uint8_t buf[4096] = {0};    /* room for several sparse caps */
    uint32_t n;
    int fd;

    memcpy(&ri, m->payload, sizeof(ri));
    n = ri.index;
    if (n >= FAKE_REGIONS)
        return -EINVAL;
    fd = f->rfd[n];
    ri.flags = f->rflags[n];
    ri.size = f->rsize[n];
    ri.offset = 0;
    ri.cap_offset = f->rcaps[n] ? 32 : 0;
    ri.argsz = 32 + f->rcaps_len[n];
    if (f->rcaps[n]) {
        ri.flags |= VFIO_REGION_INFO_FLAG_CAPS;
        memcpy(buf + 32, f->rcaps[n], f->rcaps_len[n]);
    }
    memcpy(buf, &ri, sizeof(ri));
    if (f->rfd_n[n])
        return fake_reply(f, m, buf, ri.argsz, f->rfd_list[n], f->rfd_n[n]);
    return fake_reply(f, m, buf, ri.argsz, &fd, fd >= 0 ? 1 : 0);
}

static inline int fake_rw(struct fake *f, struct vfio_user_msg *m, bool wr)
{
    struct vfio_user_region_access a;
    uint8_t buf[16 + FAKE_REGION_BYTES];

    memcpy(&a, m->payload, sizeof(a));
    if (a.region >= FAKE_REGIONS || a.offset > FAKE_REGION_BYTES ||
        a.count > FAKE_REGION_BYTES - a.offset)
        return -EINVAL;
    if (wr) {
        memcpy(f->mem[a.region] + a.offset, (uint8_t *)m->payload + 16,
               a.count);
        atomic_fetch_add(&f->n_writes, 1);
        if (m->hdr.flags & VFIO_USER_F_NO_REPLY)
            return 0;
        return fake_reply(f, m, &a, 16, NULL, 0);
    }
    atomic_fetch_add(&f->n_reads, 1);
    memcpy(buf, &a, 16);
    memcpy(buf + 16, f->mem[a.region] + a.offset, a.count);
    return fake_reply(f, m, buf, 16 + a.count, NULL, 0);
}

static inline int fake_set_irqs(struct fake *f, struct vfio_user_msg *m)
{
    struct vfio_irq_set s;

    memcpy(&s, m->payload, sizeof(s));
    f->last_irq_index = s.index;
    f->last_irq_flags = s.flags;
    f->last_irq_start = s.start;
    f->last_irq_count = s.count;
    for (unsigned int i = 0; i < m->nfds && s.start + i < 64; i++) {
        if (f->irq_fds[s.start + i] >= 0)
            close(f->irq_fds[s.start + i]);
        f->irq_fds[s.start + i] = m->fds[i];
        m->fds[i] = -1;
    }
    atomic_fetch_add(&f->n_setirqs, 1);
    return fake_reply(f, m, NULL, 0, NULL, 0);
}

static inline int fake_simple(struct fake *f, struct vfio_user_msg *m)
{
    struct vfio_user_device_info di = {16, VFIO_DEVICE_FLAGS_PCI |
                                               VFIO_DEVICE_FLAGS_RESET,
                                       FAKE_REGIONS, f->num_irqs};
    struct vfio_irq_info ii;

    switch (m->hdr.cmd) {
    case VFIO_USER_DEVICE_GET_INFO:
        return fake_reply(f, m, &di, sizeof(di), NULL, 0);
    case VFIO_USER_DEVICE_GET_IRQ_INFO:
        memcpy(&ii, m->payload, sizeof(ii));
        ii.flags = VFIO_IRQ_INFO_EVENTFD;
        ii.count = ii.index < 5 ? f->irq_count[ii.index] : 0;
        return fake_reply(f, m, &ii, sizeof(ii), NULL, 0);
    case VFIO_USER_DMA_MAP:
        atomic_fetch_add(&f->n_maps, 1);
        return fake_reply(f, m, NULL, 0, NULL, 0);
    case VFIO_USER_DMA_UNMAP:
        atomic_fetch_add(&f->n_unmaps, 1);
        return fake_reply(f, m, m->payload, 24, NULL, 0);
    case VFIO_USER_DEVICE_RESET:
        atomic_fetch_add(&f->n_resets, 1);
        return fake_reply(f, m, NULL, 0, NULL, 0);
    default:
        return -ENOTSUP;
    }
}

/* The scripted io-fd reply for the region it names; empty for others. */
static inline int fake_io_fds(struct fake *f, struct vfio_user_msg *m)
{
    struct vfio_user_region_io_fds_request in;
    struct vfio_user_region_io_fds_reply none = {16, 0, 0, 0};
    uint32_t idx = 0;

    memcpy(&in, m->payload, sizeof(in));
    if (f->iofds)
        memcpy(&idx, f->iofds + 8, 4);
    if (!f->iofds || idx != in.index) {
        none.index = in.index;
        return fake_reply(f, m, &none, sizeof(none), NULL, 0);
    }
    return fake_reply(f, m, f->iofds, f->iofds_len, &f->iofd_efd,
                      f->iofd_efd >= 0 ? 1 : 0);
}

static inline int fake_handle(struct fake *f, struct vfio_user_msg *m)
{
    atomic_fetch_add(&f->n_cmds, 1);
    if (f->hook && f->hook(f, m))
        return 0;
    switch (m->hdr.cmd) {
    case VFIO_USER_VERSION:
        return fake_version(f, m);
    case VFIO_USER_DEVICE_GET_REGION_INFO:
        return fake_region_info(f, m);
    case VFIO_USER_DEVICE_GET_REGION_IO_FDS:
        return fake_io_fds(f, m);
    case VFIO_USER_REGION_READ:
        return fake_rw(f, m, false);
    case VFIO_USER_REGION_WRITE:
        return fake_rw(f, m, true);
    case VFIO_USER_DEVICE_SET_IRQS:
        return fake_set_irqs(f, m);
    default:
        return fake_simple(f, m);
    }
}

static inline void *fake_main(void *arg)
{
    struct fake *f = arg;
    struct vfio_user_expect exp;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    int r;

    m->payload_cap = 2u << 20;
    m->payload = malloc(m->payload_cap);
    for (;;) {
        vfio_user_conn_expect_command(f->conn, &exp);
        r = vfio_user_conn_recv(f->conn, VFIO_USER_CHAN_MAIN, &exp, false, m,
                                NULL);
        if (r == -ECONNRESET || r == -ENOTCONN || r == -EBADMSG)
            break;
        if (r)
            continue;
        r = fake_handle(f, m);
        if (r < 0 && !(m->hdr.flags & VFIO_USER_F_NO_REPLY))
            vfio_user_conn_send_error(f->conn, VFIO_USER_CHAN_MAIN, &m->hdr,
                                      -r);
        vfio_user_msg_close_fds(m);
    }
    free(m->payload);
    free(m);
    return NULL;
}

/* From a hook: DMA_READ @len bytes at @addr from the client over the
 * server->client channel into f->dma_buf; f->dma_result gets the result. */
static inline void fake_dma_read(struct fake *f, uint64_t addr, uint32_t len)
{
    struct vfio_user_dma_access a = {addr, len};
    enum vfio_user_chan ch = vfio_user_conn_s2c_chan(f->conn);
    struct vfio_user_expect exp;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    uint8_t buf[16 + 256];
    uint16_t id;

    f->dma_result = vfio_user_conn_send_command(f->conn, ch,
                                                VFIO_USER_DMA_READ, 0, &a,
                                                sizeof(a), NULL, 0, &id);
    m->payload = buf;
    m->payload_cap = sizeof(buf);
    vfio_user_conn_expect_reply(f->conn, VFIO_USER_DMA_READ, id, &exp);
    if (f->dma_result == 0)
        f->dma_result = vfio_user_conn_recv(f->conn, ch, &exp, false, m,
                                            NULL);
    if (f->dma_result == 0)
        memcpy(f->dma_buf, buf + 16, len);
    free(m);
}

#endif
