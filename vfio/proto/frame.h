/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user framing: the received-message type and the ONE validation of
 * every received message (no I/O), for the transport (conn.c, chan.c),
 * unit tests and fuzzers.
 *
 * Spec: shared/spec/vfio-user.rst "Header" (msg_size, flags, error),
 * "VFIO_USER_VERSION" (max_msg_fds, max_data_xfer_size).
 *
 * Errors: 0 or a negative errno: -EBADMSG (truncated or malformed
 * framing), -EMSGSIZE (too large), -EPROTO (protocol violation: wrong
 * type/id/command/flags, too many fds, short payload). An error reply from
 * the peer returns -(its errno), or -EIO if it gave none.
 */
#ifndef MINIVMM_VFIO_FRAME_H
#define MINIVMM_VFIO_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/proto/proto.h"

#define VFIO_USER_CONN_MAX_FDS 253u /* SCM_MAX_FD, per message */
#define VFIO_USER_PEER_ERRNO_MAX 4095

/* What a receiver accepts; see vfio_user_msg_validate(). */
#define VFIO_USER_EXPECT_ANY 0xffu /* @type: command or reply */

struct vfio_user_expect {
    uint32_t type;         /* VFIO_USER_F_TYPE_COMMAND/_REPLY, or _ANY */
    uint16_t msg_id;       /* a reply must echo this id */
    uint16_t cmd;          /* reply: must match; command: 0 = any */
    uint32_t min_payload;  /* bytes a successful message carries at least */
    uint32_t max_payload;  /* bytes at most; 0: only @max_msg_size */
    uint32_t max_msg_size; /* bound on msg_size (header included), >= 16 */
    uint32_t max_fds;      /* fds allowed, <= VFIO_USER_CONN_MAX_FDS */
    bool any_reply_id;     /* reply: any msg_id and command; the caller
                            * matches them afterwards (a reply-waiter
                            * table: vfio_user_msg_validate() with the
                            * request's own expectation) */
};

/* A received message. The caller provides @payload/@payload_cap; the fds
 * belong to the caller after a successful receive (take one by setting its
 * slot to -1; vfio_user_msg_close_fds() closes the rest). */
struct vfio_user_msg {
    struct vfio_user_header hdr;
    void *payload;        /* in: buffer (NULL if @payload_cap is 0) */
    uint32_t payload_cap; /* in: bytes available at @payload */
    bool swappable;       /* in: @payload is malloc()ed; a large payload
                           * may come by exchanging buffers (no copy), so
                           * @payload and @payload_cap may change */
    uint32_t payload_len; /* out: hdr.msg_size - 16 */
    int fds[VFIO_USER_CONN_MAX_FDS];
    unsigned int nfds;
};

/* Validate the @len bytes at @hdr (header and payload of one message) that
 * arrived with @nfds fds against @exp. *@why (if non-NULL) gets a static
 * sentence naming the failed check. Returns 0, a transport errno (see the
 * top), or -(peer errno) for a well-formed error reply.
 * Only the header is read: @len counts the bytes received, the payload
 * need not follow @hdr in memory. Order of checks: framing (size bounds,
 * truncation, trailing bytes), flags and type, reply id/command (or
 * command number), fd count, error flag, payload bounds. */
int vfio_user_msg_validate(const struct vfio_user_header *hdr, size_t len,
                           unsigned int nfds,
                           const struct vfio_user_expect *exp,
                           const char **why);

/* The two halves of vfio_user_msg_validate() for a receiver assembling a
 * message: the header checks (size bounds, flags, type: before the
 * payload is read; a failure means the stream cannot be resynchronized)
 * and, once the whole message is in, the body checks (type, reply
 * matching, fds, error flag, payload bounds). Same returns. */
int vfio_user_frame_check_header(const struct vfio_user_header *h,
                                 const struct vfio_user_expect *exp,
                                 const char **why);
int vfio_user_frame_check_body(const struct vfio_user_header *h,
                               unsigned int nfds,
                               const struct vfio_user_expect *exp,
                               const char **why);

/* Close every fd still held in @msg; nfds becomes 0. */
void vfio_user_msg_close_fds(struct vfio_user_msg *msg);

/* Name of command @cmd for messages ("?" if unknown). */
const char *vfio_user_cmd_name(uint16_t cmd);

/* Store static sentence @s in *@why if @why is not NULL. */
static inline void vfio_user_set_why(const char **why, const char *s)
{
    if (why)
        *why = s;
}

#endif
