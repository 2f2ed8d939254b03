/* SPDX-License-Identifier: BSD-3-Clause */
/* The VT-d register file (Intel VT-d spec chapter 10 (11 in rev. 4.x):
 * register offsets and fields, and 7.2-7.3 fault recording and the
 * fault event). Pure: a write returns the actions it asks for (an
 * invalidation, a queue run, an interrupt), which the unit (vtd.c)
 * performs; no guest memory access here.
 *
 * Accesses are 4 or 8 bytes, naturally aligned; an 8-byte access is the
 * two 4-byte halves, low first (so CCMD/IOTLB act on their high half,
 * IQT on its low half, as with one 64-bit write).
 */
#ifndef MINIVMM_DEVICES_VTD_REGS_H
#define MINIVMM_DEVICES_VTD_REGS_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/vtd_types.h"

/* Register offsets (bytes). */
#define VTD_VER      0x00
#define VTD_CAP      0x08
#define VTD_ECAP     0x10
#define VTD_GCMD     0x18
#define VTD_GSTS     0x1c
#define VTD_RTADDR   0x20
#define VTD_CCMD     0x28
#define VTD_FSTS     0x34
#define VTD_FECTL    0x38
#define VTD_FEDATA   0x3c
#define VTD_FEADDR   0x40
#define VTD_FEUADDR  0x44
#define VTD_IQH      0x80
#define VTD_IQT      0x88
#define VTD_IQA      0x90
#define VTD_ICS      0x9c
#define VTD_IECTL    0xa0
#define VTD_IEDATA   0xa4
#define VTD_IEADDR   0xa8
#define VTD_IEUADDR  0xac
#define VTD_IVA      0x200          /* IOTLB registers: ECAP.IRO = 0x20 */
#define VTD_IOTLB    0x208
#define VTD_FRCD     0x220          /* fault records: CAP.FRO = 0x22 */

#define VTD_VERSION  0x10           /* 1.0 */
#define VTD_MAMV     18u            /* CAP.MAMV: page invalidation mask */

/* CAP fields. */
#define VTD_CAP_ND        6ull            /* 16-bit domain ids */
#define VTD_CAP_CM        (1ull << 7)
#define VTD_CAP_SAGAW_SH  8
#define VTD_CAP_MGAW_SH   16
#define VTD_CAP_FRO_SH    24
#define VTD_CAP_SLLPS_2M  (1ull << 34)
#define VTD_CAP_SLLPS_1G  (1ull << 35)
#define VTD_CAP_PSI       (1ull << 39)
#define VTD_CAP_NFR_SH    40
#define VTD_CAP_MAMV_SH   48

/* ECAP fields. */
#define VTD_ECAP_C        (1ull << 0)
#define VTD_ECAP_QI       (1ull << 1)
#define VTD_ECAP_PT       (1ull << 6)
#define VTD_ECAP_IRO_SH   8

/* GCMD / GSTS bits (same positions). */
#define VTD_GCMD_TE       (1u << 31)
#define VTD_GCMD_SRTP     (1u << 30)
#define VTD_GCMD_SFL      (1u << 29)
#define VTD_GCMD_EAFL     (1u << 28)
#define VTD_GCMD_WBF      (1u << 27)
#define VTD_GCMD_QIE      (1u << 26)
#define VTD_GCMD_IRE      (1u << 25)
#define VTD_GCMD_SIRTP    (1u << 24)
#define VTD_GCMD_CFI      (1u << 23)

/* CCMD fields. */
#define VTD_CCMD_ICC      (1ull << 63)
#define VTD_CCMD_CIRG_SH  61
#define VTD_CCMD_CAIG_SH  59

/* IOTLB register fields. */
#define VTD_IOTLB_IVT     (1ull << 63)
#define VTD_IOTLB_IIRG_SH 60
#define VTD_IOTLB_IAIG_SH 57

/* FSTS bits. */
#define VTD_FSTS_PFO      (1u << 0)
#define VTD_FSTS_PPF      (1u << 1)
#define VTD_FSTS_IQE      (1u << 4)
#define VTD_FSTS_ICE      (1u << 5)
#define VTD_FSTS_ITE      (1u << 6)
#define VTD_FSTS_FRI_SH   8
#define VTD_FSTS_W1C      (VTD_FSTS_PFO | (1u << 2) | (1u << 3) | \
                           VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE | \
                           (1u << 7))

/* FECTL / IECTL bits. */
#define VTD_CTL_IM        (1u << 31)
#define VTD_CTL_IP        (1u << 30)

