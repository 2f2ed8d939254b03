/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user devices behind the vIOMMU (docs/viommu.md, "MAP/UNMAP flow"):
 * the host IOMMU device of each from its server's negotiated DMA
 * capabilities, and the endpoint ops that turn the guest's mappings into
 * VFIO_USER_DMA_MAP/UNMAP at the guest's IOVA. */
#include "minivmm/vfio_viommu.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vfio/client/client.h"
#include "vfio/pci/pci_dev.h"
#include "vmm/memory.h"

/* Call @fn for each piece of [iova, last] -> gpa that lies in one guest
 * RAM region. -EFAULT if any byte of the GPA range is not RAM (nothing is
 * called then). */
static int for_each_piece(struct vfio_viommu_ep *e, uint64_t iova,
                          uint64_t last, uint64_t gpa, uint32_t prot,
                          bool map)
{
    const struct guest_memory *mem = e->mem;
    uint64_t len = last - iova + 1, covered = 0;
    int r = 0;

    for (int pass = 0; pass < 2 && r == 0; pass++) {
        covered = 0;
        for (unsigned int i = 0; i < mem->nregions && r == 0; i++) {
            const struct guest_region *g = &mem->regions[i];
            uint64_t lo = gpa > g->gpa ? gpa : g->gpa;
            uint64_t hi = gpa + len < g->gpa + g->size ? gpa + len
                                                       : g->gpa + g->size;

            if (lo >= hi)
                continue;
            covered += hi - lo;
            if (pass == 0)
                continue;
            struct iommu_window w = {
                .iova = iova + (lo - gpa), .size = hi - lo,
                .hva = g->hva + (lo - g->gpa),
                .fd = e->dma_message ? -1 : g->fd,
                .fd_offset = g->fd_offset + (lo - g->gpa), .prot = prot,
            };
            if (map)
                r = vfio_client_dma_map(e->client, &w);
            else
                vfio_client_dma_unmap(e->client, w.iova, w.size);
        }
        if (pass == 0 && covered != len)
            return -EFAULT;
    }
    return r;
}

static int ep_map(void *opaque, uint64_t iova, uint64_t last, uint64_t gpa,
                  uint32_t prot)
{
    struct vfio_viommu_ep *e = opaque;
    int r;

    if (!prot)
        return 0; /* a mapping without access: nothing to send */
    r = for_each_piece(e, iova, last, gpa, prot, true);
    if (r && r != -EFAULT) /* undo what went through: none half-mapped */
        vfio_client_dma_unmap_range(e->client, iova, last);
    /* A failed server does no DMA at all: its state must not fail the
     * guest's MAP for the other devices of the domain. (After a reconnect
     * it has the windows mapped before its failure, not this one.) */
    return r == -ENODEV ? 0 : r;
}

static void ep_unmap(void *opaque, uint64_t iova, uint64_t last)
{
    struct vfio_viommu_ep *e = opaque;

    /* The pieces were cut by the GPA the window had; the client unmaps
     * exactly what it holds inside [iova, last]. */
    vfio_client_dma_unmap_range(e->client, iova, last);
}

const struct viommu_ep_ops vfio_viommu_ep_ops = {
    .map = ep_map, .unmap = ep_unmap,
};

void vfio_viommu_host_dev(struct vfio_client *c, const char *id,
                          struct host_iommu_dev *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "vfio-user device '%s'", id);
    vfio_client_host_iommu(c, &out->caps);
}

int vfio_viommu_check(void *opaque, struct vfio_client *c, char *err,
                      size_t errlen)
{
    struct vfio_viommu_ep *e = opaque;
    struct host_iommu_dev h;

    vfio_viommu_host_dev(c, e->id, &h);
    return viommu_check(e->viommu, &h, err, errlen);
}

void vfio_viommu_fault(void *opaque, uint64_t iova, uint64_t len, bool write)
{
    struct vfio_viommu_ep *e = opaque;

    (void)len;
    if (e->client) /* attached */
        viommu_report_fault(e->viommu, e->bdf, iova, write ? 2 : 1);
}
