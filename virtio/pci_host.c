/* SPDX-License-Identifier: BSD-3-Clause */
/* A virtio-pci function run by the event loop (see pci_host.h). */
#include "virtio/pci_host.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct vh_doorbell {
    struct virtio_host *h;
    uint16_t qidx;
};

struct vh_watch {
    struct virtio_host *h;
    int fd;                         /* -1: free slot */
    uint32_t events;
    void (*fn)(void *model);
    bool in_loop;                   /* added to the event loop */
    bool held;                      /* fired while paused */
};

struct virtio_host {
    struct evloop *loop;
    struct virtio_pci *vp;
    struct virtio_host_model ops;
    void *model;
    uint16_t nq;
    struct vh_doorbell db[VIRTIO_DEV_MAX_QUEUES];
    uint64_t db_watched;            /* bit per queue */
    struct vh_watch w[VIRTIO_HOST_MAX_WATCH];
    /* Between quiesce and resume (snapshot, migration stop) the device
     * must not touch guest RAM or its state: events are held. */
    bool paused;
    uint64_t kicks_held;            /* bit per queue */
};

static void on_doorbell(void *opaque, int fd, uint32_t events)
{
    struct vh_doorbell *db = opaque;
    uint64_t v;

    (void)events;
    if (db->h->paused) {
        if (read(fd, &v, sizeof(v)) < 0) {
            /* EAGAIN: nothing to clear; the kick is held anyway */
        }
        db->h->kicks_held |= 1ULL << db->qidx;
        return;
    }
    virtio_pci_doorbell_ready(db->h->vp, db->qidx);
}

static void run(struct vh_watch *w)
{
    virtio_pci_lock(w->h->vp);
    w->fn(w->h->model);
    virtio_pci_unlock(w->h->vp);
}

static void on_watch(void *opaque, int fd, uint32_t events)
{
    struct vh_watch *w = opaque;

    (void)fd, (void)events;
    if (!w->h->paused) {
        run(w);
        return;
    }
    w->held = true;     /* replayed at resume */
    if (!(w->events & EPOLLET) && evloop_del(w->h->loop, w->fd) == 0)
        w->in_loop = false;     /* level-triggered: would fire again */
}

int virtio_host_create(struct evloop *loop, struct virtio_pci *vp,
                       const struct virtio_host_model *ops, void *model,
                       struct virtio_host **out)
{
    struct virtio_host *h = calloc(1, sizeof(*h));
    int r = 0;

    if (!h)
        return -ENOMEM;
    h->loop = loop;
    h->vp = vp;
    h->model = model;
    if (ops)
        h->ops = *ops;
    for (unsigned int i = 0; i < VIRTIO_HOST_MAX_WATCH; i++)
        h->w[i] = (struct vh_watch){ .h = h, .fd = -1 };
    for (uint16_t i = 0; i < VIRTIO_DEV_MAX_QUEUES && r == 0; i++) {
        int fd = virtio_pci_doorbell_fd(vp, i);

        if (fd < 0)
            break;
        h->db[i] = (struct vh_doorbell){ .h = h, .qidx = i };
        r = evloop_add(loop, fd, EPOLLIN, on_doorbell, &h->db[i]);
        if (r == 0)
            h->db_watched |= 1ULL << i;
        h->nq = (uint16_t)(i + 1);
    }
    if (r) {
        virtio_host_destroy(h);
        return r;
    }
    *out = h;
    return 0;
}

void virtio_host_destroy(struct virtio_host *h)
{
    if (!h)
        return;
    for (uint16_t i = 0; i < h->nq; i++)
        if (h->db_watched & (1ULL << i))
            evloop_del(h->loop, virtio_pci_doorbell_fd(h->vp, i));
    for (unsigned int i = 0; i < VIRTIO_HOST_MAX_WATCH; i++)
        if (h->w[i].fd >= 0 && h->w[i].in_loop)
            evloop_del(h->loop, h->w[i].fd);
    free(h);
}

