/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vtd: drive minivmm's Intel VT-d unit (--viommu intel) by hand, with the
 * first virtio-blk device (a vfu-blk or an in-VMM disk behind it) as the
 * endpoint (driver: vtd.c):
 *   1. find the unit through the DMAR table (one DRHD, INCLUDE_PCI_ALL,
 *      at 0xfed90000; vtd-any-scope=1 accepts QEMU's, with device
 *      scopes, when developing under QEMU: README.md); VER, CAP (SAGAW
 *      and MGAW for vtd-aw=39|48, default 48, as given to --viommu
 *      intel,aw-bits=; CM; 2 MiB pages; fault recording registers) and
 *      ECAP (QI; no IR);
 *   2. translation off: a write of sector 0 from a buffer at its GPA
 *      works (identity);
 *   3. root table, a context entry for the disk (domain 1, TT 0, AW for
 *      vtd-aw), second-level tables mapping the DMA area 1:1 (4 KiB
 *      pages), two 4 KiB pages at a far IOVA (0x7f0000000000, or
 *      0x7f00000000 for aw 39) onto buffers at 160 MiB and a 2 MiB page at
 *      far + 2 MiB onto 162 MiB; SRTP, queued invalidation (context cache
 *      and IOTLB global, then a wait descriptor with status write), TE:
 *      sector 1 is written from, then read back into, the far IOVA and
 *      read into the 2 MiB page; the data lands at the buffers' GPAs;
 *      with vtd-1g=1 (and >= 1 GiB of guest RAM) also through a 1 GiB
 *      page at far + 1 GiB onto GPA 0;
 *   4. the far 4 KiB pages' entries cleared, a page-selective IOTLB
 *      invalidation: a read into them fails and leaves the buffer alone;
 *      with vtd-fault=1 (an in-VMM virtio-blk, whose DMA minivmm
 *      translates) the fault is recorded (FSTS.PPF; a fault record with
 *      the disk's source ID, the page, reason 5 for a write to a
 *      non-writable page, type write), signalled by the fault event MSI,
 *      and cleared (W1C); the 2 MiB page still works;
 *   5. translation off: sector 2 is written from its GPA (identity again).
 * The host script checks sectors 0-2 in the disk's file.
 */
#include <stdbool.h>

#include "lib/bootinfo.h"
#include "lib/errno.h"
#include "lib/irq.h"
#include "lib/lapic.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"
#include "lib/time.h"
#include "lib/virtio.h"
#include "virtio/vblk.h"
#include "virtio/vtd.h"
#include "virtio/vtests.h"

#define DATA_GPA  0x0a000000ULL     /* 160 MiB: outside the DMA area */
#define BIG_GPA   0x0a200000ULL     /* 162 MiB: the 2 MiB page */
#define BIG_OFF   0x200000UL        /* its IOVA: far + 2 MiB */
#define GIG_OFF   0x40000000UL      /* the 1 GiB page's IOVA: far + 1 GiB */
#define GIG       0x40000000UL      /* onto GPA 0 (vtd-1g=1, >= 1G of RAM) */
#define DID       1
#define FR_WRITE  5                 /* VT-d 7.1.3: no write permission */
#define F_ACCESS_PLATFORM (1ULL << 33)  /* virtio 1.2, 6: DMA through IOVAs */

static uint64_t iova_far(unsigned int aw)
{
    return aw == 39 ? 0x7f00000000ULL : 0x7f0000000000ULL;
}

