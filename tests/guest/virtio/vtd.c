/* SPDX-License-Identifier: BSD-3-Clause */
/* A tiny VT-d driver for the virtio payload's vtd tests (see vtd.h). */
#include "virtio/vtd.h"

#include "lib/bootinfo.h"
#include "lib/errno.h"
#include "lib/io.h"
#include "lib/string.h"
#include "lib/time.h"
#include "lib/virtio.h"

#define PAGE 4096ULL
#define ADDR_MASK 0x000ffffffffff000ULL

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

static int sum_ok(const uint8_t *p, uint32_t len)
{
    uint8_t s = 0;

    for (uint32_t i = 0; i < len; i++)
        s = (uint8_t)(s + p[i]);
    return s == 0;
}

/* The RSDP: the start info's, else (QEMU's PVH boot leaves it 0) a
 * search of the BIOS area (ACPI 5.2.5.1). */
static const uint8_t *acpi_rsdp(void)
{
    const struct hvm_start_info *si = bootinfo();

    if (si && si->rsdp_paddr)
        return (const uint8_t *)(uintptr_t)si->rsdp_paddr;
    for (uint64_t a = 0xe0000; a < 0x100000; a += 16)
        if (!memcmp((const void *)(uintptr_t)a, "RSD PTR ", 8) &&
            sum_ok((const uint8_t *)(uintptr_t)a, 20))
            return (const uint8_t *)(uintptr_t)a;
    return 0;
}

/* The XSDT's (or, for an ACPI 1.0 RSDP, the RSDT's) table with @sig, or
 * NULL. */
static const uint8_t *acpi_table(const char *sig)
{
    const uint8_t *rsdp = acpi_rsdp(), *sdt;
    unsigned int esz;
    uint32_t len;

    if (!rsdp || memcmp(rsdp, "RSD PTR ", 8))
        return 0;
    esz = rsdp[15] >= 2 ? 8 : 4;
    sdt = (const uint8_t *)(uintptr_t)(esz == 8 ? get64(rsdp + 24)
                                                : get32(rsdp + 16));
    len = get32(sdt + 4);
    if (memcmp(sdt, esz == 8 ? "XSDT" : "RSDT", 4) || len < 36 || len > 4096)
        return 0;
    for (uint32_t off = 36; off + esz <= len; off += esz) {
        uint64_t a = esz == 8 ? get64(sdt + off) : get32(sdt + off);
        const uint8_t *t = (const uint8_t *)(uintptr_t)a;

        if (t && !memcmp(t, sig, 4))
            return t;
    }
    return 0;
}

int vtd_acpi_find(uint64_t *base, unsigned int *haw, unsigned int *flags)
{
    const uint8_t *t = acpi_table("DMAR");
    uint32_t len, off;

    if (!t)
        return -ENOENT;
    len = get32(t + 4);
    if (len < 48 || len > 4096 || !sum_ok(t, len))
        return -EINVAL;
    *haw = t[36] + 1u;
    for (off = 48; off + 4 <= len;) {
        uint16_t type = (uint16_t)(t[off] | t[off + 1] << 8);
        uint16_t slen = (uint16_t)(t[off + 2] | t[off + 3] << 8);

        if (slen < 4 || off + slen > len)
            return -EINVAL;
        if (type == 0) {                /* DRHD */
            if (slen < 16)
                return -EINVAL;
            *flags = t[off + 4];
            *base = get64(t + off + 8);
            return 0;
        }
        off += slen;
    }
    return -ENOENT;
}

uint32_t vtd_rd32(struct vtd_drv *d, uint32_t off)
{
    return mmio_read32(d->base + off);
}

uint64_t vtd_rd64(struct vtd_drv *d, uint32_t off)
{
    return mmio_read64(d->base + off);
}

void vtd_wr32(struct vtd_drv *d, uint32_t off, uint32_t v)
{
    mmio_write32(d->base + off, v);
}

void vtd_wr64(struct vtd_drv *d, uint32_t off, uint64_t v)
{
    mmio_write64(d->base + off, v);
}

