/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user transport over AF_UNIX stream sockets; see conn.h.
 * Spec: vfio-user.rst "Header", "VFIO_USER_VERSION" (twin_socket). */
#include "vfio/proto/conn.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define HDR_SIZE ((uint32_t)sizeof(struct vfio_user_header))
#define PEER_ERRNO_MAX 4095

/* Replies waiting for the socket (queued sends; see conn.h). */
struct txq {
    uint8_t *buf;
    size_t off, len, cap; /* bytes [off, len) are pending */
};

/* A message being assembled across receive calls (receiver only). */
struct rxs {
    struct vfio_user_header h;
    uint32_t have;  /* bytes received, header included */
    uint8_t *buf;   /* payload so far */
    uint32_t cap;
    int fds[VFIO_USER_CONN_MAX_FDS];
    unsigned int nfds;
    bool ctrunc;    /* the kernel dropped fds */
};

struct chan {
    int fd;                    /* -1: absent */
    pthread_mutex_t send_lock; /* the writer; waits only with a deadline */
    pthread_mutex_t q_lock;    /* @q; never held while waiting */
    struct txq q;
    atomic_size_t q_bytes;     /* pending bytes in @q */
    atomic_llong q_since;      /* ms: queued/last progress; 0: empty */
    struct rxs rx;
    atomic_llong rx_since;     /* ms: first byte of @rx; 0: none */
};

struct vfio_user_conn {
    struct chan ch[VFIO_USER_CHAN_COUNT];
    pthread_mutex_t call_lock; /* one receiver on MAIN at a time */
    struct vfio_user_caps local; /* what we advertised: receive bounds */
    struct vfio_user_caps eff;   /* negotiated: send bounds */
    uint32_t recv_max_fds;
    uint32_t send_max_fds;
    uint32_t max_msg_size;
    atomic_uint next_id;
    atomic_bool failed;
    uint32_t timeout_ms;         /* per message; 0: none */
    vfio_user_cmd_fn handler;
    void *opaque;
};

union cmsg_buf {
    char buf[CMSG_SPACE(sizeof(int) * VFIO_USER_CONN_MAX_FDS)];
    struct cmsghdr align;
};

static void set_why(const char **why, const char *s)
{
    if (why)
        *why = s;
}

/* ---- validation -------------------------------------------------------- */

/* Framing and flags: what must hold before the payload can be read. */
static int hdr_check(const struct vfio_user_header *h,
                     const struct vfio_user_expect *exp, const char **why)
{
    uint32_t type = h->flags & VFIO_USER_F_TYPE_MASK;

    if (h->msg_size < HDR_SIZE) {
        set_why(why, "msg_size smaller than the header");
        return -EBADMSG;
    }
    if (h->msg_size > exp->max_msg_size) {
        set_why(why, "msg_size above the negotiated maximum");
        return -EMSGSIZE;
    }
    if ((h->flags & ~VFIO_USER_F_DEFINED) ||
        (type != VFIO_USER_F_TYPE_COMMAND && type != VFIO_USER_F_TYPE_REPLY)) {
        set_why(why, "undefined flag bits or message type");
        return -EPROTO;
    }
    return 0;
}

static int check_reply(const struct vfio_user_header *h,
                       const struct vfio_user_expect *exp, const char **why)
{
    if (!exp->any_reply_id && h->msg_id != exp->msg_id) {
        set_why(why, "reply msg_id does not match the request");
        return -EPROTO;
    }
    if (!exp->any_reply_id && h->cmd != exp->cmd) {
        set_why(why, "reply command does not match the request");
        return -EPROTO;
    }
    if (h->flags & VFIO_USER_F_NO_REPLY) {
        set_why(why, "no_reply flag set in a reply");
        return -EPROTO;
    }
    return 0;
}

