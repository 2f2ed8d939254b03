/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * viommu: drive minivmm's virtio-iommu (--viommu virtio) by hand, with the
 * first virtio-blk device (a vfu-blk behind it) as the endpoint:
 *   1. PROBE the endpoint: the MSI doorbell window is a RESV_MEM/MSI
 *      property;
 *   2. bypass (config.bypass = 1, not attached): a write of sector 0 from
 *      a buffer at its GPA works (identity);
 *   3. ATTACH to domain 1, MAP the DMA area 1:1 (rings, headers) and two
 *      pages at IOVA 0x7f0000000000 onto buffers at 160 MiB: sector 1 is
 *      written from, then read back into, the far IOVA; the data lands at
 *      the buffers' GPAs;
 *   4. UNMAP the far IOVA: a read into it is refused (status not OK); with
 *      viommu-fault=1 (an in-VMM virtio-blk with iommu=on, whose DMA
 *      minivmm translates) the refusal also comes back as a fault record
 *      on the event queue naming the endpoint and the IOVA;
 *   5. DETACH: back to bypass, sector 2 is written from its GPA.
 * The host script checks sectors 0-2 in vfu-blk's file.
 */
#include <stdbool.h>

#include "lib/bootinfo.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"
#include "lib/time.h"
#include "lib/virtio.h"
#include "virtio/vblk.h"
#include "virtio/vtests.h"

#define VIRTIO_ID_IOMMU 23
#define IOVA_FAR  0x7f0000000000ULL
#define DATA_GPA  0x0a000000ULL     /* 160 MiB: outside the DMA area */
#define DOMAIN    1

struct viommu_drv {
    struct vdev dev;
    struct vq rq, eq;
    uint8_t *req;       /* request scratch (readable part) */
    uint8_t *resp;      /* writable part: props + tail */
    uint8_t *fault;     /* one event buffer */
};

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* One request of @rlen readable bytes, @wlen writable; the tail status is
 * the last 4 bytes' first. Returns the status or -errno. */
static int request(struct viommu_drv *v, uint32_t rlen, uint32_t wlen)
{
    struct vq_buf b[2] = { { v->req, rlen, 0 }, { v->resp, wlen, 1 } };
    uint32_t id, len;

    memset(v->resp, 0xee, wlen);
    if (vq_add(&v->rq, b, 2) < 0)
        return -ENOSPC;
    vq_kick(&v->rq);
    if (vq_wait_used(&v->rq, &id, &len, 2000000) < 0)
        return -ETIMEDOUT;
    return v->resp[wlen - 4];
}

static int attach(struct viommu_drv *v, uint8_t type, uint32_t ep)
{
    memset(v->req, 0, 20);
    v->req[0] = type;               /* ATTACH 1, DETACH 2 */
    put32(v->req + 4, DOMAIN);
    put32(v->req + 8, ep);
    return request(v, 20, 4);
}

static int map(struct viommu_drv *v, uint64_t iova, uint64_t size,
               uint64_t gpa)
{
    memset(v->req, 0, 36);
    v->req[0] = 3;
    put32(v->req + 4, DOMAIN);
    put64(v->req + 8, iova);
    put64(v->req + 16, iova + size - 1);
    put64(v->req + 24, gpa);
    put32(v->req + 32, 3);          /* READ | WRITE */
    return request(v, 36, 4);
}

static int unmap(struct viommu_drv *v, uint64_t iova, uint64_t size)
{
    memset(v->req, 0, 28);
    v->req[0] = 4;
    put32(v->req + 4, DOMAIN);
    put64(v->req + 8, iova);
    put64(v->req + 16, iova + size - 1);
    return request(v, 28, 4);
}

static int viommu_open(struct viommu_drv *v)
{
    struct vq_buf eb;
    int r = vdev_find(VIRTIO_ID_IOMMU, 0, &v->dev);

    if (r < 0)
        return test_fail("no virtio-iommu device (%d)", r);
    /* INPUT_RANGE, DOMAIN_RANGE, MAP_UNMAP, PROBE, BYPASS_CONFIG */
    if (vdev_init(&v->dev, 0x57) < 0 || v->dev.features != (0x57 |
                                                            (1ULL << 32)))
        return test_fail("features %#lx", v->dev.features);
    if (vq_setup(&v->dev, &v->rq, 0, 16, VIRTIO_NO_VECTOR, 0) < 0 ||
        vq_setup(&v->dev, &v->eq, 1, 16, VIRTIO_NO_VECTOR, 0) < 0)
        return test_fail("queue setup");
    v->req = vdma_alloc(128, 64);
    v->resp = vdma_alloc(1024, 64);
    v->fault = vdma_alloc(64, 64);
    if (!v->req || !v->resp || !v->fault)
        return test_fail("out of DMA memory");
    vdev_driver_ok(&v->dev);
    eb = (struct vq_buf){ v->fault, 64, 1 };
    vq_add(&v->eq, &eb, 1);
    vq_kick(&v->eq);
    if (vdev_cfg8(&v->dev, 36) != 1)
        return test_fail("config bypass is not 1 at start");
    return 0;
}

