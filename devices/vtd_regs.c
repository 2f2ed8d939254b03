/* SPDX-License-Identifier: BSD-3-Clause */
/* The VT-d register file (see vtd_regs.h; VT-d spec chapter 10/11 for
 * offsets and fields, 7.2-7.3 for fault recording and events, 6.5.2 for
 * the invalidation queue registers). */
#include "devices/vtd_regs.h"

#include <errno.h>
#include <string.h>

#include "vmm/endian.h"
#include "vmm/state.h"

static uint64_t haw_mask(const struct vtd_regs *r)
{
    return ((1ull << r->aw_bits) - 1) & ~0xfffull;
}

void vtd_regs_reset(struct vtd_regs *r, unsigned int aw_bits)
{
    uint64_t sagaw = aw_bits >= 48 ? 0x6 : 0x2;

    memset(r, 0, sizeof(*r));
    r->aw_bits = aw_bits;
    r->cap = VTD_CAP_ND | VTD_CAP_CM | sagaw << VTD_CAP_SAGAW_SH |
             (uint64_t)(aw_bits - 1) << VTD_CAP_MGAW_SH |
             (uint64_t)(VTD_FRCD / 16) << VTD_CAP_FRO_SH |
             VTD_CAP_SLLPS_2M | VTD_CAP_SLLPS_1G | VTD_CAP_PSI |
             (uint64_t)(VTD_NFR - 1) << VTD_CAP_NFR_SH |
             (uint64_t)VTD_MAMV << VTD_CAP_MAMV_SH;
    r->ecap = VTD_ECAP_C | VTD_ECAP_QI | VTD_ECAP_PT |
              (uint64_t)(VTD_IVA / 16) << VTD_ECAP_IRO_SH;
    r->fectl = VTD_CTL_IM;
    r->iectl = VTD_CTL_IM;
}

uint64_t vtd_regs_iq_size(const struct vtd_regs *r)
{
    return 1ull << ((r->iqa & VTD_IQA_QS) + 8);
}

/* The 64-bit register at @off (8-aligned), or NULL. */
static const uint64_t *reg64(const struct vtd_regs *r, uint64_t off)
{
    switch (off) {
    case VTD_CAP: return &r->cap;
    case VTD_ECAP: return &r->ecap;
    case VTD_RTADDR: return &r->rtaddr;
    case VTD_CCMD: return &r->ccmd;
    case VTD_IQH: return &r->iqh;
    case VTD_IQT: return &r->iqt;
    case VTD_IQA: return &r->iqa;
    case VTD_IVA: return &r->iva;
    case VTD_IOTLB: return &r->iotlb;
    default: break;
    }
    if (off >= VTD_FRCD && off < VTD_FRCD + VTD_NFR * 16)
        return &r->frcd[(off - VTD_FRCD) / 16][(off / 8) & 1];
    return NULL;
}

uint32_t vtd_regs_read32(const struct vtd_regs *r, uint64_t off)
{
    const uint64_t *q = reg64(r, off & ~7ull);

    if (q)
        return (uint32_t)(*q >> (off & 4 ? 32 : 0));
    switch (off) {
    case VTD_VER: return VTD_VERSION;
    case VTD_GSTS: return r->gsts;
    case VTD_FSTS: return r->fsts;
    case VTD_FECTL: return r->fectl;
    case VTD_FEDATA: return r->fedata;
    case VTD_FEADDR: return r->feaddr;
    case VTD_FEUADDR: return r->feuaddr;
    case VTD_ICS: return r->ics;
    case VTD_IECTL: return r->iectl;
    case VTD_IEDATA: return r->iedata;
    case VTD_IEADDR: return r->ieaddr;
    case VTD_IEUADDR: return r->ieuaddr;
    default: return 0; /* GCMD reads 0; reserved offsets */
    }
}

static uint64_t merge(uint64_t old, uint64_t off, uint32_t v)
{
    return off & 4 ? (old & 0xffffffffull) | (uint64_t)v << 32
                   : (old & ~0xffffffffull) | v;
}

/* A fault event condition (7.3): the interrupt now, or pending. */
static void fault_event(struct vtd_regs *r, struct vtd_act *a)
{
    if (r->fectl & VTD_CTL_IM)
        r->fectl |= VTD_CTL_IP;
    else
        a->fault_msi = true;
}

static void update_ppf(struct vtd_regs *r)
{
    bool any = false;

    for (unsigned int i = 0; i < VTD_NFR; i++)
        any |= (r->frcd[i][1] & VTD_FRCD_F) != 0;
    if (any)
        r->fsts |= VTD_FSTS_PPF;
    else
        r->fsts &= ~VTD_FSTS_PPF;
    if (!(r->fsts & (VTD_FSTS_PPF | VTD_FSTS_W1C)))
        r->fectl &= ~VTD_CTL_IP; /* every condition serviced */
}

