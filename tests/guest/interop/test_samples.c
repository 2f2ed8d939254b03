/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libvfio-user's sample servers (2022, Debian's qemu 7.2 source), as they
 * define themselves (the samples directory); every BAR they declare is an I/O BAR
 * (no VFU_REGION_FLAG_MEM), so all accesses are REGION_READ/WRITE.
 *   server: dead:beef, subsystem cafe:babe, class 0; BAR0 8 bytes (a
 *     time_t: only 8-byte accesses at offset 0, which port I/O cannot
 *     make); BAR1 0x3000 bytes (minivmm rounds it to 0x4000): writes land
 *     at their offset, reads return the BAR's first bytes whatever the
 *     offset (the sample copies from the start).
 *   gpio-pci-idio-16: 494f:0dc8, class 0; BAR2 0x100 bytes: a read of
 *     offset 0 returns pin++ / 3 (0,0,0,1,1,1,2,...), writes are ignored.
 *   null: no IDs (0000:0000), no BARs.
 */
#include "interop/interop.h"

#include "lib/io.h"
#include "lib/printf.h"
#include "lib/test.h"

#define PCI_SUBSYS 0x2C

int test_server(void)
{
    static const int io[6] = {1, 1, 0, 0, 0, 0};
    static const uint64_t size[6] = {8, 0x4000, 0, 0, 0, 0};
    struct idev d;
    uint16_t b0, b1;
    uint32_t v;
    int r;

    if ((r = idev_find(0xdead, 0xbeef, 0, &d)) < 0)
        return test_fail("dead:beef: %d (no function, or no room)", r);
    if (idev_expect(&d, 0x000000, io, size) < 0)
        return -1;
    v = pci_read32(PCI_CF8, d.a, PCI_SUBSYS);
    if (v != 0xbabecafe)
        return test_fail("subsystem %08x, want babe:cafe", v);
    b0 = (uint16_t)d.bar[0].addr;
    b1 = (uint16_t)d.bar[1].addr;
    outl(b1, 0x11223344);
    if ((v = inl(b1)) != 0x11223344)
        return test_fail("BAR1[0] reads %#x after writing 0x11223344", v);
    outl(b1 + 0x1004, 0x55667788);
    if ((v = inl(b1 + 0x1004)) != 0x11223344)
        return test_fail("BAR1[0x1004] reads %#x, want the sample's BAR1[0] "
                         "0x11223344", v);
    if ((v = inb(b1 + 0x2001)) != 0x44)
        return test_fail("BAR1[0x2001] byte reads %#x, want 0x44", v);
    if ((v = inl(b1 + 0x3000)) != 0xFFFFFFFF)
        return test_fail("BAR1[0x3000] (past the 0x3000-byte region) reads "
                         "%#x, want all-ones", v);
    v = inl(b0);
    printf("server: BAR0 4-byte read (the sample takes only 8) gives %#x\n",
           v);
    if (v != 0xFFFFFFFF)
        return test_fail("BAR0 read %#x, want all-ones (refused)", v);
    outl(b1, 0xa5a5a5a5);
    if ((v = inl(b1 + 8)) != 0xa5a5a5a5)
        return test_fail("BAR1 dead after the refused BAR0 read (%#x)", v);
    printf("server: BAR1 reads and writes through the server ok\n");
    return 0;
}

int test_gpio(void)
{
    static const int io[6] = {0, 0, 1, 0, 0, 0};
    static const uint64_t size[6] = {0, 0, 0x100, 0, 0, 0};
    struct idev d;
    uint16_t p;
    uint8_t got[9];
    int r;

    if ((r = idev_find(0x494f, 0x0dc8, 0, &d)) < 0)
        return test_fail("494f:0dc8: %d (no function, or no room)", r);
    if (idev_expect(&d, 0x000000, io, size) < 0)
        return -1;
    if (pci_read8(PCI_CF8, d.a, PCI_INTERRUPT_PIN) != 1)
        return test_fail("interrupt pin %u, want 1 (INTA)",
                         pci_read8(PCI_CF8, d.a, PCI_INTERRUPT_PIN));
    p = (uint16_t)d.bar[2].addr;
    for (unsigned int i = 0; i < 9; i++)
        got[i] = inb(p);
    for (unsigned int i = 0; i < 9; i++)
        if (got[i] != i / 3)
            return test_fail("BAR2[0] read %u gave %u, want %u (pin++/3)",
                             i, got[i], i / 3);
    outb(p, 0xff);
    if (inb(p) != 3)
        return test_fail("BAR2[0] after a write: want 3");
    printf("gpio: BAR2[0] counted 0,0,0,1,1,1,2,2,2,3 through the server\n");
    return 0;
}

int test_null(void)
{
    static const int io[6] = {0};
    static const uint64_t size[6] = {0};
    struct idev d;
    int r;

    if ((r = idev_find(0x0000, 0x0000, 0, &d)) < 0)
        return test_fail("0000:0000: %d (no function, or no room)", r);
    if (idev_expect(&d, 0x000000, io, size) < 0)
        return -1;
    if (pci_read8(PCI_CF8, d.a, PCI_HEADER_TYPE) != 0)
        return test_fail("header type %#x, want 0",
                         pci_read8(PCI_CF8, d.a, PCI_HEADER_TYPE));
    printf("null: enumerated, no BARs\n");
    return 0;
}
