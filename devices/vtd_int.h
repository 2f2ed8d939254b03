/* SPDX-License-Identifier: BSD-3-Clause */
/* The VT-d unit's inside, shared by vtd.c and vtd_state.c only (callers
 * use devices/vtd.h, which this does not include: it belongs to vtd.c).
 * Everything here runs under vtd.lock. */
#ifndef MINIVMM_DEVICES_VTD_INT_H
#define MINIVMM_DEVICES_VTD_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/host_iommu.h"
#include "devices/vtd_iq.h"
#include "devices/vtd_regs.h"
#include "devices/vtd_shadow.h"
#include "devices/vtd_types.h"
#include "devices/vtd_walk.h"

struct vtd_ep {
    uint16_t bdf;
    struct host_iommu_dev host;
    const struct vtd_ep_ops *ops;   /* NULL: translate only */
    void *opaque;
    struct vtd_shadow sh;           /* what its backend holds */
    int32_t did;                    /* domain at its last walk, -1 none */
    bool warned;                    /* a map failure was logged */
};

struct vtd {
    pthread_mutex_t lock;
    unsigned int aw_bits;
    const struct vtd_mem_ops *mem;
    void *mo;
    struct vtd_regs regs;
    struct vtd_run ram[VTD_MAX_RAM];    /* the identity map */
    unsigned int nram;
    struct vtd_ep ep[VTD_MAX_ENDPOINTS];
    unsigned int nep;
    struct vtd_stats st;
    _Atomic uint64_t faults_busy;       /* dropped: lock held */
};

/* Index of endpoint @bdf, or -1. */
int vtd_find_ep(const struct vtd *u, uint16_t bdf);

/* The walker over @u's guest memory and widths. */
void vtd_walker_of(const struct vtd *u, struct vtd_walker *w);

/* The backend of @ep, counting into u->st. */
void vtd_ep_sink(struct vtd *u, struct vtd_ep *ep, struct vtd_sink *k);

/* Re-walk [s, e] of @ep (4 KiB aligned bounds) and apply the difference
 * to its backend. 0 or -errno (logged once per endpoint at warn, then
 * at debug; counted in map_failures; nothing mapped in the range). */
int vtd_ep_sync(struct vtd *u, struct vtd_ep *ep, uint64_t s, uint64_t e);

/* Every endpoint, whole range. */
void vtd_sync_all(struct vtd *u);

/* Invalidations (the vtd_iq_ops; @opaque is the unit). */
void vtd_inv_cc(void *opaque, uint32_t g, uint16_t did, uint16_t sid,
                uint8_t fm);
void vtd_inv_iotlb(void *opaque, uint32_t g, uint16_t did, uint64_t addr,
                   uint8_t am);

/* Carry out @a (invalidations, queue, interrupts). */
void vtd_perform(struct vtd *u, struct vtd_act *a);

#endif
