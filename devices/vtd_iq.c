/* SPDX-License-Identifier: BSD-3-Clause */
/* VT-d queued invalidation (see vtd_iq.h; VT-d spec 6.5.2.1-6.5.2.8 for
 * the descriptor formats). */
#include "devices/vtd_iq.h"

#include <errno.h>
#include <stdbool.h>

struct iq_env {
    struct vtd_regs *r;
    const struct vtd_mem_ops *mem;
    void *mo;
    const struct vtd_iq_ops *ops;
    void *opaque;
    struct vtd_act *a;
};

/* Context-cache invalidate (6.5.2.1). */
static int desc_cc(const struct iq_env *e, uint64_t lo, uint64_t hi)
{
    uint32_t g = (uint32_t)(lo >> 4) & 3;

    if (hi || (lo & (0xffc0ull | ~0x3ffffffffffffull)) || !g)
        return -EINVAL;
    if (e->ops->cc)
        e->ops->cc(e->opaque, g, (uint16_t)(lo >> 16),
                   (uint16_t)(lo >> 32), (uint8_t)((lo >> 48) & 3));
    return 0;
}

/* IOTLB invalidate (6.5.2.3). */
static int desc_iotlb(const struct iq_env *e, uint64_t lo, uint64_t hi)
{
    uint32_t g = (uint32_t)(lo >> 4) & 3;
    uint8_t am = (uint8_t)(hi & 0x3f);

    if ((lo & (0xff00ull | ~0xffffffffull)) || (hi & 0xf80) || !g ||
        (g == VTD_INV_PAGE && am > VTD_MAMV))
        return -EINVAL;
    if (e->ops->iotlb)
        e->ops->iotlb(e->opaque, g, (uint16_t)(lo >> 16),
                      hi & ~0xfffull & ~((4096ull << am) - 1), am);
    return 0;
}

/* Invalidation wait (6.5.2.8): status write, then the interrupt. */
static int desc_wait(const struct iq_env *e, uint64_t lo, uint64_t hi)
{
    uint32_t status = (uint32_t)(lo >> 32);

    if ((lo & 0xffffff00ull) || (hi & 3))
        return -EINVAL;
    if (lo & (1u << 5)) /* SW; a write outside RAM is lost */
        (void)e->mem->write(e->mo, hi, &status, sizeof(status));
    if (lo & (1u << 4)) /* IF */
        vtd_regs_wait_done(e->r, e->a);
    return 0;
}

static int desc_run(const struct iq_env *e, uint64_t lo, uint64_t hi)
{
    if (lo & 0xe00) /* type bits 11:9: no extended types in legacy mode */
        return -EINVAL;
    switch (lo & 0xf) {
    case VTD_DESC_CC: return desc_cc(e, lo, hi);
    case VTD_DESC_IOTLB: return desc_iotlb(e, lo, hi);
    case VTD_DESC_DEVTLB: return 0; /* nothing cached */
    case VTD_DESC_IEC: return 0;    /* no interrupt remapping */
    case VTD_DESC_WAIT: return desc_wait(e, lo, hi);
    default: return -EINVAL;
    }
}

static int iq_error(struct vtd_regs *r, struct vtd_act *a)
{
    vtd_regs_fsts_error(r, VTD_FSTS_IQE, a);
    return -EINVAL;
}

int vtd_iq_run(struct vtd_regs *r, const struct vtd_mem_ops *mem,
               void *mem_opaque, const struct vtd_iq_ops *ops, void *opaque,
               struct vtd_act *a)
{
    struct iq_env e = { r, mem, mem_opaque, ops, opaque, a };
    uint64_t size = vtd_regs_iq_size(r), base = r->iqa & ~0xfffull;
    uint64_t done = 0, d[2];

    if (!(r->gsts & VTD_GCMD_QIE) || (r->fsts & VTD_FSTS_IQE))
        return 0;
    if ((r->iqa & VTD_IQA_DW) || (r->iqt >> 4) >= size ||
        (r->iqh >> 4) >= size)
        return iq_error(r, a);
    while (done < size && r->iqh != r->iqt) {
        uint64_t idx = r->iqh >> 4;

        if (mem->read(mem_opaque, base + idx * 16, d, sizeof(d)) ||
            desc_run(&e, d[0], d[1]))
            return iq_error(r, a); /* IQH stays on the bad descriptor */
        r->iqh = ((idx + 1) % size) << 4;
        done++;
    }
    return (int)done;
}
