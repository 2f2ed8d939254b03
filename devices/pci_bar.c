/* SPDX-License-Identifier: BSD-3-Clause */
/* The bus side of PCI BARs (see pci_bar.h): mapping what config space
 * decodes (PCI Local Bus 3.0 §6.2.5) and firmware's placement. */
#include "devices/pci_bar.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/log.h"

static struct bus *bar_space(const struct pci_bar_space *sp,
                             const struct pcfg *cs, unsigned int idx)
{
    return (cs->bar[idx].type & PCI_BAR_TYPE) == PCI_BAR_IO ? sp->pio
                                                            : sp->mmio;
}

static const char *bar_name(unsigned int idx, char buf[8])
{
    if (idx == PCI_ROM_BAR)
        return "ROM";
    snprintf(buf, 8, "BAR %u", idx);
    return buf;
}

/* A placement of BAR @idx at @addr is refused: say so once per address. */
static void bar_refuse(const struct pci_bar_fn *fn, unsigned int idx,
                       uint64_t addr, const char *why)
{
    struct pci_bar *bar = &fn->bars[idx];
    char name[8];

    if (bar->refused && bar->refused_addr == addr)
        return;
    bar->refused = true;
    bar->refused_addr = addr;
    log_warn("minivmm: pci 00:%02x.%x %s at %#llx (%#llx bytes) "
             "not mapped: %s\n", fn->devfn >> 3, fn->devfn & 7,
             bar_name(idx, name), (unsigned long long)addr,
             (unsigned long long)fn->cs->bar[idx].size, why);
}

/* The reserved range a memory BAR at @addr would overlap, or NULL. */
static const char *bar_reserved(const struct pci_bar_space *sp,
                                const struct pcfg_bar *bar, uint64_t addr)
{
    if ((bar->type & PCI_BAR_TYPE) == PCI_BAR_IO)
        return NULL;
    for (unsigned int i = 0; i < sp->nreserved; i++) {
        const struct pci_reserved *r = &sp->reserved[i];

        if (r->size && addr < r->base + r->size && r->base < addr + bar->size)
            return r->what;
    }
    return NULL;
}

static void bar_map(const struct pci_bar_space *sp,
                    const struct pci_bar_fn *fn, unsigned int idx,
                    uint64_t addr)
{
    struct pci_bar *bar = &fn->bars[idx];
    uint64_t size = fn->cs->bar[idx].size;
    struct bus *space = bar_space(sp, fn->cs, idx);
    const char *what = bar_reserved(sp, &fn->cs->bar[idx], addr);
    char why[96];
    int r;

    if (what) {
        snprintf(why, sizeof(why), "overlaps %s", what);
        bar_refuse(fn, idx, addr, why);
        return;
    }
    if (bar->ops &&
        (r = bus_register(space, addr, size, bar->ops, bar->opaque))) {
        snprintf(why, sizeof(why), "%s",
                 r == -EEXIST || r == -EBUSY
                     ? "overlaps another mapping on its bus" : strerror(-r));
        bar_refuse(fn, idx, addr, why);
        return;
    }
    if (fn->hooks->map && (r = fn->hooks->map(fn->owner, idx, addr, size))) {
        if (bar->ops)
            bus_unregister(space, addr);
        snprintf(why, sizeof(why), "device refused it: %s", strerror(-r));
        bar_refuse(fn, idx, addr, why);
        return;
    }
    bar->mapped = true;
    bar->addr = addr;
    bar->refused = false;
}

static void bar_unmap(const struct pci_bar_space *sp,
                      const struct pci_bar_fn *fn, unsigned int idx)
{
    struct pci_bar *bar = &fn->bars[idx];

    if (!bar->mapped)
        return;
    if (fn->hooks->unmap)
        fn->hooks->unmap(fn->owner, idx, bar->addr, fn->cs->bar[idx].size);
    if (bar->ops)
        bus_unregister(bar_space(sp, fn->cs, idx), bar->addr);
    bar->mapped = false;
}

void pci_bars_unmap(const struct pci_bar_space *sp,
                    const struct pci_bar_fn *fn)
{
    for (unsigned int i = 0; i < PCI_NR_BAR_SLOTS; i++)
        bar_unmap(sp, fn, i);
}

void pci_bars_unmap_stale(const struct pci_bar_space *sp,
                          const struct pci_bar_fn *fn)
{
    uint64_t addr;

    for (unsigned int i = 0; i < PCI_NR_BAR_SLOTS; i++) {
        bool on = pcfg_bar_decoded(fn->cs, i, &addr);

        if (fn->bars[i].mapped && (!on || addr != fn->bars[i].addr))
            bar_unmap(sp, fn, i);
    }
}

void pci_bars_map(const struct pci_bar_space *sp, const struct pci_bar_fn *fn)
{
    uint64_t addr;

    for (unsigned int i = 0; i < PCI_NR_BAR_SLOTS; i++)
        if (!fn->bars[i].mapped && pcfg_bar_decoded(fn->cs, i, &addr))
            bar_map(sp, fn, i, addr);
}

/* @cs's declared BAR slots, largest first (fewest alignment gaps). */
static unsigned int bars_by_size(const struct pcfg *cs,
                                 unsigned int order[PCI_NR_BAR_SLOTS])
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < PCI_NR_BAR_SLOTS; i++) {
        unsigned int j = n++;

        if (cs->bar[i].type == PCI_BAR_NONE) {
            n--;
            continue;
        }
        for (; j > 0 && cs->bar[order[j - 1]].size < cs->bar[i].size; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    return n;
}

void pci_bars_plan(struct pci_alloc *a, const struct pcfg *cs, uint8_t devfn,
                   struct pci_bar_plan *plan)
{
    unsigned int order[PCI_NR_BAR_SLOTS];
    unsigned int n = bars_by_size(cs, order);
    char name[8];

    memset(plan, 0, sizeof(*plan));
    for (unsigned int k = 0; k < n; k++) {
        const struct pcfg_bar *bar = &cs->bar[order[k]];
        unsigned int t = bar->type & PCI_BAR_TYPE;
        uint64_t addr;

        if (pci_alloc_bar(a, bar->type, bar->size, &addr) < 0) {
            log_warn("minivmm: pci 00:%02x.%x %s (%#llx bytes): no room in "
                     "the PCI %s window; left unassigned\n", devfn >> 3,
                     devfn & 7, bar_name(order[k], name),
                     (unsigned long long)bar->size,
                     t == PCI_BAR_IO ? "I/O" : "memory");
            continue;
        }
        plan->idx[plan->n] = order[k];
        plan->addr[plan->n++] = addr;
        if (t == PCI_BAR_IO)
            plan->cmd |= PCI_COMMAND_IO;
        else if (t != PCI_BAR_ROM)
            plan->cmd |= PCI_COMMAND_MEMORY;
    }
}
