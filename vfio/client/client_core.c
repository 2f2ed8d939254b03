/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user client core: requests through the endpoint, failure, the
 * event-loop hooks and counters. See client_core.h.
 * Spec: vfio-user.rst "Command Concurrency",
 * "Socket Disconnection Behavior". */
#include "vfio/client/client_core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "vmm/clock.h"
#include "vmm/log.h"

void client_on_fail(void *opaque, const char *what, const char *why)
{
    struct vfio_client *c = opaque;

    log_err("minivmm: vfio-user %s: %s%s; device failed\n", c->name, what,
            why);
    if (c->opts.on_fail)
        c->opts.on_fail(c->opts.opaque);
}

void client_refuse(struct vfio_client *c, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    vfio_user_ep_fail(c->ep, "refusing server: ", buf);
}

void vfio_client_fail(struct vfio_client *c, const char *why)
{
    client_refuse(c, "%s", why);
}

bool vfio_client_failed(const struct vfio_client *c)
{
    return vfio_user_ep_failed(c->ep);
}

const char *vfio_client_name(const struct vfio_client *c)
{
    return c->name;
}

const struct vfio_user_caps *vfio_client_caps(const struct vfio_client *c)
{
    return &c->eff;
}

bool vfio_client_twin(const struct vfio_client *c)
{
    return c->eff.twin_socket;
}

int vfio_client_poll_fd(const struct vfio_client *c)
{
    return vfio_user_ep_poll_fd(c->ep);
}

void vfio_client_handle_ready(struct vfio_client *c)
{
    vfio_user_ep_handle_ready(c->ep);
}

void vfio_client_stats(const struct vfio_client *c,
                       struct vfio_client_stats *out)
{
    out->requests = atomic_load(&c->n_requests);
    out->dma_reads = atomic_load(&c->n_dma_reads);
    out->dma_writes = atomic_load(&c->n_dma_writes);
    out->posted = atomic_load(&c->n_posted);
    out->dma_bytes = atomic_load_explicit(&c->n_dma_bytes,
                                          memory_order_relaxed);
    out->lat_sum_us = atomic_load_explicit(&c->lat_sum_us,
                                           memory_order_relaxed);
    for (unsigned int i = 0; i < VFIO_CLIENT_LAT_BUCKETS; i++)
        out->lat_hist[i] = atomic_load_explicit(&c->lat_hist[i],
                                                memory_order_relaxed);
    vfio_user_conn_msg_counts(vfio_user_ep_conn(c->ep), &out->msgs_sent,
                              &out->msgs_received);
    out->msgs_sent += atomic_load_explicit(&c->msgs_base[0],
                                           memory_order_relaxed);
    out->msgs_received += atomic_load_explicit(&c->msgs_base[1],
                                               memory_order_relaxed);
    out->waits = vfio_user_ep_waits(c->ep);
}

/* One round trip of @us microseconds into the histogram. */
static void count_latency(struct vfio_client *c, uint64_t us)
{
    unsigned int i = 0;

    while (i + 1 < VFIO_CLIENT_LAT_BUCKETS &&
           us >= VFIO_CLIENT_LAT_BOUND_US(i))
        i++;
    atomic_fetch_add_explicit(&c->lat_hist[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->lat_sum_us, us, memory_order_relaxed);
}

int client_call(struct vfio_client *c, struct vfio_user_call *call)
{
    bool posted = call->flags & VFIO_USER_F_NO_REPLY;
    uint64_t t0;
    int r;

    if (vfio_user_ep_failed(c->ep))
        return -ENODEV;
    call->chan = VFIO_USER_CHAN_MAIN;
    atomic_fetch_add(posted ? &c->n_posted : &c->n_requests, 1);
    t0 = clock_now_us();
    r = vfio_user_ep_call(c->ep, call);
    if (r == 0 && !posted)
        count_latency(c, clock_now_us() - t0);
    return r;
}
