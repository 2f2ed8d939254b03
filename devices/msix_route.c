/* SPDX-License-Identifier: BSD-3-Clause */
/* MSI-X / MSI vectors as MSI routes and irqfds (see msix_route.h). Spec:
 * PCI Local Bus 3.0 §6.8.2 (per-vector mask, pending bits). */
#include "devices/msix_route.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/log.h"

int msix_route_init(struct msix_route *r, const struct hv *hv,
                    unsigned int nvec, const char *name)
{
    int err = 0;

    memset(r, 0, sizeof(*r));
    r->epfd = -1;
    if (nvec == 0 || nvec > MSIX_MAX_VECTORS)
        return -EINVAL;
    r->vec = calloc(nvec, sizeof(*r->vec));
    if (!r->vec)
        return -ENOMEM;
    pthread_mutex_init(&r->lock, NULL);
    r->hv = *hv;
    snprintf(r->name, sizeof(r->name), "%s", name ? name : "msix");
    r->nvec = nvec;
    for (unsigned int i = 0; i < nvec; i++)
        r->vec[i].efd = -1;
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (r->epfd < 0)
        err = -errno;
    for (unsigned int i = 0; !err && i < nvec; i++) {
        r->vec[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        r->vec[i].masked = true;
        if (r->vec[i].efd < 0)
            err = -errno;
    }
    for (unsigned int i = 0; !err && i < nvec; i++)
        msix_route_set(r, i, 0, 0, true);
    if (err)
        msix_route_fini(r);
    return err;
}

static bool have_hv(const struct msix_route *r)
{
    return r->hv.ops != NULL;
}

/* Take @v out of KVM and of the epoll (lock held). */
static void detach(struct msix_route *r, struct msix_route_vec *v)
{
    if (v->irqfd)
        r->hv.ops->irqfd(r->hv.opaque, v->efd, v->gsi, -1, false);
    if (v->polled)
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, v->efd, NULL);
    v->irqfd = v->polled = false;
}

void msix_route_fini(struct msix_route *r)
{
    if (!r->vec)
        return;
    for (unsigned int i = 0; i < r->nvec; i++) {
        struct msix_route_vec *v = &r->vec[i];

        detach(r, v);
        if (v->has_gsi)
            r->hv.ops->msi_del(r->hv.opaque, v->gsi);
        if (v->efd >= 0)
            close(v->efd);
    }
    if (r->epfd >= 0)
        close(r->epfd);
    pthread_mutex_destroy(&r->lock);
    free(r->vec);
    r->vec = NULL;
    r->nvec = 0;
    r->epfd = -1;
}

/* The route carries the vector's message (lock held). */
static int route(struct msix_route *r, struct msix_route_vec *v)
{
    const struct hv_ops *ops = r->hv.ops;
    int e;

    if (!v->has_gsi) {
        e = ops->msi_add(r->hv.opaque, v->addr, v->data, &v->gsi);
        v->has_gsi = e == 0;
    } else if (v->raddr != v->addr || v->rdata != v->data) {
        e = ops->msi_update(r->hv.opaque, v->gsi, v->addr, v->data);
    } else {
        return 0;
    }
    if (e == 0) {
        v->raddr = v->addr;
        v->rdata = v->data;
    }
    return e;
}

/* Unmasked: route it and attach the irqfd, stop watching (lock held). */
static void attach(struct msix_route *r, struct msix_route_vec *v)
{
    int e = 0;

    if (v->polled && epoll_ctl(r->epfd, EPOLL_CTL_DEL, v->efd, NULL) == 0)
        v->polled = false;
    if (!have_hv(r))
        return;
    e = route(r, v);
    if (e) {
        log_warn("minivmm: %s: MSI route: %s\n", r->name, strerror(-e));
        return;
    }
    if (!v->irqfd) {
        e = r->hv.ops->irqfd(r->hv.opaque, v->efd, v->gsi, -1, true);
        v->irqfd = e == 0;
        if (e)
            log_warn("minivmm: %s: irqfd: %s\n", r->name, strerror(-e));
    }
}

/* Masked: irqfd off, eventfd watched (lock held). */
static void park(struct msix_route *r, struct msix_route_vec *v,
                 unsigned int vec)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = vec};

    if (v->irqfd &&
        r->hv.ops->irqfd(r->hv.opaque, v->efd, v->gsi, -1, false) == 0)
        v->irqfd = false;
    if (!v->polled && epoll_ctl(r->epfd, EPOLL_CTL_ADD, v->efd, &ev) == 0)
        v->polled = true;
}

static void apply(struct msix_route *r, unsigned int vec)
{
    struct msix_route_vec *v = &r->vec[vec];

    if (r->suspended)
        return;
    if (v->masked)
        park(r, v, vec);
    else
        attach(r, v);
}

void msix_route_set(struct msix_route *r, unsigned int vec, uint64_t addr,
                    uint32_t data, bool masked)
{
    if (vec >= r->nvec)
        return;
    pthread_mutex_lock(&r->lock);
    r->vec[vec].addr = addr;
    r->vec[vec].data = data;
    r->vec[vec].masked = masked;
    apply(r, vec);
    pthread_mutex_unlock(&r->lock);
}

void msix_route_signal(struct msix_route *r, unsigned int vec)
{
    if (vec < r->nvec && eventfd_write(r->vec[vec].efd, 1) < 0) {
        /* Saturated counter: the interrupt is pending anyway. */
    }
}

int msix_route_fd(const struct msix_route *r, unsigned int vec)
{
    return vec < r->nvec ? r->vec[vec].efd : -1;
}

int msix_route_poll_fd(const struct msix_route *r)
{
    return r->epfd;
}

unsigned int msix_route_take_pending(struct msix_route *r,
                                     void (*pending)(void *opaque,
                                                     unsigned int vec),
                                     void *opaque)
{
    struct epoll_event ev[16];
    unsigned int taken = 0;
    eventfd_t v;
    int n = epoll_wait(r->epfd, ev, 16, 0);

    for (int i = 0; i < n; i++) {
        unsigned int vec = ev[i].data.u32;

        if (vec < r->nvec && eventfd_read(r->vec[vec].efd, &v) == 0) {
            pending(opaque, vec);
            taken++;
        }
    }
    return taken;
}

void msix_route_suspend(struct msix_route *r)
{
    if (!r->vec)
        return;
    pthread_mutex_lock(&r->lock);
    r->suspended = true;
    for (unsigned int i = 0; i < r->nvec; i++)
        detach(r, &r->vec[i]);
    pthread_mutex_unlock(&r->lock);
}

void msix_route_resume(struct msix_route *r)
{
    if (!r->vec)
        return;
    pthread_mutex_lock(&r->lock);
    r->suspended = false;
    for (unsigned int i = 0; i < r->nvec; i++)
        apply(r, i);
    pthread_mutex_unlock(&r->lock);
}

static void ops_changed(void *opaque, unsigned int vec, uint64_t addr,
                        uint32_t data, bool masked)
{
    msix_route_set(opaque, vec, addr, data, masked);
}

static void ops_fire(void *opaque, unsigned int vec, uint64_t addr,
                     uint32_t data)
{
    (void)addr;
    (void)data;
    msix_route_signal(opaque, vec);
}

const struct msix_ops msix_route_msix_ops = {
    .vector_changed = ops_changed,
    .fire = ops_fire,
};
