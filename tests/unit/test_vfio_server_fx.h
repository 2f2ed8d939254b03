/* SPDX-License-Identifier: BSD-3-Clause */
/* The client side of the vfio-user server unit tests (test_vfio_server.c,
 * test_vfio_server_v1.c): a connection over a socketpair attached to the
 * server under test, and one request/reply that lets the server run in
 * between. Included by one test file each. */
#ifndef TEST_VFIO_SERVER_FX_H
#define TEST_VFIO_SERVER_FX_H

#include <stdint.h>
#include <sys/socket.h>

#include "vfio/proto/conn.h"
#include "vfio/server/server.h"

struct srv_client {
    struct vfio_srv *srv;      /* the server under test */
    struct vfio_user_conn *c;  /* our end */
    struct vfio_user_msg rep;  /* the last reply (payload in @buf) */
    uint8_t buf[1 << 17];
};

/* Connect a socketpair: one end attached to @k->srv, the other ours. */
static inline void srv_client_attach(struct srv_client *k)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(vfio_srv_attach(k->srv, sv[1]), 0);
    assert_int_equal(vfio_user_conn_new(sv[0], &k->c), 0);
}

/* Close the reply's fds, destroy the server and our end. */
static inline void srv_client_free(struct srv_client *k)
{
    vfio_user_msg_close_fds(&k->rep);
    vfio_srv_destroy(k->srv);
    vfio_user_conn_free(k->c);
}

/* Send @cmd, let the server run, read the reply into k->rep/k->buf:
 * 0, -(server errno) or a transport errno. */
static inline int srv_client_call(struct srv_client *k, uint16_t cmd,
                                  const void *pl, size_t len,
                                  const int *fds, unsigned int nfds)
{
    struct vfio_user_expect exp;
    uint16_t id;
    int r;

    vfio_user_msg_close_fds(&k->rep);
    r = vfio_user_conn_send_command(k->c, VFIO_USER_CHAN_MAIN, cmd, 0, pl,
                                    len, fds, nfds, &id);
    if (r)
        return r;
    r = vfio_srv_handle_ready(k->srv);
    if (r && r != -ENOTCONN)
        return r;
    vfio_user_conn_expect_reply(k->c, cmd, id, &exp);
    k->rep.payload = k->buf;
    k->rep.payload_cap = sizeof(k->buf);
    return vfio_user_conn_recv(k->c, VFIO_USER_CHAN_MAIN, &exp, true,
                               &k->rep, NULL);
}

#endif
