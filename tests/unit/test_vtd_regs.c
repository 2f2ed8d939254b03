/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests: the VT-d unit through its registers (devices/vtd.c,
 * vtd_regs.c, vtd_iq.c, vtd_state.c): reset values, CAP/ECAP for 39 and
 * 48 bits, GCMD -> GSTS, register-based invalidation, the invalidation
 * queue (every descriptor type, wait status write and interrupt, IQE),
 * fault recording (W1C, overflow, the fault event masked and unmasked)
 * and state save/load. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <libfdt.h>

#include "devices/vtd.h"
#include "devices/vtd_iq.h"
#include "devices/vtd_regs.h"
#include "vmm/state.h"
#include "tests/unit/vtd_fake.h"

#define ROOT 0x100000ull
#define CTP  0x101000ull
#define IQ   0x200000ull
#define EP   0x18u                 /* 00:03.0, counting ops */
#define EP2  0x20u                 /* 00:04.0, no ops */

struct rig {
    struct fake f;
    struct vtd *u;
    struct rec r;
    uint64_t slpt;
};

static struct vtd *mk(struct fake *f, unsigned int aw, struct rec *r)
{
    struct vtd_params p = { .aw_bits = aw, .mem = fake_mem_ops(),
                            .mem_opaque = f };
    struct host_iommu_dev h = { .name = "dev" };
    struct vtd *u;

    h.caps.pgsizes = 0x1000;
    h.caps.iova_bits = 64;
    assert_int_equal(vtd_create(&p, &u), 0);
    assert_int_equal(vtd_add_ram(u, 0, FAKE_RAM), 0);
    assert_int_equal(vtd_add_ep(u, EP, &h, rec_ops(), r), 0);
    assert_int_equal(vtd_add_ep(u, EP2, &h, NULL, NULL), 1);
    r->live = 1; /* the identity map, mapped by the caller */
    return u;
}

static int setup(void **state)
{
    struct rig *g = calloc(1, sizeof(*g));

    fake_init(&g->f);
    g->u = mk(&g->f, 48, &g->r);
    g->slpt = fake_table(&g->f);
    fake_root(&g->f, ROOT, 0, CTP);
    fake_ctx(&g->f, CTP, EP, 0, 2, 5, g->slpt);
    fake_ctx(&g->f, CTP, EP2, 0, 2, 6, g->slpt);
    fake_map(&g->f, g->slpt, 4, 0x10000000, 0x4000, 1, 3);
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    struct rig *g = *state;

    vtd_destroy(g->u);
    fake_fini(&g->f);
    free(g);
    return 0;
}

static uint32_t rd32(struct vtd *u, uint64_t off)
{
    uint32_t v;

    vtd_mmio_read(u, off, &v, 4);
    return v;
}

static uint64_t rd64(struct vtd *u, uint64_t off)
{
    uint64_t v;

    vtd_mmio_read(u, off, &v, 8);
    return v;
}

static void wr32(struct vtd *u, uint64_t off, uint32_t v)
{
    vtd_mmio_write(u, off, &v, 4);
}

static void wr64(struct vtd *u, uint64_t off, uint64_t v)
{
    vtd_mmio_write(u, off, &v, 8);
}

/* Root table set, translation on. */
static void enable(struct rig *g)
{
    wr64(g->u, VTD_RTADDR, ROOT);
    wr32(g->u, VTD_GCMD, VTD_GCMD_SRTP);
    wr32(g->u, VTD_GCMD, VTD_GCMD_TE);
}

