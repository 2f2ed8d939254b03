/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user devices of the VM (see vfio_devs.h). */
#include "minivmm/vfio_devs.h"
#include "vmm/devreg.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "vfio/client/client.h"
#include "vfio/pci/pci_dev.h"
#include "vmm/stats.h"
#include "vmm/state.h"
#include "vmm/evloop.h"
#include "minivmm/platform.h"
#include "minivmm/vfio_viommu.h"

/* One device; entries of removed devices are reused (dev NULL). */
struct vfio_ent {
    struct vfio_pci *dev;
    bool watched;
    bool joined;               /* in the device registry */
    struct config_vfio c;      /* its options (id, socket, slot taken) */
    struct vfio_viommu_ep ep;  /* behind --viommu */
    bool attached;             /* a vIOMMU endpoint (cannot be removed) */
};

struct vfio_devs {
    const struct platform_env *env;
    struct pci_bus *pci;
    struct vfio_ent e[CONFIG_MAX_VFIO];
    unsigned int n;            /* entries in use or used: [0, n) */
};

static void on_ready(void *opaque, int fd, uint32_t events)
{
    (void)fd;
    (void)events;
    vfio_pci_handle_ready(opaque);
}

static int dev_quiesce(void *opaque)
{
    return vfio_pci_quiesce(opaque);
}

static int dev_resume(void *opaque)
{
    return vfio_pci_resume(opaque);
}

static int dirty_start(void *opaque)
{
    return vfio_pci_dirty_start(opaque);
}

static int dirty_sync(void *opaque, uint64_t *bits, uint64_t npages,
                      uint64_t *count)
{
    return vfio_pci_dirty_sync(opaque, bits, npages, count);
}

static int dirty_stop(void *opaque)
{
    return vfio_pci_dirty_stop(opaque);
}

/* Live migration merges the pages the server writes (its DMA logging)
 * into the migration's dirty pages (minivmm/persist/migration_run.c). */
static const struct devreg_dirty_ops vfio_dirty_ops = {
    .start = dirty_start, .sync = dirty_sync, .stop = dirty_stop,
};

/* Snapshots and live migration include the device (vfio/pci_dev.h: client
 * state and the server's migration stream; DMA dirty logging during
 * pre-copy). A server without migration support blocks both. */
static int join_registry(const struct platform_env *env, struct vfio_pci *d,
                         const char *id, char *err, size_t errlen)
{
    struct devreg_entry e = {
        .state = &vfio_pci_state_ops, .opaque = d,
        .quiesce = dev_quiesce, .resume = dev_resume,
        .dirty = &vfio_dirty_ops,
    };
    char bid[DEVREG_ID_MAX];
    uint64_t f = 0;
    int r;

    snprintf(bid, sizeof(bid), "vfio-user@%s", id);
    e.id = bid;
    r = devreg_add(env->devs, &e);
    if (r) {
        snprintf(err, errlen, "vfio-user %s: device registry: %s", id,
                 strerror(-r));
        return r;
    }
    if (vfio_pci_mig_flags(d, &f) == 0 && !f)
        devreg_add_blocker(env->devs, bid, "its vfio-user server does not "
                           "support migration");
    return 0;
}

/* Behind --viommu (unless iommu=off): the host IOMMU device from the
 * server's capabilities is checked and the device attached, in bypass
 * (the 1:1 map vfio_pci_create() sent). A hot-added device is checked
 * (vfio_viommu_check() in vfio_pci_create()) but not attached: the
 * guest's VIOT, written at start, does not name it, and an endpoint
 * cannot be detached again; it keeps the identity map. */
static int attach_viommu(struct vfio_devs *ds, struct vfio_ent *x,
                         char *err, size_t errlen)
{
    struct host_iommu_dev h;

    vfio_viommu_host_dev(vfio_pci_client(x->dev), x->c.id, &h);
    x->ep.bdf = vfio_pci_bdf(x->dev);
    x->ep.client = vfio_pci_client(x->dev);
    x->attached = true;
    return viommu_attach(ds->env->viommu, vfio_pci_bdf(x->dev), &h,
                         &vfio_viommu_ep_ops, &x->ep, err, errlen);
}
/* {"event":"vfio-user","id":NAME,"state":failed|gave-up|reconnected} */
static void on_server_event(void *opaque, const char *name, const char *st)
{
    const struct platform_env *env = opaque;
    struct json_object *ev;

    if (!env->event)
        return;
    ev = json_object_new_object();
    json_object_object_add(ev, "event", json_object_new_string("vfio-user"));
    json_object_object_add(ev, "id", json_object_new_string(name));
    json_object_object_add(ev, "state", json_object_new_string(st));
    env->event(env->event_opaque, ev);
    json_object_put(ev);
}

