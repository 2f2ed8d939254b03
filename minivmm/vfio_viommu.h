/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user devices behind the vIOMMU: host IOMMU device and endpoint ops
 * (minivmm/vfio_viommu.c; docs/viommu.md). */
#ifndef MINIVMM_VFIO_VIOMMU_H
#define MINIVMM_VFIO_VIOMMU_H

#include <stdbool.h>

#include "devices/host_iommu.h"
#include "minivmm/viommu.h"

struct guest_memory;
struct vfio_client;
struct vfio_pci;

/* The opaque of vfio_viommu_ep_ops: one per attached device. */
struct vfio_viommu_ep {
    struct vfio_client *client;
    const struct guest_memory *mem;
    bool dma_message;           /* no fds: windows for DMA_READ/WRITE */
    struct viommu *viommu;
    const char *id;             /* the --vfio-user id */
    uint16_t bdf;               /* endpoint ID, once attached */
};

/* vfio_pci_opts.on_dma_fault behind the vIOMMU (opaque: the ep):
 * reported to the guest on the virtio-iommu's event queue. */
void vfio_viommu_fault(void *opaque, uint64_t iova, uint64_t len,
                       bool write);

/* map: each guest mapping becomes one DMA_MAP per guest RAM region it
 * covers (the memfd and offset of the GPA range, the guest's
 * permissions; no fd with dma=message), all or none (-EFAULT: not guest
 * RAM, -ENOSPC: the server's max_dma_maps); unmap: DMA_UNMAP of every
 * window inside the range, answered before the guest's request is. */
extern const struct viommu_ep_ops vfio_viommu_ep_ops;

/* vfio_pci_opts.check_dma behind the vIOMMU: @opaque is the struct
 * vfio_viommu_ep whose viommu and id are set. */
int vfio_viommu_check(void *opaque, struct vfio_client *c, char *err,
                      size_t errlen);

/* The host IOMMU device of @d (named "vfio-user device '@id'") from its
 * negotiated capabilities (vfio_client_host_iommu()). */
void vfio_viommu_host_dev(struct vfio_client *c, const char *id,
                          struct host_iommu_dev *out);

#endif
