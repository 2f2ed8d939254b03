/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-iommu fault reports on the event queue (virtio 1.2 section
 * 5.13.6.9; see iommu.h). */
#include "virtio/iommu_priv.h"

#include <stdatomic.h>
#include <string.h>

#include "virtio/iommu_proto.h"
#include "vmm/endian.h"

void virtio_iommu_report_fault(struct virtio_iommu *m, uint32_t id,
                               uint64_t iova, uint32_t prot)
{
    struct virtq_seg segs[4];
    struct virtq_elem e = { .segs = segs, .max_segs = 4 };
    struct virtq *q = &m->queues[1];
    uint8_t rec[sizeof(struct viommu_fault)] = {0};
    int r;

    rec[0] = VIOMMU_FAULT_R_MAPPING;
    le32_store(rec + 4, VIOMMU_FAULT_F_ADDRESS |
               (prot & 1 ? VIOMMU_FAULT_F_READ : 0) |
               (prot & 2 ? VIOMMU_FAULT_F_WRITE : 0));
    le32_store(rec + 8, id);
    le64_store(rec + 16, iova);
    /* Not a blocking lock: the fault may come from a thread that holds
     * it, waiting inside the sink for a server that answers with a DMA
     * request (a vfio-user MAP in progress). Such faults are counted. */
    if (pthread_mutex_trylock(&m->lock)) {
        atomic_fetch_add(&m->faults_busy, 1);
        return;
    }
    m->st.faults++;
    r = virtio_dev_driver_ok(&m->vdev) && q->enabled ? virtq_pop(q, &e) : 0;
    if (r == 1 && e.in_bytes >= sizeof(rec) && !e.truncated &&
        virtq_elem_write(q, &e, 0, rec, sizeof(rec)) == 0) {
        virtq_push(q, e.head, sizeof(rec));
        virtio_dev_notify_queue(&m->vdev, 1);
    } else {
        if (r == 1) /* too small a buffer: hand it back empty */
            virtq_push(q, e.head, 0);
        m->st.faults_dropped++;
    }
    pthread_mutex_unlock(&m->lock);
}