int vtd_init(struct vtd_drv *d, uint64_t base, unsigned int aw)
{
    memset(d, 0, sizeof(*d));
    d->base = base;
    d->aw = aw;
    d->levels = aw == 39 ? 3 : 4;
    d->cap = vtd_rd64(d, VTD_CAP);
    d->ecap = vtd_rd64(d, VTD_ECAP);
    d->root = vdma_alloc(PAGE, PAGE);
    d->ctx = vdma_alloc(PAGE, PAGE);
    d->top = vdma_alloc(PAGE, PAGE);
    d->iq = vdma_alloc(PAGE, PAGE);
    d->wstat = vdma_alloc(64, 64);
    if (!d->root || !d->ctx || !d->top || !d->iq || !d->wstat)
        return -ENOMEM;
    d->root[0] = (uintptr_t)d->ctx | 1;         /* bus 0: present */
    return 0;
}

void vtd_ctx_set(struct vtd_drv *d, uint8_t devfn, uint16_t did)
{
    uint64_t hi = (d->aw == 39 ? 1u : 2u) | (uint64_t)did << 8;

    d->ctx[devfn * 2 + 1] = hi;
    barrier();
    d->ctx[devfn * 2] = (uintptr_t)d->top | 1;  /* P, TT = 0 */
}

/* The entry for @iova at @level (1: 4 KiB leaf, 2: 2 MiB), creating the
 * tables above it; NULL when out of memory. */
static uint64_t *pte_at(struct vtd_drv *d, uint64_t iova, unsigned int level,
                        bool create)
{
    uint64_t *t = d->top;

    for (unsigned int l = d->levels; l > level; l--) {
        uint64_t *e = &t[(iova >> (12 + 9 * (l - 1))) & 511];

        if (!(*e & (VTD_PTE_R | VTD_PTE_W))) {
            uint64_t *n = create ? vdma_alloc(PAGE, PAGE) : 0;

            if (!n)
                return 0;
            *e = (uintptr_t)n | VTD_PTE_R | VTD_PTE_W;
        }
        t = (uint64_t *)(uintptr_t)(*e & ADDR_MASK);
    }
    return &t[(iova >> (12 + 9 * (level - 1))) & 511];
}

int vtd_map(struct vtd_drv *d, uint64_t iova, uint64_t size, uint64_t gpa,
            uint64_t perm, unsigned int level)
{
    uint64_t step = PAGE << (9 * (level - 1));

    for (uint64_t o = 0; o < size; o += step) {
        uint64_t *e = pte_at(d, iova + o, level, true);

        if (!e)
            return -ENOMEM;
        *e = ((gpa + o) & ADDR_MASK) | perm | (level > 1 ? VTD_PTE_PS : 0);
    }
    barrier();
    return 0;
}

void vtd_unmap(struct vtd_drv *d, uint64_t iova, uint64_t size)
{
    for (uint64_t o = 0; o < size; o += PAGE) {
        uint64_t *e = pte_at(d, iova + o, 1, false);

        if (e)
            *e = 0;
    }
    barrier();
}

static int wait32(struct vtd_drv *d, uint32_t off, uint32_t mask,
                  uint32_t want)
{
    uint64_t end = time_us() + 1000000;

    while ((vtd_rd32(d, off) & mask) != want)
        if (time_us() > end)
            return -ETIMEDOUT;
    return 0;
}

int vtd_gcmd(struct vtd_drv *d, uint32_t cmd, uint32_t sts, bool on)
{
    /* The persistent bits as GSTS shows them; the one-shot ones (SRTP,
     * SFL, WBF, SIRTP) are never written back (11.4.4). */
    uint32_t keep = vtd_rd32(d, VTD_GSTS) & 0x96ffffffu;

    vtd_wr32(d, VTD_GCMD, on ? keep | cmd : keep & ~cmd);
    return wait32(d, VTD_GSTS, sts, on ? sts : 0);
}

int vtd_set_root(struct vtd_drv *d)
{
    vtd_wr64(d, VTD_RTADDR, (uintptr_t)d->root);    /* TTM 0: legacy */
    return vtd_gcmd(d, VTD_GCMD_SRTP, VTD_GSTS_RTPS, true);
}

