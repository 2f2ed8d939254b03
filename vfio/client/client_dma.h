/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user client: DMA windows (DMA_MAP/UNMAP mirrored in the software
 * IOMMU) and the server's DMA_READ/WRITE served from it.
 * Spec: vfio-user.rst "VFIO_USER_DMA_MAP", "VFIO_USER_DMA_UNMAP",
 * "VFIO_USER_DMA_READ", "VFIO_USER_DMA_WRITE". Errors as in client.h.
 */
#ifndef MINIVMM_VFIO_CLIENT_DMA_H
#define MINIVMM_VFIO_CLIENT_DMA_H

#include "devices/host_iommu.h"
#include "vfio/client/client_core.h"

/* VFIO_USER_DMA_MAP of @w (with its fd when w->fd >= 0, for dma=fd), then
 * the window joins the IOMMU that serves DMA_READ/WRITE. -ENOSPC beyond
 * the server's max_dma_maps. */
int vfio_client_dma_map(struct vfio_client *c, const struct iommu_window *w);
int vfio_client_dma_unmap(struct vfio_client *c, uint64_t iova,
                          uint64_t size);
/* The server's DMA capabilities against what the VM needs (before the
 * guest starts). 0 or -ENOTSUP with the limit named in @err. */
int vfio_client_check_dma(struct vfio_client *c,
                          const struct iommu_needs *needs, char *err,
                          size_t errlen);

/* DMA_UNMAP every window wholly inside [@iova, @last] (inclusive), one
 * message each, in address order; the mirror drops them. Windows that
 * straddle the range are left alone. Returns how many were unmapped, or
 * the first -errno (the rest are still tried). */
int vfio_client_dma_unmap_range(struct vfio_client *c, uint64_t iova,
                                uint64_t last);

/* This device's host IOMMU capabilities (devices/host_iommu.h) from the
 * negotiated VERSION capabilities: pgsizes, max_dma_maps as the mapping
 * limit, the server's x_iova_bits (64 when not stated), no reserved
 * ranges. Valid once the client is connected. */
void vfio_client_host_iommu(const struct vfio_client *c,
                            struct host_iommu_caps *caps);

/* The endpoint's on_cmd (opaque: the client): serve the server's
 * DMA_READ/WRITE @msg received on @chan. 0 when replied, or -errno for an
 * error reply. */
int client_dma_serve(void *opaque, struct vfio_user_ep *ep,
                     enum vfio_user_chan chan, struct vfio_user_msg *msg);

/* DMA_MAP every IOMMU window again (after reconnecting). */
int client_dma_replay(struct vfio_client *c, char *err, size_t errlen);

#endif