static void test_reset_caps(void **state)
{
    struct rig *g = *state;
    struct rec r = {0};
    struct vtd *u39;
    uint64_t cap = rd64(g->u, VTD_CAP), ecap = rd64(g->u, VTD_ECAP);
    uint16_t v16 = 0;
    uint64_t v64;

    assert_int_equal(rd32(g->u, VTD_VER), 0x10);
    assert_int_equal(cap & 7, 6);                       /* ND */
    assert_true(cap & (1ull << 7));                     /* CM */
    assert_int_equal((cap >> 8) & 0x1f, 0x6);           /* SAGAW 39+48 */
    assert_int_equal((cap >> 16) & 0x3f, 47);           /* MGAW */
    assert_int_equal(((cap >> 24) & 0x3ff) * 16, VTD_FRCD);
    assert_int_equal((cap >> 34) & 0xf, 3);             /* SLLPS 2M 1G */
    assert_true(cap & (1ull << 39));                    /* PSI */
    assert_int_equal((cap >> 40) & 0xff, VTD_NFR - 1);
    assert_int_equal((cap >> 48) & 0x3f, 18);           /* MAMV */
    assert_int_equal(rd32(g->u, VTD_CAP), (uint32_t)cap);
    assert_int_equal(rd32(g->u, VTD_CAP + 4), (uint32_t)(cap >> 32));
    assert_true(ecap & 1);                              /* C */
    assert_true(ecap & 2);                              /* QI */
    assert_false(ecap & 4);                             /* DT */
    assert_false(ecap & 8);                             /* IR */
    assert_true(ecap & 0x40);                           /* PT */
    assert_int_equal(((ecap >> 8) & 0x3ff) * 16, VTD_IVA);
    assert_int_equal(rd32(g->u, VTD_GSTS), 0);
    assert_int_equal(rd32(g->u, VTD_FSTS), 0);
    assert_int_equal(rd32(g->u, VTD_FECTL), 0x80000000u);
    assert_int_equal(rd32(g->u, VTD_IECTL), 0x80000000u);
    assert_int_equal(rd64(g->u, VTD_IQH), 0);
    /* bad accesses */
    vtd_mmio_read(g->u, VTD_GSTS, &v16, 2);
    assert_int_equal(v16, 0xffff);
    assert_int_equal(rd32(g->u, 2), 0xffffffffu);
    assert_true(rd64(g->u, VTD_GSTS) == UINT64_MAX);
    vtd_mmio_read(g->u, VTD_MMIO_SIZE, &v64, 8);
    assert_true(v64 == UINT64_MAX);
    v16 = 0xffff;
    vtd_mmio_write(g->u, VTD_GCMD, &v16, 2);
    assert_int_equal(rd32(g->u, VTD_GSTS), 0);
    /* 39 bits */
    u39 = mk(&g->f, 39, &r);
    cap = rd64(u39, VTD_CAP);
    assert_int_equal((cap >> 8) & 0x1f, 0x2);
    assert_int_equal((cap >> 16) & 0x3f, 38);
    vtd_destroy(u39);
}

static void test_gcmd(void **state)
{
    struct rig *g = *state;

    wr64(g->u, VTD_RTADDR, ROOT | 0xc00); /* TTM: legacy only, reads 0 */
    assert_true(rd64(g->u, VTD_RTADDR) == ROOT);
    wr32(g->u, VTD_GCMD, VTD_GCMD_SRTP);
    assert_int_equal(rd32(g->u, VTD_GSTS), VTD_GCMD_SRTP);     /* RTPS */
    assert_int_equal(rd32(g->u, VTD_GCMD), 0);
    wr32(g->u, VTD_GCMD, VTD_GCMD_TE);
    assert_int_equal(rd32(g->u, VTD_GSTS), VTD_GCMD_TE | VTD_GCMD_SRTP);
    wr32(g->u, VTD_GCMD, VTD_GCMD_TE | VTD_GCMD_QIE);
    assert_int_equal(rd32(g->u, VTD_GSTS),
                     VTD_GCMD_TE | VTD_GCMD_SRTP | VTD_GCMD_QIE);
    wr32(g->u, VTD_GCMD, VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_WBF);
    assert_int_equal(rd32(g->u, VTD_GSTS), VTD_GCMD_SRTP | VTD_GCMD_QIE);
    assert_int_equal(g->r.live, 1); /* TE off: the identity map again */
}

