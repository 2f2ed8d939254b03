/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user endpoint: the one request/reply engine over a connection
 * (conn.h), for the client (vfio/client), the server core (vfio/server)
 * and tools/vfu-test alike.
 *
 * Spec: shared/spec/vfio-user.rst "Header" (msg_id, replies), "Command
 * Concurrency" (several requests in flight; the server may send
 * DMA_READ/WRITE while a client request waits), "VFIO_USER_VERSION"
 * (twin_socket), "Socket Disconnection Behavior".
 *
 * What it owns:
 * - message ids and a bounded table of reply waiters
 *   (VFIO_USER_EP_WAITERS requests in flight; more callers wait for a
 *   slot), each with a deadline (opts.timeout_ms; 0: none);
 * - the receiver role: whichever caller waits for a reply receives for
 *   everyone (replies go to their waiters), and the event-loop hook
 *   (vfio_user_ep_handle_ready() on vfio_user_ep_poll_fd()) receives when
 *   nobody waits, never blocking; the connection's own deadlines
 *   (half-received message, replies the peer does not read) arm a timer;
 * - the peer's commands arriving meanwhile: served at once by opts.on_cmd
 *   (a client serving DMA_READ/WRITE; replies go to the connection's
 *   bounded reply queue, and a full queue stops reading: back-pressure),
 *   or, without on_cmd, deferred (a server waiting for its DMA reply) in a
 *   bounded queue the owner drains with vfio_user_ep_pop_deferred().
 * Anything the peer sends that breaks the protocol fails the endpoint:
 * opts.on_fail(opaque, what, why) once, the sockets are shut down, every
 * waiter gets -ENODEV, and so does every later call.
 *
 * Threads: any thread may call; on_cmd runs on the role holder's thread
 * without the endpoint lock and must not call vfio_user_ep_call().
 * Errors: 0 or a negative errno: -ENODEV (endpoint failed), -ETIMEDOUT
 * (no reply by the deadline; the endpoint fails), -EPROTO, -(peer errno)
 * for an error reply (-EIO if it gave none), -ENOMEM.
 */
#ifndef MINIVMM_VFIO_ENDPOINT_H
#define MINIVMM_VFIO_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/proto/cmdq.h"
#include "vfio/proto/conn.h"

#define VFIO_USER_EP_WAITERS   64  /* requests in flight */
#define VFIO_USER_EP_DEFER_MAX 256 /* peer commands deferred at most */

/* One request/reply exchange. The reply payload goes to @reply (at most
 * @reply_cap bytes, at least @reply_min), its fds (at most @rfds_cap and
 * the connection's receive limit) to @rfds. */
struct vfio_user_call {
    enum vfio_user_chan chan; /* the socket the command goes on */
    uint16_t cmd;
    uint32_t flags;           /* 0 or VFIO_USER_F_NO_REPLY (posted) */
    const void *req;
    size_t req_len;
    const void *data;         /* optional, sent right after @req (no copy) */
    size_t data_len;
    const int *fds;
    unsigned int nfds;
    void *reply;
    uint32_t reply_cap;
    void *reply_data;         /* optional: reply bytes past @reply_cap */
    uint32_t reply_data_cap;  /* land here (no copy in between) */
    uint32_t reply_min;
    uint32_t reply_len;       /* out */
    int *rfds;
    unsigned int rfds_cap;
    unsigned int nrfds;       /* out */
};

struct vfio_user_ep;

/* Serve peer command @msg received on @chan (its payload is valid only
 * during the call; fds were refused before). 0 when replied (or no reply
 * wanted), or a negative errno: the endpoint queues the error reply. */
typedef int (*vfio_user_ep_cmd_fn)(void *opaque, struct vfio_user_ep *ep,
                                   enum vfio_user_chan chan,
                                   struct vfio_user_msg *msg);

/* The endpoint failed: @what names the stage (e.g. "server
 * disconnected", "refusing server: "), @why the detail (may be ""). */
typedef void (*vfio_user_ep_fail_fn)(void *opaque, const char *what,
                                     const char *why);

struct vfio_user_ep_opts {
    const char *peer;         /* "server" or "client", for messages */
    bool server;              /* we are the server: commands only on MAIN,
                               * replies on the twin socket if there is one */
    uint32_t timeout_ms;      /* per reply; 0: none */
    vfio_user_ep_cmd_fn on_cmd; /* NULL: peer commands are deferred */
    vfio_user_ep_fail_fn on_fail;
    void *opaque;
};

/* Make an endpoint over @conn (ownership passes, also on error).
 * 0 or -ENOMEM / the epoll or timerfd errno. */
int vfio_user_ep_new(struct vfio_user_conn *conn,
                     const struct vfio_user_ep_opts *o,
                     struct vfio_user_ep **out);

/* Free the endpoint and its connection; no call may be in flight. */
void vfio_user_ep_free(struct vfio_user_ep *ep);

/* The connection (for sends, caps and fds); replaced by _swap_conn(). */
struct vfio_user_conn *vfio_user_ep_conn(const struct vfio_user_ep *ep);

/* Exchange @call with the peer (see the top). */
int vfio_user_ep_call(struct vfio_user_ep *ep, struct vfio_user_call *call);

