/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user endpoint: the server loop's receive, deferred commands, and
 * life cycle (creation, free, reconnect). See endpoint.h; the request/
 * reply engine is endpoint.c. */
#define VFIO_USER_EP_INTERNAL
#include "vfio/proto/endpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* ---- server loop: commands and deferred commands ----------------------- */

int vfio_user_ep_recv_command(struct vfio_user_ep *ep, bool nonblock,
                              struct vfio_user_msg *msg, const char **why)
{
    struct vfio_user_expect exp;
    int r;

    pthread_mutex_lock(&ep->lock);
    if (atomic_load(&ep->failed) || ep->rx_busy) {
        pthread_mutex_unlock(&ep->lock);
        return atomic_load(&ep->failed) ? -ENODEV : -EAGAIN;
    }
    ep->rx_busy = true;
    pthread_mutex_unlock(&ep->lock);
    vfio_user_conn_expect_command(ep->conn, &exp);
    r = vfio_user_conn_recv(ep->conn, VFIO_USER_CHAN_MAIN, &exp, nonblock,
                            msg, why);
    pthread_mutex_lock(&ep->lock);
    ep->rx_busy = false;
    pthread_cond_broadcast(&ep->cond);
    pthread_mutex_unlock(&ep->lock);
    return r;
}

struct vfio_user_msg *vfio_user_ep_pop_deferred(struct vfio_user_ep *ep)
{
    struct vfio_user_msg *m;

    pthread_mutex_lock(&ep->lock);
    m = vfio_user_cmdq_pop(&ep->deferred);
    pthread_mutex_unlock(&ep->lock);
    return m;
}

/* ---- lifecycle ---------------------------------------------------------- */

static int ep_fds(struct vfio_user_ep *ep)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = TIMER_ID};

    ep->epfd = epoll_create1(EPOLL_CLOEXEC);
    ep->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (ep->epfd < 0 || ep->tfd < 0 ||
        epoll_ctl(ep->epfd, EPOLL_CTL_ADD, ep->tfd, &ev) < 0)
        return -errno;
    return 0;
}

int vfio_user_ep_new(struct vfio_user_conn *conn,
                     const struct vfio_user_ep_opts *o,
                     struct vfio_user_ep **out)
{
    struct vfio_user_ep *ep = calloc(1, sizeof(*ep));
    pthread_condattr_t ca;
    int r;

    *out = NULL;
    if (!ep) {
        vfio_user_conn_free(conn);
        return -ENOMEM;
    }
    ep->o = *o;
    if (!ep->o.peer)
        ep->o.peer = o->server ? "client" : "server";
    ep->conn = conn;
    ep->rx.swappable = true; /* rx_room() keeps it large enough */
    vfio_user_cmdq_init(&ep->deferred, VFIO_USER_EP_DEFER_MAX);
    ep->epfd = ep->tfd = -1;
    r = ep_fds(ep);
    if (r) {
        if (ep->epfd >= 0)
            close(ep->epfd);
        if (ep->tfd >= 0)
            close(ep->tfd);
        vfio_user_conn_free(conn);
        free(ep);
        return r;
    }
    pthread_mutex_init(&ep->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ep->cond, &ca);
    pthread_condattr_destroy(&ca);
    *out = ep;
    return 0;
}

void vfio_user_ep_free(struct vfio_user_ep *ep)
{
    if (!ep)
        return;
    vfio_user_cmdq_clear(&ep->deferred);
    vfio_user_conn_free(ep->conn);
    close(ep->epfd);
    close(ep->tfd);
    free(ep->rx.payload);
    pthread_cond_destroy(&ep->cond);
    pthread_mutex_destroy(&ep->lock);
    free(ep);
}

void vfio_user_ep_swap_conn(struct vfio_user_ep *ep,
                            struct vfio_user_conn *conn)
{
    struct vfio_user_conn *old;

    pthread_mutex_lock(&ep->lock);
    while (ep->users || ep->rx_busy)
        pthread_cond_wait(&ep->cond, &ep->lock);
    old = ep->conn;
    ep->conn = conn;
    ep->parked = 0;
    ep->watched = false; /* the new sockets join with _watch() */
    pthread_mutex_unlock(&ep->lock);
    vfio_user_conn_free(old);
    vfio_user_cmdq_clear(&ep->deferred);
    /* Failures while replaying are not reported again (fail_reported). */
    atomic_store(&ep->failed, false);
}

bool vfio_user_ep_settle(struct vfio_user_ep *ep, bool ok)
{
    bool healthy;

    pthread_mutex_lock(&ep->lock);
    if (!ok || atomic_load(&ep->failed))
        vfio_user_ep_fail_locked(ep);
    else
        ep->fail_reported = false;
    healthy = !atomic_load(&ep->failed);
    pthread_mutex_unlock(&ep->lock);
    return healthy;
}