static void test_reg_invalidation(void **state)
{
    struct rig *g = *state;
    uint64_t v, gpa;

    enable(g);
    assert_int_equal(g->r.live, 1);
    assert_true(g->r.c[g->r.n - 1].map &&
                g->r.c[g->r.n - 1].iova == 0x10000000);
    /* a new page, domain 5 page-selective through IVA + IOTLB */
    fake_map(&g->f, g->slpt, 4, 0x10002000, 0x8000, 1, 1);
    wr64(g->u, VTD_IVA, 0x10002000);
    wr64(g->u, VTD_IOTLB, VTD_IOTLB_IVT | 3ull << VTD_IOTLB_IIRG_SH |
                          5ull << 32);
    v = rd64(g->u, VTD_IOTLB);
    assert_false(v & VTD_IOTLB_IVT);
    assert_int_equal((v >> VTD_IOTLB_IAIG_SH) & 3, 3);
    assert_int_equal(g->r.live, 2);
    assert_true(g->r.c[g->r.n - 1].iova == 0x10002000 &&
                g->r.c[g->r.n - 1].last == 0x10002fff &&
                g->r.c[g->r.n - 1].perm == VTD_PERM_R);
    /* the endpoint without ops is in domain 6: not yet, then */
    assert_int_equal(vtd_translate(g->u, EP2, 0x10002008, 8, VTD_PERM_R,
                                   &gpa, false), -EFAULT);
    wr64(g->u, VTD_IOTLB, VTD_IOTLB_IVT | 2ull << VTD_IOTLB_IIRG_SH |
                          6ull << 32);
    assert_int_equal(vtd_translate(g->u, EP2, 0x10002008, 8, VTD_PERM_R,
                                   &gpa, false), 0);
    assert_true(gpa == 0x8008);
    assert_int_equal(vtd_translate(g->u, EP2, 0x10002008, 8, VTD_PERM_W,
                                   &gpa, false), -EPERM);
    /* another domain: nothing for EP */
    fake_map(&g->f, g->slpt, 4, 0x10004000, 0x9000, 1, 3);
    wr64(g->u, VTD_IOTLB, VTD_IOTLB_IVT | 2ull << VTD_IOTLB_IIRG_SH |
                          9ull << 32);
    assert_int_equal(g->r.live, 2);
    /* context cache, device-selective with a function mask */
    wr64(g->u, VTD_CCMD, VTD_CCMD_ICC | 3ull << VTD_CCMD_CIRG_SH |
                         3ull << 32 | (uint64_t)(EP | 7) << 16);
    v = rd64(g->u, VTD_CCMD);
    assert_false(v & VTD_CCMD_ICC);
    assert_int_equal((v >> VTD_CCMD_CAIG_SH) & 3, 3);
    assert_int_equal(g->r.live, 3);
    /* domain-selective, after the context entry is cleared */
    w64(&g->f, CTP + EP * 16, 0);
    wr64(g->u, VTD_CCMD, VTD_CCMD_ICC | 2ull << VTD_CCMD_CIRG_SH | 5);
    assert_int_equal(g->r.live, 0);
}

/* Queue helpers: descriptor @i is (lo, hi). */
static void desc(struct rig *g, unsigned int i, uint64_t lo, uint64_t hi)
{
    w64(&g->f, IQ + i * 16, lo);
    w64(&g->f, IQ + i * 16 + 8, hi);
}

static void qi_on(struct rig *g)
{
    wr64(g->u, VTD_IQA, IQ); /* QS 0: 256 descriptors */
    wr64(g->u, VTD_IQT, 0);
    wr32(g->u, VTD_GCMD, VTD_GCMD_TE | VTD_GCMD_QIE);
}