static int check_command(const struct vfio_user_header *h,
                         const struct vfio_user_expect *exp, const char **why)
{
    if (h->flags & VFIO_USER_F_ERROR) {
        set_why(why, "error flag set in a command");
        return -EPROTO;
    }
    if (h->cmd == 0 || (exp->type == VFIO_USER_F_TYPE_COMMAND && exp->cmd &&
                        h->cmd != exp->cmd)) {
        set_why(why, "unexpected command number");
        return -EPROTO;
    }
    return 0;
}

/* Type, matching, fds, error flag, payload size; the whole message is in.
 * With VFIO_USER_EXPECT_ANY, @exp's command and payload bounds are for the
 * reply; a command is only checked for a non-zero number. */
static int body_check(const struct vfio_user_header *h, unsigned int nfds,
                      const struct vfio_user_expect *exp, const char **why)
{
    uint32_t type = h->flags & VFIO_USER_F_TYPE_MASK;
    uint32_t plen = h->msg_size - HDR_SIZE;
    int r;

    if (exp->type != VFIO_USER_EXPECT_ANY && type != exp->type) {
        set_why(why, type == VFIO_USER_F_TYPE_REPLY ? "unexpected reply"
                                                    : "unexpected command");
        return -EPROTO;
    }
    r = type == VFIO_USER_F_TYPE_REPLY ? check_reply(h, exp, why)
                                       : check_command(h, exp, why);
    if (r)
        return r;
    if (nfds > exp->max_fds) {
        set_why(why, "more fds than max_msg_fds");
        return -EPROTO;
    }
    if (h->flags & VFIO_USER_F_ERROR) {
        set_why(why, "error reply from peer");
        if (h->error == 0 || h->error > PEER_ERRNO_MAX)
            return -EIO;
        return -(int)h->error;
    }
    if (exp->type == VFIO_USER_EXPECT_ANY && type != VFIO_USER_F_TYPE_REPLY)
        return 0;
    if (plen < exp->min_payload) {
        set_why(why, "payload shorter than the message requires");
        return -EPROTO;
    }
    if (exp->max_payload && plen > exp->max_payload) {
        set_why(why, "payload longer than expected");
        return -EMSGSIZE;
    }
    return 0;
}

int vfio_user_msg_validate(const struct vfio_user_header *hdr, size_t len,
                           unsigned int nfds,
                           const struct vfio_user_expect *exp,
                           const char **why)
{
    struct vfio_user_header h;
    int r;

    set_why(why, NULL);
    if (len < HDR_SIZE) {
        set_why(why, "truncated header");
        return -EBADMSG;
    }
    memcpy(&h, hdr, sizeof(h));
    r = hdr_check(&h, exp, why);
    if (r)
        return r;
    if (len < h.msg_size) {
        set_why(why, "truncated payload");
        return -EBADMSG;
    }
    if (len > h.msg_size) {
        set_why(why, "bytes beyond msg_size");
        return -EBADMSG;
    }
    return body_check(&h, nfds, exp, why);
}

void vfio_user_msg_close_fds(struct vfio_user_msg *msg)
{
    unsigned int i;

    for (i = 0; i < msg->nfds && i < VFIO_USER_CONN_MAX_FDS; i++) {
        if (msg->fds[i] >= 0)
            close(msg->fds[i]);
        msg->fds[i] = -1;
    }
    msg->nfds = 0;
}

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
    for (i = 0; i < VFIO_USER_CHAN_COUNT; i++) {
        c->ch[i].fd = -1;
        pthread_mutex_init(&c->ch[i].send_lock, NULL);
        pthread_mutex_init(&c->ch[i].q_lock, NULL);
    }
    c->ch[VFIO_USER_CHAN_MAIN].fd = fd;
    pthread_mutex_init(&c->call_lock, NULL);
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
    for (i = 0; i < VFIO_USER_CHAN_COUNT; i++) {
        if (c->ch[i].fd >= 0)
            close(c->ch[i].fd);
        while (c->ch[i].rx.nfds)
            close(c->ch[i].rx.fds[--c->ch[i].rx.nfds]);
        free(c->ch[i].rx.buf);
        free(c->ch[i].q.buf);
        pthread_mutex_destroy(&c->ch[i].send_lock);
        pthread_mutex_destroy(&c->ch[i].q_lock);
    }
    pthread_mutex_destroy(&c->call_lock);
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