static void write_gcmd(struct vtd_regs *r, uint32_t v, struct vtd_act *a)
{
    if ((v ^ r->gsts) & VTD_GCMD_TE) {
        r->gsts ^= VTD_GCMD_TE;
        a->te = true;
    }
    if (v & VTD_GCMD_SRTP) { /* one-shot: latched, RTPS reports it */
        r->root = r->rtaddr;
        r->gsts |= VTD_GCMD_SRTP;
    }
    if ((v & VTD_GCMD_QIE) && !(r->gsts & VTD_GCMD_QIE)) {
        r->gsts |= VTD_GCMD_QIE;
        a->iq = true;
    } else if (!(v & VTD_GCMD_QIE) && (r->gsts & VTD_GCMD_QIE)) {
        r->gsts &= ~VTD_GCMD_QIE;
        r->iqh = 0;
    }
    /* WBF (CAP.RWBF = 0), IRE/SIRTP (ECAP.IR = 0), SFL/EAFL, CFI:
     * not supported, ignored. */
}

/* CCMD high half written with ICC: a register-based context-cache
 * invalidation (10.4.7), ignored while queued invalidation is on. */
static void write_ccmd(struct vtd_regs *r, uint64_t v, struct vtd_act *a)
{
    uint32_t g = (uint32_t)(v >> VTD_CCMD_CIRG_SH) & 3;

    v &= (3ull << VTD_CCMD_CIRG_SH) | (3ull << 32) | 0xffffffffull;
    if (g == 0 || (r->gsts & VTD_GCMD_QIE)) {
        r->ccmd = v; /* CAIG 0: not performed */
        return;
    }
    a->cc = true;
    a->cc_g = g;
    a->cc_did = (uint16_t)v;
    a->cc_sid = (uint16_t)(v >> 16);
    a->cc_fm = (uint8_t)((v >> 32) & 3);
    r->ccmd = v | (uint64_t)g << VTD_CCMD_CAIG_SH;
}

/* IOTLB high half written with IVT (10.4.8), using IVA for pages. */
static void write_iotlb(struct vtd_regs *r, uint64_t v, struct vtd_act *a)
{
    uint32_t g = (uint32_t)(v >> VTD_IOTLB_IIRG_SH) & 3;
    uint8_t am = (uint8_t)(r->iva & 0x3f);

    v &= (3ull << VTD_IOTLB_IIRG_SH) | (3ull << 48) | (0xffffull << 32);
    if (g == 0 || (r->gsts & VTD_GCMD_QIE) ||
        (g == VTD_INV_PAGE && am > VTD_MAMV)) {
        r->iotlb = v; /* IAIG 0: not performed */
        return;
    }
    a->iotlb = true;
    a->iotlb_g = g;
    a->iotlb_did = (uint16_t)(v >> 32);
    a->iotlb_am = am;
    a->iotlb_addr = r->iva & ~0xfffull & ~((4096ull << am) - 1);
    r->iotlb = v | (uint64_t)g << VTD_IOTLB_IAIG_SH;
}

static void write_frcd(struct vtd_regs *r, uint64_t off, uint32_t v)
{
    uint64_t *q = &r->frcd[(off - VTD_FRCD) / 16][1];

    if ((off & 15) == 12 && (v & (1u << 31))) { /* F: write 1 to clear */
        *q &= ~VTD_FRCD_F;
        update_ppf(r);
    }
}

static void write64(struct vtd_regs *r, uint64_t off, uint32_t v,
                    struct vtd_act *a)
{
    uint64_t b = off & ~7ull;

    switch (b) {
    case VTD_RTADDR: /* TTM (11:10) reads 0: legacy mode only */
        r->rtaddr = merge(r->rtaddr, off, v) & haw_mask(r);
        break;
    case VTD_CCMD:
        if ((off & 4) && (v & (1u << 31)))
            write_ccmd(r, merge(r->ccmd, off, v), a);
        else
            r->ccmd = merge(r->ccmd, off, v) & ~VTD_CCMD_ICC;
        break;
    case VTD_IQT:
        if (!(off & 4)) {
            r->iqt = v & 0x7fff0u;
            a->iq = (r->gsts & VTD_GCMD_QIE) != 0;
        }
        break;
    case VTD_IQA: /* fixed while the queue is enabled */
        if (!(r->gsts & VTD_GCMD_QIE))
            r->iqa = merge(r->iqa, off, v) &
                     (haw_mask(r) | VTD_IQA_DW | VTD_IQA_QS);
        break;
    case VTD_IVA:
        r->iva = merge(r->iva, off, v) & (~0xfffull | 0x7f);
        break;
    case VTD_IOTLB:
        if ((off & 4) && (v & (1u << 31)))
            write_iotlb(r, merge(r->iotlb, off, v), a);
        else
            r->iotlb = merge(r->iotlb, off, v) & ~VTD_IOTLB_IVT;
        break;
    default:
        if (b >= VTD_FRCD && b < VTD_FRCD + VTD_NFR * 16)
            write_frcd(r, off, v);
        break; /* CAP, ECAP, IQH: read-only */
    }
}

