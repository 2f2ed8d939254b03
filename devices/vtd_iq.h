/* SPDX-License-Identifier: BSD-3-Clause */
/* VT-d queued invalidation (VT-d spec 6.5.2): 128-bit descriptors fetched
 * from the guest's queue between IQH and IQT. Context-cache and IOTLB
 * descriptors become calls on vtd_iq_ops; device-TLB and interrupt-entry-
 * cache descriptors are accepted and ignored (nothing cached); wait
 * descriptors write their status (SW) and raise the invalidation event
 * (IF); FN needs nothing (descriptors complete in order). A 256-bit queue
 * (IQA.DW = 1), a tail beyond the queue, an unreadable or invalid
 * descriptor set FSTS.IQE and stop the queue at that descriptor until the
 * guest clears IQE. At most one queue's worth of descriptors is processed
 * per call.
 */
#ifndef MINIVMM_DEVICES_VTD_IQ_H
#define MINIVMM_DEVICES_VTD_IQ_H

#include <stdint.h>

#include "devices/vtd_types.h"
#include "devices/vtd_regs.h"

/* Descriptor types (low 4 bits of the first qword). */
#define VTD_DESC_CC     1u
#define VTD_DESC_IOTLB  2u
#define VTD_DESC_DEVTLB 3u
#define VTD_DESC_IEC    4u
#define VTD_DESC_WAIT   5u

/* Invalidations the queue asks for (same fields as struct vtd_act). */
struct vtd_iq_ops {
    void (*cc)(void *opaque, uint32_t g, uint16_t did, uint16_t sid,
               uint8_t fm);
    void (*iotlb)(void *opaque, uint32_t g, uint16_t did, uint64_t addr,
                  uint8_t am);
};

/* Process the queue of @r (if enabled and IQE clear), reading guest
 * memory through @mem. Interrupts to send are flagged in @a. Returns the
 * number of descriptors completed, or -EINVAL when IQE was set. */
int vtd_iq_run(struct vtd_regs *r, const struct vtd_mem_ops *mem,
               void *mem_opaque, const struct vtd_iq_ops *ops, void *opaque,
               struct vtd_act *a);

#endif
