/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-iommu domains, endpoints and IOVA interval maps: the state the
 * guest programs with ATTACH/DETACH/MAP/UNMAP (virtio 1.2 section 5.13.6),
 * and the windows each endpoint sees as a result.
 *
 * An endpoint (a PCI function behind the vIOMMU, ID = its BDF) sees:
 *   attached to a bypass domain, or not attached while the config's
 *   bypass field is 1: the identity map of guest RAM (`identity`);
 *   attached to a mapping domain: that domain's mappings;
 *   otherwise nothing (DMA blocked).
 * Every change of what an endpoint sees goes to the sink as unmaps of the
 * old windows then maps of the new ones, before the request completes, so
 * a vfio-user server is told before the guest's UNMAP returns. A sink map
 * failure is undone (nothing half-mapped) and becomes the request's
 * status.
 *
 * Pure apart from malloc; not thread-safe (the device serialises calls).
 * Addresses are bytes; ranges are [start, last] inclusive like the spec's.
 * Functions returning uint8_t return a VIOMMU_S_* status.
 */
#ifndef MINIVMM_VIRTIO_IOMMU_DOM_H
#define MINIVMM_VIRTIO_IOMMU_DOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/host_iommu.h"

#define VIOMMU_MAX_ENDPOINTS 32u
#define VIOMMU_MAX_DOMAINS   64u      /* domain IDs 0..63 */
#define VIOMMU_MAX_MAPPINGS  65536u   /* per domain */
#define VIOMMU_MAX_TOTAL     262144u  /* all domains: 8 MiB of state */
#define VIOMMU_MAX_IDENTITY  8u       /* guest RAM regions */

struct viommu_map {
    uint64_t start;
    uint64_t last;      /* inclusive, >= start */
    uint64_t phys;      /* guest-physical address of start */
    uint32_t flags;     /* VIOMMU_MAP_F_READ | _WRITE */
};

/* Side effects on endpoint number @ep (index in viommu_dom.ep). map: 0 or
 * -errno (-ENOSPC: out of mappings, -EFAULT: @m->phys is not guest RAM);
 * unmap cannot fail. Both optional. */
struct viommu_sink {
    int (*map)(void *opaque, unsigned int ep, const struct viommu_map *m);
    void (*unmap)(void *opaque, unsigned int ep, const struct viommu_map *m);
};

struct viommu_domain {
    bool live;
    bool bypass;
    uint32_t nep;               /* endpoints attached */
    struct viommu_map *m;       /* sorted by start, non-overlapping */
    size_t n, cap;
};

struct viommu_ep {
    uint32_t id;                /* endpoint ID (BDF) */
    int32_t domain;             /* attached domain, -1: none */
    bool blocked;               /* a switch failed half-way: sees nothing */
    struct host_iommu_dev host; /* what performs its DMA */
};

struct viommu_dom {
    uint64_t page_size;         /* granule, power of 2 */
    uint64_t input_last;        /* input range [0, input_last] */
    bool bypass;                /* config.bypass: unattached endpoints */
    bool bypass_config;         /* ATTACH_F_BYPASS allowed */
    struct viommu_domain dom[VIOMMU_MAX_DOMAINS];
    struct viommu_ep ep[VIOMMU_MAX_ENDPOINTS];
    unsigned int nep;
    struct viommu_map identity[VIOMMU_MAX_IDENTITY];
    unsigned int nidentity;
    size_t total;               /* mappings in all domains */
    const struct viommu_sink *sink;
    void *opaque;
};

/* Empty state: no domains, config bypass on (boot bypass), @page_size
 * granule, input range of @input_bits (12..64). */
void viommu_dom_init(struct viommu_dom *s, uint64_t page_size,
                     unsigned int input_bits, const struct viommu_sink *sink,
                     void *opaque);
/* Free every domain's mappings (no sink calls). */
void viommu_dom_fini(struct viommu_dom *s);

/* Before any endpoint: add identity window [gpa, gpa + size) of guest RAM.
 * 0 or -ENOSPC / -EINVAL (size 0, wraps). */
int viommu_dom_add_ram(struct viommu_dom *s, uint64_t gpa, uint64_t size);

/* Register endpoint @id with its host IOMMU device (copied). Returns its
 * index (>= 0), -EEXIST or -ENOSPC. It starts unattached; the caller
 * maps its initial windows (viommu_dom_ep_windows). */
int viommu_dom_add_ep(struct viommu_dom *s, uint32_t id,
                      const struct host_iommu_dev *host);
/* Index of endpoint @id or -1. */
int viommu_dom_find_ep(const struct viommu_dom *s, uint32_t id);

/* The windows endpoint @ep sees now: *@ws (not owned), *@n. */
void viommu_dom_ep_windows(const struct viommu_dom *s, unsigned int ep,
                           const struct viommu_map **ws, size_t *n);

/* Requests (5.13.6.3-6). Status codes as the spec lists them: RANGE for a
 * domain ID or address outside the advertised ranges, NOENT for an unknown
 * endpoint or domain, INVAL for bad flags, misalignment, an overlapping
 * MAP or a bypass-domain mismatch, NOMEM when a domain or an attached
 * device is out of mappings, DEVERR for another sink failure. */
uint8_t viommu_dom_attach(struct viommu_dom *s, uint32_t domain,
                          uint32_t endpoint, uint32_t flags);
uint8_t viommu_dom_detach(struct viommu_dom *s, uint32_t domain,
                          uint32_t endpoint);
uint8_t viommu_dom_map(struct viommu_dom *s, uint32_t domain,
                       const struct viommu_map *m);
uint8_t viommu_dom_unmap(struct viommu_dom *s, uint32_t domain,
                         uint64_t start, uint64_t last);

/* Config bypass field written (0/1): unattached endpoints switch between
 * identity and blocked. All or nothing: 0, or the sink's -errno with the
 * field unchanged. */
int viommu_dom_set_bypass(struct viommu_dom *s, bool on);

/* Device reset: detach everything, free every domain, bypass back on. */
void viommu_dom_reset(struct viommu_dom *s);

/* Translate [@iova, @iova + @len) for endpoint @ep with access @prot
 * (VIOMMU_MAP_F_READ/WRITE): 0 and *@gpa if the whole range is in one
 * window allowing @prot; -EFAULT (unmapped) or -EPERM. */
int viommu_dom_translate(const struct viommu_dom *s, unsigned int ep,
                         uint64_t iova, uint64_t len, uint32_t prot,
                         uint64_t *gpa);

#endif