static void test_iq(void **state)
{
    struct rig *g = *state;
    struct vtd_stats st;

    enable(g);
    qi_on(g);
    assert_int_equal(rd32(g->u, VTD_GSTS) & VTD_GCMD_QIE, VTD_GCMD_QIE);
    fake_map(&g->f, g->slpt, 4, 0x10001000, 0x5000, 1, 3); /* contiguous */
    fake_map(&g->f, g->slpt, 4, 0x20000000, 0x6000, 1, 3);
    desc(g, 0, VTD_DESC_IOTLB | 3u << 4 | 5u << 16, 0x10001000); /* page */
    desc(g, 1, VTD_DESC_DEVTLB, 0);
    desc(g, 2, VTD_DESC_IEC, 0);
    desc(g, 3, VTD_DESC_WAIT | 1u << 5 | 0xabcdull << 32, 0x300000);
    wr64(g->u, VTD_IQT, 4 << 4);
    assert_true(rd64(g->u, VTD_IQH) == 4 << 4);
    assert_int_equal(r32(&g->f, 0x300000), 0xabcd);
    /* only the invalidated page: its mapped neighbour stays as it is */
    assert_int_equal(g->r.live, 2);
    assert_true(g->r.c[g->r.n - 1].iova == 0x10001000 &&
                g->r.c[g->r.n - 1].last == 0x10001fff);
    /* context cache global: the page at 0x20000000 */
    desc(g, 4, VTD_DESC_CC | 1u << 4, 0);
    desc(g, 5, VTD_DESC_IOTLB | 2u << 4 | 5u << 16, 0); /* domain */
    desc(g, 6, VTD_DESC_IOTLB | 1u << 4, 0);             /* global */
    /* wait with IF, the invalidation event unmasked */
    wr32(g->u, VTD_IEADDR, 0xfee00000);
    wr32(g->u, VTD_IEDATA, 0x41);
    wr32(g->u, VTD_IECTL, 0);
    desc(g, 7, VTD_DESC_WAIT | 1u << 4 | 1u << 6, 0);
    g->f.nmsi = 0;
    wr64(g->u, VTD_IQT, 8 << 4);
    assert_int_equal(g->r.live, 2); /* the two pages coalesced, + 1 */
    assert_true(g->r.c[g->r.n - 2].iova == 0x10000000 &&
                g->r.c[g->r.n - 2].last == 0x10001fff);
    assert_int_equal(rd32(g->u, VTD_ICS), VTD_ICS_IWC);
    assert_int_equal(g->f.nmsi, 1);
    assert_true(g->f.msi_addr[0] == 0xfee00000 && g->f.msi_data[0] == 0x41);
    /* masked: pending until unmasked; IWC W1C */
    wr32(g->u, VTD_ICS, VTD_ICS_IWC);
    assert_int_equal(rd32(g->u, VTD_ICS), 0);
    wr32(g->u, VTD_IECTL, VTD_CTL_IM);
    desc(g, 8, VTD_DESC_WAIT | 1u << 4, 0);
    wr64(g->u, VTD_IQT, 9 << 4);
    assert_int_equal(g->f.nmsi, 1);
    assert_int_equal(rd32(g->u, VTD_IECTL), VTD_CTL_IM | VTD_CTL_IP);
    wr32(g->u, VTD_IECTL, 0);
    assert_int_equal(g->f.nmsi, 2);
    assert_int_equal(rd32(g->u, VTD_IECTL), 0);
    vtd_get_stats(g->u, &st);
    assert_true(st.invalidations == 4); /* IOTLB page, CC, IOTLB x 2 */
    assert_true(st.iq_errors == 0);
    /* register-based invalidation is ignored while the queue is on */
    wr64(g->u, VTD_CCMD, VTD_CCMD_ICC | 1ull << VTD_CCMD_CIRG_SH);
    assert_int_equal((rd64(g->u, VTD_CCMD) >> VTD_CCMD_CAIG_SH) & 3, 0);
}

static void test_iqe(void **state)
{
    struct rig *g = *state;
    struct vtd_stats st;

    qi_on(g);
    wr32(g->u, VTD_FEADDR, 0xfee01000);
    wr32(g->u, VTD_FEDATA, 0x51);
    wr32(g->u, VTD_FECTL, 0);
    desc(g, 0, VTD_DESC_WAIT | 1u << 5 | 7ull << 32, 0x300000);
    desc(g, 1, 0x9, 0);                          /* no such type */
    desc(g, 2, VTD_DESC_WAIT | 1u << 5 | 8ull << 32, 0x300000);
    wr64(g->u, VTD_IQT, 3 << 4);
    assert_true(rd32(g->u, VTD_FSTS) & VTD_FSTS_IQE);
    assert_true(rd64(g->u, VTD_IQH) == 1 << 4);  /* on the bad one */
    assert_int_equal(r32(&g->f, 0x300000), 7);
    assert_int_equal(g->f.nmsi, 1);              /* the fault event */
    assert_true(g->f.msi_addr[0] == 0xfee01000 && g->f.msi_data[0] == 0x51);
    wr64(g->u, VTD_IQT, 3 << 4);                 /* stopped */
    assert_true(rd64(g->u, VTD_IQH) == 1 << 4);
    /* fixed, IQE cleared: it resumes */
    desc(g, 1, VTD_DESC_CC | 1u << 4, 0);
    wr32(g->u, VTD_FSTS, VTD_FSTS_IQE);
    assert_int_equal(rd32(g->u, VTD_FSTS), 0);
    assert_true(rd64(g->u, VTD_IQH) == 3 << 4);
    assert_int_equal(r32(&g->f, 0x300000), 8);
    /* reserved bits, G = 0, AM > MAMV */
    desc(g, 3, VTD_DESC_CC, 0);
    wr64(g->u, VTD_IQT, 4 << 4);
    assert_true(rd32(g->u, VTD_FSTS) & VTD_FSTS_IQE);
    desc(g, 3, VTD_DESC_IOTLB | 3u << 4, 19);
    wr32(g->u, VTD_FSTS, VTD_FSTS_IQE);
    assert_true(rd32(g->u, VTD_FSTS) & VTD_FSTS_IQE);
    desc(g, 3, VTD_DESC_WAIT | 1u << 9, 0);      /* type bits 11:9 */
    wr32(g->u, VTD_FSTS, VTD_FSTS_IQE);
    assert_true(rd32(g->u, VTD_FSTS) & VTD_FSTS_IQE);
    vtd_get_stats(g->u, &st);
    assert_true(st.iq_errors >= 4);
    /* a 256-bit queue is refused */
    wr32(g->u, VTD_GCMD, 0);
    wr32(g->u, VTD_FSTS, VTD_FSTS_IQE);
    wr64(g->u, VTD_IQA, IQ | VTD_IQA_DW);
    wr32(g->u, VTD_GCMD, VTD_GCMD_QIE);
    wr64(g->u, VTD_IQT, 2 << 4);
    assert_true(rd32(g->u, VTD_FSTS) & VTD_FSTS_IQE);
    assert_true(rd64(g->u, VTD_IQH) == 0);
}

