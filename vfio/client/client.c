/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user client core: connection, VERSION, the reply-waiter table and
 * the receive path, failure. See client.h.
 * Spec: vfio-user.rst "VFIO_USER_VERSION", "Command Concurrency",
 * "Socket Disconnection Behavior". */
#include "vfio/client/client_priv.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HDR_SIZE ((uint32_t)sizeof(struct vfio_user_header))
#define PEER_ERRNO_MAX 4095

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *cmd_name(uint16_t cmd)
{
    static const char *const names[VFIO_USER_MAX_COMMAND] = {
        [VFIO_USER_VERSION] = "VERSION",
        [VFIO_USER_DMA_MAP] = "DMA_MAP",
        [VFIO_USER_DMA_UNMAP] = "DMA_UNMAP",
        [VFIO_USER_DEVICE_GET_INFO] = "DEVICE_GET_INFO",
        [VFIO_USER_DEVICE_GET_REGION_INFO] = "DEVICE_GET_REGION_INFO",
        [VFIO_USER_DEVICE_GET_REGION_IO_FDS] = "DEVICE_GET_REGION_IO_FDS",
        [VFIO_USER_DEVICE_GET_IRQ_INFO] = "DEVICE_GET_IRQ_INFO",
        [VFIO_USER_DEVICE_SET_IRQS] = "DEVICE_SET_IRQS",
        [VFIO_USER_REGION_READ] = "REGION_READ",
        [VFIO_USER_REGION_WRITE] = "REGION_WRITE",
        [VFIO_USER_DMA_READ] = "DMA_READ",
        [VFIO_USER_DMA_WRITE] = "DMA_WRITE",
        [VFIO_USER_DEVICE_RESET] = "DEVICE_RESET",
        [VFIO_USER_REGION_WRITE_MULTI] = "REGION_WRITE_MULTI",
        [VFIO_USER_DEVICE_FEATURE] = "DEVICE_FEATURE",
    };

    return cmd < VFIO_USER_MAX_COMMAND && names[cmd] ? names[cmd] : "?";
}

/* ---- failure ------------------------------------------------------------ */

/* Mark failed, wake everyone; returns true the first time. Lock held. */
static bool fail_locked(struct vfio_client *c)
{
    bool first = !c->fail_reported;

    c->fail_reported = true;
    atomic_store(&c->failed, true);
    for (int ch = 0; c->conn && ch < VFIO_USER_CHAN_COUNT; ch++) {
        int fd = vfio_user_conn_fd(c->conn, (enum vfio_user_chan)ch);

        if (fd < 0)
            continue;
        epoll_ctl(c->epfd, EPOLL_CTL_DEL, fd, NULL);
        shutdown(fd, SHUT_RDWR); /* wakes a receiver blocked on it */
    }
    timerfd_settime(c->tfd, 0, &(struct itimerspec){{0, 0}, {0, 0}}, NULL);
    for (unsigned int i = 0; i < VFIO_CLIENT_WAITERS; i++) {
        if (c->w[i].used && !c->w[i].done) {
            c->w[i].done = true;
            c->w[i].result = -ENODEV;
        }
    }
    pthread_cond_broadcast(&c->cond);
    return first;
}

static void fail_with(struct vfio_client *c, const char *what,
                      const char *why)
{
    bool first;

    pthread_mutex_lock(&c->lock);
    first = fail_locked(c);
    pthread_mutex_unlock(&c->lock);
    if (!first)
        return;
    fprintf(stderr, "minivmm: vfio-user %s: %s%s; device failed\n",
            c->name, what, why);
    if (c->opts.on_fail)
        c->opts.on_fail(c->opts.opaque);
}

void client_refuse(struct vfio_client *c, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fail_with(c, "refusing server: ", buf);
}

void vfio_client_fail(struct vfio_client *c, const char *why)
{
    client_refuse(c, "%s", why);
}

bool vfio_client_failed(const struct vfio_client *c)
{
    return atomic_load(&c->failed);
}

const char *vfio_client_name(const struct vfio_client *c)
{
    return c->name;
}

const struct vfio_user_caps *vfio_client_caps(const struct vfio_client *c)
{
    return &c->eff;
}

bool vfio_client_twin(const struct vfio_client *c)
{
    return c->eff.twin_socket;
}