/* Connect @c's server, put the device on the bus and in the registry,
 * watch it. Fills entry @x; 0 or -errno with the reason in @err. */
static int ent_create(struct vfio_devs *ds, struct vfio_ent *x,
                      const struct config_vfio *c, bool hotplug, char *err,
                      size_t errlen)
{
    const struct platform_env *env = ds->env;
    struct vfio_pci_env penv = {.bus = ds->pci, .hv = env->hv,
                                .mem = env->mem};
    struct vfio_pci_opts o = {
        .name = c->id, .socket = c->socket, .sock_fd = -1,
        .dma_message = c->dma_message, .reconnect = c->reconnect,
        .timeout_ms = c->timeout_ms, .posted_writes = true,
        .slot = c->slot, .hotplug = hotplug,
        .on_event = on_server_event, .event_opaque = (void *)env,
    };
    int r;

    memset(x, 0, sizeof(*x));
    x->c = *c;
    if (env->viommu && !c->iommu_off) {
        x->ep = (struct vfio_viommu_ep){
            .mem = env->mem, .dma_message = c->dma_message,
            .viommu = env->viommu, .id = x->c.id,
        };
        o.check_dma = vfio_viommu_check;
        o.check_opaque = &x->ep;
        o.on_dma_fault = vfio_viommu_fault;
    }
    r = vfio_pci_create(&penv, &o, &x->dev, err, errlen);
    if (r)
        return r;
    x->c.slot = vfio_pci_slot(x->dev);
    if (env->viommu && !c->iommu_off && !hotplug) {
        r = attach_viommu(ds, x, err, errlen);
        if (r)
            return r;
    }
    r = join_registry(env, x->dev, c->id, err, errlen);
    x->joined = r == 0;
    if (r)
        return r;
    r = evloop_add(env->loop, vfio_pci_poll_fd(x->dev), EPOLLIN, on_ready,
                   x->dev);
    x->watched = r == 0;
    if (r)
        snprintf(err, errlen, "vfio-user %s: event loop: %s", c->id,
                 strerror(-r));
    return r;
}

static void ent_destroy(struct vfio_devs *ds, struct vfio_ent *x)
{
    char bid[DEVREG_ID_MAX];

    if (x->watched)
        evloop_del(ds->env->loop, vfio_pci_poll_fd(x->dev));
    if (x->joined) {
        snprintf(bid, sizeof(bid), "vfio-user@%s", x->c.id);
        devreg_del(ds->env->devs, bid);
    }
    vfio_pci_destroy(x->dev);
    memset(x, 0, sizeof(*x));
}

int vfio_devs_create(const struct platform_env *env, struct pci_bus *pci,
                     struct vfio_devs **out, char *err, size_t errlen)
{
    struct vfio_devs *ds = calloc(1, sizeof(*ds));
    int r = 0;

    *out = ds;
    if (!ds)
        return -ENOMEM;
    ds->env = env;
    ds->pci = pci;
    for (unsigned int i = 0; r == 0 && i < env->cfg->nvfio; i++) {
        r = ent_create(ds, &ds->e[i], &env->cfg->vfio[i], false, err,
                       errlen);
        ds->n = i + 1;
    }
    return r;
}

int vfio_devs_add(struct vfio_devs *ds, const struct config_vfio *c,
                  unsigned int *slot, char *err, size_t errlen)
{
    unsigned int i = 0;
    int r;

    while (i < ds->n && ds->e[i].dev)
        i++;
    if (i == CONFIG_MAX_VFIO) {
        snprintf(err, errlen, "at most %d vfio-user devices",
                 CONFIG_MAX_VFIO);
        return -ENOSPC;
    }
    r = ent_create(ds, &ds->e[i], c, true, err, errlen);
    if (r) {
        if (ds->e[i].dev)
            ent_destroy(ds, &ds->e[i]);
        return r;
    }
    if (i == ds->n)
        ds->n++;
    *slot = ds->e[i].c.slot;
    return 0;
}

