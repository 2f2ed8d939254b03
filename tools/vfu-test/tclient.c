/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-test minimal client; see tclient.h. */
#include "tclient.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/log.h"

#define HDR ((uint32_t)sizeof(struct vfio_user_dma_access))

/* ---- serving DMA_READ / DMA_WRITE -------------------------------------- */

static uint8_t *mem_at(struct tc *t, uint64_t a, uint64_t n)
{
    if (a < t->mem_iova || a - t->mem_iova > t->mem_size ||
        n > t->mem_size - (a - t->mem_iova))
        return NULL;
    return t->mem + (a - t->mem_iova);
}

static int serve_cmd(void *opaque, struct vfio_user_ep *ep,
                     enum vfio_user_chan chan, struct vfio_user_msg *m)
{
    struct tc *t = opaque;
    struct vfio_user_dma_access a;
    uint8_t *p;
    int r;

    t->served++;
    if (m->payload_len < HDR)
        return -EINVAL;
    memcpy(&a, m->payload, sizeof(a));
    if (m->hdr.cmd == VFIO_USER_DMA_READ) {
        p = mem_at(t, a.address, a.count);
        if (!p || m->payload_len != HDR || a.count > TC_REPLY_MAX - HDR)
            return -EFAULT;
        memcpy(t->sbuf, &a, sizeof(a));
        memcpy(t->sbuf + HDR, p, a.count);
        t->dma_reads++;
        return vfio_user_ep_reply(ep, chan, &m->hdr, t->sbuf, HDR + a.count);
    }
    if (m->hdr.cmd != VFIO_USER_DMA_WRITE)
        return -ENOTSUP;
    p = mem_at(t, a.address, a.count);
    if (!p || m->payload_len != HDR + a.count)
        return -EFAULT;
    memcpy(p, (uint8_t *)m->payload + HDR, a.count);
    t->dma_writes++;
    r = vfio_user_ep_reply(ep, chan, &m->hdr, &a, sizeof(a));
    return r;
}

/* The endpoint's event loop on the twin socket (server commands). */
static void *twin_thread(void *arg)
{
    struct tc *t = arg;
    struct pollfd p[2] = {
        {.fd = vfio_user_ep_poll_fd(t->ep), .events = POLLIN},
        {.fd = t->stop_efd, .events = POLLIN},
    };

    while (poll(p, 2, -1) >= 0 && !p[1].revents &&
           !vfio_user_ep_failed(t->ep)) {
        if (p[0].revents)
            vfio_user_ep_handle_ready(t->ep);
    }
    return NULL;
}

bool tc_poll_serve(struct tc *t, int ms)
{
    struct pollfd p = {.fd = vfio_user_ep_poll_fd(t->ep), .events = POLLIN};
    uint64_t before = t->served;

    if (t->twin || poll(&p, 1, ms) <= 0)
        return false;
    vfio_user_ep_handle_ready(t->ep);
    return t->served != before;
}

/* ---- connection ----------------------------------------------------------- */

static int dial(struct tc *t, const char *path)
{
    struct vfio_user_ep_opts eo = {
        .peer = "server", .on_cmd = serve_cmd, .opaque = t,
    };
    struct vfio_user_conn *c;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd, r, i;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* The socket file appears at bind(), a moment before listen(). */
    for (i = 0; connect(fd, (struct sockaddr *)&sa, sizeof(sa)); i++) {
        r = -errno;
        if (r != -ECONNREFUSED || i == 100) {
            close(fd);
            return r;
        }
        usleep(10000);
    }
    r = vfio_user_conn_new(fd, &c);
    if (r) {
        close(fd);
        return r;
    }
    r = vfio_user_ep_new(c, &eo, &t->ep);
    t->conn = r ? NULL : c;
    return r;
}

/* One request/reply through the endpoint; the reply lands in t->reply. */
static int tc_exchange(struct tc *t, uint16_t cmd, const void *pl,
                       size_t len, const int *fds, unsigned int nfds,
                       uint32_t min_reply)
{
    struct vfio_user_call call = {
        .cmd = cmd, .req = pl, .req_len = len, .fds = fds, .nfds = nfds,
        .reply = t->rbuf, .reply_cap = TC_REPLY_MAX, .reply_min = min_reply,
        .rfds = t->reply.fds, .rfds_cap = VFIO_USER_CONN_MAX_FDS,
    };
    int r;

    vfio_user_msg_close_fds(&t->reply); /* the previous reply's */
    t->reply.payload = t->rbuf;
    t->reply.payload_cap = TC_REPLY_MAX;
    r = vfio_user_ep_call(t->ep, &call);
    t->reply.payload_len = call.reply_len;
    t->reply.nfds = call.nrfds;
    return r;
}

int tc_call(struct tc *t, uint16_t cmd, const void *pl, size_t len,
            const int *fds, unsigned int nfds)
{
    return tc_exchange(t, cmd, pl, len, fds, nfds, 0);
}