static int cap_check(struct vtd_drv *d, unsigned int aw)
{
    uint32_t ver = vtd_rd32(d, VTD_VER);
    unsigned int sagaw = (unsigned int)(d->cap >> 8) & 0x1f;
    unsigned int mgaw = (unsigned int)((d->cap >> 16) & 0x3f) + 1;
    unsigned int want = aw == 39 ? 2u : 4u;

    if (ver == 0 || ver == 0xffffffffu || (ver >> 4 & 0xf) == 0)
        return test_fail("VER %#x", ver);
    if (!(sagaw & want) || (aw == 39 && (sagaw & 4)))
        return test_fail("CAP.SAGAW %#x does not fit aw-bits %u", sagaw, aw);
    if (mgaw != aw)
        return test_fail("CAP.MGAW gives %u bits, want %u", mgaw, aw);
    if (!(d->cap & (1ULL << 7)))
        return test_fail("CAP.CM is 0 (caching mode must be on)");
    if (!(d->cap & (1ULL << 34)))
        return test_fail("CAP.SLLPS has no 2 MiB pages");
    if (!((d->cap >> 24) & 0x3ff))
        return test_fail("CAP.FRO is 0");
    if (!(d->ecap & 2) || (d->ecap & 8))
        return test_fail("ECAP %#lx: want QI and no IR", d->ecap);
    if (vtd_rd32(d, VTD_GSTS) & VTD_GSTS_TES)
        return test_fail("translation is on at start");
    printf("vtd: VER %#x CAP %#lx ECAP %#lx: SAGAW %#x MGAW %u CM 1 "
           "NFR %u QI 1\n", ver, d->cap, d->ecap, sagaw, mgaw,
           (unsigned int)((d->cap >> 40) & 0xff) + 1);
    return 0;
}

/* Find the unit, check its capabilities for vtd-aw; set up @d. */
static int vtd_open(struct vtd_drv *d)
{
    uint64_t aw = 48, base = 0, any_scope = 0;
    unsigned int haw = 0, flags = 0;
    int r;

    cmdline_get_u64("vtd-aw", &aw);
    if (aw != 39 && aw != 48)
        return test_fail("vtd-aw=%lu: want 39 or 48", aw);
    cmdline_get_u64("vtd-any-scope", &any_scope);
    if ((r = vtd_acpi_find(&base, &haw, &flags)) < 0)
        return test_fail("no DMAR table with a DRHD (%d)", r);
    if (!(flags & 1) && !any_scope)
        return test_fail("the DRHD has no INCLUDE_PCI_ALL (flags %#x)",
                         flags);
    if (base != VTD_BASE_DEFAULT)
        return test_fail("DRHD register base %#lx, want %#llx", base,
                         VTD_BASE_DEFAULT);
    printf("vtd: DMAR: DRHD at %#lx flags %#x, host address width %u\n",
           base, flags, haw);
    if (vtd_init(d, base, (unsigned int)aw) < 0)
        return test_fail("out of DMA memory");
    return cap_check(d, (unsigned int)aw);
}

/* Context entry for @devfn, the DMA area 1:1 and @n extra 4 KiB pages
 * at @iova onto @gpa[i]; root table, invalidation (queued, or register-
 * based when !@qi), translation on. */
static int program(struct vtd_drv *d, uint8_t devfn, uint64_t iova,
                   const uint64_t *gpa, unsigned int n, bool qi)
{
    int r;

    vtd_ctx_set(d, devfn, DID);
    if (vtd_map(d, VDMA_BASE, VDMA_LIMIT - VDMA_BASE, VDMA_BASE,
                VTD_PTE_R | VTD_PTE_W, 1) < 0)
        return test_fail("out of memory for page tables");
    for (unsigned int i = 0; i < n; i++)
        if (vtd_map(d, iova + i * 0x1000ULL, 0x1000, gpa[i],
                    VTD_PTE_R | VTD_PTE_W, 1) < 0)
            return test_fail("out of memory for page tables");
    if (vtd_set_root(d) < 0)
        return test_fail("SRTP: GSTS.RTPS did not come up");
    if (qi) {
        if (vtd_qi_enable(d) < 0)
            return test_fail("QIE: GSTS.QIES did not come up");
        if ((r = vtd_qi_global(d)) < 0)
            return test_fail("queued invalidation (global): %d, FSTS %#x",
                             r, vtd_rd32(d, VTD_FSTS));
    } else if (vtd_reg_global(d) < 0) {
        return test_fail("register invalidation did not complete");
    }
    if (vtd_gcmd(d, VTD_GCMD_TE, VTD_GSTS_TES, true) < 0)
        return test_fail("TE: GSTS.TES did not come up");
    return 0;
}