static void test_faults(void **state)
{
    struct rig *g = *state;
    uint64_t gpa, hi;

    enable(g);
    fake_map(&g->f, g->slpt, 4, 0x10001000, 0x5000, 1, 1); /* read-only */
    wr64(g->u, VTD_IOTLB, VTD_IOTLB_IVT | 1ull << VTD_IOTLB_IIRG_SH);
    wr32(g->u, VTD_FEADDR, 0xfee02000);
    wr32(g->u, VTD_FEDATA, 0x61);
    wr32(g->u, VTD_FECTL, 0);
    assert_int_equal(vtd_translate(g->u, EP, 0x30000000, 4, VTD_PERM_R,
                                   &gpa, true), -EFAULT);
    hi = rd64(g->u, VTD_FRCD + 8);
    assert_true(hi & VTD_FRCD_F);
    assert_true(hi & VTD_FRCD_T);                         /* read */
    assert_int_equal((hi >> 32) & 0xff, VTD_FR_READ);
    assert_int_equal(hi & 0xffff, EP);
    assert_true(rd64(g->u, VTD_FRCD) == 0x30000000);
    assert_int_equal(rd32(g->u, VTD_FSTS), VTD_FSTS_PPF); /* FRI 0 */
    assert_int_equal(g->f.nmsi, 1);
    assert_true(g->f.msi_addr[0] == 0xfee02000 && g->f.msi_data[0] == 0x61);
    /* a write to the read-only page: record 1, no new event */
    assert_int_equal(vtd_translate(g->u, EP, 0x10001000, 4, VTD_PERM_W,
                                   &gpa, true), -EPERM);
    hi = rd64(g->u, VTD_FRCD + 16 + 8);
    assert_int_equal((hi >> 32) & 0xff, VTD_FR_WRITE);
    assert_false(hi & VTD_FRCD_T);
    assert_int_equal(g->f.nmsi, 1);
    /* W1C the F bits: PPF goes with the last one */
    wr32(g->u, VTD_FRCD + 12, 0x80000000u);
    assert_int_equal(rd32(g->u, VTD_FSTS) & VTD_FSTS_PPF, VTD_FSTS_PPF);
    wr32(g->u, VTD_FRCD + 16 + 12, 0x80000000u);
    assert_int_equal(rd32(g->u, VTD_FSTS), 0);
    /* masked: IP, the MSI on unmask */
    wr32(g->u, VTD_FECTL, VTD_CTL_IM);
    vtd_report_fault(g->u, EP, 0x40000000, VTD_PERM_R);
    assert_int_equal(rd32(g->u, VTD_FECTL), VTD_CTL_IM | VTD_CTL_IP);
    assert_int_equal(g->f.nmsi, 1);
    assert_int_equal(rd32(g->u, VTD_FSTS) >> VTD_FSTS_FRI_SH, 2);
    wr32(g->u, VTD_FECTL, 0);
    assert_int_equal(g->f.nmsi, 2);
}

