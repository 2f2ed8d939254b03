/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user command queue; see cmdq.h. */
#include "vfio/proto/cmdq.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct vfio_user_cmdq_node {
    struct vfio_user_cmdq_node *next;
    struct vfio_user_msg msg;
};

void vfio_user_cmdq_init(struct vfio_user_cmdq *q, unsigned int max)
{
    q->head = NULL;
    q->tail = &q->head;
    q->n = 0;
    q->max = max;
}

int vfio_user_cmdq_push(struct vfio_user_cmdq *q, struct vfio_user_msg *m)
{
    struct vfio_user_cmdq_node *d;

    if (q->n >= q->max)
        return -ENOBUFS;
    d = calloc(1, sizeof(*d));
    if (d)
        d->msg.payload = malloc(m->payload_len ? m->payload_len : 1);
    if (!d || !d->msg.payload) {
        free(d);
        return -ENOMEM;
    }
    d->msg.hdr = m->hdr;
    memcpy(d->msg.payload, m->payload, m->payload_len);
    d->msg.payload_cap = d->msg.payload_len = m->payload_len;
    memcpy(d->msg.fds, m->fds, m->nfds * sizeof(int));
    d->msg.nfds = m->nfds;
    m->nfds = 0; /* the fds moved to the copy */
    *q->tail = d;
    q->tail = &d->next;
    q->n++;
    return 0;
}

struct vfio_user_msg *vfio_user_cmdq_pop(struct vfio_user_cmdq *q)
{
    struct vfio_user_cmdq_node *d = q->head;

    if (!d)
        return NULL;
    q->head = d->next;
    if (!q->head)
        q->tail = &q->head;
    q->n--;
    return &d->msg;
}

void vfio_user_cmdq_msg_free(struct vfio_user_msg *m)
{
    if (!m)
        return;
    vfio_user_msg_close_fds(m);
    free(m->payload);
    free((char *)m - offsetof(struct vfio_user_cmdq_node, msg));
}

void vfio_user_cmdq_clear(struct vfio_user_cmdq *q)
{
    struct vfio_user_msg *m;

    while ((m = vfio_user_cmdq_pop(q)))
        vfio_user_cmdq_msg_free(m);
}