void vfio_user_conn_set_handler(struct vfio_user_conn *c, vfio_user_cmd_fn fn,
                                void *opaque)
{
    c->handler = fn;
    c->opaque = opaque;
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

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Deadline @ms from now (CLOCK_MONOTONIC ms); 0 ms: none (INT64_MAX). */
static int64_t deadline_in(uint32_t ms)
{
    return ms ? now_ms() + ms : INT64_MAX;
}

/* Wait until @fd has @events or the deadline @dl passes (-ETIMEDOUT). */
static int wait_fd(int fd, short events, int64_t dl)
{
    struct pollfd p = {.fd = fd, .events = events};
    int64_t left;
    int n;

    for (;;) {
        left = dl == INT64_MAX ? -1 : dl - now_ms();
        if (dl != INT64_MAX && left <= 0)
            return -ETIMEDOUT;
        n = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

static void advance(struct msghdr *mh, size_t n)
{
    while (mh->msg_iovlen && n >= mh->msg_iov->iov_len) {
        n -= mh->msg_iov->iov_len;
        mh->msg_iov++;
        mh->msg_iovlen--;
    }
    if (mh->msg_iovlen) {
        mh->msg_iov->iov_base = (char *)mh->msg_iov->iov_base + n;
        mh->msg_iov->iov_len -= n;
    }
}

/* Write all of @mh's iovecs by @dl; the fds (control) go with the first
 * byte. */
static int send_all(int fd, struct msghdr *mh, int64_t dl)
{
    ssize_t n;
    int r;

    while (mh->msg_iovlen) {
        n = sendmsg(fd, mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -errno;
            r = wait_fd(fd, POLLOUT, dl);
            if (r)
                return r;
            continue;
        }
        mh->msg_control = NULL;
        mh->msg_controllen = 0;
        advance(mh, (size_t)n);
    }
    return 0;
}

/* Write what @ch's queue holds without waiting: 0 (empty), -EAGAIN (bytes
 * remain) or the sendmsg() errno. Send lock held. */
static int q_push(struct chan *ch)
{
    struct txq *q = &ch->q;
    struct iovec iov;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;
    int r = 0;

    pthread_mutex_lock(&ch->q_lock);
    while (q->off < q->len) {
        iov.iov_base = q->buf + q->off;
        iov.iov_len = q->len - q->off;
        n = sendmsg(ch->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
            break;
        }
        q->off += (size_t)n;
        atomic_store(&ch->q_since, now_ms()); /* progress */
    }
    if (q->off == q->len) {
        q->off = q->len = 0;
        atomic_store(&ch->q_since, 0);
    }
    atomic_store(&ch->q_bytes, q->len - q->off);
    pthread_mutex_unlock(&ch->q_lock);
    return r;
}

/* Write the whole queue by @dl. Send lock held. */
static int q_drain(struct chan *ch, int64_t dl)
{
    int r;

    while ((r = q_push(ch)) == -EAGAIN) {
        r = wait_fd(ch->fd, POLLOUT, dl);
        if (r)
            return r;
    }
    return r;
}

static bool chan_ok(const struct vfio_user_conn *c, enum vfio_user_chan chan)
{
    return (unsigned)chan < VFIO_USER_CHAN_COUNT && c->ch[chan].fd >= 0 &&
           !atomic_load(&c->failed);
}

int vfio_user_conn_send(struct vfio_user_conn *c, enum vfio_user_chan chan,
                        const struct vfio_user_header *hdr,
                        const void *payload, size_t len, const int *fds,
                        unsigned int nfds)
{
    struct vfio_user_header h = *hdr;
    struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)payload, len}};
    union cmsg_buf cb;
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
    struct cmsghdr *cm;
    int64_t dl = deadline_in(c->timeout_ms);
    int r;

    if (!chan_ok(c, chan))
        return -ENOTCONN;
    if (nfds > c->send_max_fds || len > UINT32_MAX - HDR_SIZE)
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
    pthread_mutex_lock(&c->ch[chan].send_lock);
    r = q_drain(&c->ch[chan], dl); /* queued replies go first */
    if (!r)
        r = send_all(c->ch[chan].fd, &mh, dl);
    if (!r)
        q_push(&c->ch[chan]); /* replies queued meanwhile; errors show on
                               * the next flush */
    pthread_mutex_unlock(&c->ch[chan].send_lock);
    if (r)
        mark_failed(c);
    return r;
}

