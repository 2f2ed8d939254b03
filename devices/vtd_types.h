/* SPDX-License-Identifier: BSD-3-Clause */
/* The VT-d unit's constants and the ops it is given (part of devices/vtd.h,
 * which includes this; a header of its own so that the unit's lower files
 * (vtd_walk.c, vtd_shadow.c, vtd_regs.c, vtd_iq.c) need not include
 * vtd.h, which belongs to vtd.c, the file above them). */
#ifndef MINIVMM_DEVICES_VTD_TYPES_H
#define MINIVMM_DEVICES_VTD_TYPES_H

#include <stddef.h>
#include <stdint.h>

#define VTD_MMIO_BASE   0xfed90000ull   /* DRHD register base (DMAR) */
#define VTD_MMIO_SIZE   0x1000ull
#define VTD_MAX_ENDPOINTS 32u
#define VTD_MAX_RAM     8u              /* guest RAM regions */
#define VTD_NFR         4u              /* fault recording registers */

/* Access permissions, as the page-table R/W bits. */
#define VTD_PERM_R 1u
#define VTD_PERM_W 2u

/* Fault reasons (VT-d spec 7.1.3, table 24, legacy mode). */
#define VTD_FR_ROOT_NP     0x1  /* root entry not present */
#define VTD_FR_CTX_NP      0x2  /* context entry not present */
#define VTD_FR_CTX_INV     0x3  /* context entry invalid (AW, TT) */
#define VTD_FR_ADDR_BEYOND 0x4  /* input address above the AGAW */
#define VTD_FR_WRITE       0x5  /* write to a non-writable page */
#define VTD_FR_READ        0x6  /* read of a non-readable/absent page */
#define VTD_FR_PTE_ADDR    0x7  /* page-table entry address not RAM */
#define VTD_FR_ROOT_ADDR   0x8  /* root table address not RAM */
#define VTD_FR_CTX_ADDR    0x9  /* context table address not RAM */
#define VTD_FR_ROOT_RSVD   0xa  /* reserved bits set in a root entry */
#define VTD_FR_CTX_RSVD    0xb  /* reserved bits set in a context entry */
#define VTD_FR_PTE_RSVD    0xc  /* reserved bits set in a page-table entry */

/* Guest-physical memory and interrupts, supplied by the VMM. read/write:
 * 0 or -EFAULT when [gpa, gpa + len) is not guest RAM. msi: deliver the
 * MSI (address, data) the guest programmed (FEADDR/FEDATA or IEADDR/
 * IEDATA). */
struct vtd_mem_ops {
    int (*read)(void *opaque, uint64_t gpa, void *buf, size_t len);
    int (*write)(void *opaque, uint64_t gpa, const void *buf, size_t len);
    void (*msi)(void *opaque, uint64_t addr, uint32_t data);
};

/* An endpoint's DMA backend. map: [iova, last] (inclusive, 4 KiB
 * aligned) now reaches guest-physical @gpa with @perm (VTD_PERM_*); 0 or
 * -errno (-ENOSPC: out of mappings). unmap: [iova, last] exactly as mapped
 * before. The same shape as minivmm/viommu.h's viommu_ep_ops. */
struct vtd_ep_ops {
    int (*map)(void *opaque, uint64_t iova, uint64_t last, uint64_t gpa,
               uint32_t perm);
    void (*unmap)(void *opaque, uint64_t iova, uint64_t last);
};

/* Counters (vtd_get_stats()). */
struct vtd_stats {
    uint64_t invalidations, maps, unmaps, faults, faults_dropped,
             iq_errors;
    uint64_t map_failures;  /* re-walks left a range unmapped (-ENOSPC) */
};

#endif