static int negotiate(struct tc *t, bool twin)
{
    struct vfio_user_caps prop, rep;
    uint16_t maj, min;
    size_t len;
    void *pl;
    int r;

    vfio_user_caps_default(&prop);
    prop.max_msg_fds = 8;
    prop.twin_socket = twin;
    prop.write_multiple = true;
    vfio_user_conn_set_caps(t->conn, &prop, &prop);
    r = vfio_user_version_encode(0, 1, &prop, &pl, &len);
    if (r)
        return r;
    r = tc_exchange(t, VFIO_USER_VERSION, pl, len, NULL, 0, 4);
    free(pl);
    if (!r)
        r = vfio_user_version_decode(t->rbuf, t->reply.payload_len, &maj,
                                     &min, &rep, NULL, 0);
    if (!r)
        r = vfio_user_caps_check_reply(&prop, &rep, t->reply.nfds, &t->eff,
                                       NULL, 0);
    if (!r && t->eff.twin_socket) {
        r = vfio_user_conn_set_twin(t->conn, t->reply.fds[t->eff.twin_fd_index]);
        if (!r)
            t->reply.fds[t->eff.twin_fd_index] = -1;
    }
    vfio_user_msg_close_fds(&t->reply);
    if (!r)
        vfio_user_conn_set_caps(t->conn, &prop, &t->eff);
    t->twin = !r && t->eff.twin_socket;
    return r;
}

int tc_connect(struct tc *t, const char *path, bool twin, uint8_t *mem,
               uint64_t iova, uint64_t size)
{
    int r;

    memset(t, 0, sizeof(*t));
    t->stop_efd = -1;
    t->mem = mem;
    t->mem_iova = iova;
    t->mem_size = size;
    t->rbuf = malloc(TC_REPLY_MAX);
    t->sbuf = malloc(TC_REPLY_MAX);
    if (!t->rbuf || !t->sbuf)
        return -ENOMEM;
    r = dial(t, path);
    if (r)
        return r;
    r = negotiate(t, twin);
    if (!r)
        r = vfio_user_ep_watch(t->ep);
    if (r || !t->twin)
        return r;
    t->stop_efd = eventfd(0, EFD_CLOEXEC);
    if (t->stop_efd < 0 || pthread_create(&t->thr, NULL, twin_thread, t))
        return -EAGAIN;
    t->thr_on = true;
    return 0;
}

void tc_close(struct tc *t)
{
    uint64_t one = 1;

    if (t->thr_on) {
        if (write(t->stop_efd, &one, sizeof(one)) < 0)
            log_err("eventfd: %s\n", strerror(errno));
        pthread_join(t->thr, NULL);
    }
    if (t->stop_efd >= 0)
        close(t->stop_efd);
    vfio_user_msg_close_fds(&t->reply);
    vfio_user_ep_free(t->ep);
    free(t->rbuf);
    free(t->sbuf);
    memset(t, 0, sizeof(*t));
    t->stop_efd = -1;
}

int tc_raw_version(const char *path, const char *json)
{
    struct tc t;
    uint8_t pl[512] = {0};
    size_t len = 4;
    int r;

    memset(&t, 0, sizeof(t));
    t.rbuf = malloc(TC_REPLY_MAX);
    r = t.rbuf ? dial(&t, path) : -ENOMEM;
    if (!r) {
        if (json) {
            snprintf((char *)pl + 4, sizeof(pl) - 4, "%s", json);
            len += strlen(json) + 1;
        }
        r = tc_call(&t, VFIO_USER_VERSION, pl, len, NULL, 0);
    }
    vfio_user_ep_free(t.ep);
    free(t.rbuf);
    return r;
}

/* ---- commands ------------------------------------------------------------- */

int tc_region_read(struct tc *t, uint32_t region, uint64_t off, void *buf,
                   uint32_t len)
{
    struct vfio_user_region_access a = {.offset = off, .region = region,
                                        .count = len};
    int r = tc_call(t, VFIO_USER_REGION_READ, &a, sizeof(a), NULL, 0);

    if (r)
        return r;
    if (t->reply.payload_len != sizeof(a) + len)
        return -EPROTO;
    memcpy(buf, t->rbuf + sizeof(a), len);
    return 0;
}

int tc_region_write(struct tc *t, uint32_t region, uint64_t off,
                    const void *buf, uint32_t len)
{
    struct vfio_user_region_access a = {.offset = off, .region = region,
                                        .count = len};
    uint8_t pl[sizeof(a) + 256];

    if (len > 256)
        return -EINVAL;
    memcpy(pl, &a, sizeof(a));
    memcpy(pl + sizeof(a), buf, len);
    return tc_call(t, VFIO_USER_REGION_WRITE, pl, sizeof(a) + len, NULL, 0);
}

