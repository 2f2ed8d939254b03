/* SPDX-License-Identifier: BSD-3-Clause */
/* The VM's virtual IOMMU (see viommu.h; docs/viommu.md). */
#include "minivmm/viommu.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/config.h"
#include "minivmm/platform.h"
#include "virtio/iommu_dom.h"
#include "vmm/memory.h"

struct viommu_glue {
    const struct viommu_ep_ops *ops;
    void *opaque;
};

struct viommu {
    const struct platform_env *env;
    struct viommu_promise promise;
    pthread_mutex_t lock;           /* dom, for translate vs requests */
    struct viommu_dom dom;
    struct viommu_glue glue[VIOMMU_MAX_ENDPOINTS];
};

/* Sink of the domain state: forward to the endpoint's DMA backend. */
static int glue_map(void *opaque, unsigned int ep, const struct viommu_map *m)
{
    struct viommu *v = opaque;
    struct viommu_glue *g = &v->glue[ep];

    if (!g->ops || !g->ops->map)
        return 0;
    return g->ops->map(g->opaque, m->start, m->last, m->phys, m->flags & 3);
}

static void glue_unmap(void *opaque, unsigned int ep,
                       const struct viommu_map *m)
{
    struct viommu *v = opaque;
    struct viommu_glue *g = &v->glue[ep];

    if (g->ops && g->ops->unmap)
        g->ops->unmap(g->opaque, m->start, m->last);
}

static const struct viommu_sink glue_sink = { glue_map, glue_unmap };

static int setup_dom(struct viommu *v, char *err, size_t errlen)
{
    const struct config_viommu *c = &v->env->cfg->viommu;
    const struct guest_memory *mem = v->env->mem;
    int r = 0;

    viommu_dom_init(&v->dom, c->page_size, c->input_bits, &glue_sink, v);
    v->promise = (struct viommu_promise){
        .page_size = c->page_size, .input_bits = c->input_bits,
        .bypass_windows = mem->nregions,
    };
    for (unsigned int i = 0; r == 0 && i < mem->nregions; i++) {
        const struct guest_region *g = &mem->regions[i];

        r = viommu_dom_add_ram(&v->dom, g->gpa, g->size);
        v->promise.ram_last = g->gpa + g->size - 1;
    }
    if (r)
        snprintf(err, errlen, "--viommu: guest RAM layout: %s",
                 strerror(-r));
    return r;
}

int viommu_create(const struct platform_env *env, struct pci_bus *pci,
                  struct viommu **out, char *err, size_t errlen)
{
    struct viommu *v;
    int r;

    (void)pci;
    *out = NULL;
    if (!env->cfg->viommu.on)
        return 0;
    v = calloc(1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    v->env = env;
    pthread_mutex_init(&v->lock, NULL);
    r = setup_dom(v, err, errlen);
    if (r) {
        viommu_destroy(v);
        return r;
    }
    *out = v;
    return 0;
}

void viommu_destroy(struct viommu *v)
{
    if (!v)
        return;
    viommu_dom_fini(&v->dom);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

int viommu_check(const struct viommu *v, const struct host_iommu_dev *host,
                 char *err, size_t errlen)
{
    /* A mismatch is the user's options not fitting: exit 2 (main.c). */
    return host_iommu_check(&v->promise, host, err, errlen) ? -EINVAL : 0;
}

int viommu_attach(struct viommu *v, uint16_t bdf,
                  const struct host_iommu_dev *host,
                  const struct viommu_ep_ops *ops, void *opaque, char *err,
                  size_t errlen)
{
    int r = viommu_check(v, host, err, errlen);

    if (r)
        return r;
    pthread_mutex_lock(&v->lock);
    r = viommu_dom_add_ep(&v->dom, bdf, host);
    if (r >= 0)
        v->glue[r] = (struct viommu_glue){ ops, opaque };
    pthread_mutex_unlock(&v->lock);
    if (r < 0) {
        snprintf(err, errlen, "--viommu: %s: cannot attach: %s", host->name,
                 r == -ENOSPC ? "too many endpoints" : strerror(-r));
        return r;
    }
    return 0;
}

int viommu_translate(struct viommu *v, uint16_t bdf, uint64_t iova,
                     uint64_t len, uint32_t prot, uint64_t *gpa)
{
    int e, r;

    pthread_mutex_lock(&v->lock);
    e = viommu_dom_find_ep(&v->dom, bdf);
    r = e < 0 ? -ENOENT : viommu_dom_translate(&v->dom, (unsigned int)e,
                                               iova, len, prot, gpa);
    pthread_mutex_unlock(&v->lock);
    return r;
}
