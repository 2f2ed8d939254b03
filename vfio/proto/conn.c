/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user transport over AF_UNIX stream sockets; see conn.h.
 * Spec: vfio-user.rst "Header", "VFIO_USER_VERSION" (twin_socket). */
#include "vfio/proto/conn.h"

#include "vfio/proto/chan.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vmm/clock.h"
#include "vmm/stats.h"

#define HDR_SIZE ((uint32_t)sizeof(struct vfio_user_header))

struct vfio_user_conn {
    struct vfio_user_chanio ch[VFIO_USER_CHAN_COUNT];
    struct vfio_user_caps local; /* what we advertised: receive bounds */
    struct vfio_user_caps eff;   /* negotiated: send bounds */
    uint32_t recv_max_fds;
    uint32_t send_max_fds;
    uint32_t max_msg_size;
    atomic_uint next_id;
    atomic_bool failed;
    uint32_t timeout_ms;         /* per message; 0: none */
    uint64_t n_sent, n_received; /* whole messages (relaxed atomics) */
};

union cmsg_buf {
    char buf[CMSG_SPACE(sizeof(int) * VFIO_USER_CONN_MAX_FDS)];
    struct cmsghdr align;
};

/* ---- connection object ------------------------------------------------- */

static int check_unix_stream(int fd)
{
    int v;
    socklen_t l = sizeof(v);

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) < 0)
        return -errno;
    if (v != SOCK_STREAM)
        return -EINVAL;
    l = sizeof(v);
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) < 0)
        return -errno;
    return v == AF_UNIX ? 0 : -EINVAL;
}

/* Room for a batch of large messages in flight (a server's pipelined
 * DMA_WRITEs of 128 KiB and more): a UNIX stream socket charges unread
 * bytes to the sender's SO_SNDBUF, and at the default (~208 KiB) every
 * further 200 KiB would wait for the peer to wake up and read. Best
 * effort (capped by net.core.wmem_max). */
