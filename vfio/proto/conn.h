/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user transport: one connection over AF_UNIX stream sockets, for the
 * client and the server alike.
 *
 * Spec: shared/spec/vfio-user.rst, "Header" (framing, flags, errors),
 * "VFIO_USER_VERSION" (max_msg_fds, max_data_xfer_size, twin_socket) and
 * "Socket Disconnection Behavior". A connection has the main socket (client
 * commands and their replies) and, in twin-socket mode, a second socket for
 * server->client commands (DMA_READ/WRITE) and their replies.
 *
 * Every received message passes ONE validation function,
 * vfio_user_msg_validate() (frame.h): header size bounds, truncation,
 * flags and type, reply matching (msg_id and command), the error flag
 * (-> -errno of the peer), payload bounds and the fd count.
 * vfio_user_conn_recv() is the socket wrapper around it; the per-socket
 * buffering and deadlines are chan.h's. Request/reply matching, the
 * receiver role and peer commands are the endpoint's (endpoint.h).
 *
 * Deadlines and blocking (issue 10 "Hangs"): a receive assembles a message
 * in the channel's own buffer across calls, so a non-blocking receive never
 * waits for the rest of a begun message (-EAGAIN until it is whole); a
 * blocking receive or send waits at most the connection's timeout
 * (vfio_user_conn_set_timeout(), for the whole message, counted from the
 * call and from the message's first byte), then fails the connection with
 * -ETIMEDOUT. For the event loop, replies to the peer's commands go to a
 * bounded per-channel queue (vfio_user_conn_queue_reply()) written without
 * waiting; the caller stops reading the peer's commands while
 * vfio_user_conn_tx_paused() and watches vfio_user_conn_deadline().
 *
 * Threads: sends on a channel are serialized by a per-channel lock, so any
 * thread may send. Receiving on a channel must be serialized by the caller
 * (the endpoint's receiver role).
 *
 * Errors: 0 or a negative errno. Transport errors: -EBADMSG (truncated or
 * malformed framing), -EMSGSIZE (too large), -EPROTO (protocol violation:
 * wrong type/id/command/flags, too many fds, short payload), -ECONNRESET
 * (peer closed), -ENOTCONN (connection already failed), -EAGAIN (nothing to
 * read, non-blocking receive only). An error reply from the peer returns
 * -(its errno), or -EIO if it gave none. Framing errors mark the connection
 * failed (the stream cannot be resynchronized); later calls get -ENOTCONN.
 */
#ifndef MINIVMM_VFIO_CONN_H
#define MINIVMM_VFIO_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/proto/caps.h"
#include "vfio/proto/frame.h"
#include "vfio/proto/proto.h"

#define VFIO_USER_CONN_MSG_FLOOR (64u * 1024) /* payload bound, any message */
#define VFIO_USER_CONN_MSG_SLACK 64u         /* data message fixed parts */
#define VFIO_USER_CONN_TXQ_PAUSE (64u * 1024) /* queued bytes: stop serving */

/* Which socket of a connection. */
enum vfio_user_chan {
    VFIO_USER_CHAN_MAIN = 0, /* client->server commands + replies */
    VFIO_USER_CHAN_TWIN = 1, /* server->client commands + replies */
    VFIO_USER_CHAN_COUNT
};

struct vfio_user_conn;

/* ---- connection -------------------------------------------------------- */

/* Wrap connected AF_UNIX stream socket @fd (ownership passes on success).
 * Limits start at the spec defaults (vfio_user_caps_default()).
 * 0, -ENOTSOCK/-EINVAL (not an AF_UNIX stream socket), -ENOMEM. */
int vfio_user_conn_new(int fd, struct vfio_user_conn **out);

/* Close both sockets and free. NULL is a no-op. */
void vfio_user_conn_free(struct vfio_user_conn *c);

/* The socket of @chan, for polling; -1 if absent. */
int vfio_user_conn_fd(const struct vfio_user_conn *c,
                      enum vfio_user_chan chan);

/* The channel server->client commands use: TWIN if set up, else MAIN. */
enum vfio_user_chan vfio_user_conn_s2c_chan(const struct vfio_user_conn *c);

/* Client: install the twin socket received in the VERSION reply (ownership
 * passes on success). 0, -EEXIST, -ENOTSOCK/-EINVAL (not AF_UNIX stream). */
int vfio_user_conn_set_twin(struct vfio_user_conn *c, int fd);

/* Server: create the twin socket pair, keep one end and return the other
 * in *@peer_fd to send in the VERSION reply (caller closes it after).
 * 0, -EEXIST, or the socketpair() errno. */
int vfio_user_conn_twin_pair(struct vfio_user_conn *c, int *peer_fd);

/* Set the limits: @local is what this side advertised (bounds what it
 * receives: fds, message size from max_data_xfer_size), @eff the
 * negotiated set (bounds what it sends). Before VERSION, pass the
 * proposal/own caps for both. Must not race with I/O on @c. */
void vfio_user_conn_set_caps(struct vfio_user_conn *c,
                             const struct vfio_user_caps *local,
                             const struct vfio_user_caps *eff);

/* The negotiated capabilities last set. */
const struct vfio_user_caps *
vfio_user_conn_caps(const struct vfio_user_conn *c);

/* Largest msg_size this side accepts, bytes (header included). */
uint32_t vfio_user_conn_max_msg_size(const struct vfio_user_conn *c);

/* Fresh message id (wraps at 65536). Thread-safe. */
uint16_t vfio_user_conn_next_id(struct vfio_user_conn *c);

/* True once a framing or I/O error has failed the connection. */
bool vfio_user_conn_failed(const struct vfio_user_conn *c);

/* Fill @exp for a reply to command @cmd sent with @msg_id, or (cmd 0) for
 * any incoming command, from the connection's receive limits. */
void vfio_user_conn_expect_reply(const struct vfio_user_conn *c, uint16_t cmd,
                                 uint16_t msg_id,
                                 struct vfio_user_expect *exp);
void vfio_user_conn_expect_command(const struct vfio_user_conn *c,
                                   struct vfio_user_expect *exp);

/* ---- sending ----------------------------------------------------------- */

/* Send @hdr (msg_size is set from @len) + @len payload bytes + @nfds fds
 * (SCM_RIGHTS, with the first byte) on @chan, whole, under the channel's
 * send lock, after the channel's queued replies, retrying partial sends and
 * EINTR (and waiting on EAGAIN until the deadline: -ETIMEDOUT).
 * -EINVAL if @nfds exceeds the peer's max_msg_fds or the message is larger
 * than 4 GiB; -ENOTCONN if the channel is absent or failed; -EPIPE etc.
 * A failed send marks the connection failed. */
int vfio_user_conn_send(struct vfio_user_conn *c, enum vfio_user_chan chan,
                        const struct vfio_user_header *hdr,
                        const void *payload, size_t len, const int *fds,
                        unsigned int nfds);

/* The same with the payload gathered from @iovcnt (1..4) iovecs. */
struct iovec;
int vfio_user_conn_sendv(struct vfio_user_conn *c, enum vfio_user_chan chan,
                         const struct vfio_user_header *hdr,
                         const struct iovec *iov, int iovcnt, const int *fds,
                         unsigned int nfds);

/* Queue the reply (or error reply, header only, @err > 0) to the peer's
 * request @req on @chan and write what the socket takes now, never
 * waiting (for the event loop; no fds). The rest goes out with the next
 * vfio_user_conn_flush() or blocking send on @chan. 0; -ENOBUFS when the
 * queue would pass VFIO_USER_CONN_TXQ_PAUSE + 2 messages (the caller did
 * not stop at the pause) and other send errors fail the connection;
 * -ENOTCONN. Spec: vfio-user.rst "Header" (a reply echoes msg_id, cmd). */
int vfio_user_conn_queue_reply(struct vfio_user_conn *c,
                               enum vfio_user_chan chan,
                               const struct vfio_user_header *req,
                               const void *payload, size_t len);
int vfio_user_conn_queue_error(struct vfio_user_conn *c,
                               enum vfio_user_chan chan,
                               const struct vfio_user_header *req, int err);

/* Write @chan's queued bytes without waiting: 0 (queue empty), -EAGAIN
 * (bytes remain, or another thread is writing and flushes after itself),
 * or a send errno (the connection fails). */
int vfio_user_conn_flush(struct vfio_user_conn *c, enum vfio_user_chan chan);

/* Bytes queued on @chan; and whether that reached
 * VFIO_USER_CONN_TXQ_PAUSE (stop reading the peer's commands). */
size_t vfio_user_conn_queued(const struct vfio_user_conn *c,
                             enum vfio_user_chan chan);
bool vfio_user_conn_tx_paused(const struct vfio_user_conn *c,
                              enum vfio_user_chan chan);

/* Per-message deadline, ms (default 0: none). Before any I/O. */
void vfio_user_conn_set_timeout(struct vfio_user_conn *c, uint32_t ms);

/* The earliest deadline (CLOCK_MONOTONIC ms, vfio_user_conn_now_ms())
 * of a partly received message or of a queue that made no progress, or
 * INT64_MAX if none (or no timeout set). *@what (may be NULL) names it. */
int64_t vfio_user_conn_deadline(const struct vfio_user_conn *c,
                                const char **what);

/* CLOCK_MONOTONIC in ms. */
int64_t vfio_user_conn_now_ms(void);

/* Send command @cmd (@flags: 0 or VFIO_USER_F_NO_REPLY) with a fresh id,
 * returned in *@msg_id (may be NULL). */
int vfio_user_conn_send_command(struct vfio_user_conn *c,
                                enum vfio_user_chan chan, uint16_t cmd,
                                uint32_t flags, const void *payload,
                                size_t len, const int *fds, unsigned int nfds,
                                uint16_t *msg_id);

/* Send the successful reply to request @req (same id and command). */
int vfio_user_conn_send_reply(struct vfio_user_conn *c,
                              enum vfio_user_chan chan,
                              const struct vfio_user_header *req,
                              const void *payload, size_t len,
                              const int *fds, unsigned int nfds);

/* Send an error reply (header only, F_ERROR, error = @err > 0) to @req. */
int vfio_user_conn_send_error(struct vfio_user_conn *c,
                              enum vfio_user_chan chan,
                              const struct vfio_user_header *req, int err);

/* ---- receiving --------------------------------------------------------- */

/* Receive one whole message from @chan into @msg and validate it against
 * @exp (vfio_user_msg_validate()). With @nonblock, returns -EAGAIN while
 * the message is not whole yet (the bytes so far are kept for the next
 * call on @chan, whichever thread makes it); without, waits until the
 * deadline (see the top), then -ETIMEDOUT and the connection fails. On
 * error every received fd is closed and @msg holds no fds; *@why names the
 * failed check. */
int vfio_user_conn_recv(struct vfio_user_conn *c, enum vfio_user_chan chan,
                        const struct vfio_user_expect *exp, bool nonblock,
                        struct vfio_user_msg *msg, const char **why);

/* Messages sent (whole, or queued whole for a non-blocking send) and
 * received (whole, valid or refused) on both sockets since
 * vfio_user_conn_new(): monotonic counts, read with relaxed loads
 * (vmm/stats.h); docs/api.md "stats". */
void vfio_user_conn_msg_counts(const struct vfio_user_conn *c,
                               uint64_t *sent, uint64_t *received);

#endif
