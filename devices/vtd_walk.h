/* SPDX-License-Identifier: BSD-3-Clause */
/* VT-d legacy-mode table walker (Intel VT-d spec 3.4-3.6, 9.1-9.3, 9.8):
 * root entry -> context entry -> second-level page tables of 3 or 4
 * levels with 2 MiB (level 2) and 1 GiB (level 3) pages. Pure: guest
 * memory only through vtd_mem_ops; no allocation except the run list.
 *
 * Every guest-controlled walk is bounded: a range walk reads at most
 * VTD_WALK_MAX_TABLES tables (page tables that point to themselves or
 * to each other cannot make it loop) and produces at most runs->max runs.
 * Functions returning a fault reason return 0 or a VTD_FR_* (> 0).
 */
#ifndef MINIVMM_DEVICES_VTD_WALK_H
#define MINIVMM_DEVICES_VTD_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/vtd_types.h"

#define VTD_WALK_MAX_TABLES 8192u   /* tables read by one range walk */

/* Context entry translation types (spec 9.3, legacy mode). */
#define VTD_TT_SL 0u        /* untranslated requests, second-level tables */
#define VTD_TT_PT 2u        /* pass-through */

/* Where the walker reads: guest memory and the unit's widths. */
struct vtd_walker {
    const struct vtd_mem_ops *mem;
    void *opaque;
    unsigned int haw;       /* host address width: bits above reserved */
    uint32_t sagaw;         /* CAP.SAGAW: bit 1 3-level, bit 2 4-level */
};

/* A present, valid context entry, decoded. */
struct vtd_ctx {
    uint8_t tt;             /* VTD_TT_SL or VTD_TT_PT */
    bool fpd;               /* fault processing disabled */
    uint16_t did;           /* domain id */
    unsigned int levels;    /* 3 or 4 (VTD_TT_SL) */
    uint64_t slptptr;       /* second-level page table root (gpa) */
    uint64_t last;          /* last input address: 2^agaw - 1 */
};

/* One mapping: [iova, last] (inclusive, 4 KiB aligned) -> gpa, perm. */
struct vtd_run {
    uint64_t iova, last, gpa;
    uint32_t perm;          /* VTD_PERM_R | VTD_PERM_W */
};

/* A growing run list: at most @max runs (> 0). Free with free(r). */
struct vtd_runs {
    struct vtd_run *r;
    size_t n, cap, max;
};

/* Context entry of source id @sid (bus << 8 | devfn) under root table
 * @root (gpa). 0 and *@c, or the fault reason (ROOT_ADDR, ROOT_NP,
 * ROOT_RSVD, CTX_ADDR, CTX_NP, CTX_RSVD, CTX_INV). When the context entry
 * was read but is invalid, c->fpd and c->did are still filled. */
int vtd_walk_ctx(const struct vtd_walker *w, uint64_t root, uint16_t sid,
                 struct vtd_ctx *c);

/* Translate @iova for an access with @perm (VTD_PERM_*) through @c
 * (VTD_TT_SL). 0 with *@gpa, *@eff (the page's permissions) and *@psize
 * (page size in bytes), or the fault reason (ADDR_BEYOND, PTE_ADDR,
 * PTE_RSVD, READ, WRITE). */
int vtd_walk_iova(const struct vtd_walker *w, const struct vtd_ctx *c,
                  uint64_t iova, uint32_t perm, uint64_t *gpa, uint32_t *eff,
                  uint64_t *psize);

/* Append run @m to @rs, merging it into the last run when contiguous in
 * IOVA and GPA with the same permissions. 0, -ENOSPC (rs->max reached),
 * -ENOMEM. */
int vtd_runs_add(struct vtd_runs *rs, const struct vtd_run *m);

/* The same, never merging (the identity map keeps one run per RAM
 * region, as the caller mapped them). */
int vtd_runs_append(struct vtd_runs *rs, const struct vtd_run *m);

/* Every mapping of [@s, @e] through @c (VTD_TT_SL), appended to @out in
 * IOVA order, clipped to [@s, @e], coalesced. Entries that are not
 * present, have reserved bits set or point outside guest RAM are skipped
 * (a DMA there faults). 0, -ENOSPC (more than out->max runs), -E2BIG
 * (more than VTD_WALK_MAX_TABLES tables), -ENOMEM. */
int vtd_walk_range(const struct vtd_walker *w, const struct vtd_ctx *c,
                   uint64_t s, uint64_t e, struct vtd_runs *out);

#endif