/* The same in two halves, so that one thread can have several requests in
 * flight (spec "Command Concurrency": distinct msg_ids, replies matched by
 * id in any order): _start sends @call and returns a handle (>= 0) once
 * the message is whole in the socket (req/data may be reused then), or
 * -errno (nothing in flight). _finish waits for that reply (0 or -errno,
 * as vfio_user_ep_call()); every started call must be finished, and
 * @call must stay valid until then (its reply lands there). One thread
 * must not start more than VFIO_USER_EP_WAITERS calls without finishing
 * one: it would wait for a free slot that only it can free. */
int vfio_user_ep_call_start(struct vfio_user_ep *ep,
                            struct vfio_user_call *call);
int vfio_user_ep_call_finish(struct vfio_user_ep *ep,
                             struct vfio_user_call *call, int handle);

/* Queue the reply (or error reply, @err > 0) to peer command @req on
 * @chan without waiting (vfio_user_conn_queue_reply()). */
int vfio_user_ep_reply(struct vfio_user_ep *ep, enum vfio_user_chan chan,
                       const struct vfio_user_header *req,
                       const void *payload, size_t len);
int vfio_user_ep_reply_error(struct vfio_user_ep *ep,
                             enum vfio_user_chan chan,
                             const struct vfio_user_header *req, int err);

/* Event loop: an fd readable when the sockets or the deadline timer need
 * attention (after vfio_user_ep_watch()); then call handle_ready, which
 * never waits. */
int vfio_user_ep_poll_fd(const struct vfio_user_ep *ep);
void vfio_user_ep_handle_ready(struct vfio_user_ep *ep);

/* Put the connection's sockets into the poll set (after VERSION, when the
 * twin socket is known). 0 or the epoll_ctl() errno. */
int vfio_user_ep_watch(struct vfio_user_ep *ep);

/* Receive the next peer command on MAIN into @msg (server loop; role
 * taken for the call): vfio_user_conn_recv() with a command expectation.
 * -ENODEV once failed. */
int vfio_user_ep_recv_command(struct vfio_user_ep *ep, bool nonblock,
                              struct vfio_user_msg *msg, const char **why);

/* Oldest deferred peer command, or NULL. The caller handles it and frees
 * it with vfio_user_cmdq_msg_free() (closes fds left, frees the payload). */
struct vfio_user_msg *vfio_user_ep_pop_deferred(struct vfio_user_ep *ep);

/* Fail the endpoint (see the top); @what/@why as for on_fail. */
void vfio_user_ep_fail(struct vfio_user_ep *ep, const char *what,
                       const char *why);
bool vfio_user_ep_failed(const struct vfio_user_ep *ep);

/* Reconnect: wait until no call and no receiver uses the connection,
 * swap in @conn (the old one is freed) and clear the failure (it is not
 * reported again until vfio_user_ep_settle()). */
void vfio_user_ep_swap_conn(struct vfio_user_ep *ep,
                            struct vfio_user_conn *conn);

/* End of a reconnect: if @ok and nothing failed meanwhile, failures are
 * reported again; else the endpoint is (stays) failed. Returns whether
 * the endpoint is healthy. */
bool vfio_user_ep_settle(struct vfio_user_ep *ep, bool ok);

/* Blocking waits of callers that returned (a poll() for replies, a
 * condition wait for another thread's receive): wakeups outside the event
 * loop, a monotonic count (docs/api.md "stats"). Any thread. */
uint64_t vfio_user_ep_waits(const struct vfio_user_ep *ep);

/* ---- internal: only for vfio/proto/endpoint*.c, which define
 * VFIO_USER_EP_INTERNAL (endpoint_life.c -> endpoint.c). ---------------- */
#ifdef VFIO_USER_EP_INTERNAL
#include <pthread.h>
#include <stdatomic.h>

#define TIMER_ID VFIO_USER_CHAN_COUNT /* epfd tag of the deadline timer */

struct ep_waiter {
    struct vfio_user_call *call;
    struct vfio_user_expect exp;
    uint16_t id;
    bool used;
    bool done;
    int result;
};

struct vfio_user_ep {
    struct vfio_user_ep_opts o;
    pthread_mutex_t lock;     /* everything below */
    pthread_cond_t cond;      /* a reply arrived / the role is free */
    struct vfio_user_conn *conn;
    int epfd;                 /* main + twin sockets, for the loop */
    int tfd;                  /* timerfd in epfd: the conn's deadlines */
    unsigned int parked;      /* channels taken out of epfd (bit mask) */
    bool watched;             /* the sockets are in epfd (_watch()) */
    bool rx_busy;             /* someone holds the receiver role */
    unsigned int users;       /* requests using @conn */
    atomic_bool failed;
    bool fail_reported;
    struct vfio_user_msg rx;  /* receiver's message (role holder only) */
    struct ep_waiter w[VFIO_USER_EP_WAITERS];
    struct vfio_user_cmdq deferred; /* peer commands for the owner */
    uint64_t waits;           /* blocking waits returned (stats.h) */
};

/* Mark failed and wake everyone; true the first time. Lock held. */
bool vfio_user_ep_fail_locked(struct vfio_user_ep *ep);
#endif /* VFIO_USER_EP_INTERNAL */

#endif
