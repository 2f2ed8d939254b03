/* SPDX-License-Identifier: BSD-3-Clause */
/* The VM's virtual IOMMU (see viommu.h; docs/viommu.md): a facade over
 * the virtio-iommu (virtio/iommu.h, this file) and the VT-d unit
 * (minivmm/viommu_vtd.c). */
#include "minivmm/viommu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/config_types.h"
#include "minivmm/platform.h"
#include "minivmm/viommu_vtd.h"
#include "virtio/iommu.h"
#include "vmm/memory.h"

struct viommu_glue {
    const struct viommu_ep_ops *ops;
    void *opaque;
};

_Static_assert(VTD_MAX_ENDPOINTS <= VIOMMU_MAX_ENDPOINTS, "glue");

struct viommu {
    const struct platform_env *env;
    struct viommu_vtd *vtd;         /* --viommu intel, else NULL */
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

/* The VT-d unit's endpoint ops: the same calls, the glue as opaque. */
static int vtd_glue_map(void *opaque, uint64_t iova, uint64_t last,
                        uint64_t gpa, uint32_t perm)
{
    struct viommu_glue *g = opaque;

    return g->ops->map ? g->ops->map(g->opaque, iova, last, gpa, perm) : 0;
}

static void vtd_glue_unmap(void *opaque, uint64_t iova, uint64_t last)
{
    struct viommu_glue *g = opaque;

    if (g->ops->unmap)
        g->ops->unmap(g->opaque, iova, last);
}

static const struct vtd_ep_ops vtd_glue_ops = { vtd_glue_map,
                                                vtd_glue_unmap };

int viommu_create(const struct platform_env *env, struct viommu **out,
                  char *err, size_t errlen)
{
    const struct config_viommu *c = &env->cfg->viommu;
    const struct guest_memory *mem = env->mem;
    struct viommu *v;

    *out = NULL;
    if (!c->on)
        return 0;
    v = calloc(1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    v->env = env;
    if (c->model == CONFIG_VIOMMU_INTEL) {
        int r = viommu_vtd_create(env, &v->vtd, err, errlen);

        if (r < 0) {
            free(v);
            return r;
        }
        *out = v;
        return 0;
    }
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
    if (v)
        viommu_vtd_destroy(v->vtd);
    free(v); /* the virtio model belongs to its virtio-pci function */
}

bool viommu_has_device(const struct viommu *v)
{
    return v && !v->vtd;
}

void viommu_stats(struct viommu *v, struct json_object *arr)
{
    if (v && v->vtd)
        viommu_vtd_stats(v->vtd, arr);
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
    if (v->vtd)
        return viommu_vtd_check(v->vtd, host, err, errlen);
    /* A mismatch is the user's options not fitting: exit 2 (main.c). */
    return host_iommu_check(&v->promise, host, err, errlen) ? -EINVAL : 0;
}

/* VT-d: the glue entry is the endpoint's opaque; no ops, no glue. */
static int attach_vtd(struct viommu *v, uint16_t bdf,
                      const struct host_iommu_dev *host,
                      const struct viommu_ep_ops *ops, void *opaque,
                      char *err, size_t errlen)
{
    struct viommu_glue *g = NULL;
    int r;

    if (v->nep >= VTD_MAX_ENDPOINTS) {
        snprintf(err, errlen, "--viommu intel: %s: cannot attach: too many "
                 "endpoints", host->name);
        return -ENOSPC;
    }
    if (ops) {
        g = &v->glue[v->nep];
        *g = (struct viommu_glue){ ops, opaque };
    }
    r = viommu_vtd_attach(v->vtd, bdf, host, ops ? &vtd_glue_ops : NULL, g,
                          err, errlen);
    if (r == 0 && v->nep < VIOMMU_MAX_ENDPOINTS)
        v->ep_bdf[v->nep++] = bdf;
    return r;
}

int viommu_attach(struct viommu *v, uint16_t bdf,
                  const struct host_iommu_dev *host,
                  const struct viommu_ep_ops *ops, void *opaque, char *err,
                  size_t errlen)
{
    int r;

    if (v->vtd)
        return attach_vtd(v, bdf, host, ops, opaque, err, errlen);
    r = viommu_check(v, host, err, errlen);
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
    if (v->vtd)
        return viommu_vtd_translate(v->vtd, bdf, iova, len, prot, gpa,
                                    report);
    return virtio_iommu_translate(v->model, bdf, iova, len, prot, gpa,
                                  report);
}

void viommu_report_fault(struct viommu *v, uint16_t bdf, uint64_t iova,
                         uint32_t prot)
{
    if (v->vtd)
        viommu_vtd_report_fault(v->vtd, bdf, iova, prot);
    else
        virtio_iommu_report_fault(v->model, bdf, iova, prot);
}

unsigned int viommu_topology(const struct viommu *v, uint16_t *iommu_bdf,
                             uint16_t *eps, unsigned int max)
{
    unsigned int n = v->nep < max ? v->nep : max;

    *iommu_bdf = v->bdf;
    if (v->vtd)
        return 0; /* the DMAR covers every PCI device: no VIOT */
    memcpy(eps, v->ep_bdf, n * sizeof(*eps));
    return n;
}
