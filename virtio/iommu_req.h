/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-iommu requests: parse the bytes a guest driver put on the request
 * queue, run them against the domain state (virtio/iommu_dom.h) and build
 * PROBE replies. Spec: virtio 1.2 section 5.13.6 ("Device operations").
 *
 * Trust: the request bytes come from the guest. The parser reads at most
 * the fixed size of the request type from @rd, accepts trailing bytes
 * (ignored, like QEMU), and answers anything short or unknown with the
 * spec's status (INVAL, UNSUPP) instead of failing. Pure; no allocation.
 */
#ifndef MINIVMM_VIRTIO_IOMMU_REQ_H
#define MINIVMM_VIRTIO_IOMMU_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "virtio/iommu_dom.h"

#define VIOMMU_PROBE_SIZE 512u    /* config.probe_size, bytes */
#define VIOMMU_TAIL_SIZE  4u

struct viommu_req {
    uint8_t type;               /* VIOMMU_T_* */
    uint32_t domain;
    uint32_t endpoint;
    uint32_t flags;             /* ATTACH or MAP flags */
    struct viommu_map map;      /* MAP: whole; UNMAP: start/last */
};

/* Parse the @rdlen device-readable bytes @rd of one request into @req.
 * VIOMMU_S_OK, VIOMMU_S_INVAL (shorter than its type's layout) or
 * VIOMMU_S_UNSUPP (unknown type; @req->type is still set). */
uint8_t viommu_req_parse(const void *rd, size_t rdlen, struct viommu_req *req);

/* Offset in the device-writable part where the tail goes for a request of
 * @type: @probe_size for PROBE (properties come first), else 0. */
size_t viommu_req_tail_offset(uint8_t type, uint32_t probe_size);

/* Run @req against @s. For PROBE, @props (@props_len bytes, zeroed here)
 * receives the endpoint's properties. Returns the VIOMMU_S_* status. */
uint8_t viommu_req_exec(struct viommu_dom *s, const struct viommu_req *req,
                        uint8_t *props, size_t props_len);

/* Fill @buf (@len bytes) with the PROBE properties of endpoint @ep: the
 * MSI doorbell window (RESV_MEM, subtype MSI) then the host device's
 * reserved ranges (RESV_MEM, subtype RESERVED); the rest is zero (a NONE
 * property ends the list). 0 or -ENOSPC (@len too small; what fits is
 * written). */
int viommu_probe_fill(const struct viommu_dom *s, unsigned int ep,
                      uint8_t *buf, size_t len);

#endif