/* Append one message to @ch's queue. -ENOBUFS past the bound. */
static int q_append(struct vfio_user_conn *c, struct chan *ch,
                    const struct vfio_user_header *h, const void *payload,
                    size_t len)
{
    struct txq *q = &ch->q;
    size_t need = HDR_SIZE + len;
    int r = 0;

    pthread_mutex_lock(&ch->q_lock);
    if (q->len - q->off + need > VFIO_USER_CONN_TXQ_PAUSE + 2 *
                                     (size_t)c->max_msg_size) {
        r = -ENOBUFS;
        goto out;
    }
    if (q->off) {
        memmove(q->buf, q->buf + q->off, q->len - q->off);
        q->len -= q->off;
        q->off = 0;
    }
    if (q->len + need > q->cap) {
        uint8_t *nb = realloc(q->buf, q->len + need);

        if (!nb) {
            r = -ENOMEM;
            goto out;
        }
        q->buf = nb;
        q->cap = q->len + need;
    }
    if (q->len == 0)
        atomic_store(&ch->q_since, now_ms());
    memcpy(q->buf + q->len, h, HDR_SIZE);
    if (len)
        memcpy(q->buf + q->len + HDR_SIZE, payload, len);
    q->len += need;
    atomic_store(&ch->q_bytes, q->len);
out:
    pthread_mutex_unlock(&ch->q_lock);
    return r;
}

int vfio_user_conn_flush(struct vfio_user_conn *c, enum vfio_user_chan chan)
{
    struct chan *ch;
    int r;

    if (!chan_ok(c, chan))
        return -ENOTCONN;
    ch = &c->ch[chan];
    if (!atomic_load(&ch->q_bytes))
        return 0;
    if (pthread_mutex_trylock(&ch->send_lock))
        return -EAGAIN; /* the writer flushes before and after its own */
    r = q_push(ch);
    pthread_mutex_unlock(&ch->send_lock);
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
    r = q_append(c, &c->ch[chan], h, payload, len);
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
    struct vfio_user_header h = {
        .msg_id = req->msg_id,
        .cmd = req->cmd,
        .flags = VFIO_USER_F_TYPE_REPLY,
    };

    return queue_msg(c, chan, &h, payload, len);
}

int vfio_user_conn_queue_error(struct vfio_user_conn *c,
                               enum vfio_user_chan chan,
                               const struct vfio_user_header *req, int err)
{
    struct vfio_user_header h = {
        .msg_id = req->msg_id,
        .cmd = req->cmd,
        .flags = VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR,
        .error = err > 0 ? (uint32_t)err : EIO,
    };

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
            set_why(what, "message incomplete");
        }
        t = atomic_load(&c->ch[i].q_since);
        if (t && t + c->timeout_ms < best) {
            best = t + c->timeout_ms;
            set_why(what, "peer does not read its replies");
        }
    }
    return best;
}