#define CONN_SNDBUF (2 << 20)
static void grow_sndbuf(int fd)
{
    int v = CONN_SNDBUF;

    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

int vfio_user_conn_new(int fd, struct vfio_user_conn **out)
{
    struct vfio_user_conn *c;
    struct vfio_user_caps caps;
    int i, r;

    *out = NULL;
    r = check_unix_stream(fd);
    if (r)
        return r;
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    for (i = 0; i < VFIO_USER_CHAN_COUNT; i++)
        vfio_user_chanio_init(&c->ch[i]);
    c->ch[VFIO_USER_CHAN_MAIN].fd = fd;
    grow_sndbuf(fd);
    atomic_init(&c->next_id, 0);
    atomic_init(&c->failed, false);
    vfio_user_caps_default(&caps);
    vfio_user_conn_set_caps(c, &caps, &caps);
    *out = c;
    return 0;
}

void vfio_user_conn_free(struct vfio_user_conn *c)
{
    int i;

    if (!c)
        return;
    for (i = 0; i < VFIO_USER_CHAN_COUNT; i++)
        vfio_user_chanio_fini(&c->ch[i]);
    free(c);
}

int vfio_user_conn_fd(const struct vfio_user_conn *c, enum vfio_user_chan chan)
{
    if ((unsigned)chan >= VFIO_USER_CHAN_COUNT)
        return -1;
    return c->ch[chan].fd;
}

enum vfio_user_chan vfio_user_conn_s2c_chan(const struct vfio_user_conn *c)
{
    return c->ch[VFIO_USER_CHAN_TWIN].fd >= 0 ? VFIO_USER_CHAN_TWIN
                                              : VFIO_USER_CHAN_MAIN;
}

int vfio_user_conn_set_twin(struct vfio_user_conn *c, int fd)
{
    int r;

    if (c->ch[VFIO_USER_CHAN_TWIN].fd >= 0)
        return -EEXIST;
    r = check_unix_stream(fd);
    if (r)
        return r;
    c->ch[VFIO_USER_CHAN_TWIN].fd = fd;
    grow_sndbuf(fd);
    return 0;
}

int vfio_user_conn_twin_pair(struct vfio_user_conn *c, int *peer_fd)
{
    int sv[2];

    *peer_fd = -1;
    if (c->ch[VFIO_USER_CHAN_TWIN].fd >= 0)
        return -EEXIST;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    c->ch[VFIO_USER_CHAN_TWIN].fd = sv[0];
    grow_sndbuf(sv[0]);
    *peer_fd = sv[1];
    return 0;
}

static uint32_t clamp_fds(uint32_t n)
{
    return n < VFIO_USER_CONN_MAX_FDS ? n : VFIO_USER_CONN_MAX_FDS;
}

void vfio_user_conn_set_caps(struct vfio_user_conn *c,
                             const struct vfio_user_caps *local,
                             const struct vfio_user_caps *eff)
{
    uint64_t pay = (uint64_t)local->max_data_xfer_size +
                   VFIO_USER_CONN_MSG_SLACK;

    c->local = *local;
    c->eff = *eff;
    c->recv_max_fds = clamp_fds(local->max_msg_fds);
    c->send_max_fds = clamp_fds(eff->max_msg_fds);
    if (pay < VFIO_USER_CONN_MSG_FLOOR)
        pay = VFIO_USER_CONN_MSG_FLOOR;
    if (pay > UINT32_MAX - HDR_SIZE)
        pay = UINT32_MAX - HDR_SIZE;
    c->max_msg_size = (uint32_t)pay + HDR_SIZE;
}

const struct vfio_user_caps *
vfio_user_conn_caps(const struct vfio_user_conn *c)
{
    return &c->eff;
}

uint32_t vfio_user_conn_max_msg_size(const struct vfio_user_conn *c)
{
    return c->max_msg_size;
}

uint16_t vfio_user_conn_next_id(struct vfio_user_conn *c)
{
    return (uint16_t)atomic_fetch_add(&c->next_id, 1);
}

bool vfio_user_conn_failed(const struct vfio_user_conn *c)
{
    return atomic_load(&c->failed);
}

static void mark_failed(struct vfio_user_conn *c)
{
    atomic_store(&c->failed, true);
}

void vfio_user_conn_expect_reply(const struct vfio_user_conn *c, uint16_t cmd,
                                 uint16_t msg_id, struct vfio_user_expect *exp)
{
    memset(exp, 0, sizeof(*exp));
    exp->type = cmd ? VFIO_USER_F_TYPE_REPLY : VFIO_USER_F_TYPE_COMMAND;
    exp->cmd = cmd;
    exp->msg_id = msg_id;
    exp->max_msg_size = c->max_msg_size;
    exp->max_fds = c->recv_max_fds;
}

void vfio_user_conn_expect_command(const struct vfio_user_conn *c,
                                   struct vfio_user_expect *exp)
{
    vfio_user_conn_expect_reply(c, 0, 0, exp);
}

/* ---- sending ----------------------------------------------------------- */

/* The header of the reply to @req: an error reply when @err > 0 (spec
 * "Header": a reply echoes msg_id and command). */
static void reply_hdr(const struct vfio_user_header *req, int err,
                      struct vfio_user_header *h)
{
    memset(h, 0, sizeof(*h));
    h->msg_id = req->msg_id;
    h->cmd = req->cmd;
    h->flags = VFIO_USER_F_TYPE_REPLY | (err > 0 ? VFIO_USER_F_ERROR : 0);
    h->error = err > 0 ? (uint32_t)err : 0;
}

static bool chan_ok(const struct vfio_user_conn *c, enum vfio_user_chan chan)
{
    return (unsigned)chan < VFIO_USER_CHAN_COUNT && c->ch[chan].fd >= 0 &&
           !atomic_load(&c->failed);
}

int vfio_user_conn_sendv(struct vfio_user_conn *c, enum vfio_user_chan chan,
                         const struct vfio_user_header *hdr,
                         const struct iovec *iov, int iovcnt, const int *fds,
                         unsigned int nfds)
{
    struct vfio_user_header h = *hdr;
    struct iovec v[5] = {{&h, sizeof(h)}};
    union cmsg_buf cb;
    struct msghdr mh = {.msg_iov = v, .msg_iovlen = 1};
    struct cmsghdr *cm;
    int64_t dl = vfio_user_deadline_in(c->timeout_ms);
    size_t len = 0;
    int r;

    if (!chan_ok(c, chan))
        return -ENOTCONN;
    if (iovcnt < 0 || iovcnt > 4)
        return -EINVAL;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > UINT32_MAX - HDR_SIZE - len)
            return -EINVAL;
        len += iov[i].iov_len;
        if (iov[i].iov_len)
            v[mh.msg_iovlen++] = iov[i];
    }
    if (nfds > c->send_max_fds)
        return -EINVAL;
    h.msg_size = (uint32_t)(len + HDR_SIZE);
    if (nfds) {
        memset(&cb, 0, sizeof(cb));
        mh.msg_control = cb.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    r = vfio_user_chanio_send(&c->ch[chan], &mh, dl);
    if (r)
        mark_failed(c);
    else
        stats_inc(&c->n_sent);
    return r;
}

