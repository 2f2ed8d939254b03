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

struct vfio_devs {
    const struct platform_env *env;
    struct vfio_pci *dev[CONFIG_MAX_VFIO];
    struct vfio_viommu_ep ep[CONFIG_MAX_VFIO]; /* behind --viommu */
    bool watched[CONFIG_MAX_VFIO];
    unsigned int n;
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
 * (the 1:1 map vfio_pci_create() sent). */
static int attach_viommu(struct vfio_devs *ds, unsigned int i, char *err,
                         size_t errlen)
{
    const struct config_vfio *c = &ds->env->cfg->vfio[i];
    struct host_iommu_dev h;

    if (!ds->env->viommu || c->iommu_off)
        return 0;
    vfio_viommu_host_dev(vfio_pci_client(ds->dev[i]), c->id, &h);
    ds->ep[i].bdf = vfio_pci_bdf(ds->dev[i]);
    ds->ep[i].client = vfio_pci_client(ds->dev[i]);
    return viommu_attach(ds->env->viommu, vfio_pci_bdf(ds->dev[i]), &h,
                         &vfio_viommu_ep_ops, &ds->ep[i], err, errlen);
}

int vfio_devs_create(const struct platform_env *env, struct pci_bus *pci,
                     struct vfio_devs **out, char *err, size_t errlen)
{
    struct vfio_devs *ds = calloc(1, sizeof(*ds));
    struct vfio_pci_env penv = {.bus = pci, .hv = env->hv, .mem = env->mem};
    int r = 0;

    *out = ds;
    if (!ds)
        return -ENOMEM;
    ds->env = env;
    for (unsigned int i = 0; r == 0 && i < env->cfg->nvfio; i++) {
        const struct config_vfio *c = &env->cfg->vfio[i];
        struct vfio_pci_opts o = {
            .name = c->id, .socket = c->socket, .sock_fd = -1,
            .dma_message = c->dma_message, .reconnect = c->reconnect,
            .timeout_ms = c->timeout_ms, .posted_writes = true,
        };

        if (env->viommu && !c->iommu_off) {
            ds->ep[i] = (struct vfio_viommu_ep){
                .mem = env->mem, .dma_message = c->dma_message,
                .viommu = env->viommu, .id = c->id,
            };
            o.check_dma = vfio_viommu_check;
            o.check_opaque = &ds->ep[i];
            o.on_dma_fault = vfio_viommu_fault;
        }

        r = vfio_pci_create(&penv, &o, &ds->dev[i], err, errlen);
        if (r)
            break;
        ds->n++;
        r = attach_viommu(ds, i, err, errlen);
        if (r)
            break;
        r = join_registry(env, ds->dev[i], c->id, err, errlen);
        if (r)
            break;
        r = evloop_add(env->loop, vfio_pci_poll_fd(ds->dev[i]), EPOLLIN,
                       on_ready, ds->dev[i]);
        ds->watched[i] = r == 0;
        if (r)
            snprintf(err, errlen, "vfio-user %s: event loop: %s", c->id,
                     strerror(-r));
    }
    return r;
}

unsigned int vfio_devs_count(const struct vfio_devs *ds)
{
    return ds ? ds->n : 0;
}

struct vfio_pci *vfio_devs_get(struct vfio_devs *ds, unsigned int i)
{
    return ds && i < ds->n ? ds->dev[i] : NULL;
}

void vfio_devs_destroy(struct vfio_devs *ds)
{
    char bid[DEVREG_ID_MAX];

    if (!ds)
        return;
    for (unsigned int i = 0; i < ds->n; i++) {
        if (ds->watched[i])
            evloop_del(ds->env->loop, vfio_pci_poll_fd(ds->dev[i]));
        snprintf(bid, sizeof(bid), "vfio-user@%s", ds->env->cfg->vfio[i].id);
        devreg_del(ds->env->devs, bid);
        vfio_pci_destroy(ds->dev[i]);
    }
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

void vfio_devs_stats(struct vfio_devs *ds, struct json_object *arr)
{
    for (unsigned int i = 0; ds && i < ds->n; i++) {
        struct vfio_client *c = ds->dev[i] ? vfio_pci_client(ds->dev[i]) :
                                NULL;
        struct json_object *o, *v, *d;
        struct vfio_client_stats st;

        if (!c)
            continue;
        vfio_client_stats(c, &st);
        o = json_object_new_object();
        v = json_object_new_object();
        d = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(
                                   ds->env->cfg->vfio[i].id));
        json_object_object_add(o, "kind", json_object_new_string("vfio-user"));
        stats_put(v, "round_trips", st.requests);
        stats_put(v, "posted", st.posted);
        json_object_object_add(v, "latency", latency_json(&st));
        json_object_object_add(o, "vfio_user", v);
        stats_put(d, "messages", st.dma_reads + st.dma_writes);
        stats_put(d, "reads", st.dma_reads);
        stats_put(d, "writes", st.dma_writes);
        stats_put(d, "bytes", st.dma_bytes);
        json_object_object_add(o, "dma", d);
        json_object_array_add(arr, o);
    }
}