uint32_t tc_rd(struct tc *t, uint32_t region, uint64_t off, uint32_t len)
{
    uint32_t v = 0;

    if (tc_region_read(t, region, off, &v, len))
        return 0xdeadbeef;
    return v;
}

int tc_wr(struct tc *t, uint32_t region, uint64_t off, uint64_t v,
          uint32_t len)
{
    return tc_region_write(t, region, off, &v, len);
}

int tc_dma_map(struct tc *t, uint64_t iova, uint64_t size, int fd,
               uint64_t off)
{
    struct vfio_user_dma_map m = {
        .argsz = sizeof(m),
        .flags = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE,
        .offset = fd >= 0 ? off : 0,
        .address = iova,
        .size = size,
    };

    return tc_call(t, VFIO_USER_DMA_MAP, &m, sizeof(m), &fd, fd >= 0);
}

int tc_dma_unmap(struct tc *t, uint64_t iova, uint64_t size)
{
    struct vfio_user_dma_unmap u = {.argsz = sizeof(u), .address = iova,
                                    .size = size};

    return tc_call(t, VFIO_USER_DMA_UNMAP, &u, sizeof(u), NULL, 0);
}

int tc_set_irq_fds(struct tc *t, uint32_t index, uint32_t start,
                   uint32_t count, const int *fds)
{
    struct vfio_irq_set s = {
        .argsz = sizeof(s),
        .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
        .index = index, .start = start, .count = count,
    };

    return tc_call(t, VFIO_USER_DEVICE_SET_IRQS, &s, sizeof(s), fds,
                   fds ? count : 0);
}

int tc_feature(struct tc *t, uint32_t flags, const void *data, size_t len,
               uint32_t argsz, void *out, size_t cap, size_t *outlen)
{
    uint8_t pl[256];
    struct vfio_user_device_feature f = {.argsz = argsz, .flags = flags};
    size_t n;
    int r;

    if (len > sizeof(pl) - sizeof(f))
        return -EINVAL;
    memcpy(pl, &f, sizeof(f));
    if (len)
        memcpy(pl + sizeof(f), data, len);
    r = tc_call(t, VFIO_USER_DEVICE_FEATURE, pl, sizeof(f) + len, NULL, 0);
    if (r)
        return r;
    n = t->reply.payload_len - sizeof(f);
    if (t->reply.payload_len < sizeof(f) || n > cap)
        return -EPROTO;
    if (out)
        memcpy(out, t->rbuf + sizeof(f), n);
    if (outlen)
        *outlen = n;
    return 0;
}

int tc_mig_state(struct tc *t, uint32_t *get, uint32_t set)
{
    struct vfio_user_device_feature_mig_state st = {.device_state = set};
    size_t n;

    int r;

    if (get) {
        r = tc_feature(t, VFIO_DEVICE_FEATURE_GET |
                              VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
                       NULL, 0, 16, &st, sizeof(st), &n);
        *get = st.device_state;
        return r;
    }
    return tc_feature(t, VFIO_DEVICE_FEATURE_SET |
                             VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
                      &st, sizeof(st), 16, NULL, sizeof(st), &n);
}

int tc_mig_read_all(struct tc *t, uint8_t **buf, size_t *len)
{
    struct vfio_user_mig_data rq = {.argsz = 8 + 4096, .size = 4096};
    struct vfio_user_mig_data rp;
    uint8_t *b = NULL, *nb;
    size_t n = 0;
    int r;

    for (;;) {
        r = tc_call(t, VFIO_USER_MIG_DATA_READ, &rq, sizeof(rq), NULL, 0);
        if (r)
            break;
        memcpy(&rp, t->rbuf, sizeof(rp));
        if (rp.size > rq.size || t->reply.payload_len != 8 + rp.size) {
            r = -EPROTO;
            break;
        }
        nb = realloc(b, n + rp.size + 1);
        if (!nb) {
            r = -ENOMEM;
            break;
        }
        b = nb;
        memcpy(b + n, t->rbuf + 8, rp.size);
        n += rp.size;
        if (rp.size < rq.size)
            break;
    }
    if (r) {
        free(b);
        return r;
    }
    *buf = b;
    *len = n;
    return 0;
}

int tc_mig_write_all(struct tc *t, const uint8_t *buf, size_t len)
{
    uint8_t pl[8 + 3000];
    struct vfio_user_mig_data h;
    size_t off = 0, n;
    int r = 0;

    while (off < len && !r) {
        n = len - off < 3000 ? len - off : 3000;
        h.argsz = (uint32_t)(8 + n); /* the payload (libvfio-user needs) */
        h.size = (uint32_t)n;
        memcpy(pl, &h, sizeof(h));
        memcpy(pl + 8, buf + off, n);
        r = tc_call(t, VFIO_USER_MIG_DATA_WRITE, pl, 8 + n, NULL, 0);
        off += n;
    }
    return r;
}
