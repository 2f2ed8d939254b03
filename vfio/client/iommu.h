/* SPDX-License-Identifier: BSD-3-Clause */
/* Software IOMMU of one vfio-user device: the device's DMA address space.
 *
 * An interval map IOVA → host memory (HVA, and the fd + offset the server
 * may mmap), with permissions. The client mirrors every window it sends with
 * VFIO_USER_DMA_MAP/UNMAP here (spec: "VFIO_USER_DMA_MAP"), and serves the
 * server's VFIO_USER_DMA_READ/WRITE from it with bounds and permission
 * checks: nothing outside a mapped window is reachable.
 *
 * A "host IOMMU device" view of each server (its page sizes, max DMA maps,
 * max transfer size, IOVA width; cf. QEMU's HostIOMMUDevice::get_cap) is
 * checked against what the VM needs before the guest starts.
 *
 * Not thread-safe by itself: the owner serialises map/unmap against lookups
 * (a read-mostly lock in the client).
 */
#ifndef MINIVMM_VFIO_IOMMU_H
#define MINIVMM_VFIO_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IOMMU_PROT_READ  1u /* device may read (DMA_READ) */
#define IOMMU_PROT_WRITE 2u /* device may write (DMA_WRITE) */

struct iommu_window {
    uint64_t iova;      /* device address, bytes */
    uint64_t size;      /* bytes, > 0 */
    void *hva;          /* host address of iova (NULL: not accessible here) */
    int fd;             /* backing fd for DMA_MAP, -1 for message-only */
    uint64_t fd_offset; /* offset of iova's byte in fd */
    uint32_t prot;      /* IOMMU_PROT_* */
};

struct iommu {
    struct iommu_window *w; /* sorted by iova, non-overlapping */
    size_t n;
    size_t cap;
    size_t max_windows;     /* the server's max_dma_maps */
};

/* Empty map allowing at most @max_windows windows (0 = unlimited). */
void iommu_init(struct iommu *m, size_t max_windows);
void iommu_fini(struct iommu *m);

/* Add a window. 0, -EINVAL (size 0, wraps, no prot), -EEXIST (overlaps),
 * -ENOSPC (max_windows reached), -ENOMEM. */
int iommu_map(struct iommu *m, const struct iommu_window *w);

/* Remove the window exactly [@iova, @iova + @size). 0 or -ENOENT. */
int iommu_unmap(struct iommu *m, uint64_t iova, uint64_t size);

/* Host pointer for [@iova, @iova + @len) if inside ONE window that allows
 * @prot and has an HVA; else NULL. */
void *iommu_translate(const struct iommu *m, uint64_t iova, uint64_t len,
                      uint32_t prot);

/* Serve a DMA_READ (device reads guest memory: copy into @buf) or a
 * DMA_WRITE (copy @buf into guest memory). The range may span adjacent
 * windows. 0, -EFAULT (any byte unmapped), -EPERM (permission). */
int iommu_dma_read(const struct iommu *m, uint64_t iova, void *buf,
                   uint64_t len);
int iommu_dma_write(const struct iommu *m, uint64_t iova, const void *buf,
                    uint64_t len);

/* What a vfio-user server can do for DMA, from its VERSION capabilities. */
struct iommu_caps {
    uint64_t pgsizes;            /* bitmap of supported page sizes */
    uint64_t max_dma_maps;       /* 0 = no limit stated */
    uint64_t max_data_xfer_size; /* bytes */
    unsigned int iova_bits;      /* addressable IOVA width */
};

/* What the VM needs from each device's IOMMU. */
struct iommu_needs {
    uint64_t page_size;          /* guest RAM mapping granularity, bytes */
    uint64_t nwindows;           /* DMA windows the VM will map */
    uint64_t max_iova;           /* highest IOVA used (last byte) */
    uint64_t min_xfer;           /* smallest acceptable max_data_xfer_size */
};

/* Check @caps against @needs. 0, or -ENOTSUP with a sentence naming the
 * limit that does not fit in @err. */
int iommu_caps_check(const struct iommu_caps *caps,
                     const struct iommu_needs *needs, char *err,
                     size_t errlen);

#endif
