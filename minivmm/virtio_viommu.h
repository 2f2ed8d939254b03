/* SPDX-License-Identifier: BSD-3-Clause */
/* In-VMM virtio devices behind the vIOMMU (docs/viommu.md): a guest-memory
 * adapter (virtio/guest_mem.h) whose addresses are the device's IOVAs,
 * translated through its domain before they reach guest RAM. */
#ifndef MINIVMM_VIRTIO_VIOMMU_H
#define MINIVMM_VIRTIO_VIOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/guest_mem.h"

struct viommu;

struct virtio_viommu_mem {
    struct virtio_mem inner;    /* guest RAM */
    struct viommu *viommu;
    uint16_t bdf;               /* the device's endpoint ID */
    bool attached;              /* until then: addresses are GPAs */
};

/* Fill @out for a device over @inner behind @v; call
 * virtio_viommu_mem_attach() once its BDF is known. translate fails
 * (without a fault report) for a range that is not one mapping, so
 * devices fall back to read/write, which split at 4 KiB pages and report a
 * fault for an unmapped one; mark_dirty marks the GPAs. */
void virtio_viommu_mem_init(struct virtio_viommu_mem *m,
                            const struct virtio_mem *inner, struct viommu *v,
                            struct virtio_mem *out);
void virtio_viommu_mem_attach(struct virtio_viommu_mem *m, uint16_t bdf);

#endif
