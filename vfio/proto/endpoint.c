/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user endpoint: message ids, reply waiters with deadlines, the
 * receiver role and the peer's commands (served or deferred). See
 * endpoint.h. Spec: vfio-user.rst "Header", "Command Concurrency",
 * "Socket Disconnection Behavior". */
#define VFIO_USER_EP_INTERNAL
#include "vfio/proto/endpoint.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "vmm/clock.h"
#include "vmm/stats.h"


/* ---- failure ------------------------------------------------------------ */

/* Mark failed, wake everyone; returns true the first time. Lock held. */
bool vfio_user_ep_fail_locked(struct vfio_user_ep *ep)
{
    bool first = !ep->fail_reported;

    ep->fail_reported = true;
    atomic_store(&ep->failed, true);
    for (int ch = 0; ep->conn && ch < VFIO_USER_CHAN_COUNT; ch++) {
        int fd = vfio_user_conn_fd(ep->conn, (enum vfio_user_chan)ch);

        if (fd < 0)
            continue;
        epoll_ctl(ep->epfd, EPOLL_CTL_DEL, fd, NULL);
        shutdown(fd, SHUT_RDWR); /* wakes a receiver blocked on it */
    }
    timerfd_settime(ep->tfd, 0, &(struct itimerspec){{0, 0}, {0, 0}}, NULL);
    for (unsigned int i = 0; i < VFIO_USER_EP_WAITERS; i++) {
        if (ep->w[i].used && !ep->w[i].done) {
            ep->w[i].done = true;
            ep->w[i].result = -ENODEV;
        }
    }
    pthread_cond_broadcast(&ep->cond);
    return first;
}

void vfio_user_ep_fail(struct vfio_user_ep *ep, const char *what,
                       const char *why)
{
    bool first;

    pthread_mutex_lock(&ep->lock);
    first = vfio_user_ep_fail_locked(ep);
    pthread_mutex_unlock(&ep->lock);
    if (first && ep->o.on_fail)
        ep->o.on_fail(ep->o.opaque, what, why ? why : "");
}