static int fill_check(uint8_t *buf, unsigned int sector, bool check)
{
    char want[32];

    snprintf(want, sizeof(want), "VTD sector %u", sector);
    if (!check) {
        memset(buf, 0, 512);
        memcpy(buf, want, strlen(want));
        return 0;
    }
    return memcmp(buf, want, strlen(want)) ? -1 : 0;
}

/* Sector 1 read into the 2 MiB page lands at its GPA. */
static int big_page(struct vblk *b, uint64_t far)
{
    uint8_t *p = (uint8_t *)(uintptr_t)(BIG_GPA + 0x3000);
    int st;

    memset(p, 0, 512);
    st = vblk_rw(b, VBLK_T_IN, 1, (void *)(uintptr_t)(far + BIG_OFF + 0x3000),
                 512);
    if (st != 0)
        return test_fail("read into the 2 MiB page: status %d", st);
    if (fill_check(p, 1, true) < 0)
        return test_fail("the read into the 2 MiB page did not land at GPA "
                         "%#llx", BIG_GPA + 0x3000);
    return 0;
}

/* vtd-1g=1: sector 1 read through the 1 GiB page (IOVA far + 1 GiB
 * onto GPA 0) lands at its GPA. */
static int gig_page(struct vtd_drv *d, struct vblk *b, uint64_t far)
{
    uint64_t gpa = DATA_GPA + 0x4000;
    uint8_t *p = (uint8_t *)(uintptr_t)gpa;
    int st;

    if (!(d->cap & (1ULL << 35)))
        return test_fail("CAP.SLLPS has no 1 GiB pages");
    memset(p, 0, 512);
    st = vblk_rw(b, VBLK_T_IN, 1, (void *)(uintptr_t)(far + GIG_OFF + gpa),
                 512);
    if (st != 0)
        return test_fail("read into the 1 GiB page: status %d", st);
    if (fill_check(p, 1, true) < 0)
        return test_fail("the read into the 1 GiB page did not land at GPA "
                         "%#lx", gpa);
    printf("vtd: DMA at IOVA %#lx (1 GiB page) landed at GPA %#lx\n",
           far + GIG_OFF + gpa, gpa);
    return 0;
}

/* The fault of step 4: recorded, signalled, cleared. */
static int fault_check(struct vtd_drv *d, uint16_t sid, uint64_t iova,
                       uint64_t irqs)
{
    struct vtd_fault f;
    int r = vtd_fault_take(d, &f, 1000000);

    if (r < 0)
        return test_fail("no fault recorded (%d), FSTS %#x", r,
                         vtd_rd32(d, VTD_FSTS));
    printf("vtd: fault reason %u type %s sid %#x address %#lx\n", f.reason,
           f.read ? "read" : "write", f.sid, f.addr);
    if (f.sid != sid || f.addr != iova || f.reason != FR_WRITE || f.read)
        return test_fail("fault record: want reason %u type write sid %#x "
                         "address %#lx", FR_WRITE, sid, iova);
    if (irq_wait(VEC_VTD_FAULT, irqs + 1, 1000000) < 0)
        return test_fail("no fault event interrupt");
    if (vtd_rd32(d, VTD_FSTS) & (VTD_FSTS_PPF | VTD_FSTS_PFO))
        return test_fail("FSTS %#x after clearing the record",
                         vtd_rd32(d, VTD_FSTS));
    printf("vtd: fault event interrupt, record cleared\n");
    return 0;
}