static struct vh_watch *find(struct virtio_host *h, int fd)
{
    for (unsigned int i = 0; i < VIRTIO_HOST_MAX_WATCH; i++)
        if (h->w[i].fd == fd)
            return &h->w[i];
    return NULL;
}

int virtio_host_watch(struct virtio_host *h, int fd, uint32_t events,
                      void (*fn)(void *model))
{
    struct vh_watch *w = find(h, fd);
    int r;

    if (w)
        return 0;
    w = find(h, -1);
    if (!w)
        return -ENOSPC;
    r = evloop_add(h->loop, fd, events, on_watch, w);
    if (r)
        return r;
    *w = (struct vh_watch){ .h = h, .fd = fd, .events = events, .fn = fn,
                            .in_loop = true };
    return 0;
}

int virtio_host_unwatch(struct virtio_host *h, int fd)
{
    struct vh_watch *w = fd >= 0 ? find(h, fd) : NULL;
    int r = 0;

    if (!w)
        return -ENOENT;
    if (w->in_loop)
        r = evloop_del(h->loop, fd);
    if (r)
        return r;
    *w = (struct vh_watch){ .h = h, .fd = -1 };
    return 0;
}

/* --- the device registry ----------------------------------------------- */

/* Quiesce (event loop, vCPUs stopped): from now on no event reaches the
 * model, then the model drains. */
static int vh_quiesce(void *opaque)
{
    struct virtio_host *h = opaque;
    int r = 0;

    h->paused = true;
    if (h->ops.quiesce) {
        virtio_pci_lock(h->vp);
        r = h->ops.quiesce(h->model);
        virtio_pci_unlock(h->vp);
    }
    return r;
}

/* Resume: the model restarts, then the held events run. */
static int vh_resume(void *opaque)
{
    struct virtio_host *h = opaque;
    int r = 0;

    h->paused = false;
    if (h->ops.resume) {
        virtio_pci_lock(h->vp);
        r = h->ops.resume(h->model);
        virtio_pci_unlock(h->vp);
    }
    for (uint16_t i = 0; i < h->nq; i++)
        if (h->kicks_held & (1ULL << i))
            virtio_pci_doorbell_ready(h->vp, i);
    h->kicks_held = 0;
    for (unsigned int i = 0; i < VIRTIO_HOST_MAX_WATCH; i++) {
        struct vh_watch *w = &h->w[i];

        if (w->fd < 0 || !w->held)
            continue;
        w->held = false;
        if (!w->in_loop &&
            evloop_add(h->loop, w->fd, w->events, on_watch, w) == 0)
            w->in_loop = true;
        run(w);
    }
    return r;
}

static int vh_save(void *opaque, void *fdt, int node)
{
    struct virtio_host *h = opaque;

    return virtio_pci_state_ops.save(h->vp, fdt, node);
}

/* After a load (restore, incoming migration) every queue is kicked once,
 * through its doorbell eventfd, so the event loop processes what the
 * driver made available before the state was saved: a kick that reached
 * the source between the vCPUs' pause and the device's quiesce was held
 * there and is gone with it. Processing an avail ring with nothing new is
 * a no-op (last_avail_idx is part of the state). */
static void kick_all(struct virtio_host *h)
{
    const uint64_t one = 1;

    for (uint16_t i = 0; i < h->nq; i++) {
        int fd = virtio_pci_doorbell_fd(h->vp, i);

        if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
            /* EAGAIN: the counter is saturated, a kick is pending anyway */
        }
    }
}

static int vh_load(void *opaque, const void *fdt, int node)
{
    struct virtio_host *h = opaque;
    int r = virtio_pci_state_ops.load(h->vp, fdt, node);

    if (r == 0)
        kick_all(h);
    return r;
}

static const struct state_ops vh_state_ops = {
    .save = vh_save,
    .load = vh_load,
};

void virtio_pci_devreg_ops(struct virtio_host *h, struct devreg_entry *e)
{
    e->state = &vh_state_ops;
    e->opaque = h;
    e->quiesce = vh_quiesce;
    e->resume = vh_resume;
}