int vfio_devs_find(const struct vfio_devs *ds, const char *id,
                   unsigned int *slot)
{
    for (unsigned int i = 0; ds && i < ds->n; i++) {
        if (ds->e[i].dev && !strcmp(ds->e[i].c.id, id)) {
            *slot = ds->e[i].c.slot;
            return 0;
        }
    }
    return -ENOENT;
}

int vfio_devs_remove(struct vfio_devs *ds, const char *id)
{
    for (unsigned int i = 0; ds && i < ds->n; i++) {
        if (ds->e[i].dev && !strcmp(ds->e[i].c.id, id)) {
            vfio_pci_release(ds->e[i].dev);
            ent_destroy(ds, &ds->e[i]);
            return 0;
        }
    }
    return -ENOENT;
}

bool vfio_devs_attached(const struct vfio_devs *ds, const char *id)
{
    for (unsigned int i = 0; ds && i < ds->n; i++)
        if (ds->e[i].dev && !strcmp(ds->e[i].c.id, id))
            return ds->e[i].attached;
    return false;
}

unsigned int vfio_devs_slot_of(const struct vfio_devs *ds, unsigned int i)
{
    return ds && i < ds->n && ds->e[i].dev ? ds->e[i].c.slot : 0;
}

unsigned int vfio_devs_count(const struct vfio_devs *ds)
{
    return ds ? ds->n : 0;
}

struct vfio_pci *vfio_devs_get(struct vfio_devs *ds, unsigned int i)
{
    return ds && i < ds->n ? ds->e[i].dev : NULL;
}

void vfio_devs_destroy(struct vfio_devs *ds)
{
    if (!ds)
        return;
    for (unsigned int i = 0; i < ds->n; i++)
        if (ds->e[i].dev)
            ent_destroy(ds, &ds->e[i]);
    free(ds);
}

static struct json_object *latency_json(const struct vfio_client_stats *st)
{
    struct json_object *l = json_object_new_object();
    struct json_object *h = json_object_new_array();

    for (unsigned int i = 0; i < VFIO_CLIENT_LAT_BUCKETS; i++) {
        struct json_object *b = json_object_new_object();

        if (i + 1 < VFIO_CLIENT_LAT_BUCKETS)
            stats_put(b, "lt_us", VFIO_CLIENT_LAT_BOUND_US(i));
        else
            json_object_object_add(b, "lt_us", NULL);
        stats_put(b, "count", st->lat_hist[i]);
        json_object_array_add(h, b);
    }
    stats_put(l, "sum_us", st->lat_sum_us);
    json_object_object_add(l, "histogram", h);
    return l;
}

/* vfio_user.messages {sent, received} and vfio_user.wakeups (issue 16:
 * what the I/O path avoids). */
static void vfio_devs_stats_more(struct json_object *v,
                                 const struct vfio_client_stats *st)
{
    struct json_object *m = json_object_new_object();

    stats_put(m, "sent", st->msgs_sent);
    stats_put(m, "received", st->msgs_received);
    json_object_object_add(v, "messages", m);
    stats_put(v, "wakeups", st->waits);
}

uint64_t vfio_devs_stats(struct vfio_devs *ds, struct json_object *arr)
{
    uint64_t waits = 0;

    for (unsigned int i = 0; ds && i < ds->n; i++) {
        struct vfio_client *c = ds->e[i].dev ? vfio_pci_client(ds->e[i].dev)
                                             : NULL;
        struct json_object *o, *v, *d;
        struct vfio_client_stats st;

        if (!c)
            continue;
        vfio_client_stats(c, &st);
        o = json_object_new_object();
        v = json_object_new_object();
        d = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(
                                   ds->e[i].c.id));
        json_object_object_add(o, "kind", json_object_new_string("vfio-user"));
        stats_put(v, "round_trips", st.requests);
        stats_put(v, "posted", st.posted);
        vfio_devs_stats_more(v, &st);
        waits += st.waits;
        json_object_object_add(v, "latency", latency_json(&st));
        json_object_object_add(o, "vfio_user", v);
        stats_put(d, "messages", st.dma_reads + st.dma_writes);
        stats_put(d, "reads", st.dma_reads);
        stats_put(d, "writes", st.dma_writes);
        stats_put(d, "bytes", st.dma_bytes);
        json_object_object_add(o, "dma", d);
        json_object_array_add(arr, o);
    }
    return waits;
}
