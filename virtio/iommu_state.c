/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-iommu state for snapshots and migration (see iommu.h): the
 * virtio_dev state, the config bypass field, every live domain with its
 * mappings, and which domain each endpoint is attached to. Load replays
 * them as ATTACH/MAP requests, so each endpoint's DMA backend (a vfio-user
 * server) gets its mappings again before any vCPU runs. */
#include "virtio/iommu_priv.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>

#include "virtio/iommu_proto.h"
#include "vmm/endian.h"

#define MAP_REC 28u /* start, last, phys (le64), flags (le32) */

static int save_domain(const struct viommu_domain *d, void *fdt, int node,
                       unsigned int id)
{
    char name[24];
    uint8_t *buf;
    int sub, r;

    snprintf(name, sizeof(name), "domain@%u", id);
    sub = fdt_subnode_offset(fdt, node, name);
    if (sub < 0)
        sub = fdt_add_subnode(fdt, node, name);
    if (sub < 0)
        return sub == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
    buf = malloc(d->n ? d->n * MAP_REC : 1);
    if (!buf)
        return -ENOMEM;
    for (size_t i = 0; i < d->n; i++) {
        le64_store(buf + i * MAP_REC, d->m[i].start);
        le64_store(buf + i * MAP_REC + 8, d->m[i].last);
        le64_store(buf + i * MAP_REC + 16, d->m[i].phys);
        le32_store(buf + i * MAP_REC + 24, d->m[i].flags);
    }
    r = state_put_u32(fdt, sub, "bypass", d->bypass);
    if (r == 0)
        r = state_put_bytes(fdt, sub, "mappings", buf, d->n * MAP_REC);
    free(buf);
    return r;
}

static int iommu_save(void *opaque, void *fdt, int node)
{
    struct virtio_iommu *m = opaque;
    uint8_t eps[VIOMMU_MAX_ENDPOINTS * 8];
    int r;

    r = virtio_dev_save(&m->vdev, fdt, node);
    pthread_mutex_lock(&m->lock);
    if (r == 0)
        r = state_put_u32(fdt, node, "bypass", m->dom.bypass);
    for (unsigned int i = 0; r == 0 && i < m->dom.nep; i++) {
        le32_store(eps + 8 * i, m->dom.ep[i].id);
        le32_store(eps + 8 * i + 4, (uint32_t)m->dom.ep[i].domain);
    }
    if (r == 0)
        r = state_put_bytes(fdt, node, "endpoints", eps, 8 * m->dom.nep);
    for (unsigned int i = 0; r == 0 && i < VIOMMU_MAX_DOMAINS; i++)
        if (m->dom.dom[i].live)
            r = save_domain(&m->dom.dom[i], fdt, node, i);
    pthread_mutex_unlock(&m->lock);
    return r;
}

/* Attach every endpoint the file puts in domain @id; the first creates
 * the domain, whose mappings are then replayed, then the rest. */
static int load_domain(struct viommu_dom *s, const void *fdt, int sub,
                       unsigned int id, const uint8_t *eps, int neps)
{
    const uint8_t *maps;
    uint32_t bypass = 0;
    int len = 0, first = 1;

    if (state_get_u32(fdt, sub, "bypass", &bypass) || bypass > 1)
        return -EINVAL;
    maps = fdt_getprop(fdt, sub, "mappings", &len);
    if (!maps || len % MAP_REC)
        return -EINVAL;
    for (int i = 0; i < neps; i++) {
        if (le32_load(eps + 8 * i + 4) != id)
            continue;
        if (viommu_dom_attach(s, id, le32_load(eps + 8 * i),
                              bypass ? VIOMMU_ATTACH_F_BYPASS : 0))
            return -EINVAL;
        for (int k = 0; first && k < len / (int)MAP_REC; k++) {
            struct viommu_map mp = {
                .start = le64_load(maps + k * MAP_REC),
                .last = le64_load(maps + k * MAP_REC + 8),
                .phys = le64_load(maps + k * MAP_REC + 16),
                .flags = le32_load(maps + k * MAP_REC + 24),
            };
            if (viommu_dom_map(s, id, &mp))
                return -EINVAL;
        }
        first = 0;
    }
    return first ? -EINVAL : 0; /* a domain without endpoints */
}

static int load_state(struct virtio_iommu *m, const void *fdt, int node)
{
    const uint8_t *eps;
    uint32_t bypass;
    int len = 0, r, sub;

    if (state_get_u32(fdt, node, "bypass", &bypass) || bypass > 1)
        return -EINVAL;
    eps = fdt_getprop(fdt, node, "endpoints", &len);
    if (!eps || len % 8 || len / 8 != (int)m->dom.nep)
        return -EINVAL;
    for (int i = 0; i < len / 8; i++)
        if (viommu_dom_find_ep(&m->dom, le32_load(eps + 8 * i)) < 0)
            return -EINVAL; /* endpoints come from the command line */
    fdt_for_each_subnode(sub, fdt, node) {
        const char *name = fdt_get_name(fdt, sub, NULL);
        unsigned int id;

        if (!name || sscanf(name, "domain@%u", &id) != 1)
            continue;
        if (id >= VIOMMU_MAX_DOMAINS)
            return -EINVAL;
        r = load_domain(&m->dom, fdt, sub, id, eps, len / 8);
        if (r)
            return r;
    }
    viommu_dom_set_bypass(&m->dom, bypass);
    return 0;
}

static int iommu_load(void *opaque, const void *fdt, int node)
{
    struct virtio_iommu *m = opaque;
    int r = virtio_dev_load(&m->vdev, fdt, node);

    if (r)
        return r;
    pthread_mutex_lock(&m->lock);
    viommu_dom_reset(&m->dom); /* a fresh device: identity everywhere */
    r = load_state(m, fdt, node);
    if (r)
        viommu_dom_reset(&m->dom);
    m->dom.bypass_config =
        virtio_dev_has_feature(&m->vdev, VIOMMU_F_BYPASS_CONFIG) ||
        !(m->vdev.status & VIRTIO_DEV_S_FEATURES_OK);
    pthread_mutex_unlock(&m->lock);
    return r;
}

const struct state_ops virtio_iommu_state_ops = {
    .save = iommu_save,
    .load = iommu_load,
};