static void write_fsts(struct vtd_regs *r, uint32_t v, struct vtd_act *a)
{
    uint32_t clr = v & VTD_FSTS_W1C & r->fsts;

    r->fsts &= ~clr;
    if ((clr & VTD_FSTS_IQE) && (r->gsts & VTD_GCMD_QIE))
        a->iq = true; /* fetching resumes */
    update_ppf(r);
}

static void write_ctl(uint32_t *ctl, uint32_t v, bool *msi)
{
    *ctl = (*ctl & ~VTD_CTL_IM) | (v & VTD_CTL_IM);
    if (!(*ctl & VTD_CTL_IM) && (*ctl & VTD_CTL_IP)) {
        *ctl &= ~VTD_CTL_IP;
        *msi = true;
    }
}

void vtd_regs_write32(struct vtd_regs *r, uint64_t off, uint32_t v,
                      struct vtd_act *a)
{
    if (reg64(r, off & ~7ull)) {
        write64(r, off, v, a);
        return;
    }
    switch (off) {
    case VTD_GCMD: write_gcmd(r, v, a); break;
    case VTD_FSTS: write_fsts(r, v, a); break;
    case VTD_FECTL: write_ctl(&r->fectl, v, &a->fault_msi); break;
    case VTD_FEDATA: r->fedata = v; break;
    case VTD_FEADDR: r->feaddr = v & ~3u; break;
    case VTD_FEUADDR: r->feuaddr = v; break;
    case VTD_ICS:
        if (v & VTD_ICS_IWC & r->ics) {
            r->ics &= ~VTD_ICS_IWC;
            r->iectl &= ~VTD_CTL_IP;
        }
        break;
    case VTD_IECTL: write_ctl(&r->iectl, v, &a->ie_msi); break;
    case VTD_IEDATA: r->iedata = v; break;
    case VTD_IEADDR: r->ieaddr = v & ~3u; break;
    case VTD_IEUADDR: r->ieuaddr = v; break;
    default: break; /* VER, GSTS: read-only; reserved */
    }
}

bool vtd_regs_record_fault(struct vtd_regs *r, uint16_t sid, uint8_t fr,
                           uint64_t addr, bool write, struct vtd_act *a)
{
    uint32_t i = r->next_fr % VTD_NFR;

    if (r->fsts & VTD_FSTS_PFO)
        return false; /* nothing recorded until software clears it */
    if (r->frcd[i][1] & VTD_FRCD_F) {
        r->fsts |= VTD_FSTS_PFO;
        fault_event(r, a);
        return false;
    }
    r->frcd[i][0] = addr & ~0xfffull;
    r->frcd[i][1] = VTD_FRCD_F | (write ? 0 : VTD_FRCD_T) |
                    (uint64_t)fr << VTD_FRCD_FR_SH | sid;
    r->next_fr = (i + 1) % VTD_NFR;
    if (!(r->fsts & VTD_FSTS_PPF)) {
        r->fsts = (r->fsts & ~(0xffu << VTD_FSTS_FRI_SH)) | VTD_FSTS_PPF |
                  i << VTD_FSTS_FRI_SH;
        fault_event(r, a);
    }
    return true;
}

void vtd_regs_fsts_error(struct vtd_regs *r, uint32_t bit,
                         struct vtd_act *a)
{
    if (r->fsts & bit)
        return;
    r->fsts |= bit;
    fault_event(r, a);
}

void vtd_regs_wait_done(struct vtd_regs *r, struct vtd_act *a)
{
    if (r->ics & VTD_ICS_IWC)
        return; /* not cleared since the last one: no new event */
    r->ics |= VTD_ICS_IWC;
    if (r->iectl & VTD_CTL_IM)
        r->iectl |= VTD_CTL_IP;
    else
        a->ie_msi = true;
}

void vtd_regs_fault_msi(const struct vtd_regs *r, uint64_t *addr,
                        uint32_t *data)
{
    *addr = (uint64_t)r->feuaddr << 32 | r->feaddr;
    *data = r->fedata;
}

