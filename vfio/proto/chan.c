/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user channel I/O: receive assembly, reply queue and deadlines under
 * one socket; see chan.h. Spec: vfio-user.rst "Header". */
#include "vfio/proto/chan.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vmm/clock.h"
#include "vmm/iov.h"

#define HDR_SIZE ((uint32_t)sizeof(struct vfio_user_header))

union cmsg_buf {
    char buf[CMSG_SPACE(sizeof(int) * VFIO_USER_CONN_MAX_FDS)];
    struct cmsghdr align;
};

void vfio_user_chanio_init(struct vfio_user_chanio *ch)
{
    memset(ch, 0, sizeof(*ch));
    ch->fd = -1;
    pthread_mutex_init(&ch->send_lock, NULL);
    pthread_mutex_init(&ch->q_lock, NULL);
}

void vfio_user_chanio_fini(struct vfio_user_chanio *ch)
{
    if (ch->fd >= 0)
        close(ch->fd);
    while (ch->rx.nfds)
        close(ch->rx.fds[--ch->rx.nfds]);
    free(ch->rx.buf);
    free(ch->q.buf);
    pthread_mutex_destroy(&ch->send_lock);
    pthread_mutex_destroy(&ch->q_lock);
}

/* Deadline @ms from now (CLOCK_MONOTONIC ms); 0 ms: none (INT64_MAX). */
int64_t vfio_user_deadline_in(uint32_t ms)
{
    return ms ? (int64_t)clock_now_ms() + ms : INT64_MAX;
}

