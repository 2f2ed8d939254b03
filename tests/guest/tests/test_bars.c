/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bars (only when named): the VMM placed every BAR as firmware would
 * (docs/platform.md "PCI"). For each type 0 function on bus 0 with BARs,
 * without assigning anything: Command already enables the spaces its BARs
 * use, each BAR has a nonzero address aligned to its size inside its
 * window (I/O 0xC000-0xFFFF, 32-bit 0xC0000000-0xDFFFFFFF, 64-bit
 * 0x80_0000_0000-0xFF_FFFF_FFFF or the 32-bit window), no two BARs of any
 * functions overlap, and the MSI-X table answers at its assigned address
 * (vector 0 masked after reset). "bars-min=N": at least N such functions.
 */
#include "lib/bootinfo.h"
#include "lib/io.h"
#include "lib/pci.h"
#include "lib/printf.h"
#include "lib/test.h"
#include "tests/tests.h"

#define PCI_CAP_ID_MSIX 0x11
#define MAX_BARS 64

struct placed {
    uint64_t addr, size;
    int io;
    struct pci_addr fn;
    unsigned int idx;
};

static struct placed seen[MAX_BARS];
static unsigned int nseen;

static int in_window(const struct pci_bar *b)
{
    uint64_t end = b->addr + b->size;

    if (b->io)
        return b->addr >= 0xC000 && end <= 0x10000;
    if (b->addr >= PCI_MMIO32_BASE && end <= PCI_ECAM_BASE)
        return 1;
    return b->is64 && b->addr >= PCI_MMIO64_BASE &&
           end <= 2 * PCI_MMIO64_BASE;
}

static int check_bar(struct pci_addr a, unsigned int i, const struct pci_bar *b,
                     uint16_t cmd)
{
    if (!b->addr)
        return test_fail("%02x.%x BAR %u (%#lx bytes) unassigned", a.dev,
                         a.fn, i, b->size);
    if (b->addr % b->size)
        return test_fail("%02x.%x BAR %u at %#lx not aligned to %#lx", a.dev,
                         a.fn, i, b->addr, b->size);
    if (!in_window(b))
        return test_fail("%02x.%x BAR %u at %#lx+%#lx outside its window",
                         a.dev, a.fn, i, b->addr, b->size);
    if (!(cmd & (b->io ? PCI_CMD_IO : PCI_CMD_MEM)))
        return test_fail("%02x.%x BAR %u: decoding off (command %#x)", a.dev,
                         a.fn, i, cmd);
    for (unsigned int k = 0; k < nseen; k++) {
        const struct placed *p = &seen[k];

        if (p->io == b->io && b->addr < p->addr + p->size &&
            p->addr < b->addr + b->size)
            return test_fail("%02x.%x BAR %u at %#lx overlaps %02x.%x BAR "
                             "%u at %#lx", a.dev, a.fn, i, b->addr,
                             p->fn.dev, p->fn.fn, p->idx, p->addr);
    }
    if (nseen == MAX_BARS)
        return test_fail("too many BARs");
    seen[nseen++] = (struct placed){ b->addr, b->size, b->io, a, i };
    printf("bars: %02x.%x BAR %u %s at %#lx size %#lx\n", a.dev, a.fn, i,
           b->io ? "io" : b->is64 ? "mem64" : "mem32", b->addr, b->size);
    return 0;
}

/* Vector 0's control word through the assigned MSI-X BAR: masked (bit 0)
 * after reset, so 1 and not all-ones (nothing decodes there). */
static int check_msix(struct pci_addr a, const uint64_t base[6])
{
    unsigned int cap = pci_find_cap(PCI_CF8, a, PCI_CAP_ID_MSIX);
    uint32_t t, ctl;

    if (!cap)
        return 0;
    t = pci_read32(PCI_CF8, a, cap + 4);
    if ((t & 7) > 5 || !base[t & 7])
        return test_fail("%02x.%x MSI-X table in BAR %u, not placed",
                         a.dev, a.fn, t & 7);
    ctl = mmio_read32(base[t & 7] + (t & ~7U) + 12);
    if (ctl != 1)
        return test_fail("%02x.%x MSI-X vector 0 control reads %#x at "
                         "%#lx, want 1", a.dev, a.fn, ctl,
                         base[t & 7] + (t & ~7U) + 12);
    printf("bars: %02x.%x MSI-X table answers at %#lx\n", a.dev, a.fn,
           base[t & 7] + (t & ~7U));
    return 0;
}

/* 1: a function with BARs, all good; 0: no BARs; -1: failed. */
static int check_fn(struct pci_addr a)
{
    uint16_t cmd = pci_read16(PCI_CF8, a, PCI_COMMAND);
    uint64_t base[6] = { 0 };
    struct pci_bar b;
    int any = 0;

    for (unsigned int i = 0; i < 6; i++) {
        if (pci_bar_probe(PCI_CF8, a, i, &b) < 0 || !b.size)
            continue;
        if (check_bar(a, i, &b, cmd) < 0)
            return -1;
        base[i] = b.addr;
        any = 1;
        if (b.is64)
            i++;
    }
    if (any && check_msix(a, base) < 0)
        return -1;
    return any;
}

int test_bars(void)
{
    uint64_t want = 1;
    unsigned int found = 0;

    cmdline_get_u64("bars-min", &want);
    nseen = 0;
    for (unsigned int dev = 1; dev < 32; dev++) {
        struct pci_addr a = { 0, (uint8_t)dev, 0 };
        int r;

        if (pci_read32(PCI_CF8, a, PCI_VENDOR_ID) == 0xFFFFFFFF ||
            (pci_read8(PCI_CF8, a, PCI_HEADER_TYPE) & 0x7F) != 0)
            continue;
        r = check_fn(a);
        if (r < 0)
            return -1;
        found += (unsigned int)r;
    }
    if (found < want)
        return test_fail("%u functions with BARs, want at least %lu", found,
                         want);
    printf("bars: %u functions, %u BARs placed by the VMM\n", found, nseen);
    return 0;
}