void vtd_regs_ie_msi(const struct vtd_regs *r, uint64_t *addr,
                     uint32_t *data)
{
    *addr = (uint64_t)r->ieuaddr << 32 | r->ieaddr;
    *data = r->iedata;
}

/* --- state ----------------------------------------------------------------
 * "regs": the writable registers as little-endian u64s in this order;
 * "frcd": the fault records (2 x u64 each); "aw-bits" must match. */

#define NREGS 19u

static void pack(const struct vtd_regs *r, uint64_t *v)
{
    const uint64_t src[NREGS] = {
        r->gsts, r->rtaddr, r->root, r->ccmd, r->fsts, r->fectl, r->fedata,
        r->feaddr, r->feuaddr, r->next_fr, r->iqh, r->iqt, r->iqa, r->ics,
        r->iectl, r->iedata, r->ieaddr, r->ieuaddr, r->iva,
    };

    memcpy(v, src, sizeof(src));
}

static void unpack(struct vtd_regs *r, const uint64_t *v)
{
    uint64_t hm = haw_mask(r);

    r->gsts = (uint32_t)v[0] &
              (VTD_GCMD_TE | VTD_GCMD_SRTP | VTD_GCMD_QIE);
    r->rtaddr = v[1] & hm;
    r->root = v[2] & hm;
    r->ccmd = v[3] & ~VTD_CCMD_ICC;
    r->fsts = (uint32_t)v[4] & (VTD_FSTS_W1C | VTD_FSTS_PPF |
                                (0xffu << VTD_FSTS_FRI_SH));
    r->fectl = (uint32_t)v[5] & (VTD_CTL_IM | VTD_CTL_IP);
    r->fedata = (uint32_t)v[6];
    r->feaddr = (uint32_t)v[7] & ~3u;
    r->feuaddr = (uint32_t)v[8];
    r->next_fr = (uint32_t)(v[9] % VTD_NFR);
    r->iqa = v[12] & (hm | VTD_IQA_DW | VTD_IQA_QS);
    r->iqh = v[10] & 0x7fff0u & ((vtd_regs_iq_size(r) << 4) - 1);
    r->iqt = v[11] & 0x7fff0u;
    r->ics = (uint32_t)v[13] & VTD_ICS_IWC;
    r->iectl = (uint32_t)v[14] & (VTD_CTL_IM | VTD_CTL_IP);
    r->iedata = (uint32_t)v[15];
    r->ieaddr = (uint32_t)v[16] & ~3u;
    r->ieuaddr = (uint32_t)v[17];
    r->iva = v[18] & (~0xfffull | 0x7f);
}

int vtd_regs_save(const struct vtd_regs *r, void *fdt, int node)
{
    uint64_t v[NREGS];
    uint8_t b[NREGS * 8], f[VTD_NFR * 16];
    int rc;

    pack(r, v);
    for (unsigned int i = 0; i < NREGS; i++)
        le64_store(b + 8 * i, v[i]);
    for (unsigned int i = 0; i < VTD_NFR; i++) {
        le64_store(f + 16 * i, r->frcd[i][0]);
        le64_store(f + 16 * i + 8, r->frcd[i][1]);
    }
    rc = state_put_u32(fdt, node, "aw-bits", r->aw_bits);
    if (rc == 0)
        rc = state_put_bytes(fdt, node, "regs", b, sizeof(b));
    if (rc == 0)
        rc = state_put_bytes(fdt, node, "frcd", f, sizeof(f));
    return rc;
}

int vtd_regs_load(struct vtd_regs *r, const void *fdt, int node)
{
    uint64_t v[NREGS];
    uint8_t b[NREGS * 8], f[VTD_NFR * 16];
    uint32_t aw;

    if (state_get_u32(fdt, node, "aw-bits", &aw) || aw != r->aw_bits ||
        state_get_bytes(fdt, node, "regs", b, sizeof(b)) ||
        state_get_bytes(fdt, node, "frcd", f, sizeof(f)))
        return -EINVAL;
    vtd_regs_reset(r, aw);
    for (unsigned int i = 0; i < NREGS; i++)
        v[i] = le64_load(b + 8 * i);
    unpack(r, v);
    for (unsigned int i = 0; i < VTD_NFR; i++) {
        r->frcd[i][0] = le64_load(f + 16 * i) & ~0xfffull;
        r->frcd[i][1] = le64_load(f + 16 * i + 8) &
                        (VTD_FRCD_F | VTD_FRCD_T | 0xffull << 32 | 0xffff);
    }
    update_ppf(r);
    return 0;
}
