/* SPDX-License-Identifier: BSD-3-Clause */
/* The event loop: one thread multiplexing every fd that is not a vCPU
 * (serial input, signals, stop requests, later vfio-user sockets, backends,
 * the control socket). Modules expose a poll fd and a handler; only this
 * file calls epoll_wait. */
#ifndef MINIVMM_EVLOOP_H
#define MINIVMM_EVLOOP_H

#include <stdint.h>

struct evloop;

/* Called when @fd is ready with @events (EPOLLIN, EPOLLHUP, ...). */
typedef void (*evloop_fn)(void *opaque, int fd, uint32_t events);

/* 0 or -errno. */
int evloop_create(struct evloop **out);
void evloop_destroy(struct evloop *loop);

/* Watch @fd for @events (EPOLLIN etc.). 0 or -errno (-EEXIST if watched).
 * Handlers run on the loop thread; they may add and remove fds. */
int evloop_add(struct evloop *loop, int fd, uint32_t events, evloop_fn fn,
               void *opaque);
/* Stop watching @fd. 0 or -ENOENT. */
int evloop_del(struct evloop *loop, int fd);

/* Run handlers until evloop_quit(). 0 or -errno from epoll_wait. */
int evloop_run(struct evloop *loop);
/* Make evloop_run() return after the current handler (loop thread only). */
void evloop_quit(struct evloop *loop);

/* Returns of the loop's epoll_wait (each a wakeup of the loop thread)
 * since evloop_create(): a monotonic count, any thread (docs/api.md
 * "stats", "wakeups"). */
uint64_t evloop_wakeups(const struct evloop *loop);

#endif
