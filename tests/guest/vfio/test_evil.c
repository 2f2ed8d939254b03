/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vfio-evil: the guest side of the misbehaving-server suite. Finds the
 * vfu-evil device (1234:11e5), programs BAR 0, enables decoding and reads
 * the BAR's first dword eight times, printing each value, plus one write.
 * Whatever the server does, the guest must get an answer (its value, or
 * all-ones once the device is dead) and finish: the host checks minivmm's
 * report and that it kept running.
 */
#include "lib/errno.h"
#include "lib/io.h"
#include "lib/pci.h"
#include "lib/printf.h"
#include "lib/test.h"
#include "vfio/vfio_tests.h"

static int find(struct pci_addr *a)
{
    for (uint8_t dev = 1; dev < 32; dev++) {
        *a = (struct pci_addr){0, dev, 0};
        if (pci_read32(PCI_CF8, *a, 0) == 0x11e51234)
            return 0;
    }
    return -ENODEV;
}

int test_vfio_evil(void)
{
    struct pci_window win = {0xC0000000ULL, 0xE0000000ULL};
    struct pci_bar bar;
    struct pci_addr a;
    uint64_t addr;

    if (find(&a) < 0)
        return test_fail("no vfu-evil device");
    if (pci_bar_probe(PCI_CF8, a, 0, &bar) < 0 || bar.size != 4096)
        return test_fail("BAR 0 probe: size %lu", bar.size);
    if (pci_window_alloc(&win, bar.size, &addr) < 0)
        return test_fail("no room for BAR 0");
    pci_bar_set(PCI_CF8, a, 0, &bar, addr);
    pci_write16(PCI_CF8, a, PCI_COMMAND, PCI_CMD_MEM);
    for (int i = 0; i < 8; i++) {
        uint32_t v = mmio_read32(addr + 4 * (uint64_t)i);

        printf("vfio-evil: read %d %#x\n", i, v);
        if (i == 4)
            mmio_write32(addr, 0xdead);
    }
    printf("vfio-evil: vendor now %#x\n", pci_read32(PCI_CF8, a, 0));
    return 0;
}
