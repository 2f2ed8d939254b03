/* SPDX-License-Identifier: BSD-3-Clause */
/* Host IOMMU devices: what really performs a PCI function's DMA, and the
 * check a virtual IOMMU makes when the function is attached to it.
 *
 * Every PCI function behind the vIOMMU has one (docs/viommu.md): for a
 * vfio-user device it is built from the server's negotiated DMA
 * capabilities (pgsizes, max_dma_maps, the IOVA width it handles); for an
 * in-VMM device the VMM itself does the DMA (64-bit, any page size, no
 * limit). The vIOMMU promises the guest a page granule, an input range and
 * a bypass (identity) map of guest RAM; host_iommu_check() refuses a
 * device that cannot honour that promise, before the guest starts, with
 * one line naming the device, the capability, both values and the option
 * that would fit. Design after QEMU's HostIOMMUDevice (get_cap() per
 * backend, checked on pci_device_set_iommu_device()).
 *
 * Pure: no allocation, no I/O. All sizes and addresses are bytes.
 */
#ifndef MINIVMM_DEVICES_HOST_IOMMU_H
#define MINIVMM_DEVICES_HOST_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOST_IOMMU_MAX_RESV 8u
#define HOST_IOMMU_NAME_MAX 64u

/* [start, last], inclusive. */
struct host_iommu_range {
    uint64_t start;
    uint64_t last;
};

struct host_iommu_caps {
    uint64_t pgsizes;       /* OR of page sizes (powers of 2) it maps */
    unsigned int iova_bits; /* IOVA width it handles, 12..64 */
    uint64_t max_mappings;  /* simultaneous mappings; 0: no limit */
    unsigned int nresv;     /* <= HOST_IOMMU_MAX_RESV */
    struct host_iommu_range resv[HOST_IOMMU_MAX_RESV]; /* unusable IOVAs */
};

/* One host IOMMU device: a PCI function's DMA backend. */
struct host_iommu_dev {
    char name[HOST_IOMMU_NAME_MAX]; /* "vfio-user device 'vfio0'" */
    struct host_iommu_caps caps;
};

/* What the vIOMMU promises the guest (--viommu options). */
struct viommu_promise {
    uint64_t page_size;      /* granule (page-size=), power of 2 >= 4096 */
    unsigned int input_bits; /* input range [0, 2^bits), 12..64 */
    uint64_t bypass_windows; /* mappings the identity map of RAM takes */
    uint64_t ram_last;       /* last guest RAM byte (identity map) */
};

/* Capabilities of the VMM's own DMA (in-VMM devices): 64 bits, every page
 * size from 4 KiB up, no mapping limit, nothing reserved. */
void host_iommu_caps_vmm(struct host_iommu_caps *caps);

/* Check @dev against @v. 0, or -ENOTSUP with one line in @err (@errlen
 * bytes, may be 0) naming the device, the capability, both values and the
 * option that would fit. Checks in this order: page granule (the
 * device's smallest page size must not exceed v->page_size), input range
 * (v->input_bits <= iova_bits), mappings (max_mappings >= bypass_windows),
 * reserved ranges (none inside [0, ram_last]: the identity map would
 * need them). -EINVAL for a malformed @dev (no page size, iova_bits out
 * of range, nresv too big). */
int host_iommu_check(const struct viommu_promise *v,
                     const struct host_iommu_dev *dev, char *err,
                     size_t errlen);

/* Format @bytes (a power of 2) as "4K", "64K", "2M", "1G", else decimal,
 * into @buf (@len bytes). Returns @buf. */
const char *host_iommu_size_str(uint64_t bytes, char *buf, size_t len);

/* Parse "4K", "64K", "2M", "1G", "4096": a power of 2 from 4 KiB to 1 GiB.
 * 0 or -EINVAL. */
int host_iommu_size_parse(const char *s, uint64_t *out);

#endif