/* Step 4: the far pages unmapped and invalidated page-selectively. */
static int unmapped(struct vtd_drv *d, struct vblk *b, uint16_t sid,
                    uint64_t far)
{
    uint8_t *far1 = (uint8_t *)(uintptr_t)(DATA_GPA + 0x1000);
    uint64_t want_fault = 0, irqs = irq_count(VEC_VTD_FAULT);
    int st;

    cmdline_get_u64("vtd-fault", &want_fault);
    vtd_unmap(d, far, 0x2000);
    if ((st = vtd_qi_page(d, DID, far, 1)) < 0)
        return test_fail("page-selective invalidation: %d", st);
    memset(far1, 0x5a, 512);
    st = vblk_rw(b, VBLK_T_IN, 1, (void *)(uintptr_t)(far + 0x1000), 512);
    if (st == 0)
        return test_fail("a read into an unmapped IOVA succeeded");
    printf("vtd: read into an unmapped IOVA: status %d\n", st);
    for (unsigned int i = 0; i < 512; i++)
        if (far1[i] != 0x5a)
            return test_fail("the refused read wrote the old page");
    if (want_fault && fault_check(d, sid, far + 0x1000, irqs) < 0)
        return -1;
    return big_page(b, far);
}

int test_vtd(void)
{
    struct vtd_drv d;
    struct vblk b;
    uint8_t *buf = vdma_alloc(512, 4096);
    uint8_t *far0 = (uint8_t *)(uintptr_t)DATA_GPA;
    const uint64_t gpa[2] = { DATA_GPA, DATA_GPA + 0x1000 };
    uint64_t far, g1 = 0;
    uint8_t devfn;
    int st;

    cmdline_get_u64("vtd-1g", &g1);
    if (vtd_open(&d) < 0 ||
        vblk_open_feat(&b, 0, VEC_VBLK, F_ACCESS_PLATFORM) < 0)
        return -1;
    far = iova_far(d.aw);
    devfn = (uint8_t)(b.dev.pci.dev << 3 | b.dev.pci.fn);
    printf("vtd: endpoint %#x (virtio-blk), far IOVA %#lx\n", devfn, far);
    fill_check(buf, 0, false);
    if ((st = vblk_rw(&b, VBLK_T_OUT, 0, buf, 512)) != 0)
        return test_fail("write with translation off: status %d", st);
    if (vtd_map(&d, far + BIG_OFF, 0x200000, BIG_GPA, VTD_PTE_R | VTD_PTE_W,
                2) < 0 || (g1 && vtd_map(&d, far + GIG_OFF, GIG, 0,
                                         VTD_PTE_R | VTD_PTE_W, 3) < 0))
        return test_fail("out of memory for page tables");
    vtd_wr32(&d, VTD_FEDATA, VEC_VTD_FAULT);
    vtd_wr32(&d, VTD_FEADDR, 0xfee00000u | lapic_id() << 12);
    vtd_wr32(&d, VTD_FEUADDR, 0);
    vtd_wr32(&d, VTD_FECTL, 0);                 /* IM off */
    if (program(&d, devfn, far, gpa, 2, true) < 0)
        return -1;
    fill_check(far0, 1, false);
    memset(far0 + 0x1000, 0, 512);
    if ((st = vblk_rw(&b, VBLK_T_OUT, 1, (void *)(uintptr_t)far, 512)) ||
        (st = vblk_rw(&b, VBLK_T_IN, 1, (void *)(uintptr_t)(far + 0x1000),
                      512)))
        return test_fail("I/O through IOVA %#lx: status %d", far, st);
    if (fill_check(far0 + 0x1000, 1, true) < 0)
        return test_fail("the read through the IOVA did not land at GPA "
                         "%#llx", DATA_GPA + 0x1000);
    if (big_page(&b, far) < 0 || (g1 && gig_page(&d, &b, far) < 0))
        return -1;
    printf("vtd: DMA at IOVA %#lx landed at GPA %#llx, 2 MiB page at "
           "%#lx at GPA %#llx\n", far + 0x1000, DATA_GPA + 0x1000,
           far + BIG_OFF + 0x3000, BIG_GPA + 0x3000);
    if (unmapped(&d, &b, devfn, far) < 0)
        return -1;
    if (vtd_gcmd(&d, VTD_GCMD_TE, VTD_GSTS_TES, false) < 0)
        return test_fail("TE off: GSTS.TES did not go down");
    fill_check(buf, 2, false);
    if ((st = vblk_rw(&b, VBLK_T_OUT, 2, buf, 512)) != 0)
        return test_fail("write after translation off: status %d", st);
    printf("vtd: translation off, identity again\n");
    return 0;
}