int vtd_qi_enable(struct vtd_drv *d)
{
    d->iq_tail = 0;
    vtd_wr64(d, VTD_IQT, 0);
    vtd_wr64(d, VTD_IQA, (uintptr_t)d->iq);         /* QS 0, 128-bit */
    return vtd_gcmd(d, VTD_GCMD_QIE, VTD_GSTS_QIES, true);
}

static void qi_put(struct vtd_drv *d, uint64_t lo, uint64_t hi)
{
    d->iq[d->iq_tail * 2] = lo;
    d->iq[d->iq_tail * 2 + 1] = hi;
    d->iq_tail = (d->iq_tail + 1) % 256;
}

int vtd_qi_run(struct vtd_drv *d, const uint64_t *desc, unsigned int n)
{
    uint32_t token = ++d->wtoken | 0x5a000000u;
    uint64_t end = time_us() + 1000000;

    for (unsigned int i = 0; i < n; i++)
        qi_put(d, desc[2 * i], desc[2 * i + 1]);
    *d->wstat = 0;
    /* Invalidation wait: SW (status write), status data, address. */
    qi_put(d, 0x5 | 1u << 5 | (uint64_t)token << 32, (uintptr_t)d->wstat);
    barrier();
    vtd_wr64(d, VTD_IQT, (uint64_t)d->iq_tail << 4);
    while (*d->wstat != token) {
        if (vtd_rd32(d, VTD_FSTS) & VTD_FSTS_IQE)
            return -EIO;
        if (time_us() > end)
            return -ETIMEDOUT;
        cpu_relax();
    }
    return 0;
}

int vtd_qi_global(struct vtd_drv *d)
{
    const uint64_t desc[4] = {
        0x1 | 1u << 4, 0,                       /* context cache, global */
        0x2 | 1u << 4 | 1u << 6 | 1u << 7, 0,   /* IOTLB global, DW DR */
    };

    return vtd_qi_run(d, desc, 2);
}

int vtd_qi_page(struct vtd_drv *d, uint16_t did, uint64_t iova,
                unsigned int am)
{
    const uint64_t desc[2] = {
        0x2 | 3u << 4 | 1u << 6 | 1u << 7 | (uint64_t)did << 16,
        (iova & ~0xfffULL) | (am & 0x3f),
    };

    return vtd_qi_run(d, desc, 1);
}

int vtd_reg_global(struct vtd_drv *d)
{
    uint32_t iro = (uint32_t)((d->ecap >> 8) & 0x3ff) * 16;
    uint64_t end = time_us() + 1000000;

    /* CCMD: ICC, CIRG = 01 (global). */
    vtd_wr64(d, VTD_CCMD, 1ULL << 63 | 1ULL << 61);
    while (vtd_rd64(d, VTD_CCMD) & (1ULL << 63))
        if (time_us() > end)
            return -ETIMEDOUT;
    /* IOTLB register: IVT, IIRG = 01 (global), DR, DW. */
    vtd_wr64(d, iro + 8, 1ULL << 63 | 1ULL << 60 | 1ULL << 49 | 1ULL << 48);
    while (vtd_rd64(d, iro + 8) & (1ULL << 63))
        if (time_us() > end)
            return -ETIMEDOUT;
    return 0;
}

int vtd_fault_take(struct vtd_drv *d, struct vtd_fault *f,
                   uint64_t timeout_us)
{
    uint64_t end = time_us() + timeout_us, lo, hi;
    uint32_t fro = (uint32_t)((d->cap >> 24) & 0x3ff) * 16, fri, rec;

    while (!(vtd_rd32(d, VTD_FSTS) & VTD_FSTS_PPF))
        if (time_us() > end)
            return -ETIMEDOUT;
    fri = (vtd_rd32(d, VTD_FSTS) >> 8) & 0xff;
    rec = fro + fri * 16;
    lo = vtd_rd64(d, rec);
    hi = vtd_rd64(d, rec + 8);
    if (!(hi & (1ULL << 63)))
        return -EIO;
    f->addr = lo & ~0xfffULL;
    f->sid = (uint16_t)hi;
    f->reason = (uint8_t)(hi >> 32);
    f->read = (hi >> 62) & 1;
    vtd_wr32(d, rec + 12, 1u << 31);            /* F is W1C */
    return wait32(d, VTD_FSTS, VTD_FSTS_PPF, 0) ? -EIO : 0;
}