int64_t vfio_user_conn_now_ms(void)
{
    return now_ms();
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
    struct vfio_user_header h = {
        .msg_id = req->msg_id,
        .cmd = req->cmd,
        .flags = VFIO_USER_F_TYPE_REPLY,
    };

    return vfio_user_conn_send(c, chan, &h, payload, len, fds, nfds);
}

int vfio_user_conn_send_error(struct vfio_user_conn *c,
                              enum vfio_user_chan chan,
                              const struct vfio_user_header *req, int err)
{
    struct vfio_user_header h = {
        .msg_id = req->msg_id,
        .cmd = req->cmd,
        .flags = VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR,
        .error = err > 0 ? (uint32_t)err : EIO,
    };

    return vfio_user_conn_send(c, chan, &h, NULL, 0, NULL, 0);
}

/* ---- receiving --------------------------------------------------------- */

static void collect_fds(struct msghdr *mh, struct rxs *rx)
{
    struct cmsghdr *cm;
    unsigned int i, n;
    int fd;

    if (mh->msg_flags & MSG_CTRUNC)
        rx->ctrunc = true;
    for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < n; i++) {
            memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            if (rx->nfds < VFIO_USER_CONN_MAX_FDS) {
                rx->fds[rx->nfds++] = fd;
                continue;
            }
            close(fd);
            rx->ctrunc = true;
        }
    }
}

/* One recvmsg() of at most @len bytes into @p, never waiting: bytes read,
 * -EAGAIN, -ECONNRESET (peer closed) or the errno. */
static ssize_t rx_read(int fd, void *p, size_t len, struct rxs *rx)
{
    union cmsg_buf cb;
    struct iovec iov = {p, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = cb.buf,
                        .msg_controllen = sizeof(cb.buf)};
    ssize_t n;

    do
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
    if (n == 0)
        return -ECONNRESET;
    collect_fds(&mh, rx);
    return n;
}

static void rx_reset(struct chan *ch)
{
    while (ch->rx.nfds)
        close(ch->rx.fds[--ch->rx.nfds]);
    ch->rx.have = 0;
    ch->rx.ctrunc = false;
    atomic_store(&ch->rx_since, 0);
}

/* Room for a @plen-byte payload in the assembly buffer. */
static int rx_room(struct rxs *rx, uint32_t plen)
{
    uint8_t *nb;

    if (plen <= rx->cap)
        return 0;
    nb = realloc(rx->buf, plen);
    if (!nb)
        return -ENOMEM;
    rx->buf = nb;
    rx->cap = plen;
    return 0;
}

/* Advance @ch's message with what the socket holds, never waiting: 0 once
 * it is whole, -EAGAIN while more is to come (the bytes so far stay in
 * @ch->rx), or a transport errno. */
static int rx_step(struct chan *ch, const struct vfio_user_expect *exp,
                   const char **why)
{
    struct rxs *rx = &ch->rx;
    ssize_t n;
    int r;

    for (;;) {
        if (rx->have >= HDR_SIZE && rx->have == rx->h.msg_size)
            return 0;
        if (rx->have < HDR_SIZE)
            n = rx_read(ch->fd, (uint8_t *)&rx->h + rx->have,
                        HDR_SIZE - rx->have, rx);
        else
            n = rx_read(ch->fd, rx->buf + (rx->have - HDR_SIZE),
                        rx->h.msg_size - rx->have, rx);
        if (n < 0)
            return (int)n;
        if (!rx->have)
            atomic_store(&ch->rx_since, now_ms());
        rx->have += (uint32_t)n;
        if (rx->have != HDR_SIZE)
            continue;
        r = hdr_check(&rx->h, exp, why);
        if (!r)
            r = rx_room(rx, rx->h.msg_size - HDR_SIZE);
        if (r)
            return r;
    }
}

/* Hand @ch's whole message to @msg, or to @alt (malloc'd payload the
 * caller frees) if it is a command and @alt is given: 0, 1 (went to @alt),
 * -ENOMEM (fails the connection), or a body error (does not). */