/* Wait until @fd has @events or the deadline @dl passes (-ETIMEDOUT). */
static int wait_fd(int fd, short events, int64_t dl)
{
    struct pollfd p = {.fd = fd, .events = events};
    int64_t left;
    int n;

    for (;;) {
        left = dl == INT64_MAX ? -1 : dl - (int64_t)clock_now_ms();
        if (dl != INT64_MAX && left <= 0)
            return -ETIMEDOUT;
        n = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

/* Drop @n sent bytes from the front of @mh's iovecs (vmm/iov.h). */
static void advance(struct msghdr *mh, size_t n)
{
    int cnt = (int)mh->msg_iovlen;

    iov_advance(&mh->msg_iov, &cnt, n);
    mh->msg_iovlen = (size_t)cnt;
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
static int q_push(struct vfio_user_chanio *ch)
{
    struct vfio_user_txq *q = &ch->q;
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
        atomic_store(&ch->q_since, (int64_t)clock_now_ms()); /* progress */
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
static int q_drain(struct vfio_user_chanio *ch, int64_t dl)
{
    int r;

    while ((r = q_push(ch)) == -EAGAIN) {
        r = wait_fd(ch->fd, POLLOUT, dl);
        if (r)
            return r;
    }
    return r;
}

int vfio_user_chanio_send(struct vfio_user_chanio *ch, struct msghdr *mh,
                          int64_t dl)
{
    int r;

    pthread_mutex_lock(&ch->send_lock);
    r = q_drain(ch, dl); /* queued replies go first */
    if (!r)
        r = send_all(ch->fd, mh, dl);
    if (!r)
        q_push(ch); /* replies queued meanwhile; errors show on the next
                     * flush */
    pthread_mutex_unlock(&ch->send_lock);
    return r;
}

int vfio_user_chanio_flush(struct vfio_user_chanio *ch)
{
    int r;

    if (!atomic_load(&ch->q_bytes))
        return 0;
    if (pthread_mutex_trylock(&ch->send_lock))
        return -EAGAIN; /* the writer flushes before and after its own */
    r = q_push(ch);
    pthread_mutex_unlock(&ch->send_lock);
    return r;
}

int vfio_user_chanio_queue(struct vfio_user_chanio *ch,
                           const struct vfio_user_header *h,
                           const void *payload, size_t len, size_t bound)
{
    struct vfio_user_txq *q = &ch->q;
    size_t need = HDR_SIZE + len;
    int r = 0;

    pthread_mutex_lock(&ch->q_lock);
    if (q->len - q->off + need > bound) {
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
        atomic_store(&ch->q_since, (int64_t)clock_now_ms());
    memcpy(q->buf + q->len, h, HDR_SIZE);
    if (len)
        memcpy(q->buf + q->len + HDR_SIZE, payload, len);
    q->len += need;
    atomic_store(&ch->q_bytes, q->len);
out:
    pthread_mutex_unlock(&ch->q_lock);
    return r;
}

static void collect_fds(struct msghdr *mh, struct vfio_user_rxs *rx)
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
static ssize_t rx_read(int fd, void *p, size_t len, struct vfio_user_rxs *rx)
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

static void rx_reset(struct vfio_user_chanio *ch)
{
    while (ch->rx.nfds)
        close(ch->rx.fds[--ch->rx.nfds]);
    ch->rx.have = 0;
    ch->rx.ctrunc = false;
    atomic_store(&ch->rx_since, 0);
}

/* Room for a @plen-byte payload in the assembly buffer. */
static int rx_room(struct vfio_user_rxs *rx, uint32_t plen)
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
static int rx_step(struct vfio_user_chanio *ch, const struct vfio_user_expect *exp,
                   const char **why)
{
    struct vfio_user_rxs *rx = &ch->rx;
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
            atomic_store(&ch->rx_since, (int64_t)clock_now_ms());
        rx->have += (uint32_t)n;
        if (rx->have != HDR_SIZE)
            continue;
        r = vfio_user_frame_check_header(&rx->h, exp, why);
        if (!r)
            r = rx_room(rx, rx->h.msg_size - HDR_SIZE);
        if (r)
            return r;
    }
}

#define RX_SWAP_MIN 4096u   /* payload bytes worth a buffer exchange */

/* Hand @ch's whole message to @msg: 0, -ENOMEM, or a body error (the
 * stream stays in step). */
static int rx_take(struct vfio_user_chanio *ch,
                   const struct vfio_user_expect *exp,
                   struct vfio_user_msg *msg, const char **why)
{
    struct vfio_user_rxs *rx = &ch->rx;
    uint32_t plen = rx->h.msg_size - HDR_SIZE;
    int r;

    msg->hdr = rx->h;
    r = -EMSGSIZE;
    if (plen > msg->payload_cap) {
        vfio_user_set_why(why, "payload larger than the receive buffer");
        goto drop;
    }
    if (msg->swappable && plen >= RX_SWAP_MIN) {
        uint8_t *b = msg->payload;  /* exchange: no copy of a big payload */
        uint32_t cap = msg->payload_cap;

        msg->payload = rx->buf;
        msg->payload_cap = rx->cap;
        rx->buf = b;
        rx->cap = b ? cap : 0;
    } else if (plen) {
        memcpy(msg->payload, rx->buf, plen);
    }
    msg->payload_len = plen;
    r = -EPROTO;
    if (rx->ctrunc) {
        vfio_user_set_why(why, "more fds than fit in a message");
        goto drop;
    }
    r = vfio_user_frame_check_body(&rx->h, rx->nfds, exp, why);
    if (r)
        goto drop;
    memcpy(msg->fds, rx->fds, rx->nfds * sizeof(int));
    msg->nfds = rx->nfds;
    rx->nfds = 0;
    rx_reset(ch);
    return 0;
drop:
    rx_reset(ch);
    return r;
}

/* Complete @ch's message, waiting (unless @nonblock) until the deadline:
 * @tmo ms from now, and from the message's first byte. */
static int rx_wait(struct vfio_user_chanio *ch, uint32_t tmo,
                   const struct vfio_user_expect *exp, bool nonblock,
                   const char **why)
{
    int64_t dl = vfio_user_deadline_in(tmo), since;
    int r;

    while ((r = rx_step(ch, exp, why)) == -EAGAIN && !nonblock) {
        since = atomic_load(&ch->rx_since);
        if (since && tmo && since + tmo < dl)
            dl = since + tmo;
        r = wait_fd(ch->fd, POLLIN, dl);
        if (r == -ETIMEDOUT)
            vfio_user_set_why(why, atomic_load(&ch->rx_since)
                                       ? "message incomplete at the deadline"
                                       : "no message within the deadline");
        if (r)
            return r;
    }
    return r;
}

int vfio_user_chanio_recv(struct vfio_user_chanio *ch,
                          const struct vfio_user_expect *exp, bool nonblock,
                          uint32_t timeout_ms, struct vfio_user_msg *msg,
                          bool *fatal, const char **why)
{
    int r = rx_wait(ch, timeout_ms, exp, nonblock, why);

    *fatal = false;
    if (r == -EAGAIN)
        return r;
    if (r) {
        *fatal = true;
        rx_reset(ch);
        return r;
    }
    r = rx_take(ch, exp, msg, why);
    *fatal = r == -ENOMEM;
    return r;
}
