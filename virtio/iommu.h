/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-iommu device model (virtio 1.2 section 5.13, device ID 23): a
 * request queue (ATTACH, DETACH, MAP, UNMAP, PROBE; virtio/iommu_req.h)
 * and an event queue for fault reports, over the domain state of
 * virtio/iommu_dom.h. Features: INPUT_RANGE, DOMAIN_RANGE, MAP_UNMAP,
 * PROBE (the MSI doorbell window as RESV_MEM type MSI, plus each host
 * device's reserved ranges) and BYPASS_CONFIG (config.bypass starts at 1:
 * endpoints not attached to a domain see the identity map of RAM until
 * the driver clears it).
 *
 * Threads: the transport serialises the virtio calls; an internal mutex
 * guards the domain state, so virtio_iommu_translate() and the endpoint
 * registry may be called from any thread. The sink runs under that mutex
 * (it must not call back into this device). 0 or -errno.
 */
#ifndef MINIVMM_VIRTIO_IOMMU_H
#define MINIVMM_VIRTIO_IOMMU_H

#include <stdint.h>

#include "devices/host_iommu.h"
#include "virtio/device.h"
#include "virtio/guest_mem.h"
#include "virtio/iommu_dom.h"
#include "vmm/state.h"

#define VIRTIO_IOMMU_QUEUE_SIZE 64u
#define VIRTIO_IOMMU_REQ_MAX    128u  /* readable bytes looked at */

struct virtio_iommu;

struct virtio_iommu_params {
    uint64_t page_size;         /* granule, power of 2 >= 4096 */
    unsigned int input_bits;    /* 12..64 */
    const struct viommu_sink *sink; /* endpoint side effects */
    void *sink_opaque;
};

/* Create the device over @mem raising interrupts through @irq. 0,
 * -EINVAL or -ENOMEM. */
int virtio_iommu_create(const struct virtio_iommu_params *p,
                        const struct virtio_mem *mem,
                        const struct virtio_irq *irq,
                        struct virtio_iommu **out);
void virtio_iommu_destroy(struct virtio_iommu *m);
struct virtio_dev *virtio_iommu_vdev(struct virtio_iommu *m);

/* Before endpoints: a guest RAM region for the identity (bypass) map. */
int virtio_iommu_add_ram(struct virtio_iommu *m, uint64_t gpa,
                         uint64_t size);
/* Register endpoint @id (its BDF): index >= 0, -EEXIST, -ENOSPC. */
int virtio_iommu_add_ep(struct virtio_iommu *m, uint32_t id,
                        const struct host_iommu_dev *host);

/* Translate for endpoint @id (viommu_dom_translate()); -ENOENT for an
 * unknown endpoint. With @report a -EFAULT/-EPERM is also reported to
 * the guest on the event queue (one fault record, if it posted a
 * buffer). */
int virtio_iommu_translate(struct virtio_iommu *m, uint32_t id,
                           uint64_t iova, uint64_t len, uint32_t prot,
                           uint64_t *gpa, bool report);
/* Report a fault at @iova for endpoint @id (@prot: the access) on the
 * event queue. Dropped (counted) when no buffer is posted, or when the
 * device's lock is held (the caller may be inside the sink of a request:
 * never blocks). */
void virtio_iommu_report_fault(struct virtio_iommu *m, uint32_t id,
                               uint64_t iova, uint32_t prot);

struct virtio_iommu_stats {
    uint64_t requests, maps, unmaps, faults, faults_dropped;
};
void virtio_iommu_get_stats(struct virtio_iommu *m,
                            struct virtio_iommu_stats *st);

/* virtio_dev state plus the domains, attachments and mappings (node
 * "domains"); load replays them through the sink. Opaque: struct
 * virtio_iommu. */
extern const struct state_ops virtio_iommu_state_ops;

#endif
