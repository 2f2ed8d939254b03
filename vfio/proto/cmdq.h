/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user command queue: a bounded FIFO of copied peer commands (payload
 * and fds), for an endpoint that defers the peer's commands while it
 * waits for a reply (spec vfio-user.rst "Command Concurrency": a client
 * may send commands while the server waits for its DMA_READ/WRITE reply).
 * Not thread-safe: the owner locks. Errors: 0 or a negative errno.
 */
#ifndef MINIVMM_VFIO_CMDQ_H
#define MINIVMM_VFIO_CMDQ_H

#include "vfio/proto/frame.h"

struct vfio_user_cmdq_node;

struct vfio_user_cmdq {
    struct vfio_user_cmdq_node *head, **tail;
    unsigned int n, max;
};

/* Empty queue of at most @max messages. */
void vfio_user_cmdq_init(struct vfio_user_cmdq *q, unsigned int max);

/* Copy @m (header, payload_len bytes) to the tail; its fds move (m->nfds
 * becomes 0). -ENOBUFS when full, -ENOMEM; on error @m keeps its fds. */
int vfio_user_cmdq_push(struct vfio_user_cmdq *q, struct vfio_user_msg *m);

/* The oldest message, or NULL; free it with vfio_user_cmdq_msg_free()
 * (closes the fds left, frees the payload). */
struct vfio_user_msg *vfio_user_cmdq_pop(struct vfio_user_cmdq *q);
void vfio_user_cmdq_msg_free(struct vfio_user_msg *m);

/* Drop every message. */
void vfio_user_cmdq_clear(struct vfio_user_cmdq *q);

#endif