#define VTD_ICS_IWC       1u

/* Fault record, high qword. */
#define VTD_FRCD_F        (1ull << 63)
#define VTD_FRCD_T        (1ull << 62)  /* 1: read request */
#define VTD_FRCD_FR_SH    32

/* IQA fields. */
#define VTD_IQA_DW        (1ull << 11)
#define VTD_IQA_QS        7ull

/* Invalidation granularities (CCMD.CIRG, IOTLB.IIRG, descriptors' G). */
#define VTD_INV_GLOBAL    1u
#define VTD_INV_DOMAIN    2u
#define VTD_INV_DEVICE    3u            /* context cache */
#define VTD_INV_PAGE      3u            /* IOTLB */

struct vtd_regs {
    unsigned int aw_bits;
    uint64_t cap, ecap;
    uint32_t gsts;
    uint64_t rtaddr;            /* RTADDR as written */
    uint64_t root;              /* latched by GCMD.SRTP */
    uint64_t ccmd;
    uint32_t fsts, fectl, fedata, feaddr, feuaddr;
    uint64_t frcd[VTD_NFR][2];
    uint32_t next_fr;           /* next fault record to use */
    uint64_t iqh, iqt, iqa;
    uint32_t ics, iectl, iedata, ieaddr, ieuaddr;
    uint64_t iva, iotlb;
};

/* What a register write asks the unit to do, in this order. */
struct vtd_act {
    bool te;                    /* GSTS.TES changed */
    bool cc;                    /* context-cache invalidation: */
    uint32_t cc_g;              /*   VTD_INV_GLOBAL/DOMAIN/DEVICE */
    uint16_t cc_did, cc_sid;
    uint8_t cc_fm;              /*   function mask, 0..3 */
    bool iotlb;                 /* IOTLB invalidation: */
    uint32_t iotlb_g;           /*   VTD_INV_GLOBAL/DOMAIN/PAGE */
    uint16_t iotlb_did;
    uint64_t iotlb_addr;        /*   page: 4 KiB aligned */
    uint8_t iotlb_am;           /*   page: 2^am pages */
    bool iq;                    /* process the invalidation queue */
    bool fault_msi;             /* send FEADDR/FEDATA */
    bool ie_msi;                /* send IEADDR/IEDATA */
};

/* Reset values for a unit of @aw_bits (39 or 48). */
void vtd_regs_reset(struct vtd_regs *r, unsigned int aw_bits);

/* 4-byte register access at @off (4-aligned, < VTD_MMIO_SIZE).
 * Unimplemented offsets read 0 and ignore writes. */
uint32_t vtd_regs_read32(const struct vtd_regs *r, uint64_t off);
void vtd_regs_write32(struct vtd_regs *r, uint64_t off, uint32_t v,
                      struct vtd_act *a);

/* Record a fault (7.2.1): source id @sid, reason @fr (VTD_FR_*), page of
 * @addr, @write or read. Overflow (the next record still holds a fault,
 * or PFO already set) sets FSTS.PFO instead. Returns true when recorded;
 * a->fault_msi when the event is to be sent now. */
bool vtd_regs_record_fault(struct vtd_regs *r, uint16_t sid, uint8_t fr,
                           uint64_t addr, bool write, struct vtd_act *a);

/* Set a FSTS error bit (VTD_FSTS_IQE, _ICE, _ITE) and raise the fault
 * event (a->fault_msi, or FECTL.IP when masked). */
void vtd_regs_fsts_error(struct vtd_regs *r, uint32_t bit,
                         struct vtd_act *a);

/* Invalidation wait completion (6.5.2.8): ICS.IWC, then the event
 * (a->ie_msi, or IECTL.IP when masked). */
void vtd_regs_wait_done(struct vtd_regs *r, struct vtd_act *a);

/* MSI address/data of the fault event or of the invalidation event. */
void vtd_regs_fault_msi(const struct vtd_regs *r, uint64_t *addr,
                        uint32_t *data);
void vtd_regs_ie_msi(const struct vtd_regs *r, uint64_t *addr,
                     uint32_t *data);

/* Queue geometry: entries (2^(QS + 8)), base gpa. */
uint64_t vtd_regs_iq_size(const struct vtd_regs *r);

/* State: every register into node @node / back (validated). 0 or
 * -errno (vmm/state.h). */
int vtd_regs_save(const struct vtd_regs *r, void *fdt, int node);
int vtd_regs_load(struct vtd_regs *r, const void *fdt, int node);

#endif