static int probe(struct viommu_drv *v, uint32_t ep)
{
    uint32_t psize = vdev_cfg32(&v->dev, 32);
    int st;

    if (psize < 24 || psize + 4 > 1024)
        return test_fail("probe_size %u", psize);
    memset(v->req, 0, 72);
    v->req[0] = 5;
    put32(v->req + 4, ep);
    st = request(v, 72, psize + 4);
    if (st != 0)
        return test_fail("PROBE: status %d", st);
    uint64_t start, end;
    memcpy(&start, v->resp + 8, 8);
    memcpy(&end, v->resp + 16, 8);
    if (v->resp[0] != 1 || v->resp[4] != 1 || start != 0xfee00000ULL ||
        end != 0xfeefffffULL)
        return test_fail("PROBE: no RESV_MEM/MSI [0xfee00000, 0xfeefffff]");
    return 0;
}

static int fill_check(uint8_t *buf, unsigned int sector, bool check)
{
    char want[32];

    snprintf(want, sizeof(want), "VIOMMU sector %u", sector);
    if (!check) {
        memset(buf, 0, 512);
        memcpy(buf, want, strlen(want));
        return 0;
    }
    return memcmp(buf, want, strlen(want)) ? -1 : 0;
}

/* Steps 4: the unmapped IOVA is refused (and reported). */
static int unmapped(struct viommu_drv *v, struct vblk *b, uint32_t ep)
{
    uint64_t want_fault = 0, addr;
    uint32_t id, len, r32;
    int st;

    cmdline_get_u64("viommu-fault", &want_fault);
    if ((st = unmap(v, IOVA_FAR, 0x2000)) != 0)
        return test_fail("UNMAP: status %d", st);
    st = vblk_rw(b, VBLK_T_IN, 1, (void *)(uintptr_t)(IOVA_FAR + 0x1000),
                 512);
    if (st == 0)
        return test_fail("a read into an unmapped IOVA succeeded");
    printf("viommu: read into an unmapped IOVA: status %d\n", st);
    if (!want_fault)
        return 0;
    if (vq_wait_used(&v->eq, &id, &len, 2000000) < 0)
        return test_fail("no fault record on the event queue");
    memcpy(&r32, v->fault + 8, 4);
    memcpy(&addr, v->fault + 16, 8);
    printf("viommu: fault reason %u flags %#x endpoint %#x address %#lx\n",
           v->fault[0], *(uint32_t *)(v->fault + 4), r32, addr);
    if (len != 24 || v->fault[0] != 2 || r32 != ep ||
        (addr & ~0xfffULL) != IOVA_FAR + 0x1000)
        return test_fail("fault record does not name the endpoint/IOVA");
    return 0;
}

int test_viommu(void)
{
    struct viommu_drv v;
    struct vblk b;
    uint8_t *buf = vdma_alloc(512, 4096);
    uint8_t *far0 = (uint8_t *)(uintptr_t)DATA_GPA;
    uint8_t *far1 = far0 + 0x1000;
    uint32_t ep;
    int st;

    if (viommu_open(&v) < 0 || vblk_open(&b, VEC_VBLK) < 0)
        return -1;
    ep = (uint32_t)(b.dev.pci.dev << 3 | b.dev.pci.fn);
    printf("viommu: endpoint %#x (virtio-blk), virtio-iommu at %02x.%x\n", ep,
           v.dev.pci.dev, v.dev.pci.fn);
    if (probe(&v, ep) < 0)
        return -1;
    fill_check(buf, 0, false);
    if ((st = vblk_rw(&b, VBLK_T_OUT, 0, buf, 512)) != 0)
        return test_fail("bypass write: status %d", st);
    if ((st = attach(&v, 1, ep)) != 0)
        return test_fail("ATTACH: status %d", st);
    if ((st = map(&v, VDMA_BASE, VDMA_LIMIT - VDMA_BASE, VDMA_BASE)) != 0 ||
        (st = map(&v, IOVA_FAR, 0x2000, DATA_GPA)) != 0)
        return test_fail("MAP: status %d", st);
    fill_check(far0, 1, false);
    memset(far1, 0, 512);
    if ((st = vblk_rw(&b, VBLK_T_OUT, 1, (void *)(uintptr_t)IOVA_FAR,
                      512)) != 0 ||
        (st = vblk_rw(&b, VBLK_T_IN, 1,
                      (void *)(uintptr_t)(IOVA_FAR + 0x1000), 512)) != 0)
        return test_fail("I/O through IOVA %#llx: status %d", IOVA_FAR, st);
    if (fill_check(far1, 1, true) < 0)
        return test_fail("the read through the IOVA did not land at GPA "
                         "%#llx", DATA_GPA + 0x1000);
    printf("viommu: DMA at IOVA %#llx landed at GPA %#llx\n",
           IOVA_FAR + 0x1000, DATA_GPA + 0x1000);
    if (unmapped(&v, &b, ep) < 0)
        return -1;
    if ((st = attach(&v, 2, ep)) != 0)
        return test_fail("DETACH: status %d", st);
    fill_check(buf, 2, false);
    if ((st = vblk_rw(&b, VBLK_T_OUT, 2, buf, 512)) != 0)
        return test_fail("bypass write after DETACH: status %d", st);
    return 0;
}

