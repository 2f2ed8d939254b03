/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user framing: validation of received messages; see frame.h.
 * Spec: vfio-user.rst "Header". */
#include "vfio/proto/frame.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define HDR_SIZE ((uint32_t)sizeof(struct vfio_user_header))

/* ---- validation -------------------------------------------------------- */

/* Framing and flags: what must hold before the payload can be read. */
int vfio_user_frame_check_header(const struct vfio_user_header *h,
                                 const struct vfio_user_expect *exp,
                                 const char **why)
{
    uint32_t type = h->flags & VFIO_USER_F_TYPE_MASK;

    if (h->msg_size < HDR_SIZE) {
        vfio_user_set_why(why, "msg_size smaller than the header");
        return -EBADMSG;
    }
    if (h->msg_size > exp->max_msg_size) {
        vfio_user_set_why(why, "msg_size above the negotiated maximum");
        return -EMSGSIZE;
    }
    if ((h->flags & ~VFIO_USER_F_DEFINED) ||
        (type != VFIO_USER_F_TYPE_COMMAND && type != VFIO_USER_F_TYPE_REPLY)) {
        vfio_user_set_why(why, "undefined flag bits or message type");
        return -EPROTO;
    }
    return 0;
}

static int check_reply(const struct vfio_user_header *h,
                       const struct vfio_user_expect *exp, const char **why)
{
    if (!exp->any_reply_id && h->msg_id != exp->msg_id) {
        vfio_user_set_why(why, "reply msg_id does not match the request");
        return -EPROTO;
    }
    if (!exp->any_reply_id && h->cmd != exp->cmd) {
        vfio_user_set_why(why, "reply command does not match the request");
        return -EPROTO;
    }
    if (h->flags & VFIO_USER_F_NO_REPLY) {
        vfio_user_set_why(why, "no_reply flag set in a reply");
        return -EPROTO;
    }
    return 0;
}

static int check_command(const struct vfio_user_header *h,
                         const struct vfio_user_expect *exp, const char **why)
{
    if (h->flags & VFIO_USER_F_ERROR) {
        vfio_user_set_why(why, "error flag set in a command");
        return -EPROTO;
    }
    if (h->cmd == 0 || (exp->type == VFIO_USER_F_TYPE_COMMAND && exp->cmd &&
                        h->cmd != exp->cmd)) {
        vfio_user_set_why(why, "unexpected command number");
        return -EPROTO;
    }
    return 0;
}

/* Type, matching, fds, error flag, payload size; the whole message is in.
 * With VFIO_USER_EXPECT_ANY, @exp's command and payload bounds are for the
 * reply; a command is only checked for a non-zero number. */
int vfio_user_frame_check_body(const struct vfio_user_header *h,
                               unsigned int nfds,
                               const struct vfio_user_expect *exp,
                               const char **why)
{
    uint32_t type = h->flags & VFIO_USER_F_TYPE_MASK;
    uint32_t plen = h->msg_size - HDR_SIZE;
    int r;

    if (exp->type != VFIO_USER_EXPECT_ANY && type != exp->type) {
        vfio_user_set_why(why, type == VFIO_USER_F_TYPE_REPLY ? "unexpected reply"
                                                    : "unexpected command");
        return -EPROTO;
    }
    r = type == VFIO_USER_F_TYPE_REPLY ? check_reply(h, exp, why)
                                       : check_command(h, exp, why);
    if (r)
        return r;
    if (nfds > exp->max_fds) {
        vfio_user_set_why(why, "more fds than max_msg_fds");
        return -EPROTO;
    }
    if (h->flags & VFIO_USER_F_ERROR) {
        vfio_user_set_why(why, "error reply from peer");
        if (h->error == 0 || h->error > VFIO_USER_PEER_ERRNO_MAX)
            return -EIO;
        return -(int)h->error;
    }
    if (exp->type == VFIO_USER_EXPECT_ANY && type != VFIO_USER_F_TYPE_REPLY)
        return 0;
    if (plen < exp->min_payload) {
        vfio_user_set_why(why, "payload shorter than the message requires");
        return -EPROTO;
    }
    if (exp->max_payload && plen > exp->max_payload) {
        vfio_user_set_why(why, "payload longer than expected");
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

    vfio_user_set_why(why, NULL);
    if (len < HDR_SIZE) {
        vfio_user_set_why(why, "truncated header");
        return -EBADMSG;
    }
    memcpy(&h, hdr, sizeof(h));
    r = vfio_user_frame_check_header(&h, exp, why);
    if (r)
        return r;
    if (len < h.msg_size) {
        vfio_user_set_why(why, "truncated payload");
        return -EBADMSG;
    }
    if (len > h.msg_size) {
        vfio_user_set_why(why, "bytes beyond msg_size");
        return -EBADMSG;
    }
    return vfio_user_frame_check_body(&h, nfds, exp, why);
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

const char *vfio_user_cmd_name(uint16_t cmd)
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