/* "refusing <peer>: <fmt...>" */
static void refuse(struct vfio_user_ep *ep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void refuse(struct vfio_user_ep *ep, const char *fmt, ...)
{
    char what[48], buf[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    snprintf(what, sizeof(what), "refusing %s: ", ep->o.peer);
    vfio_user_ep_fail(ep, what, buf);
}

/* "<peer><suffix>" as the stage of a failure. */
static void fail_peer(struct vfio_user_ep *ep, const char *pre,
                      const char *suffix, const char *why)
{
    char what[64];

    snprintf(what, sizeof(what), "%s%s%s", pre, ep->o.peer, suffix);
    vfio_user_ep_fail(ep, what, why);
}

bool vfio_user_ep_failed(const struct vfio_user_ep *ep)
{
    return atomic_load(&ep->failed);
}

struct vfio_user_conn *vfio_user_ep_conn(const struct vfio_user_ep *ep)
{
    return ep->conn;
}

int vfio_user_ep_poll_fd(const struct vfio_user_ep *ep)
{
    return ep->epfd;
}

/* ---- the poll set ------------------------------------------------------- */

/* Set @ch's events in epfd: readable unless parked (someone else receives)
 * or paused (its replies queue up: back-pressure, we stop serving the
 * peer's commands), writable while replies are queued. Lock held. */
static void arm(struct vfio_user_ep *ep, int ch)
{
    enum vfio_user_chan chan = (enum vfio_user_chan)ch;
    struct epoll_event ev = {.events = 0, .data.u32 = (uint32_t)ch};
    int fd = vfio_user_conn_fd(ep->conn, chan);

    if (fd < 0 || !ep->watched || atomic_load(&ep->failed))
        return;
    if (!(ep->parked & (1u << ch)) &&
        !vfio_user_conn_tx_paused(ep->conn, chan))
        ev.events |= EPOLLIN;
    if (vfio_user_conn_queued(ep->conn, chan))
        ev.events |= EPOLLOUT;
    epoll_ctl(ep->epfd, EPOLL_CTL_MOD, fd, &ev);
}

/* Arm the timer at the connection's earliest deadline (a message half
 * received, a reply queue not drained). Lock held. */
static void arm_timer(struct vfio_user_ep *ep)
{
    struct itimerspec its = {{0, 0}, {0, 0}};
    int64_t dl;

    if (!ep->watched)
        return; /* nobody polls the timer: no loop */
    dl = atomic_load(&ep->failed) ? INT64_MAX
                                  : vfio_user_conn_deadline(ep->conn, NULL);
    if (dl != INT64_MAX) {
        its.it_value.tv_sec = dl / 1000;
        its.it_value.tv_nsec = (dl % 1000) * 1000000 + 1;
    }
    timerfd_settime(ep->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void park(struct vfio_user_ep *ep, int ch)
{
    ep->parked |= 1u << ch;
    arm(ep, ch);
}

static void unpark(struct vfio_user_ep *ep)
{
    ep->parked = 0;
    for (int ch = 0; ch < VFIO_USER_CHAN_COUNT; ch++)
        arm(ep, ch);
    arm_timer(ep);
}

int vfio_user_ep_watch(struct vfio_user_ep *ep)
{
    for (int ch = 0; ch < VFIO_USER_CHAN_COUNT; ch++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)ch};
        int fd = vfio_user_conn_fd(ep->conn, (enum vfio_user_chan)ch);

        if (fd >= 0 && epoll_ctl(ep->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
            return -errno;
    }
    pthread_mutex_lock(&ep->lock);
    ep->watched = true;
    unpark(ep);
    pthread_mutex_unlock(&ep->lock);
    return 0;
}

/* ---- receive path ------------------------------------------------------- */

static struct ep_waiter *find_waiter(struct vfio_user_ep *ep, uint16_t id)
{
    for (unsigned int i = 0; i < VFIO_USER_EP_WAITERS; i++)
        if (ep->w[i].used && !ep->w[i].done && ep->w[i].id == id)
            return &ep->w[i];
    return NULL;
}

/* Check @m against waiter @w and hand it over. Returns a sentence when
 * the reply breaks the protocol. Lock held. */
static const char *complete(struct ep_waiter *w, struct vfio_user_msg *m,
                            int recv_r, const char *why)
{
    struct vfio_user_call *call = w->call;
    const struct vfio_user_header *h = &m->hdr;
    const char *bad = NULL;
    int r = recv_r;

    if (h->cmd != w->exp.cmd)
        bad = "reply command does not match the request";
    if (!bad && r == 0)
        r = vfio_user_msg_validate(h, h->msg_size, m->nfds, &w->exp, &why);
    if (!bad && r == 0 &&
        m->payload_len > (uint64_t)call->reply_cap + call->reply_data_cap)
        bad = "reply payload longer than the request allows";
    if (!bad && r && !(h->flags & VFIO_USER_F_ERROR))
        bad = why ? why : "invalid reply";
    if (bad) {
        w->result = -EPROTO;
        w->done = true;
        return bad;
    }
    if (r) {
        r = h->error == 0 || h->error > VFIO_USER_PEER_ERRNO_MAX
                ? -EIO
                : -(int)h->error;
    } else {
        uint32_t n = m->payload_len < call->reply_cap ? m->payload_len
                                                      : call->reply_cap;

        if (n)
            memcpy(call->reply, m->payload, n);
        if (m->payload_len > n)
            memcpy(call->reply_data, (uint8_t *)m->payload + n,
                   m->payload_len - n);
        call->reply_len = m->payload_len;
        if (m->nfds)
            memcpy(call->rfds, m->fds, m->nfds * sizeof(int));
        call->nrfds = m->nfds;
        m->nfds = 0; /* the caller owns them now */
    }
    w->result = r;
    w->done = true;
    return NULL;
}

/* The socket replies arrive on: ours is where our commands go. */
static enum vfio_user_chan reply_chan(const struct vfio_user_ep *ep)
{
    return ep->o.server ? vfio_user_conn_s2c_chan(ep->conn)
                        : VFIO_USER_CHAN_MAIN;
}

static void deliver_reply(struct vfio_user_ep *ep, enum vfio_user_chan chan,
                          int recv_r, const char *why)
{
    struct vfio_user_msg *m = &ep->rx;
    unsigned int nfds = m->nfds;
    struct ep_waiter *w;
    const char *bad = NULL;

    if (chan != reply_chan(ep)) {
        vfio_user_msg_close_fds(m);
        refuse(ep, "a reply (msg_id %u) arrived on the %s socket",
               m->hdr.msg_id, chan == VFIO_USER_CHAN_TWIN ? "twin" : "main");
        return;
    }
    pthread_mutex_lock(&ep->lock);
    w = find_waiter(ep, m->hdr.msg_id);
    if (w)
        bad = complete(w, m, recv_r, why);
    pthread_cond_broadcast(&ep->cond);
    pthread_mutex_unlock(&ep->lock);
    vfio_user_msg_close_fds(m);
    if (!w)
        refuse(ep, "reply with msg_id %u (command %u) matches no "
               "request in flight", m->hdr.msg_id, m->hdr.cmd);
    else if (bad)
        refuse(ep, "%s reply (msg_id %u, %u bytes, %u fds): %s",
               vfio_user_cmd_name(w->exp.cmd), m->hdr.msg_id,
               m->hdr.msg_size, nfds, bad);
}

/* Keep peer command @m (fds included) for the owner. Role held. */
static void defer(struct vfio_user_ep *ep, struct vfio_user_msg *m)
{
    int r;

    pthread_mutex_lock(&ep->lock);
    r = vfio_user_cmdq_push(&ep->deferred, m);
    pthread_mutex_unlock(&ep->lock);
    if (r == -ENOBUFS)
        refuse(ep, "more than %u commands while waiting for a reply",
               VFIO_USER_EP_DEFER_MAX);
    else if (r)
        vfio_user_conn_queue_error(ep->conn, VFIO_USER_CHAN_MAIN, &m->hdr,
                                   -r);
}

/* A peer command in ep->rx (received with @r/@why on @chan). */
static void take_command(struct vfio_user_ep *ep, enum vfio_user_chan chan,
                         int r, const char *why)
{
    struct vfio_user_msg *m = &ep->rx;

    if (r == 0 && m->nfds && ep->o.on_cmd)
        why = "fds attached to a server command";
    if (r == 0 && ep->o.server && chan != VFIO_USER_CHAN_MAIN)
        why = "a command arrived on the twin socket";
    if (r || why) {
        vfio_user_msg_close_fds(m);
        refuse(ep, "command %u (msg_id %u): %s", m->hdr.cmd, m->hdr.msg_id,
               why ? why : strerror(-r));
        return;
    }
    if (!ep->o.on_cmd) {
        defer(ep, m);
        return;
    }
    r = ep->o.on_cmd(ep->o.opaque, ep, chan, m);
    if (r < 0 && !(m->hdr.flags & VFIO_USER_F_NO_REPLY))
        vfio_user_conn_queue_error(ep->conn, chan, &m->hdr, -r);
    if (vfio_user_conn_failed(ep->conn))
        fail_peer(ep, "replying to a ", " command: ",
                  "reply queue overflow or write error");
}

/* Room in ep->rx for the largest message the connection accepts. */
static int rx_room(struct vfio_user_ep *ep)
{
    uint32_t need = vfio_user_conn_max_msg_size(ep->conn);
    void *p;

    if (ep->rx.payload_cap >= need)
        return 0;
    p = realloc(ep->rx.payload, need);
    if (!p)
        return -ENOMEM;
    ep->rx.payload = p;
    ep->rx.payload_cap = need;
    return 0;
}

/* Read one message from @chan and dispatch it. Receiver role held.
 * True when a whole message was taken (more may be waiting). */
static bool receive_one(struct vfio_user_ep *ep, enum vfio_user_chan chan,
                        bool nonblock)
{
    struct vfio_user_conn *conn = ep->conn;
    struct vfio_user_expect exp;
    const char *why = NULL;
    int r;

    if (rx_room(ep)) {
        fail_peer(ep, "receiving from ", "", ": out of memory");
        return false;
    }
    vfio_user_conn_expect_command(conn, &exp);
    exp.type = VFIO_USER_EXPECT_ANY;
    exp.any_reply_id = true;
    r = vfio_user_conn_recv(conn, chan, &exp, nonblock, &ep->rx, &why);
    if (r == -EAGAIN)
        return false;
    if (vfio_user_conn_failed(conn)) {
        if (r == -ECONNRESET)
            fail_peer(ep, "", " disconnected", "");
        else
            fail_peer(ep, "unreadable message from ", ": ",
                      why ? why : strerror(-r));
        return false;
    }
    if ((ep->rx.hdr.flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_REPLY)
        deliver_reply(ep, chan, r, why);
    else
        take_command(ep, chan, r, why);
    return !atomic_load(&ep->failed);
}

/* Hold the receiver role for one message or @ms (-1: no limit). Lock held
 * on entry and exit; released while waiting for the sockets. */
static void receive_turn(struct vfio_user_ep *ep, int ms)
{
    struct pollfd p[VFIO_USER_CHAN_COUNT];
    enum vfio_user_chan chans[VFIO_USER_CHAN_COUNT];
    int n = 0, r;

    ep->rx_busy = true;
    for (int ch = 0; ch < VFIO_USER_CHAN_COUNT; ch++) {
        enum vfio_user_chan chan = (enum vfio_user_chan)ch;

        /* A server reads only its replies' socket here: client commands
         * on MAIN wait there for the server's loop unless they come in
         * between (no twin socket), then they are deferred. */
        p[n].fd = ep->o.server && chan != reply_chan(ep)
                      ? -1
                      : vfio_user_conn_fd(ep->conn, chan);
        vfio_user_conn_flush(ep->conn, chan);
        p[n].events = vfio_user_conn_tx_paused(ep->conn, chan) ? 0 : POLLIN;
        if (vfio_user_conn_queued(ep->conn, chan))
            p[n].events |= POLLOUT;
        p[n].revents = 0;
        chans[n] = chan;
        if (p[n].fd >= 0)
            n++;
    }
    pthread_mutex_unlock(&ep->lock);
    r = poll(p, (nfds_t)n, ms);
    stats_inc(&ep->waits);
    for (int i = 0; r > 0 && i < n && !atomic_load(&ep->failed); i++) {
        if (p[i].revents & POLLOUT)
            vfio_user_conn_flush(ep->conn, chans[i]);
        if (p[i].revents & ~POLLOUT)
            receive_one(ep, chans[i], true);
    }
    if (vfio_user_conn_failed(ep->conn) && !atomic_load(&ep->failed))
        fail_peer(ep, "sending to ", ": ", "write failed");
    pthread_mutex_lock(&ep->lock);
    ep->rx_busy = false;
    unpark(ep);
    pthread_cond_broadcast(&ep->cond);
}

/* ---- calls -------------------------------------------------------------- */

/* Wait for @w's reply, receiving for everyone meanwhile. Lock held. */
static int wait_reply(struct vfio_user_ep *ep, struct ep_waiter *w)
{
    int64_t deadline = ep->o.timeout_ms
                           ? (int64_t)clock_now_ms() + ep->o.timeout_ms
                           : INT64_MAX;
    struct timespec ts = {.tv_sec = deadline / 1000,
                          .tv_nsec = (deadline % 1000) * 1000000};

    while (!w->done) {
        int64_t left = deadline == INT64_MAX
                           ? -1
                           : deadline - (int64_t)clock_now_ms();

        if (atomic_load(&ep->failed))
            return -ENODEV;
        if (deadline != INT64_MAX && left <= 0)
            return -ETIMEDOUT;
        if (left > INT32_MAX)
            left = INT32_MAX;
        if (!ep->rx_busy) {
            receive_turn(ep, (int)left); /* counts its poll() */
            continue;
        }
        if (deadline == INT64_MAX)
            pthread_cond_wait(&ep->cond, &ep->lock);
        else
            pthread_cond_timedwait(&ep->cond, &ep->lock, &ts);
        stats_inc(&ep->waits);
    }
    return w->result;
}

static struct ep_waiter *get_waiter(struct vfio_user_ep *ep)
{
    for (;;) {
        for (unsigned int i = 0; i < VFIO_USER_EP_WAITERS; i++) {
            if (!ep->w[i].used) {
                memset(&ep->w[i], 0, sizeof(ep->w[i]));
                ep->w[i].used = true;
                return &ep->w[i];
            }
        }
        if (atomic_load(&ep->failed))
            return NULL;
        pthread_cond_wait(&ep->cond, &ep->lock);
    }
}

static int send_call(struct vfio_user_ep *ep, struct vfio_user_call *call,
                     uint16_t id)
{
    struct vfio_user_header h = {
        .msg_id = id,
        .cmd = call->cmd,
        .flags = VFIO_USER_F_TYPE_COMMAND |
                 (call->flags & VFIO_USER_F_NO_REPLY),
    };
    struct iovec iov[2] = {{(void *)call->req, call->req_len},
                           {(void *)call->data, call->data_len}};

    return vfio_user_conn_sendv(ep->conn, call->chan, &h, iov,
                                call->data_len ? 2 : 1, call->fds,
                                call->nfds);
}

/* The request leaves the table: the last one out re-arms the loop. */
static void put_user(struct vfio_user_ep *ep, struct ep_waiter *w)
{
    if (w)
        w->used = false;
    if (--ep->users == 0 && !ep->rx_busy)
        unpark(ep);
    pthread_cond_broadcast(&ep->cond);
}

/* Take a waiter (none for a posted command) and count the user. Lock
 * held. -ENODEV once failed. */
static int enter(struct vfio_user_ep *ep, struct vfio_user_call *call,
                 struct ep_waiter **wp)
{
    bool posted = call->flags & VFIO_USER_F_NO_REPLY;
    struct ep_waiter *w = NULL;

    if (!posted && !(w = get_waiter(ep)))
        return -ENODEV;
    if (atomic_load(&ep->failed)) {
        if (w)
            w->used = false;
        return -ENODEV;
    }
    if (ep->users++ == 0 && !posted)
        park(ep, reply_chan(ep)); /* we receive our replies */
    if (w) {
        w->call = call;
        w->id = vfio_user_conn_next_id(ep->conn);
        vfio_user_conn_expect_reply(ep->conn, call->cmd, w->id, &w->exp);
        w->exp.min_payload = call->reply_min;
        if (call->rfds_cap < w->exp.max_fds)
            w->exp.max_fds = call->rfds_cap;
    }
    *wp = w;
    return 0;
}

/* Report a failed call's cause (outside the lock). */
static void call_failed(struct vfio_user_ep *ep,
                        const struct vfio_user_call *call, int r)
{
    char buf[96];

    if (r == -ETIMEDOUT) {
        snprintf(buf, sizeof(buf), "no %s reply within %u ms",
                 vfio_user_cmd_name(call->cmd), ep->o.timeout_ms);
        refuse(ep, "%s", buf);
    } else if (r && r != -ENODEV && vfio_user_conn_failed(ep->conn)) {
        fail_peer(ep, "sending to ", ": ", strerror(-r));
    }
}

/* Send @call; its waiter in *@wp (NULL when posted). Returns 0 or -errno
 * (the request has then left the table). */
static int start(struct vfio_user_ep *ep, struct vfio_user_call *call,
                 struct ep_waiter **wp)
{
    struct ep_waiter *w = NULL;
    int r;

    call->reply_len = 0;
    call->nrfds = 0;
    pthread_mutex_lock(&ep->lock);
    r = enter(ep, call, &w);
    pthread_mutex_unlock(&ep->lock);
    if (r)
        return r;
    r = send_call(ep, call, w ? w->id : vfio_user_conn_next_id(ep->conn));
    if (r) {
        pthread_mutex_lock(&ep->lock);
        put_user(ep, w);
        pthread_mutex_unlock(&ep->lock);
        call_failed(ep, call, r);
    }
    *wp = w;
    return r;
}

int vfio_user_ep_call(struct vfio_user_ep *ep, struct vfio_user_call *call)
{
    struct ep_waiter *w;
    int r = start(ep, call, &w);

    if (r)
        return r;
    pthread_mutex_lock(&ep->lock);
    if (w)
        r = wait_reply(ep, w);
    put_user(ep, w);
    pthread_mutex_unlock(&ep->lock);
    call_failed(ep, call, r);
    return r;
}

int vfio_user_ep_call_start(struct vfio_user_ep *ep,
                            struct vfio_user_call *call)
{
    struct ep_waiter *w;
    int r;

    if (call->flags & VFIO_USER_F_NO_REPLY)
        return -EINVAL; /* nothing to finish: use vfio_user_ep_call() */
    r = start(ep, call, &w);
    return r ? r : (int)(w - ep->w);
}

int vfio_user_ep_call_finish(struct vfio_user_ep *ep,
                             struct vfio_user_call *call, int handle)
{
    struct ep_waiter *w;
    int r;

    if (handle < 0 || handle >= VFIO_USER_EP_WAITERS)
        return -EINVAL;
    w = &ep->w[handle];
    pthread_mutex_lock(&ep->lock);
    if (!w->used || w->call != call) {
        pthread_mutex_unlock(&ep->lock);
        return -EINVAL;
    }
    r = wait_reply(ep, w);
    put_user(ep, w);
    pthread_mutex_unlock(&ep->lock);
    call_failed(ep, call, r);
    return r;
}

int vfio_user_ep_reply(struct vfio_user_ep *ep, enum vfio_user_chan chan,
                       const struct vfio_user_header *req,
                       const void *payload, size_t len)
{
    return vfio_user_conn_queue_reply(ep->conn, chan, req, payload, len);
}

int vfio_user_ep_reply_error(struct vfio_user_ep *ep,
                             enum vfio_user_chan chan,
                             const struct vfio_user_header *req, int err)
{
    return vfio_user_conn_queue_error(ep->conn, chan, req, err);
}

/* ---- event loop --------------------------------------------------------- */

/* The deadline timer fired: fail if a deadline has passed. */
static void check_deadline(struct vfio_user_ep *ep)
{
    const char *what = NULL;
    uint64_t ticks;
    char buf[96];

    if (read(ep->tfd, &ticks, sizeof(ticks)) < 0) {
        /* nothing: re-armed meanwhile */
    }
    pthread_mutex_lock(&ep->lock);
    if (atomic_load(&ep->failed) ||
        vfio_user_conn_deadline(ep->conn, &what) > (int64_t)clock_now_ms()) {
        arm_timer(ep);
        pthread_mutex_unlock(&ep->lock);
        return;
    }
    pthread_mutex_unlock(&ep->lock);
    snprintf(buf, sizeof(buf), "%s after %u ms", what ? what : "deadline",
             ep->o.timeout_ms);
    fail_peer(ep, "", ": ", buf);
}

/* Receive on @chan for the loop, with the role: the messages already in
 * the socket, up to EP_LOOP_BATCH (a server's pipelined DMA messages are
 * served in one wakeup, not one poll round each), while replies can
 * still go out. Lock held. */
#define EP_LOOP_BATCH 16
static void loop_receive(struct vfio_user_ep *ep, int ch)
{
    enum vfio_user_chan chan = (enum vfio_user_chan)ch;

    ep->rx_busy = true;
    pthread_mutex_unlock(&ep->lock);
    for (int n = 0; n < EP_LOOP_BATCH && receive_one(ep, chan, true); n++)
        if (vfio_user_conn_tx_paused(ep->conn, chan))
            break;
    pthread_mutex_lock(&ep->lock);
    ep->rx_busy = false;
    if (!ep->users) {
        unpark(ep);
    } else {
        arm(ep, ch);
        arm_timer(ep);
    }
    pthread_cond_broadcast(&ep->cond);
}

/* One epoll event on channel @ch (event loop, never waiting). */
static void handle_chan(struct vfio_user_ep *ep, int ch, uint32_t events)
{
    enum vfio_user_chan chan = (enum vfio_user_chan)ch;

    pthread_mutex_lock(&ep->lock);
    if (atomic_load(&ep->failed)) {
        pthread_mutex_unlock(&ep->lock);
        return;
    }
    /* Queued replies first (also on EPOLLHUP/ERR: the write reports it). */
    if (vfio_user_conn_queued(ep->conn, chan) &&
        vfio_user_conn_flush(ep->conn, chan) < 0 &&
        vfio_user_conn_failed(ep->conn)) {
        pthread_mutex_unlock(&ep->lock);
        fail_peer(ep, "sending to ", ": ", "write failed");
        return;
    }
    if (!(events & ~EPOLLOUT) || vfio_user_conn_tx_paused(ep->conn, chan)) {
        arm(ep, ch);
        arm_timer(ep);
    } else if (ep->rx_busy || (chan == reply_chan(ep) && ep->users)) {
        park(ep, ch); /* the role holder reads it */
    } else {
        loop_receive(ep, ch);
    }
    pthread_mutex_unlock(&ep->lock);
}

void vfio_user_ep_handle_ready(struct vfio_user_ep *ep)
{
    struct epoll_event ev[VFIO_USER_CHAN_COUNT + 1];
    int n = epoll_wait(ep->epfd, ev, VFIO_USER_CHAN_COUNT + 1, 0);

    for (int i = 0; i < n; i++) {
        if (ev[i].data.u32 == TIMER_ID)
            check_deadline(ep);
        else
            handle_chan(ep, (int)ev[i].data.u32, ev[i].events);
    }
}

uint64_t vfio_user_ep_waits(const struct vfio_user_ep *ep)
{
    return stats_get(&ep->waits);
}