int vfio_user_conn_send(struct vfio_user_conn *c, enum vfio_user_chan chan,
                        const struct vfio_user_header *hdr,
                        const void *payload, size_t len, const int *fds,
                        unsigned int nfds)
{
    struct iovec iov = {(void *)payload, len};

    if (len > UINT32_MAX - HDR_SIZE)
        return -EINVAL;
    return vfio_user_conn_sendv(c, chan, hdr, &iov, 1, fds, nfds);
}

/* Append one message to @ch's queue. -ENOBUFS past the bound. */
int vfio_user_conn_flush(struct vfio_user_conn *c, enum vfio_user_chan chan)
{
    int r;

    if (!chan_ok(c, chan))
        return -ENOTCONN;
    r = vfio_user_chanio_flush(&c->ch[chan]);
    if (r && r != -EAGAIN)
        mark_failed(c);
    return r;
}

static int queue_msg(struct vfio_user_conn *c, enum vfio_user_chan chan,
                     struct vfio_user_header *h, const void *payload,
                     size_t len)
{
    int r;

    if (!chan_ok(c, chan))
        return -ENOTCONN;
    if (len > UINT32_MAX - HDR_SIZE)
        return -EINVAL;
    h->msg_size = (uint32_t)(len + HDR_SIZE);
    r = vfio_user_chanio_queue(&c->ch[chan], h, payload, len,
                               VFIO_USER_CONN_TXQ_PAUSE +
                                   2 * (size_t)c->max_msg_size);
    if (!r)
        stats_inc(&c->n_sent);
    if (!r)
        r = vfio_user_conn_flush(c, chan);
    if (r == -EAGAIN)
        r = 0;
    if (r)
        mark_failed(c);
    return r;
}

int vfio_user_conn_queue_reply(struct vfio_user_conn *c,
                               enum vfio_user_chan chan,
                               const struct vfio_user_header *req,
                               const void *payload, size_t len)
{
    struct vfio_user_header h;

    reply_hdr(req, 0, &h);
    return queue_msg(c, chan, &h, payload, len);
}

int vfio_user_conn_queue_error(struct vfio_user_conn *c,
                               enum vfio_user_chan chan,
                               const struct vfio_user_header *req, int err)
{
    struct vfio_user_header h;

    reply_hdr(req, err > 0 ? err : EIO, &h);
    return queue_msg(c, chan, &h, NULL, 0);
}

size_t vfio_user_conn_queued(const struct vfio_user_conn *c,
                             enum vfio_user_chan chan)
{
    if ((unsigned)chan >= VFIO_USER_CHAN_COUNT)
        return 0;
    return atomic_load(&c->ch[chan].q_bytes);
}

