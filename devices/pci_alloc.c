/* SPDX-License-Identifier: BSD-3-Clause */
/* BAR address allocation (see pci_alloc.h). */
#include "devices/pci_alloc.h"

#include <errno.h>

#include "devices/pci_cfg.h"

static bool window_ok(const struct pci_window *w, uint64_t limit)
{
    if (!w->size)
        return true;
    if (w->base + w->size < w->base && w->base + w->size != 0)
        return false; /* wraps (ending exactly at 2^64 is fine) */
    return !limit || (w->base < limit && w->size <= limit - w->base);
}

int pci_alloc_init(struct pci_alloc *a, const struct pci_alloc_config *cfg)
{
    if (!window_ok(&cfg->io, 1ULL << 16) ||
        !window_ok(&cfg->mem32, 1ULL << 32) || !window_ok(&cfg->mem64, 0))
        return -EINVAL;
    *a = (struct pci_alloc){
        .cfg = *cfg,
        .io_top = cfg->io.base + cfg->io.size,
        .mem32_top = cfg->mem32.base + cfg->mem32.size,
        .mem64_next = cfg->mem64.base,
    };
    return 0;
}

bool pci_window_contains(const struct pci_window *w, uint64_t addr,
                         uint64_t size)
{
    return w->size && size && addr >= w->base &&
           addr - w->base < w->size && size <= w->size - (addr - w->base);
}

/* Top-down: the highest @align-aligned slot of @size ending at or below
 * *@top and starting at or above @base. */
static int take_down(uint64_t base, uint64_t *top, uint64_t size,
                     uint64_t align, uint64_t *addr)
{
    uint64_t a;

    if (*top < base || *top - base < size)
        return -ENOSPC;
    a = (*top - size) & ~(align - 1);
    if (a < base)
        return -ENOSPC;
    *top = a;
    *addr = a;
    return 0;
}

/* Bottom-up in @w from *@next. */
static int take_up(const struct pci_window *w, uint64_t *next, uint64_t size,
                   uint64_t align, uint64_t *addr)
{
    uint64_t a = (*next + align - 1) & ~(align - 1);

    if (!w->size || a < *next || !pci_window_contains(w, a, size))
        return -ENOSPC;
    *next = a + size;
    *addr = a;
    return 0;
}

int pci_alloc_bar(struct pci_alloc *a, unsigned int type, uint64_t size,
                  uint64_t *addr)
{
    unsigned int t = type & PCI_BAR_TYPE;
    uint64_t slot = size < PCI_ALLOC_MIN_MEM ? PCI_ALLOC_MIN_MEM : size;

    if (!size || (size & (size - 1)))
        return -EINVAL;
    switch (t) {
    case PCI_BAR_IO:
        if (!a->cfg.io.size)
            return -ENOSPC;
        return take_down(a->cfg.io.base, &a->io_top, size, size, addr);
    case PCI_BAR_MEM64:
        if (take_up(&a->cfg.mem64, &a->mem64_next, slot, slot, addr) == 0)
            return 0;
        /* No 64-bit room: try below 4 GiB. */
        __attribute__((fallthrough));
    case PCI_BAR_MEM32:
    case PCI_BAR_ROM:
        if (!a->cfg.mem32.size)
            return -ENOSPC;
        return take_down(a->cfg.mem32.base, &a->mem32_top, slot, slot, addr);
    default:
        return -EINVAL;
    }
}