/* For vblk-count viommu=1 (snapshot and migration tests): confine @b to
 * domain 1 with the DMA area mapped 1:1 and the 4 KiB buffers @w and @r
 * (in it) also at IOVA_FAR and IOVA_FAR + 0x1000, which are what the
 * device is then given (*@wdma, *@rdma). 0 or -1 (test_fail called). */
int viommu_confine(struct vblk *b, void *w, void *r, void **wdma,
                   void **rdma)
{
    static struct viommu_drv v; /* in RAM: survives a restore */
    uint32_t ep = (uint32_t)(b->dev.pci.dev << 3 | b->dev.pci.fn);
    int st;

    if (viommu_open(&v) < 0)
        return -1;
    if ((st = attach(&v, 1, ep)) != 0)
        return test_fail("ATTACH: status %d", st);
    if ((st = map(&v, VDMA_BASE, VDMA_LIMIT - VDMA_BASE, VDMA_BASE)) != 0 ||
        (st = map(&v, IOVA_FAR, 0x1000, (uintptr_t)w)) != 0 ||
        (st = map(&v, IOVA_FAR + 0x1000, 0x1000, (uintptr_t)r)) != 0)
        return test_fail("MAP: status %d", st);
    *wdma = (void *)(uintptr_t)IOVA_FAR;
    *rdma = (void *)(uintptr_t)(IOVA_FAR + 0x1000);
    printf("viommu: endpoint %#x confined, data at IOVA %#llx\n", ep,
           IOVA_FAR);
    return 0;
}

/* bench-viommu: 4 KiB reads at QD 1 for bench-secs (default 2) seconds
 * each, from the first virtio-blk confined to a domain: "lazy" (one
 * mapping for the buffer, set up once) and "strict" (MAP before and UNMAP
 * after every read, as a Linux guest with iommu.strict=1 does). Prints
 * "BENCH viommu-<mode>-read-4k-qd1 N IOPS" and the read count (the host
 * script divides the server's DMA_MAP/UNMAP counts by it). */
int bench_viommu(void)
{
    static struct viommu_drv v;
    struct vblk b;
    uint8_t *buf = vdma_alloc(4096, 4096);
    void *iova = (void *)(uintptr_t)IOVA_FAR;
    uint64_t secs = 2, end, n;
    uint32_t ep;
    int st;

    cmdline_get_u64("bench-secs", &secs);
    if (viommu_open(&v) < 0 || vblk_open(&b, VEC_VBLK) < 0)
        return -1;
    ep = (uint32_t)(b.dev.pci.dev << 3 | b.dev.pci.fn);
    if (attach(&v, 1, ep) || map(&v, VDMA_BASE, VDMA_LIMIT - VDMA_BASE,
                                 VDMA_BASE))
        return test_fail("ATTACH/MAP of the DMA area");
    for (int strict = 0; strict < 2; strict++) {
        if (!strict && map(&v, IOVA_FAR, 4096, (uintptr_t)buf))
            return test_fail("MAP");
        end = time_us() + secs * 1000000;
        for (n = 0; time_us() < end; n++) {
            if (strict && (st = map(&v, IOVA_FAR, 4096, (uintptr_t)buf)))
                return test_fail("MAP: status %d", st);
            if ((st = vblk_rw(&b, VBLK_T_IN, (n % 64) * 8, iova, 4096)))
                return test_fail("read: status %d", st);
            if (strict && (st = unmap(&v, IOVA_FAR, 4096)))
                return test_fail("UNMAP: status %d", st);
        }
        if (!strict && unmap(&v, IOVA_FAR, 4096))
            return test_fail("UNMAP");
        printf("BENCH viommu-%s-read-4k-qd1 %lu IOPS (%lu reads)\n",
               strict ? "strict" : "lazy", n / secs, n);
    }
    return 0;
}
