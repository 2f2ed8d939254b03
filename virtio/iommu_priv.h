/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-iommu internals shared by iommu.c, iommu_event.c and
 * iommu_state.c. */
#ifndef MINIVMM_VIRTIO_IOMMU_PRIV_H
#define MINIVMM_VIRTIO_IOMMU_PRIV_H

#include <pthread.h>

#include "virtio/iommu.h"
#include "virtio/iommu_req.h"
#include "virtio/queue.h"

struct virtio_iommu {
    struct virtio_dev vdev;
    struct virtq queues[2];         /* 0 requests, 1 events (faults) */
    struct virtio_mem mem;
    pthread_mutex_t lock;           /* dom, st, the event queue */
    struct viommu_dom dom;
    struct virtio_iommu_stats st;
    _Atomic uint64_t faults_busy;   /* dropped: the lock was held */
    uint8_t props[VIOMMU_PROBE_SIZE]; /* PROBE reply scratch */
};

#endif