static void test_fault_overflow_reasons(void **state)
{
    struct rig *g = *state;
    struct vtd_stats st;
    uint64_t hi;
    uint32_t fri;

    enable(g);
    /* overflow: 4 records, the 5th sets PFO and is dropped */
    for (int i = 0; i < (int)VTD_NFR + 1; i++)
        vtd_report_fault(g->u, EP, 0x50000000 + i * 0x1000, VTD_PERM_R);
    assert_true(rd32(g->u, VTD_FSTS) & VTD_FSTS_PFO);
    vtd_get_stats(g->u, &st);
    assert_true(st.faults == VTD_NFR && st.faults_dropped == 1);
    /* the context entry: not present; FPD: not recorded */
    for (int i = 0; i < (int)VTD_NFR; i++)
        wr32(g->u, VTD_FRCD + i * 16 + 12, 0x80000000u);
    wr32(g->u, VTD_FSTS, VTD_FSTS_PFO);
    assert_int_equal(rd32(g->u, VTD_FSTS) & 0xff, 0); /* FRI stays */
    vtd_report_fault(g->u, 0x28, 0x1000, VTD_PERM_R);
    fri = rd32(g->u, VTD_FSTS) >> VTD_FSTS_FRI_SH;
    assert_true(fri < VTD_NFR);
    hi = rd64(g->u, VTD_FRCD + fri * 16 + 8);
    assert_int_equal((hi >> 32) & 0xff, VTD_FR_CTX_NP);
    assert_int_equal(hi & 0xffff, 0x28);
    w64(&g->f, CTP + EP * 16, r64(&g->f, CTP + EP * 16) | 2);
    vtd_report_fault(g->u, EP, 0x60000000, VTD_PERM_R);
    assert_false(rd64(g->u, VTD_FRCD + ((fri + 1) % VTD_NFR) * 16 + 8) &
                 VTD_FRCD_F);
    /* beyond the AGAW */
    w64(&g->f, CTP + EP * 16, r64(&g->f, CTP + EP * 16) & ~2ull);
    vtd_report_fault(g->u, EP, 1ull << 48, VTD_PERM_R);
    hi = rd64(g->u, VTD_FRCD + ((fri + 1) % VTD_NFR) * 16 + 8);
    assert_int_equal((hi >> 32) & 0xff, VTD_FR_ADDR_BEYOND);
}

static void test_state(void **state)
{
    struct rig *g = *state;
    struct rec r2 = {0};
    struct vtd *u2 = mk(&g->f, 48, &r2);
    struct vtd *u3;
    struct rec r3 = {0};
    size_t sz = 1 << 16;
    void *fdt = malloc(sz);
    uint64_t gpa;
    int node;

    enable(g);
    qi_on(g);
    wr32(g->u, VTD_FEDATA, 0x77);
    vtd_report_fault(g->u, EP, 0x30000000, VTD_PERM_R);
    assert_int_equal(fdt_create_empty_tree(fdt, (int)sz), 0);
    node = fdt_add_subnode(fdt, 0, "vtd");
    assert_true(node >= 0);
    assert_int_equal(vtd_state_ops.save(g->u, fdt, node), 0);
    assert_int_equal(vtd_state_ops.load(u2, fdt, node), 0);
    assert_int_equal(rd32(u2, VTD_GSTS), rd32(g->u, VTD_GSTS));
    assert_int_equal(rd32(u2, VTD_FEDATA), 0x77);
    assert_true(rd64(u2, VTD_IQA) == IQ);
    assert_true(rd64(u2, VTD_FRCD + 8) == rd64(g->u, VTD_FRCD + 8));
    assert_int_equal(rd32(u2, VTD_FSTS), VTD_FSTS_PPF);
    /* replayed: the identity map goes, the page comes */
    assert_int_equal(r2.live, 1);
    assert_true(r2.c[r2.n - 1].map && r2.c[r2.n - 1].iova == 0x10000000);
    assert_int_equal(vtd_translate(u2, EP2, 0x10000000, 8, VTD_PERM_W, &gpa,
                                   false), 0);
    assert_true(gpa == 0x4000);
    /* other endpoints: refused, nothing changed */
    u3 = mk(&g->f, 48, &r3);
    {
        struct host_iommu_dev h = { .name = "x" };

        h.caps.pgsizes = 0x1000;
        h.caps.iova_bits = 64;
        assert_int_equal(vtd_add_ep(u3, 0x30, &h, NULL, NULL), 2);
    }
    assert_int_equal(vtd_state_ops.load(u3, fdt, node), -EINVAL);
    assert_int_equal(r3.n, 0);
    assert_int_equal(rd32(u3, VTD_GSTS), 0);
    vtd_destroy(u3);
    vtd_destroy(u2);
    free(fdt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gcmd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reg_invalidation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_iq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iqe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_overflow_reasons, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_state, setup, teardown),
    };

    return cmocka_run_group_tests_name("vtd_regs", tests, NULL, NULL);
}
