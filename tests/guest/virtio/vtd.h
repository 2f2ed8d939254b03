/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A tiny driver for minivmm's Intel VT-d remapping unit (--viommu intel;
 * docs/viommu.md), for the virtio payload's vtd tests: find the unit
 * through the ACPI DMAR table, build legacy-mode root/context/second-level
 * tables (Intel VT-d spec rev. 4.x, 9.1-9.3, 9.8), program the root table,
 * enable translation, invalidate through the invalidation queue (6.5.2) or
 * the registers (6.5.1), read fault records (7.1-7.3, 11.4.14).
 * Everything runs at CPL3 (the unit's registers are MMIO below 4 GiB,
 * mapped uncached by the payload's page tables); tables and the queue come
 * from vdma_alloc(), guest-physical = virtual.
 */
#ifndef GUEST_VIRTIO_VTD_H
#define GUEST_VIRTIO_VTD_H

#include <stdbool.h>
#include <stdint.h>

#define VTD_BASE_DEFAULT 0xfed90000ULL

/* Register offsets (VT-d spec 11.4). */
#define VTD_VER     0x00
#define VTD_CAP     0x08
#define VTD_ECAP    0x10
#define VTD_GCMD    0x18
#define VTD_GSTS    0x1c
#define VTD_RTADDR  0x20
#define VTD_CCMD    0x28
#define VTD_FSTS    0x34
#define VTD_FECTL   0x38
#define VTD_FEDATA  0x3c
#define VTD_FEADDR  0x40
#define VTD_FEUADDR 0x44
#define VTD_IQH     0x80
#define VTD_IQT     0x88
#define VTD_IQA     0x90
#define VTD_ICS     0x9c

/* GCMD / GSTS bits (11.4.4, 11.4.5). */
#define VTD_GCMD_TE    (1u << 31)
#define VTD_GCMD_SRTP  (1u << 30)
#define VTD_GCMD_QIE   (1u << 26)
#define VTD_GSTS_TES   (1u << 31)
#define VTD_GSTS_RTPS  (1u << 30)
#define VTD_GSTS_QIES  (1u << 26)

/* FSTS bits (11.4.6.1). */
#define VTD_FSTS_PFO   (1u << 0)
#define VTD_FSTS_PPF   (1u << 1)
#define VTD_FSTS_IQE   (1u << 4)

/* Second-level page-table entry bits (9.8). */
#define VTD_PTE_R      (1ULL << 0)
#define VTD_PTE_W      (1ULL << 1)
#define VTD_PTE_PS     (1ULL << 7)

struct vtd_drv {
    uint64_t base;          /* register base (from the DMAR's DRHD) */
    unsigned int aw;        /* address width the tables use: 39 or 48 */
    unsigned int levels;    /* 3 or 4 */
    uint64_t cap, ecap;
    uint64_t *root;         /* root table (bus 0 only is used) */
    uint64_t *ctx;          /* context table of bus 0 */
    uint64_t *top;          /* second-level top table of domain 1 */
    uint64_t *iq;           /* invalidation queue, 256 descriptors */
    uint32_t iq_tail;       /* next descriptor index */
    volatile uint32_t *wstat;   /* wait-descriptor status word */
    uint32_t wtoken;
};

/* Find the first DRHD in the DMAR table (through the RSDP and the XSDT or
 * RSDT): its register base through *@base, its flags (bit 0:
 * INCLUDE_PCI_ALL) through *@flags, the table's host address width
 * (HAW + 1) through *@haw. Checks the checksum. 0, -ENOENT (no DMAR or
 * DRHD), -EINVAL (bad table). */
int vtd_acpi_find(uint64_t *base, unsigned int *haw, unsigned int *flags);

uint32_t vtd_rd32(struct vtd_drv *d, uint32_t off);
uint64_t vtd_rd64(struct vtd_drv *d, uint32_t off);
void vtd_wr32(struct vtd_drv *d, uint32_t off, uint32_t v);
void vtd_wr64(struct vtd_drv *d, uint32_t off, uint64_t v);

/* Set up @d for the unit at @base with @aw (39/48)-bit tables: read
 * CAP/ECAP, allocate the root, context and top tables and the queue (all
 * zero). Nothing is written to the unit. 0 or -ENOMEM. */
int vtd_init(struct vtd_drv *d, uint64_t base, unsigned int aw);

/* Context entry of bus 0 function @devfn: translated (TT = 0) through
 * the domain's tables, domain @did, AW of d->aw. */
void vtd_ctx_set(struct vtd_drv *d, uint8_t devfn, uint16_t did);

/* Map [@iova, @iova + @size) onto @gpa with @perm (VTD_PTE_R|W), in pages
 * of @level: 1 (4 KiB), 2 (2 MiB), 3 (1 GiB; all three aligned to it).
 * 0 or -ENOMEM (no memory for a table). */
int vtd_map(struct vtd_drv *d, uint64_t iova, uint64_t size, uint64_t gpa,
            uint64_t perm, unsigned int level);
/* Clear the 4 KiB leaf entries of [@iova, @iova + @size). */
void vtd_unmap(struct vtd_drv *d, uint64_t iova, uint64_t size);

/* GCMD: set (@on) or clear @cmd (one of the VTD_GCMD_* persistent bits,
 * or SRTP), keeping the other persistent bits, then wait up to 1 s for
 * GSTS to follow (@sts: the status bit). 0 or -ETIMEDOUT. */
int vtd_gcmd(struct vtd_drv *d, uint32_t cmd, uint32_t sts, bool on);

/* RTADDR = the root table, SRTP. 0 or -ETIMEDOUT. */
int vtd_set_root(struct vtd_drv *d);

/* Queued invalidation on: IQA (one 4 KiB page), IQT = 0, QIE. */
int vtd_qi_enable(struct vtd_drv *d);
/* Queue the descriptors @desc[2 * n] then a wait descriptor with status
 * write, and wait up to 1 s for the status. 0, -ETIMEDOUT, -EIO (IQE). */
int vtd_qi_run(struct vtd_drv *d, const uint64_t *desc, unsigned int n);
/* Context-cache global + IOTLB global through the queue. */
int vtd_qi_global(struct vtd_drv *d);
/* IOTLB page-selective of domain @did: 2^@am pages at @iova. */
int vtd_qi_page(struct vtd_drv *d, uint16_t did, uint64_t iova,
                unsigned int am);

/* Register-based invalidation (QIE off): context-cache global (CCMD) and
 * IOTLB global (the IOTLB register at ECAP.IRO). 0 or -ETIMEDOUT. */
int vtd_reg_global(struct vtd_drv *d);

/* One fault recording register (11.4.14). */
struct vtd_fault {
    uint64_t addr;      /* FI: the faulting page */
    uint16_t sid;
    uint8_t reason;
    bool read;          /* T = 1: a read request; 0: a write */
};
/* Wait up to @timeout_us for FSTS.PPF, read the record FSTS.FRI points at
 * into *@f, clear it (W1C on F) and check PPF went down. 0, -ETIMEDOUT
 * (no fault), -EIO (F not set or PPF stuck). */
int vtd_fault_take(struct vtd_drv *d, struct vtd_fault *f,
                   uint64_t timeout_us);

#endif
