/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: vfio-user message validation and VERSION capability
 * parsing/negotiation, i.e. everything a hostile peer's bytes reach first.
 *
 * FUZZ_SRCS: vfio/proto/conn.c vfio/proto/caps.c
 * FUZZ_SRCS: vfio/proto/frame.c vfio/proto/chan.c
 * FUZZ_PKGS: json-c
 *
 * Input: a 5-byte control prefix, then the bytes a peer sent.
 *   [0] bits 0-1: expectation (0 command, 1 reply, 2 either, 3 reply with
 *                 a minimum payload); bit 2: also push the bytes through a
 *                 socketpair and vfio_user_conn_recv(); bit 3: the rest is
 *                 raw capability JSON
 *   [1] fd count claimed for the message
 *   [2..3] expected msg_id, [4] expected command
 * Invariants checked (abort on violation): an accepted message has exactly
 * msg_size bytes within bounds and no more fds than allowed; parsed
 * capabilities are in range and survive an encode/parse round trip.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfio/proto/caps.h"
#include "vfio/proto/conn.h"
#include "vfio/proto/proto.h"

#define MAX_MSG 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static void check_caps(const struct vfio_user_caps *c)
{
    struct vfio_user_caps back;
    char *json;

    check(c->max_data_xfer_size >= 1 && c->max_dma_maps >= 1);
    check(c->pgsizes && !(c->pgsizes & 4095));
    check(c->twin_fd_index >= -1 &&
          c->twin_fd_index <= VFIO_USER_CAPS_FD_INDEX_MAX);
    check(!c->migration || (c->mig_pgsize & (c->mig_pgsize - 1)) == 0);
    if (vfio_user_caps_to_json(c, &json))
        return;
    check(vfio_user_caps_parse(json, strlen(json), &back, NULL, 0) == 0);
    /* fd_index is written only with twin_socket. */
    if (!c->twin_socket)
        back.twin_fd_index = c->twin_fd_index;
    check(!memcmp(c, &back, sizeof(back)));
    free(json);
}

static void negotiate(const struct vfio_user_caps *peer, unsigned int nfds)
{
    struct vfio_user_caps mine, out;
    char err[128];

    vfio_user_caps_default(&mine);
    mine.max_msg_fds = 8;
    mine.pgsizes = 4096 | (2u << 20);
    mine.twin_socket = true;
    mine.write_multiple = true;
    if (!vfio_user_caps_negotiate_server(&mine, peer, &out, err, sizeof(err)))
        check_caps(&out);
    if (!vfio_user_caps_check_reply(&mine, peer, nfds, &out, err,
                                    sizeof(err))) {
        check(!out.twin_socket || (out.twin_fd_index >= 0 &&
                                   (unsigned)out.twin_fd_index < nfds));
        check(out.max_msg_fds <= mine.max_msg_fds);
    }
}

static void version(const uint8_t *payload, size_t len, unsigned int nfds)
{
    struct vfio_user_caps caps;
    uint16_t major, minor;
    char err[128];

    if (vfio_user_version_decode(payload, len, &major, &minor, &caps, err,
                                 sizeof(err)))
        return;
    check_caps(&caps);
    negotiate(&caps, nfds);
}

static void make_expect(const uint8_t *ctl, struct vfio_user_expect *e)
{
    static const uint32_t types[4] = {
        VFIO_USER_F_TYPE_COMMAND, VFIO_USER_F_TYPE_REPLY,
        VFIO_USER_EXPECT_ANY, VFIO_USER_F_TYPE_REPLY};

    memset(e, 0, sizeof(*e));
    e->type = types[ctl[0] & 3];
    e->msg_id = (uint16_t)(ctl[2] | ctl[3] << 8);
    e->cmd = ctl[4];
    e->max_msg_size = MAX_MSG;
    e->max_fds = 4;
    if ((ctl[0] & 3) == 3) {
        e->min_payload = 16;
        e->max_payload = 512;
    }
}

/* The same bytes through a real socket and the receive wrapper. */
static void via_socket(const uint8_t *msg, size_t len,
                       const struct vfio_user_expect *e)
{
    struct vfio_user_conn *c;
    struct vfio_user_msg *m;
    uint8_t buf[MAX_MSG];
    int sv[2];

    if (len > 65536 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        return;
    if (write(sv[0], msg, len) != (ssize_t)len ||
        vfio_user_conn_new(sv[1], &c)) {
        close(sv[0]);
        close(sv[1]);
        return;
    }
    shutdown(sv[0], SHUT_WR);
    m = calloc(1, sizeof(*m));
    m->payload = buf;
    m->payload_cap = sizeof(buf);
    while (m && vfio_user_conn_recv(c, VFIO_USER_CHAN_MAIN, e, true, m,
                                    NULL) != -ENOTCONN) {
        if (vfio_user_conn_failed(c))
            break;
        check(m->nfds == 0);
    }
    free(m);
    vfio_user_conn_free(c);
    close(sv[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vfio_user_expect e;
    struct vfio_user_header h;
    const uint8_t *msg = data + 5;
    size_t len = size - 5;
    unsigned int nfds;
    const char *why;
    int r;

    if (size < 5)
        return 0;
    nfds = data[1];
    if (data[0] & 8) {
        struct vfio_user_caps caps;

        if (!vfio_user_caps_parse((const char *)msg, len, &caps, NULL, 0)) {
            check_caps(&caps);
            negotiate(&caps, nfds);
        }
        return 0;
    }
    make_expect(data, &e);
    r = vfio_user_msg_validate((const void *)msg, len, nfds, &e, &why);
    check(r == 0 ? why == NULL : why != NULL);
    if (r == 0) {
        memcpy(&h, msg, sizeof(h));
        check(h.msg_size == len && len >= sizeof(h) && len <= MAX_MSG);
        check(nfds <= e.max_fds);
        if (h.cmd == VFIO_USER_VERSION)
            version(msg + sizeof(h), len - sizeof(h), nfds);
    }
    if (data[0] & 4)
        via_socket(msg, len, &e);
    return 0;
}
