/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user server core: the reply helper of every command handler; see
 * server_core.h. Spec: vfio-user.rst "Header" (no_reply). */
#include "vfio/server/server_core.h"

int srv_reply(struct vfio_srv *s, struct vfio_user_msg *m,
              const void *payload, size_t len, const int *fds,
              unsigned int nfds)
{
    if (m->hdr.flags & VFIO_USER_F_NO_REPLY)
        return 0;
    return vfio_user_conn_send_reply(s->conn, VFIO_USER_CHAN_MAIN, &m->hdr,
                                     payload, len, fds, nfds);
}
