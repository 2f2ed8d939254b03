/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the VT-d unit (devices/vtd*.c) driven like a guest.
 * Input: [aw u8][fail mask u8][image length le16][image][ops...]. The
 * image is copied to the start of 64 KiB of guest RAM (root, context and
 * page tables, the invalidation queue all live there, as the fuzzer
 * writes them). Ops: MMIO writes and reads of any offset and size,
 * translate (with and without a fault report) for two endpoints (one
 * whose ops count mappings and fail when the mask says so or beyond 1024
 * mappings, one without ops) and an unknown one, guest memory pokes,
 * reset, and a state save + load round trip. After every op the counting
 * endpoint must hold exactly the runs of its shadow (sorted, disjoint,
 * page aligned): nothing half-mapped, nothing leaked.
 *
 * FUZZ_SRCS: devices/vtd.c devices/vtd_regs.c devices/vtd_iq.c
 * FUZZ_SRCS: devices/vtd_walk.c devices/vtd_shadow.c devices/vtd_state.c
 * FUZZ_SRCS: vmm/state.c vmm/log.c
 * FUZZ_LIBS: -lfdt
 * FUZZ_ARGS: -max_len=32768
 */
#include <libfdt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/vtd.h"
#include "devices/vtd_int.h"
#include "vmm/log.h"
#include "vmm/state.h"

#define RAM_SIZE 0x10000u
#define EP_A 0x0018u
#define EP_B 0x0020u

struct fz {
    uint8_t ram[RAM_SIZE];
    long live;
    uint8_t fail_mask;
    unsigned int calls;
    unsigned long msis;
};

static int m_read(void *o, uint64_t gpa, void *buf, size_t len)
{
    struct fz *z = o;

    if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
        return -14;
    memcpy(buf, z->ram + gpa, len);
    return 0;
}

static int m_write(void *o, uint64_t gpa, const void *buf, size_t len)
{
    struct fz *z = o;

    if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
        return -14;
    memcpy(z->ram + gpa, buf, len);
    return 0;
}

static void m_msi(void *o, uint64_t addr, uint32_t data)
{
    struct fz *z = o;

    (void)addr;
    (void)data;
    z->msis++;
}

static int e_map(void *o, uint64_t iova, uint64_t last, uint64_t gpa,
                 uint32_t perm)
{
    struct fz *z = o;

    if (iova > last || (iova & 0xfff) || ((last + 1) & 0xfff) ||
        (gpa & 0xfff) || !perm || (perm & ~3u))
        abort(); /* the unit must only send well-formed mappings */
    if (z->fail_mask & (1u << (z->calls++ % 8)))
        return -28; /* -ENOSPC */
    z->live++;
    return 0;
}

static void e_unmap(void *o, uint64_t iova, uint64_t last)
{
    struct fz *z = o;

    (void)iova;
    (void)last;
    z->live--;
}

static const struct vtd_mem_ops mem_ops = { m_read, m_write, m_msi };
static const struct vtd_ep_ops ep_ops = { e_map, e_unmap };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_ERROR);
    return 0;
}

static void check(struct vtd *u, const struct fz *z)
{
    const struct vtd_shadow *sh = &u->ep[0].sh;

    if ((long)sh->n != z->live)
        abort();
    for (size_t i = 0; i < sh->n; i++) {
        const struct vtd_run *r = &sh->r[i];

        if (r->iova > r->last || (r->iova & 0xfff) ||
            (r->last & 0xfff) != 0xfff ||
            (i && sh->r[i - 1].last >= r->iova))
            abort();
    }
}

static uint64_t ld(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void round_trip(struct vtd *u)
{
    static uint8_t fdt[1 << 20];
    int node;

    if (fdt_create_empty_tree(fdt, sizeof(fdt)))
        return;
    node = fdt_add_subnode(fdt, 0, "vtd");
    if (node < 0 || vtd_state_ops.save(u, fdt, node))
        return;
    /* A replay may fail (the ops fail as the mask says): then the unit
     * is back to its reset state; check() still holds either way. */
    (void)vtd_state_ops.load(u, fdt, node);
}

/* One op at @p (@n bytes left); returns the bytes it used (0: stop). */
static size_t op(struct vtd *u, struct fz *z, const uint8_t *p, size_t n)
{
    static const uint16_t bdfs[3] = { EP_A, EP_B, 0x0028 };
    uint64_t v = 0, gpa;

    if (n < 12)
        return 0;
    switch (p[0] % 8) {
    case 0: case 1: case 2: /* MMIO write: off, size, value */
        v = ld(p + 4, 8);
        vtd_mmio_write(u, ld(p + 1, 2) % (VTD_MMIO_SIZE + 8), &v,
                       p[3] % 9);
        return 12;
    case 3: /* MMIO read */
        vtd_mmio_read(u, ld(p + 1, 2) % (VTD_MMIO_SIZE + 8), &v, p[3] % 9);
        return 4;
    case 4: /* translate: ep, perm/report, len, iova */
        vtd_translate(u, bdfs[p[1] % 3], ld(p + 4, 8), ld(p + 2, 2),
                      p[1] >> 4 & 3, &gpa, p[1] & 8);
        return 12;
    case 5: /* poke guest memory: off, 8 bytes */
        memcpy(z->ram + (ld(p + 1, 2) % (RAM_SIZE - 8)), p + 4, 8);
        return 12;
    case 6:
        if (p[1] & 1)
            vtd_reset(u);
        else
            vtd_report_fault(u, bdfs[p[2] % 3], ld(p + 4, 8), p[3] & 3);
        return 12;
    default:
        round_trip(u);
        return 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fz z;
    struct vtd_params prm = { .mem = &mem_ops, .mem_opaque = &z };
    struct host_iommu_dev h = { .name = "fuzz" };
    struct vtd *u;
    size_t img, at, k;

    if (size < 4)
        return 0;
    memset(&z, 0, sizeof(z));
    prm.aw_bits = data[0] & 1 ? 48 : 39;
    z.fail_mask = data[1];
    img = ld(data + 2, 2);
    if (img > size - 4)
        img = size - 4;
    if (img > RAM_SIZE)
        img = RAM_SIZE;
    memcpy(z.ram, data + 4, img);
    h.caps.pgsizes = 0x1000;
    h.caps.iova_bits = 64;
    h.caps.max_mappings = 1024;
    if (vtd_create(&prm, &u))
        abort();
    if (vtd_add_ram(u, 0, RAM_SIZE) || vtd_add_ep(u, EP_A, &h, &ep_ops, &z)
        < 0)
        abort();
    h.caps.max_mappings = 0;
    if (vtd_add_ep(u, EP_B, &h, NULL, NULL) < 0)
        abort();
    z.live = 1; /* the identity map, the caller's */
    for (at = 4 + img; at < size; at += k) {
        k = op(u, &z, data + at, size - at);
        if (!k)
            break;
        check(u, &z);
    }
    vtd_destroy(u);
    return 0;
}