/* For vblk-count vtd=1 (snapshot and migration tests): translate @b
 * through domain 1 with the DMA area mapped 1:1 and the 4 KiB buffers @w
 * and @r also at the far IOVA and far + 4 KiB, which are what the device
 * is then given (*@wdma, *@rdma). Register-based invalidation (the
 * queued kind is test=vtd's). 0 or -1 (test_fail called). */
int vtd_confine(struct vblk *b, void *w, void *r, void **wdma, void **rdma)
{
    static struct vtd_drv d;    /* in RAM: survives a restore */
    uint8_t devfn = (uint8_t)(b->dev.pci.dev << 3 | b->dev.pci.fn);
    uint64_t gpa[2] = { (uintptr_t)w, (uintptr_t)r }, far;

    if (vtd_open(&d) < 0)
        return -1;
    far = iova_far(d.aw);
    if (program(&d, devfn, far, gpa, 2, false) < 0)
        return -1;
    *wdma = (void *)(uintptr_t)far;
    *rdma = (void *)(uintptr_t)(far + 0x1000);
    printf("vtd: endpoint %#x confined, data at IOVA %#lx\n", devfn, far);
    return 0;
}

/* bench-vtd: 4 KiB reads at QD 1 for bench-secs (default 2) seconds
 * each, from the first virtio-blk translated through domain 1: "lazy"
 * (the buffer's page mapped once) and "strict" (entry set + page-selective
 * invalidation before, entry cleared + invalidation after every read, as
 * a Linux guest with iommu.strict=1 does under caching mode). Prints
 * "BENCH vtd-<mode>-read-4k-qd1 N IOPS (M reads)". */
int bench_vtd(void)
{
    static struct vtd_drv d;
    struct vblk b;
    uint8_t *buf = vdma_alloc(4096, 4096);
    uint64_t secs = 2, end, n, far, gpa = (uintptr_t)buf;
    int st;

    cmdline_get_u64("bench-secs", &secs);
    if (vtd_open(&d) < 0 ||
        vblk_open_feat(&b, 0, VEC_VBLK, F_ACCESS_PLATFORM) < 0)
        return -1;
    far = iova_far(d.aw);
    if (program(&d, (uint8_t)(b.dev.pci.dev << 3 | b.dev.pci.fn), far, &gpa,
                1, true) < 0)
        return -1;
    for (int strict = 0; strict < 2; strict++) {
        end = time_us() + secs * 1000000;
        for (n = 0; time_us() < end; n++) {
            if (strict && (vtd_map(&d, far, 4096, gpa, VTD_PTE_R | VTD_PTE_W,
                                   1) || vtd_qi_page(&d, DID, far, 0)))
                return test_fail("map + invalidation");
            if ((st = vblk_rw(&b, VBLK_T_IN, (n % 64) * 8,
                              (void *)(uintptr_t)far, 4096)))
                return test_fail("read: status %d", st);
            if (strict) {
                vtd_unmap(&d, far, 4096);
                if (vtd_qi_page(&d, DID, far, 0))
                    return test_fail("invalidation");
            }
        }
        if (!strict) {
            vtd_unmap(&d, far, 4096);
            if (vtd_qi_page(&d, DID, far, 0))
                return test_fail("invalidation");
        }
        printf("BENCH vtd-%s-read-4k-qd1 %lu IOPS (%lu reads)\n",
               strict ? "strict" : "lazy", n / secs, n);
    }
    return 0;
}