bool vfio_user_conn_tx_paused(const struct vfio_user_conn *c,
                              enum vfio_user_chan chan)
{
    return vfio_user_conn_queued(c, chan) >= VFIO_USER_CONN_TXQ_PAUSE;
}

int64_t vfio_user_conn_deadline(const struct vfio_user_conn *c,
                                const char **what)
{
    int64_t best = INT64_MAX, t;

    for (int i = 0; c->timeout_ms && i < VFIO_USER_CHAN_COUNT; i++) {
        t = atomic_load(&c->ch[i].rx_since);
        if (t && t + c->timeout_ms < best) {
            best = t + c->timeout_ms;
            vfio_user_set_why(what, "message incomplete");
        }
        t = atomic_load(&c->ch[i].q_since);
        if (t && t + c->timeout_ms < best) {
            best = t + c->timeout_ms;
            vfio_user_set_why(what, "peer does not read its replies");
        }
    }
    return best;
}

int64_t vfio_user_conn_now_ms(void)
{
    return (int64_t)clock_now_ms();
}

void vfio_user_conn_set_timeout(struct vfio_user_conn *c, uint32_t ms)
{
    c->timeout_ms = ms;
}

int vfio_user_conn_send_command(struct vfio_user_conn *c,
                                enum vfio_user_chan chan, uint16_t cmd,
                                uint32_t flags, const void *payload,
                                size_t len, const int *fds, unsigned int nfds,
                                uint16_t *msg_id)
{
    struct vfio_user_header h = {
        .msg_id = vfio_user_conn_next_id(c),
        .cmd = cmd,
        .flags = VFIO_USER_F_TYPE_COMMAND | (flags & VFIO_USER_F_NO_REPLY),
    };

    if (msg_id)
        *msg_id = h.msg_id;
    return vfio_user_conn_send(c, chan, &h, payload, len, fds, nfds);
}

int vfio_user_conn_send_reply(struct vfio_user_conn *c,
                              enum vfio_user_chan chan,
                              const struct vfio_user_header *req,
                              const void *payload, size_t len,
                              const int *fds, unsigned int nfds)
{
    struct vfio_user_header h;

    reply_hdr(req, 0, &h);
    return vfio_user_conn_send(c, chan, &h, payload, len, fds, nfds);
}

int vfio_user_conn_send_error(struct vfio_user_conn *c,
                              enum vfio_user_chan chan,
                              const struct vfio_user_header *req, int err)
{
    struct vfio_user_header h;

    reply_hdr(req, err > 0 ? err : EIO, &h);
    return vfio_user_conn_send(c, chan, &h, NULL, 0, NULL, 0);
}

/* ---- receiving --------------------------------------------------------- */

int vfio_user_conn_recv(struct vfio_user_conn *c, enum vfio_user_chan chan,
                        const struct vfio_user_expect *exp, bool nonblock,
                        struct vfio_user_msg *msg, const char **why)
{
    bool fatal;
    int r;

    vfio_user_set_why(why, NULL);
    memset(&msg->hdr, 0, sizeof(msg->hdr));
    msg->nfds = 0;
    msg->payload_len = 0;
    if (!chan_ok(c, chan))
        return -ENOTCONN;
    r = vfio_user_chanio_recv(&c->ch[chan], exp, nonblock, c->timeout_ms, msg,
                              &fatal, why);
    /* Framing, I/O errors and deadlines fail the connection; an oversized
     * payload or a failed body check do not (the stream is in step). */
    if (fatal && !(r == -ENOMEM && (msg->hdr.flags & VFIO_USER_F_ERROR)))
        mark_failed(c);
    if (msg->hdr.msg_size && r != -EAGAIN)
        stats_inc(&c->n_received); /* a whole message, good or refused */
    return r;
}

void vfio_user_conn_msg_counts(const struct vfio_user_conn *c,
                               uint64_t *sent, uint64_t *received)
{
    *sent = stats_get(&c->n_sent);
    *received = stats_get(&c->n_received);
}
