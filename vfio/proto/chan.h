/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user channel I/O: the buffering and deadline engine under one
 * socket of a connection (conn.c adds the connection object, limits and
 * message ids on top).
 *
 * Spec: shared/spec/vfio-user.rst "Header" (framing). Issue 10 "Hangs":
 * - receive: a message is assembled in the channel's own buffer across
 *   calls, so a non-blocking receive never waits for the rest of a begun
 *   message (-EAGAIN until it is whole); a blocking one waits until a
 *   deadline (the timeout from the call and from the message's first
 *   byte), then -ETIMEDOUT;
 * - send: whole messages under the channel's send lock, waiting on a full
 *   socket until a deadline; replies for the event loop go to a bounded
 *   queue written without waiting; the queue's age is a deadline too.
 * Times are CLOCK_MONOTONIC ms (vmm/clock.h); a deadline of INT64_MAX is
 * none. Errors: 0 or a negative errno (see frame.h; -ECONNRESET when the
 * peer closed, -EAGAIN, -ETIMEDOUT, -ENOBUFS, -ENOMEM, send errnos).
 * The caller marks its connection failed where a function says so.
 */
#ifndef MINIVMM_VFIO_CHAN_H
#define MINIVMM_VFIO_CHAN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "vfio/proto/frame.h"

/* Replies waiting for the socket (queued sends). */
struct vfio_user_txq {
    uint8_t *buf;
    size_t off, len, cap; /* bytes [off, len) are pending */
};

/* A message being assembled across receive calls (receiver only). */
struct vfio_user_rxs {
    struct vfio_user_header h;
    uint32_t have;  /* bytes received, header included */
    uint8_t *buf;   /* payload so far */
    uint32_t cap;
    int fds[VFIO_USER_CONN_MAX_FDS];
    unsigned int nfds;
    bool ctrunc;    /* the kernel dropped fds */
};

struct vfio_user_chanio {
    int fd;                    /* -1: absent */
    pthread_mutex_t send_lock; /* the writer; waits only with a deadline */
    pthread_mutex_t q_lock;    /* @q; never held while waiting */
    struct vfio_user_txq q;
    atomic_size_t q_bytes;     /* pending bytes in @q */
    atomic_llong q_since;      /* ms: queued/last progress; 0: empty */
    struct vfio_user_rxs rx;
    atomic_llong rx_since;     /* ms: first byte of @rx; 0: none */
};

/* Set up @ch with no socket (fd -1); free its buffers and held fds and
 * close its socket. */
void vfio_user_chanio_init(struct vfio_user_chanio *ch);
void vfio_user_chanio_fini(struct vfio_user_chanio *ch);

/* Deadline @ms from now; 0 ms: none (INT64_MAX). */
int64_t vfio_user_deadline_in(uint32_t ms);

/* Send @mh (iovecs, fds as control with the first byte) whole on @ch
 * after the queued replies, by deadline @dl, under the send lock. 0, or
 * the errno (-ETIMEDOUT; the caller fails the connection). */
int vfio_user_chanio_send(struct vfio_user_chanio *ch, struct msghdr *mh,
                          int64_t dl);

/* Append message @h (msg_size set) + @len payload bytes to @ch's queue:
 * 0, -ENOBUFS when pending bytes would pass @bound, -ENOMEM. */
int vfio_user_chanio_queue(struct vfio_user_chanio *ch,
                           const struct vfio_user_header *h,
                           const void *payload, size_t len, size_t bound);

/* Write @ch's queue without waiting: 0 (empty), -EAGAIN (bytes remain, or
 * another thread is writing and flushes after itself), or a send errno. */
int vfio_user_chanio_flush(struct vfio_user_chanio *ch);

/* Receive one whole message on @ch into @msg, validated against @exp
 * (frame.h), waiting unless @nonblock until the deadline from
 * @timeout_ms (0: none). -EAGAIN while not whole (bytes kept). On error
 * no fds are held; *@why names the failed check. *@fatal (set on every
 * return) tells whether the stream is lost (framing, I/O, deadline,
 * -ENOMEM): the caller fails the connection then. */
int vfio_user_chanio_recv(struct vfio_user_chanio *ch,
                          const struct vfio_user_expect *exp, bool nonblock,
                          uint32_t timeout_ms, struct vfio_user_msg *msg,
                          bool *fatal, const char **why);

#endif