static int rx_take(struct chan *ch, const struct vfio_user_expect *exp,
                   struct vfio_user_msg *msg, struct vfio_user_msg *alt,
                   const char **why)
{
    struct rxs *rx = &ch->rx;
    uint32_t plen = rx->h.msg_size - HDR_SIZE;
    bool to_alt = alt && (rx->h.flags & VFIO_USER_F_TYPE_MASK) ==
                             VFIO_USER_F_TYPE_COMMAND;
    struct vfio_user_msg *m = to_alt ? alt : msg;
    int r;

    msg->hdr = rx->h;
    if (to_alt) {
        alt->hdr = rx->h;
        alt->payload = malloc(plen ? plen : 1);
        alt->payload_cap = plen;
        r = -ENOMEM;
        if (!alt->payload)
            goto drop;
    }
    r = -EMSGSIZE;
    if (plen > m->payload_cap) {
        set_why(why, "payload larger than the receive buffer");
        goto drop;
    }
    if (plen)
        memcpy(m->payload, rx->buf, plen);
    m->payload_len = plen;
    r = -EPROTO;
    if (rx->ctrunc) {
        set_why(why, "more fds than fit in a message");
        goto drop;
    }
    r = body_check(&rx->h, rx->nfds, exp, why);
    if (r)
        goto drop;
    memcpy(m->fds, rx->fds, rx->nfds * sizeof(int));
    m->nfds = rx->nfds;
    rx->nfds = 0;
    rx_reset(ch);
    return to_alt;
drop:
    rx_reset(ch);
    return r;
}

/* Complete @ch's message, waiting (unless @nonblock) until the deadline:
 * the connection's timeout from now, and from the message's first byte. */
static int rx_wait(struct vfio_user_conn *c, struct chan *ch,
                   const struct vfio_user_expect *exp, bool nonblock,
                   const char **why)
{
    int64_t dl = deadline_in(c->timeout_ms), since;
    int r;

    while ((r = rx_step(ch, exp, why)) == -EAGAIN && !nonblock) {
        since = atomic_load(&ch->rx_since);
        if (since && c->timeout_ms && since + c->timeout_ms < dl)
            dl = since + c->timeout_ms;
        r = wait_fd(ch->fd, POLLIN, dl);
        if (r == -ETIMEDOUT)
            set_why(why, atomic_load(&ch->rx_since)
                             ? "message incomplete at the deadline"
                             : "no message within the deadline");
        if (r)
            return r;
    }
    return r;
}

/* One message from @chan into @msg, or into @alt if it is a command and
 * @alt is given (returns 1 then). Framing, I/O errors and deadlines fail
 * the connection; an oversized payload or a failed body check do not. */
static int recv_msg(struct vfio_user_conn *c, enum vfio_user_chan chan,
                    const struct vfio_user_expect *exp, bool nonblock,
                    struct vfio_user_msg *msg, struct vfio_user_msg *alt,
                    const char **why)
{
    struct chan *ch;
    int r;

    set_why(why, NULL);
    memset(&msg->hdr, 0, sizeof(msg->hdr));
    msg->nfds = 0;
    msg->payload_len = 0;
    if (!chan_ok(c, chan))
        return -ENOTCONN;
    ch = &c->ch[chan];
    r = rx_wait(c, ch, exp, nonblock, why);
    if (r == -EAGAIN)
        return r;
    if (r) {
        mark_failed(c);
        rx_reset(ch);
        return r;
    }
    r = rx_take(ch, exp, msg, alt, why);
    if (r == -ENOMEM && !(msg->hdr.flags & VFIO_USER_F_ERROR))
        mark_failed(c);
    return r;
}

int vfio_user_conn_recv(struct vfio_user_conn *c, enum vfio_user_chan chan,
                        const struct vfio_user_expect *exp, bool nonblock,
                        struct vfio_user_msg *msg, const char **why)
{
    return recv_msg(c, chan, exp, nonblock, msg, NULL, why);
}