int vfio_client_poll_fd(const struct vfio_client *c)
{
    return c->epfd;
}

void vfio_client_stats(const struct vfio_client *c,
                       struct vfio_client_stats *out)
{
    out->requests = atomic_load(&c->n_requests);
    out->dma_reads = atomic_load(&c->n_dma_reads);
    out->dma_writes = atomic_load(&c->n_dma_writes);
    out->posted = atomic_load(&c->n_posted);
    out->dma_bytes = atomic_load_explicit(&c->n_dma_bytes,
                                          memory_order_relaxed);
    out->lat_sum_us = atomic_load_explicit(&c->lat_sum_us,
                                           memory_order_relaxed);
    for (unsigned int i = 0; i < VFIO_CLIENT_LAT_BUCKETS; i++)
        out->lat_hist[i] = atomic_load_explicit(&c->lat_hist[i],
                                                memory_order_relaxed);
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* One round trip of @us microseconds into the histogram. */
static void count_latency(struct vfio_client *c, uint64_t us)
{
    unsigned int i = 0;

    while (i + 1 < VFIO_CLIENT_LAT_BUCKETS &&
           us >= VFIO_CLIENT_LAT_BOUND_US(i))
        i++;
    atomic_fetch_add_explicit(&c->lat_hist[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->lat_sum_us, us, memory_order_relaxed);
}

/* ---- receive path ------------------------------------------------------- */

#define TIMER_ID VFIO_USER_CHAN_COUNT /* epfd tag of the deadline timer */

/* Set @ch's events in epfd: readable unless parked (someone else receives)
 * or paused (its replies queue up: back-pressure, we stop serving the
 * server's commands), writable while replies are queued. Lock held. */
static void arm(struct vfio_client *c, int ch)
{
    enum vfio_user_chan chan = (enum vfio_user_chan)ch;
    struct epoll_event ev = {.events = 0, .data.u32 = (uint32_t)ch};
    int fd = vfio_user_conn_fd(c->conn, chan);

    if (fd < 0 || atomic_load(&c->failed))
        return;
    if (!(c->parked & (1u << ch)) && !vfio_user_conn_tx_paused(c->conn, chan))
        ev.events |= EPOLLIN;
    if (vfio_user_conn_queued(c->conn, chan))
        ev.events |= EPOLLOUT;
    epoll_ctl(c->epfd, EPOLL_CTL_MOD, fd, &ev);
}

/* Arm the timer at the connection's earliest deadline (a message half
 * received, a reply queue not drained). Lock held. */
static void arm_timer(struct vfio_client *c)
{
    struct itimerspec its = {{0, 0}, {0, 0}};
    int64_t dl = atomic_load(&c->failed)
                     ? INT64_MAX
                     : vfio_user_conn_deadline(c->conn, NULL);

    if (dl != INT64_MAX) {
        its.it_value.tv_sec = dl / 1000;
        its.it_value.tv_nsec = (dl % 1000) * 1000000 + 1;
    }
    timerfd_settime(c->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void park(struct vfio_client *c, int ch)
{
    c->parked |= 1u << ch;
    arm(c, ch);
}

static void unpark(struct vfio_client *c)
{
    c->parked = 0;
    for (int ch = 0; ch < VFIO_USER_CHAN_COUNT; ch++)
        arm(c, ch);
    arm_timer(c);
}

static struct client_waiter *find_waiter(struct vfio_client *c, uint16_t id)
{
    for (unsigned int i = 0; i < VFIO_CLIENT_WAITERS; i++)
        if (c->w[i].used && !c->w[i].done && c->w[i].id == id)
            return &c->w[i];
    return NULL;
}

/* Check @m against waiter @w and hand it over. Returns a sentence when
 * the reply breaks the protocol. Lock held. */
static const char *complete(struct client_waiter *w, struct vfio_user_msg *m,
                            int recv_r, const char *why)
{
    struct client_call *call = w->call;
    const struct vfio_user_header *h = &m->hdr;
    const char *bad = NULL;
    int r = recv_r;

    if (h->cmd != w->exp.cmd)
        bad = "reply command does not match the request";
    if (!bad && r == 0)
        r = vfio_user_msg_validate(h, h->msg_size, m->nfds, &w->exp, &why);
    if (!bad && r == 0 && m->payload_len > call->reply_cap)
        bad = "reply payload longer than the request allows";
    if (!bad && r && !(h->flags & VFIO_USER_F_ERROR))
        bad = why ? why : "invalid reply";
    if (bad) {
        w->result = -EPROTO;
        w->done = true;
        return bad;
    }
    if (r) {
        r = h->error == 0 || h->error > PEER_ERRNO_MAX ? -EIO
                                                        : -(int)h->error;
    } else {
        if (m->payload_len)
            memcpy(call->reply, m->payload, m->payload_len);
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

static void deliver_reply(struct vfio_client *c, enum vfio_user_chan chan,
                          int recv_r, const char *why)
{
    struct vfio_user_msg *m = &c->rx;
    unsigned int nfds = m->nfds;
    struct client_waiter *w;
    const char *bad = NULL;

    if (chan != VFIO_USER_CHAN_MAIN) {
        vfio_user_msg_close_fds(m);
        client_refuse(c, "a reply (msg_id %u) arrived on the twin socket",
                      m->hdr.msg_id);
        return;
    }
    pthread_mutex_lock(&c->lock);
    w = find_waiter(c, m->hdr.msg_id);
    if (w)
        bad = complete(w, m, recv_r, why);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    vfio_user_msg_close_fds(m);
    if (!w)
        client_refuse(c, "reply with msg_id %u (command %u) matches no "
                      "request in flight", m->hdr.msg_id, m->hdr.cmd);
    else if (bad)
        client_refuse(c, "%s reply (msg_id %u, %u bytes, %u fds): %s",
                      cmd_name(w->exp.cmd), m->hdr.msg_id,
                      m->hdr.msg_size, nfds, bad);
}

/* Read one message from @chan and dispatch it. Receiver role held. */
static void receive_one(struct vfio_client *c, enum vfio_user_chan chan,
                        bool nonblock)
{
    struct vfio_user_conn *conn = c->conn;
    struct vfio_user_expect exp;
    const char *why = NULL;
    int r;

    vfio_user_conn_expect_command(conn, &exp);
    exp.type = VFIO_USER_EXPECT_ANY;
    exp.any_reply_id = true;
    r = vfio_user_conn_recv(conn, chan, &exp, nonblock, &c->rx, &why);
    if (r == -EAGAIN)
        return;
    if (vfio_user_conn_failed(conn)) {
        fail_with(c, r == -ECONNRESET ? "server disconnected" :
                  "unreadable message from server: ",
                  r == -ECONNRESET ? "" : (why ? why : strerror(-r)));
        return;
    }
    if ((c->rx.hdr.flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_REPLY) {
        deliver_reply(c, chan, r, why);
        return;
    }
    if (r == 0 && c->rx.nfds)
        why = "fds attached to a server command";
    if (r || c->rx.nfds) {
        vfio_user_msg_close_fds(&c->rx);
        client_refuse(c, "command %u (msg_id %u): %s", c->rx.hdr.cmd,
                      c->rx.hdr.msg_id, why ? why : strerror(-r));
        return;
    }
    r = client_serve_command(c, chan, &c->rx);
    if (r < 0 && !(c->rx.hdr.flags & VFIO_USER_F_NO_REPLY))
        vfio_user_conn_queue_error(conn, chan, &c->rx.hdr, -r);
    if (vfio_user_conn_failed(conn))
        fail_with(c, "replying to a server command: ",
                  "reply queue overflow or write error");
}

/* Hold the receiver role for one message or @ms. Lock held on entry and
 * exit; released while waiting for the sockets. */
static void receive_turn(struct vfio_client *c, int ms)
{
    struct pollfd p[VFIO_USER_CHAN_COUNT];
    int n = 0, r;

    c->rx_busy = true;
    for (int ch = 0; ch < VFIO_USER_CHAN_COUNT; ch++) {
        enum vfio_user_chan chan = (enum vfio_user_chan)ch;

        p[n].fd = vfio_user_conn_fd(c->conn, chan);
        vfio_user_conn_flush(c->conn, chan);
        p[n].events = vfio_user_conn_tx_paused(c->conn, chan) ? 0 : POLLIN;
        if (vfio_user_conn_queued(c->conn, chan))
            p[n].events |= POLLOUT;
        p[n].revents = 0;
        if (p[n].fd >= 0)
            n++;
    }
    pthread_mutex_unlock(&c->lock);
    r = poll(p, (nfds_t)n, ms);
    for (int i = 0; r > 0 && i < n && !atomic_load(&c->failed); i++) {
        if (p[i].revents & POLLOUT)
            vfio_user_conn_flush(c->conn, (enum vfio_user_chan)i);
        if (p[i].revents & ~POLLOUT)
            receive_one(c, (enum vfio_user_chan)i, true);
    }
    if (vfio_user_conn_failed(c->conn) && !atomic_load(&c->failed))
        fail_with(c, "sending to server: ", "write failed");
    pthread_mutex_lock(&c->lock);
    c->rx_busy = false;
    unpark(c);
    pthread_cond_broadcast(&c->cond);
}

static void deadline_ts(int64_t deadline, struct timespec *ts)
{
    ts->tv_sec = deadline / 1000;
    ts->tv_nsec = (deadline % 1000) * 1000000;
}

/* Wait for @w's reply, receiving for everyone meanwhile. Lock held. */
static int wait_reply(struct vfio_client *c, struct client_waiter *w)
{
    int64_t deadline = now_ms() + c->opts.timeout_ms;
    struct timespec ts;

    deadline_ts(deadline, &ts);
    while (!w->done) {
        int64_t left = deadline - now_ms();

        if (atomic_load(&c->failed))
            return -ENODEV;
        if (left <= 0)
            return -ETIMEDOUT;
        if (!c->rx_busy)
            receive_turn(c, (int)left);
        else
            pthread_cond_timedwait(&c->cond, &c->lock, &ts);
    }
    return w->result;
}

static struct client_waiter *get_waiter(struct vfio_client *c)
{
    for (;;) {
        for (unsigned int i = 0; i < VFIO_CLIENT_WAITERS; i++) {
            if (!c->w[i].used) {
                memset(&c->w[i], 0, sizeof(c->w[i]));
                c->w[i].used = true;
                return &c->w[i];
            }
        }
        if (atomic_load(&c->failed))
            return NULL;
        pthread_cond_wait(&c->cond, &c->lock);
    }
}

static int send_locked_out(struct vfio_client *c, struct client_call *call,
                           uint16_t id)
{
    struct vfio_user_header h = {
        .msg_id = id,
        .cmd = call->cmd,
        .flags = VFIO_USER_F_TYPE_COMMAND |
                 (call->flags & VFIO_USER_F_NO_REPLY),
    };

    return vfio_user_conn_send(c->conn, VFIO_USER_CHAN_MAIN, &h, call->req,
                               call->req_len, call->fds, call->nfds);
}

/* The request leaves the table: the last one out re-arms the loop. */
static void put_user(struct vfio_client *c, struct client_waiter *w)
{
    if (w)
        w->used = false;
    if (--c->users == 0 && !c->rx_busy)
        unpark(c);
    pthread_cond_broadcast(&c->cond);
}

int client_call(struct vfio_client *c, struct client_call *call)
{
    bool posted = call->flags & VFIO_USER_F_NO_REPLY;
    struct client_waiter *w = NULL;
    uint64_t t0;
    int r;

    pthread_mutex_lock(&c->lock);
    if (!posted && !(w = get_waiter(c))) {
        pthread_mutex_unlock(&c->lock);
        return -ENODEV;
    }
    if (atomic_load(&c->failed)) {
        if (w)
            w->used = false;
        pthread_mutex_unlock(&c->lock);
        return -ENODEV;
    }
    if (c->users++ == 0 && !posted)
        park(c, VFIO_USER_CHAN_MAIN); /* we receive our replies */
    if (w) {
        w->call = call;
        w->id = vfio_user_conn_next_id(c->conn);
        vfio_user_conn_expect_reply(c->conn, call->cmd, w->id, &w->exp);
        w->exp.min_payload = call->reply_min;
        w->exp.max_fds = call->rfds_cap;
    }
    pthread_mutex_unlock(&c->lock);
    atomic_fetch_add(posted ? &c->n_posted : &c->n_requests, 1);
    t0 = w ? now_us() : 0;
    r = send_locked_out(c, call, w ? w->id : vfio_user_conn_next_id(c->conn));
    pthread_mutex_lock(&c->lock);
    if (r == 0 && w)
        r = wait_reply(c, w);
    if (r == 0 && w)
        count_latency(c, now_us() - t0);
    put_user(c, w);
    pthread_mutex_unlock(&c->lock);
    if (r == -ETIMEDOUT)
        client_refuse(c, "no %s reply within %u ms", cmd_name(call->cmd),
                      c->opts.timeout_ms);
    else if (r && r != -ENODEV && vfio_user_conn_failed(c->conn))
        fail_with(c, "sending to server: ", strerror(-r));
    return r;
}

/* The deadline timer fired: fail the device if a deadline has passed. */
static void check_deadline(struct vfio_client *c)
{
    const char *what = NULL;
    uint64_t ticks;
    char buf[96];

    if (read(c->tfd, &ticks, sizeof(ticks)) < 0) {
        /* nothing: re-armed meanwhile */
    }
    pthread_mutex_lock(&c->lock);
    if (atomic_load(&c->failed) ||
        vfio_user_conn_deadline(c->conn, &what) > now_ms()) {
        arm_timer(c);
        pthread_mutex_unlock(&c->lock);
        return;
    }
    pthread_mutex_unlock(&c->lock);
    snprintf(buf, sizeof(buf), "%s after %u ms", what ? what : "deadline",
             c->opts.timeout_ms);
    fail_with(c, "server: ", buf);
}

/* One epoll event on channel @ch (event loop, never waiting). */
static void handle_chan(struct vfio_client *c, int ch, uint32_t events)
{
    enum vfio_user_chan chan = (enum vfio_user_chan)ch;

    pthread_mutex_lock(&c->lock);
    if (atomic_load(&c->failed)) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    /* Queued replies first (also on EPOLLHUP/ERR: the write reports it). */
    if (vfio_user_conn_queued(c->conn, chan) &&
        vfio_user_conn_flush(c->conn, chan) < 0 &&
        vfio_user_conn_failed(c->conn)) {
        pthread_mutex_unlock(&c->lock);
        fail_with(c, "sending to server: ", "write failed");
        return;
    }
    if (!(events & ~EPOLLOUT) || vfio_user_conn_tx_paused(c->conn, chan)) {
        arm(c, ch);
        arm_timer(c);
    } else if (c->rx_busy || (ch == VFIO_USER_CHAN_MAIN && c->users)) {
        park(c, ch); /* the role holder reads it */
    } else {
        c->rx_busy = true;
        pthread_mutex_unlock(&c->lock);
        receive_one(c, chan, true);
        pthread_mutex_lock(&c->lock);
        c->rx_busy = false;
        if (!c->users) {
            unpark(c);
        } else {
            arm(c, ch);
            arm_timer(c);
        }
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->lock);
}

void vfio_client_handle_ready(struct vfio_client *c)
{
    struct epoll_event ev[VFIO_USER_CHAN_COUNT + 1];
    int n = epoll_wait(c->epfd, ev, VFIO_USER_CHAN_COUNT + 1, 0);

    for (int i = 0; i < n; i++) {
        if (ev[i].data.u32 == TIMER_ID)
            check_deadline(c);
        else
            handle_chan(c, (int)ev[i].data.u32, ev[i].events);
    }
}

/* ---- connection --------------------------------------------------------- */

int vfio_client_dial(const char *path, int *fd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int r = -errno;

        close(s);
        return r;
    }
    *fd = s;
    return 0;
}

static void propose(struct vfio_client *c)
{
    vfio_user_caps_default(&c->proposed);
    c->proposed.max_msg_fds = VFIO_CLIENT_RECV_FDS;
    c->proposed.max_data_xfer_size = VFIO_USER_DEFAULT_MAX_DATA_XFER_SIZE;
    c->proposed.twin_socket = !c->opts.no_twin;
    c->proposed.write_multiple = !c->opts.no_write_multi;
    if (c->opts.any_pgsize)
        c->proposed.pgsizes = ~(uint64_t)0xfff;
    /* 0.9.1 "migration": lets a v1 server offer region-based migration
     * and DIRTY_PAGES (client_mig_v1.h); newer servers ignore it. */
    c->proposed.migration = true;
    c->proposed.mig_pgsize = 4096;
}

/* Take the twin socket named by the reply; close the other fds. */
static int take_fds(struct vfio_client *c, int *fds, unsigned int nfds,
                    char *err, size_t errlen)
{
    int r = 0;

    if (c->eff.twin_socket) {
        r = vfio_user_conn_set_twin(c->conn, fds[c->eff.twin_fd_index]);
        if (r == 0)
            fds[c->eff.twin_fd_index] = -1;
        else
            snprintf(err, errlen, "twin socket fd unusable: %s",
                     strerror(-r));
    } else if (nfds) {
        snprintf(err, errlen, "inconsistent VERSION reply: %u fds without "
                 "a twin socket", nfds);
        r = -EPROTO;
    }
    for (unsigned int i = 0; i < nfds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return r;
}

static int check_version(struct vfio_client *c, const void *p, uint32_t len,
                         int *fds, unsigned int nfds, char *err,
                         size_t errlen)
{
    struct vfio_user_caps reply;
    uint16_t major, minor;
    int r;

    r = vfio_user_version_decode(p, len, &major, &minor, &reply, err,
                                 errlen);
    if (r == 0)
        r = vfio_user_version_check_reply(VFIO_USER_VERSION_MAJOR,
                                          VFIO_USER_VERSION_MINOR, major,
                                          minor, err, errlen);
    if (r == 0)
        r = vfio_user_caps_check_reply(&c->proposed, &reply, nfds, &c->eff,
                                       err, errlen);
    if (r) {
        for (unsigned int i = 0; i < nfds; i++)
            close(fds[i]);
        return r;
    }
    return take_fds(c, fds, nfds, err, errlen);
}

/* VERSION over the fresh c->conn (no one else uses it yet). */
static int negotiate(struct vfio_client *c, char *err, size_t errlen)
{
    struct client_call call = {.cmd = VFIO_USER_VERSION};
    int fds[VFIO_CLIENT_RECV_FDS];
    void *req = NULL;
    size_t len;
    int r;

    vfio_user_conn_set_caps(c->conn, &c->proposed, &c->proposed);
    r = vfio_user_version_encode(VFIO_USER_VERSION_MAJOR,
                                 VFIO_USER_VERSION_MINOR, &c->proposed, &req,
                                 &len);
    call.reply = malloc(VFIO_USER_CAPS_JSON_MAX + 8);
    if (r || !call.reply) {
        free(req);
        free(call.reply);
        return -ENOMEM;
    }
    call.req = req;
    call.req_len = len;
    call.reply_cap = VFIO_USER_CAPS_JSON_MAX + 8;
    call.reply_min = sizeof(struct vfio_user_version);
    call.rfds = fds;
    call.rfds_cap = VFIO_CLIENT_RECV_FDS;
    r = client_call(c, &call);
    if (r)
        snprintf(err, errlen, "VERSION: %s", strerror(-r));
    else
        r = check_version(c, call.reply, call.reply_len, fds, call.nrfds,
                          err, errlen);
    free(req);
    free(call.reply);
    if (r == 0)
        vfio_user_conn_set_caps(c->conn, &c->proposed, &c->eff);
    return r;
}

static int watch_conn(struct vfio_client *c)
{
    for (int ch = 0; ch < VFIO_USER_CHAN_COUNT; ch++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)ch};
        int fd = vfio_user_conn_fd(c->conn, (enum vfio_user_chan)ch);

        if (fd >= 0 && epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
            return -errno;
    }
    return 0;
}

static int client_alloc(const struct vfio_client_opts *o,
                        struct vfio_client **out)
{
    struct vfio_client *c = calloc(1, sizeof(*c));
    pthread_condattr_t ca;

    if (!c)
        return -ENOMEM;
    c->opts = *o;
    if (!c->opts.timeout_ms)
        c->opts.timeout_ms = VFIO_CLIENT_DEFAULT_TIMEOUT_MS;
    snprintf(c->name, sizeof(c->name), "%s", o->name ? o->name : "dev");
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (c->tfd >= 0 && c->epfd >= 0 &&
        epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->tfd,
                  &(struct epoll_event){.events = EPOLLIN,
                                        .data.u32 = TIMER_ID}) < 0) {
        close(c->tfd);
        c->tfd = -1;
    }
    c->rx.payload_cap = VFIO_USER_DEFAULT_MAX_DATA_XFER_SIZE +
                        VFIO_USER_CONN_MSG_SLACK + VFIO_USER_CONN_MSG_FLOOR;
    c->rx.payload = malloc(c->rx.payload_cap);
    if (c->epfd < 0 || c->tfd < 0 || !c->rx.payload) {
        if (c->epfd >= 0)
            close(c->epfd);
        if (c->tfd >= 0)
            close(c->tfd);
        free(c->rx.payload);
        free(c);
        return -ENOMEM;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_rwlock_init(&c->iommu_lock, NULL);
    iommu_init(&c->iommu, 0);
    propose(c);
    *out = c;
    return 0;
}

int vfio_client_new(int fd, const struct vfio_client_opts *o,
                    struct vfio_client **out, char *err, size_t errlen)
{
    struct vfio_client *c;
    int r;

    *out = NULL;
    r = client_alloc(o, &c);
    if (r) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return r;
    }
    r = vfio_user_conn_new(fd, &c->conn);
    if (r) {
        close(fd);
        snprintf(err, errlen, "not a stream socket: %s", strerror(-r));
    } else {
        vfio_user_conn_set_timeout(c->conn, c->opts.timeout_ms);
    }
    if (r == 0)
        r = negotiate(c, err, errlen);
    if (r == 0 && (r = watch_conn(c)) < 0)
        snprintf(err, errlen, "epoll: %s", strerror(-r));
    if (r == 0)
        c->iommu.max_windows = c->eff.max_dma_maps;
    if (r) {
        vfio_client_free(c);
        return r;
    }
    *out = c;
    return 0;
}

int vfio_client_connect(const char *path, const struct vfio_client_opts *o,
                        struct vfio_client **out, char *err, size_t errlen)
{
    int fd, r = vfio_client_dial(path, &fd);

    *out = NULL;
    if (r) {
        snprintf(err, errlen, "cannot connect to %s: %s", path,
                 strerror(-r));
        return r;
    }
    return vfio_client_new(fd, o, out, err, errlen);
}

void vfio_client_free(struct vfio_client *c)
{
    if (!c)
        return;
    vfio_user_conn_free(c->conn);
    close(c->epfd);
    close(c->tfd);
    free(c->rx.payload);
    iommu_fini(&c->iommu);
    pthread_rwlock_destroy(&c->iommu_lock);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Swap in a new connection once nobody uses the old one. */
static void swap_conn(struct vfio_client *c, struct vfio_user_conn *conn)
{
    struct vfio_user_conn *old;

    pthread_mutex_lock(&c->lock);
    while (c->users || c->rx_busy)
        pthread_cond_wait(&c->cond, &c->lock);
    old = c->conn;
    c->conn = conn;
    c->parked = 0;
    pthread_mutex_unlock(&c->lock);
    vfio_user_conn_free(old);
}

int vfio_client_reconnect(struct vfio_client *c, int fd, char *err,
                          size_t errlen)
{
    struct vfio_user_conn *conn;
    int r = vfio_user_conn_new(fd, &conn);

    if (r) {
        close(fd);
        snprintf(err, errlen, "not a stream socket: %s", strerror(-r));
        return r;
    }
    vfio_user_conn_set_timeout(conn, c->opts.timeout_ms);
    swap_conn(c, conn);
    /* Failures while replaying are not reported again (fail_reported). */
    atomic_store(&c->failed, false);
    r = negotiate(c, err, errlen);
    if (r == 0 && (r = watch_conn(c)) < 0)
        snprintf(err, errlen, "epoll: %s", strerror(-r));
    if (r == 0)
        r = client_dma_replay(c, err, errlen);
    pthread_mutex_lock(&c->lock);
    if (r || atomic_load(&c->failed))
        fail_locked(c);
    else
        c->fail_reported = false;
    pthread_mutex_unlock(&c->lock);
    if (r == 0 && atomic_load(&c->failed)) {
        snprintf(err, errlen, "server failed during the replay");
        r = -EIO;
    }
    return r;
}
