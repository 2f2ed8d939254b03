/* SPDX-License-Identifier: BSD-3-Clause */
/* The VM's virtual IOMMU (see viommu.h; docs/viommu.md). */
#include "minivmm/viommu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/config_types.h"
#include "minivmm/platform.h"
#include "virtio/iommu.h"
#include "vmm/memory.h"

struct viommu_glue {
    const struct viommu_ep_ops *ops;
    void *opaque;
};

struct viommu {
    const struct platform_env *env;
    struct viommu_promise promise;
    struct virtio_iommu *model;     /* set by virtio_devs.c */
    uint16_t bdf;                   /* the virtio-iommu function */
    struct viommu_glue glue[VIOMMU_MAX_ENDPOINTS]; /* by endpoint index */
    uint16_t ep_bdf[VIOMMU_MAX_ENDPOINTS];
    unsigned int nep;
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

int viommu_create(const struct platform_env *env, struct viommu **out,
                  char *err, size_t errlen)
{
    const struct config_viommu *c = &env->cfg->viommu;
    const struct guest_memory *mem = env->mem;
    struct viommu *v;

    (void)err, (void)errlen;
    *out = NULL;
    if (!c->on)
        return 0;
    v = calloc(1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    v->env = env;
    v->promise = (struct viommu_promise){
        .page_size = c->page_size, .input_bits = c->input_bits,
        .bypass_windows = mem->nregions,
    };
    if (mem->nregions) {
        const struct guest_region *g = &mem->regions[mem->nregions - 1];

        v->promise.ram_last = g->gpa + g->size - 1;
    }
    *out = v;
    return 0;
}

void viommu_destroy(struct viommu *v)
{
    free(v); /* the model belongs to its virtio-pci function */
}

void viommu_model_params(const struct viommu *v,
                         struct virtio_iommu_params *p)
{
    *p = (struct virtio_iommu_params){
        .page_size = v->promise.page_size,
        .input_bits = v->promise.input_bits,
        .sink = &glue_sink, .sink_opaque = (void *)v,
    };
}

int viommu_set_device(struct viommu *v, struct virtio_iommu *model,
                      uint16_t bdf)
{
    const struct guest_memory *mem = v->env->mem;
    int r = 0;

    v->model = model;
    v->bdf = bdf;
    for (unsigned int i = 0; r == 0 && i < mem->nregions; i++)
        r = virtio_iommu_add_ram(model, mem->regions[i].gpa,
                                 mem->regions[i].size);
    return r;
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
    if (!v->model) {
        snprintf(err, errlen, "--viommu: no virtio-iommu device yet");
        return -EINVAL;
    }
    /* Glue first: the model may call the sink as soon as it knows it. */
    if (v->nep >= VIOMMU_MAX_ENDPOINTS)
        r = -ENOSPC;
    else
        v->glue[v->nep] = (struct viommu_glue){ ops, opaque };
    if (r == 0)
        r = virtio_iommu_add_ep(v->model, bdf, host);
    if (r >= 0) {
        v->ep_bdf[v->nep++] = bdf;
        return 0;
    }
    snprintf(err, errlen, "--viommu: %s: cannot attach: %s", host->name,
             r == -ENOSPC ? "too many endpoints" : strerror(-r));
    return r;
}

int viommu_translate(struct viommu *v, uint16_t bdf, uint64_t iova,
                     uint64_t len, uint32_t prot, uint64_t *gpa, bool report)
{
    return virtio_iommu_translate(v->model, bdf, iova, len, prot, gpa,
                                  report);
}

void viommu_report_fault(struct viommu *v, uint16_t bdf, uint64_t iova,
                         uint32_t prot)
{
    virtio_iommu_report_fault(v->model, bdf, iova, prot);
}

unsigned int viommu_topology(const struct viommu *v, uint16_t *iommu_bdf,
                             uint16_t *eps, unsigned int max)
{
    unsigned int n = v->nep < max ? v->nep : max;

    *iommu_bdf = v->bdf;
    memcpy(eps, v->ep_bdf, n * sizeof(*eps));
    return n;
}