/* Hand a received command to the handler; send its error reply. */
static int dispatch(struct vfio_user_conn *c, enum vfio_user_chan chan,
                    struct vfio_user_msg *msg)
{
    int r = c->handler ? c->handler(c->opaque, c, chan, msg) : -ENOTSUP;

    vfio_user_msg_close_fds(msg);
    if (r < 0 && !(msg->hdr.flags & VFIO_USER_F_NO_REPLY))
        return vfio_user_conn_send_error(c, chan, &msg->hdr, -r);
    return 0;
}

static int call_locked(struct vfio_user_conn *c, uint16_t cmd,
                       const void *payload, size_t len, const int *fds,
                       unsigned int nfds, uint32_t min_reply,
                       struct vfio_user_msg *reply, const char **why)
{
    struct vfio_user_expect exp;
    struct vfio_user_msg *cmdmsg = NULL;
    bool serve = c->handler &&
                 vfio_user_conn_s2c_chan(c) == VFIO_USER_CHAN_MAIN;
    uint16_t id;
    int r;

    r = vfio_user_conn_send_command(c, VFIO_USER_CHAN_MAIN, cmd, 0, payload,
                                    len, fds, nfds, &id);
    if (r)
        return r;
    vfio_user_conn_expect_reply(c, cmd, id, &exp);
    exp.min_payload = min_reply;
    if (serve) {
        exp.type = VFIO_USER_EXPECT_ANY;
        cmdmsg = calloc(1, sizeof(*cmdmsg));
        if (!cmdmsg)
            return -ENOMEM;
    }
    for (;;) {
        r = recv_msg(c, VFIO_USER_CHAN_MAIN, &exp, false, reply, cmdmsg, why);
        if (r != 1)
            break;
        r = dispatch(c, VFIO_USER_CHAN_MAIN, cmdmsg);
        free(cmdmsg->payload);
        cmdmsg->payload = NULL;
        if (r)
            break;
    }
    if (cmdmsg)
        free(cmdmsg->payload);
    free(cmdmsg);
    return r;
}

int vfio_user_conn_call(struct vfio_user_conn *c, uint16_t cmd,
                        const void *payload, size_t len, const int *fds,
                        unsigned int nfds, uint32_t min_reply,
                        struct vfio_user_msg *reply, const char **why)
{
    int r;

    pthread_mutex_lock(&c->call_lock);
    r = call_locked(c, cmd, payload, len, fds, nfds, min_reply, reply, why);
    pthread_mutex_unlock(&c->call_lock);
    /* A reply that fails validation leaves request and reply out of step. */
    if (r < 0 && !(reply->hdr.flags & VFIO_USER_F_ERROR))
        mark_failed(c);
    return r;
}

int vfio_user_conn_serve(struct vfio_user_conn *c, enum vfio_user_chan chan,
                         void *buf, const char **why)
{
    struct vfio_user_expect exp;
    struct vfio_user_msg *msg;
    int r;

    msg = calloc(1, sizeof(*msg));
    if (!msg)
        return -ENOMEM;
    msg->payload = buf;
    msg->payload_cap = c->max_msg_size - HDR_SIZE;
    vfio_user_conn_expect_command(c, &exp);
    /* A call in flight on MAIN reads (and serves) everything itself. */
    if (chan == VFIO_USER_CHAN_MAIN && pthread_mutex_trylock(&c->call_lock)) {
        free(msg);
        return -EAGAIN;
    }
    r = vfio_user_conn_recv(c, chan, &exp, true, msg, why);
    if (chan == VFIO_USER_CHAN_MAIN)
        pthread_mutex_unlock(&c->call_lock);
    if (!r)
        r = dispatch(c, chan, msg);
    free(msg);
    return r;
}
