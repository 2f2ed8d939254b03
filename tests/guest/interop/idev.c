/* SPDX-License-Identifier: BSD-3-Clause */
/* Finding and setting up the interop devices (see interop.h). */
#include "interop/interop.h"

#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/test.h"

static struct pci_window mem_window = { 0xC0000000ULL, 0xE0000000ULL };
/* minivmm does not decode a BAR ending at the top of its space (that is
 * also where the all-ones sizing pattern points), so stop short of it. */
static struct pci_window io_window = { 0x1000, 0xF000 };

static int assign(struct idev *d)
{
    uint64_t addr;

    for (unsigned int i = 0; i < 6; i++) {
        struct pci_bar *b = &d->bar[i];

        if (pci_bar_probe(PCI_CF8, d->a, i, b) < 0)
            return -EINVAL;
        if (!b->size)
            continue;
        if (pci_window_alloc(b->io ? &io_window : &mem_window,
                             b->io || b->size >= 4096 ? b->size : 4096,
                             &addr) < 0)
            return -ENOSPC;
        pci_bar_set(PCI_CF8, d->a, i, b, addr);
        b->addr = addr;
        printf("interop: %02x:%02x.%x bar%u %s size %#lx at %#lx\n",
               d->a.bus, d->a.dev, d->a.fn, i, b->io ? "io" : "mem",
               b->size, addr);
        if (b->is64)
            d->bar[++i] = (struct pci_bar){0};
    }
    pci_write16(PCI_CF8, d->a, PCI_COMMAND,
                (pci_read16(PCI_CF8, d->a, PCI_COMMAND) | PCI_CMD_IO |
                 PCI_CMD_MEM | PCI_CMD_MASTER) & ~PCI_CMD_INTX_DISABLE);
    return 0;
}

int idev_find(uint16_t vendor, uint16_t device, unsigned int nth,
              struct idev *d)
{
    uint32_t want = (uint32_t)device << 16 | vendor;

    for (unsigned int slot = 1; slot < 32; slot++) {
        d->a = (struct pci_addr){0, (uint8_t)slot, 0};
        if (pci_read32(PCI_CF8, d->a, PCI_VENDOR_ID) != want)
            continue;
        if (nth-- > 0)
            continue;
        printf("interop: %04x:%04x at 00:%02x.0\n", vendor, device, slot);
        return assign(d);
    }
    return -ENOENT;
}

int idev_expect(const struct idev *d, uint32_t class_code,
                const int io[6], const uint64_t size[6])
{
    uint32_t cc = pci_read32(PCI_CF8, d->a, PCI_REVISION) >> 8;

    if (cc != class_code)
        return test_fail("class %06x, want %06x", cc, class_code);
    for (unsigned int i = 0; i < 6; i++) {
        if (d->bar[i].size != size[i])
            return test_fail("bar%u size %#lx, want %#lx", i,
                             d->bar[i].size, size[i]);
        if (size[i] && d->bar[i].io != io[i])
            return test_fail("bar%u is %s, want %s", i,
                             d->bar[i].io ? "io" : "mem",
                             io[i] ? "io" : "mem");
    }
    return 0;
}
