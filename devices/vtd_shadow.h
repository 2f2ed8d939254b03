/* SPDX-License-Identifier: BSD-3-Clause */
/* What a VT-d endpoint's DMA backend was last told (its "shadow"): sorted,
 * non-overlapping runs [iova, last] -> gpa with permissions, and the
 * one place that turns a new view of a range into unmap/map calls on the
 * endpoint's ops (devices/vtd.h: struct vtd_ep_ops).
 *
 * apply() is all or nothing: either the shadow and the backend hold the
 * new view of the range, or (a map failed, e.g. -ENOSPC from a backend's
 * mapping limit, or the run limit was reached) they hold nothing in it.
 * A run is only ever unmapped whole, exactly as it was mapped; the parts
 * of a run outside the range are mapped again. Pure apart from malloc and
 * the ops calls; not thread-safe (the unit's lock serialises calls).
 */
#ifndef MINIVMM_DEVICES_VTD_SHADOW_H
#define MINIVMM_DEVICES_VTD_SHADOW_H

#include <stddef.h>
#include <stdint.h>

#include "devices/vtd_types.h"
#include "devices/vtd_walk.h"

#define VTD_MAX_RUNS 65536u     /* runs one endpoint may hold */

struct vtd_shadow {
    struct vtd_run *r;          /* sorted by iova, disjoint */
    size_t n, cap;
};

/* The backend of one endpoint. ops may be NULL (only the shadow changes);
 * max: runs it can hold (0: VTD_MAX_RUNS). Counters are incremented per
 * call made. */
struct vtd_sink {
    const struct vtd_ep_ops *ops;
    void *opaque;
    uint64_t max;
    uint64_t *maps, *unmaps;
};

void vtd_shadow_fini(struct vtd_shadow *sh);

/* Replace the shadow by @runs (@n, sorted, disjoint) without any call
 * (the caller has mapped them). 0 or -ENOMEM (shadow unchanged). */
int vtd_shadow_set(struct vtd_shadow *sh, const struct vtd_run *runs,
                   size_t n);

/* Make the endpoint see @runs (@n, sorted, disjoint, inside [@s, @e]) in
 * [@s, @e] (4 KiB aligned bounds: s & 0xfff == 0, e & 0xfff == 0xfff).
 * Calls unmap for every old run that changes, then map for every new
 * run (coalesced with the re-mapped outside parts of old runs). 0, or
 * -ENOSPC (more runs than k->max), -ENOMEM, or a map error: then the
 * endpoint holds nothing in [@s, @e] nor in the old runs crossing it. */
int vtd_shadow_apply(struct vtd_shadow *sh, uint64_t s, uint64_t e,
                     const struct vtd_run *runs, size_t n,
                     const struct vtd_sink *k);

/* Unmap and forget every run that overlaps [@s, @e]. */
void vtd_shadow_drop(struct vtd_shadow *sh, uint64_t s, uint64_t e,
                     const struct vtd_sink *k);

/* [@iova, @iova + @len) with @perm: 0 and *@gpa when inside one run (or
 * runs contiguous in IOVA and GPA, as one mapping split by earlier
 * invalidations), -EFAULT (not mapped, or @len 0 / wrapping), -EPERM. */
int vtd_shadow_lookup(const struct vtd_shadow *sh, uint64_t iova,
                      uint64_t len, uint32_t perm, uint64_t *gpa);

#endif
