/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: the server's DMA dirty logging, for live
 * migration (see pci_dev_dirty.h). Pages are numbered as vmm/dirty.h numbers
 * guest RAM: offset in the RAM memfd / 4096, through each DMA window's
 * fd_offset. Spec: vfio-user.rst "VFIO_DEVICE_FEATURE_DMA_LOGGING_START /
 * VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP", "..._DMA_LOGGING_REPORT". */
#include "vfio/pci/pci_dev_dirty.h"

#include <errno.h>
#include <stdlib.h>

#include "vfio/client/client.h"
#include "vfio/pci/pci_dev_mig_v1.h"
#include "vmm/dirty.h"

#define PG          4096ull
#define MAX_WINDOWS 64u

int vpd_dirty_start(struct vpd_state *d)
{
    struct vfio_client_window w[MAX_WINDOWS];
    struct vfio_client_log_range rg[MAX_WINDOWS];
    uint64_t chosen = 0;
    size_t n;
    int r;

    if (!vpd_alive(d->ctx))
        return -ENODEV;
    if (d->mig.v1)
        return vpd_v1_dirty_start(&d->mig);
    vfio_client_dma_windows(d->ctx->client, w, MAX_WINDOWS, &n);
    if (n > MAX_WINDOWS)
        return -E2BIG;
    for (size_t i = 0; i < n; i++)
        rg[i] = (struct vfio_client_log_range){w[i].iova, w[i].size};
    r = vfio_client_dma_log_start(d->ctx->client, PG, rg, (unsigned int)n,
                                  &chosen);
    /* Pre-copy: the server's early state moves now (pci_dev_state.c). */
    return r ? r : vpd_precopy_start(d);
}

int vpd_dirty_sync(struct vpd_state *d, uint64_t *bits, uint64_t npages,
                   uint64_t *count)
{
    int r;

    *count = 0;
    if (!vpd_alive(d->ctx))
        return -ENODEV;
    if (d->mig.v1)
        return vpd_v1_dirty_sync(&d->mig, bits, npages, count);
    r = vpd_mig_sync_windows(d->ctx, vfio_client_dma_log_report, false, bits,
                             npages, count);
    return r ? r : vpd_precopy_more(d);
}

int vpd_dirty_stop(struct vpd_state *d)
{
    int r;

    if (vpd_alive(d->ctx) && d->mig.v1)
        return vpd_v1_dirty_stop(&d->mig);
    r = vpd_alive(d->ctx) ? vfio_client_dma_log_stop(d->ctx->client) : 0;
    vpd_precopy_end(d);
    return r;
}
