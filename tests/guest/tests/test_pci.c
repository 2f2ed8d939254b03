/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pci: enumerate bus 0 through CF8/CFC and through ECAM, check both see
 * the same functions and headers, find the host bridge at 00:00.0, check
 * a write through ECAM is visible through CF8, size every BAR.
 */
#include "lib/bootinfo.h"
#include "lib/pci.h"
#include "lib/printf.h"
#include "lib/test.h"
#include "tests/tests.h"

/* docs/platform.md; "hostbridge=VVVVDDDD" (hex) overrides, e.g. for QEMU
 * pc (0x80861237). */
#define HOSTBRIDGE_ID    0x808629C0U
#define HOSTBRIDGE_CLASS 0x0600

static int compare_fn(struct pci_addr a)
{
    for (unsigned int off = 0; off < 0x40; off += 4) {
        uint32_t x = pci_read32(PCI_CF8, a, off);
        uint32_t y = pci_read32(PCI_ECAM, a, off);

        if (x != y)
            return test_fail("%02x:%02x.%x offset %#x: CF8 %#x ECAM %#x",
                             a.bus, a.dev, a.fn, off, x, y);
    }
    return 0;
}

static void show_bars(struct pci_addr a)
{
    for (unsigned int i = 0; i < 6; i++) {
        struct pci_bar bar;

        if (pci_bar_probe(PCI_CF8, a, i, &bar) < 0 || !bar.size)
            continue;
        printf("pci:   bar%u %s addr %#lx size %#lx\n", i,
               bar.io ? "io" : bar.is64 ? "mem64" : "mem32", bar.addr,
               bar.size);
        if (bar.is64)
            i++;
    }
}

/* Check one function both ways; returns 1 if present, 0 absent, -1. */
static int check_fn(struct pci_addr a, unsigned int *multi)
{
    uint32_t id = pci_read32(PCI_CF8, a, PCI_VENDOR_ID);
    uint32_t eid = pci_read32(PCI_ECAM, a, PCI_VENDOR_ID);
    uint8_t hdr;

    if (id == 0xFFFFFFFF || eid == 0xFFFFFFFF) {
        if (id != eid)
            return test_fail("%02x:%02x.%x: CF8 id %#x, ECAM id %#x",
                             a.bus, a.dev, a.fn, id, eid);
        return 0;
    }
    if (compare_fn(a) < 0)
        return -1;
    hdr = pci_read8(PCI_CF8, a, PCI_HEADER_TYPE);
    if (a.fn == 0)
        *multi = hdr & 0x80;
    printf("pci: %02x:%02x.%x %04x:%04x class %06x\n", a.bus, a.dev, a.fn,
           id & 0xFFFF, id >> 16, pci_read32(PCI_CF8, a, PCI_REVISION) >> 8);
    if ((hdr & 0x7F) == 0)
        show_bars(a);
    return 1;
}

static int check_host_bridge(void)
{
    struct pci_addr hb = { 0, 0, 0 };
    uint64_t want = HOSTBRIDGE_ID;
    uint32_t id = pci_read32(PCI_CF8, hb, PCI_VENDOR_ID);
    uint16_t cls = pci_read16(PCI_CF8, hb, PCI_REVISION + 2);

    cmdline_get_u64("hostbridge", &want);
    if ((id & 0xFFFF) != want >> 16 || id >> 16 != (want & 0xFFFF))
        return test_fail("00:00.0 is %04x:%04x, want %04lx:%04lx",
                         id & 0xFFFF, id >> 16, want >> 16, want & 0xFFFF);
    if (cls != HOSTBRIDGE_CLASS)
        return test_fail("00:00.0 class %#x, want %#x", cls,
                         HOSTBRIDGE_CLASS);
    return 0;
}

/* Interrupt Line is a scratch register: write via ECAM, read via CF8. */
static int check_write_path(void)
{
    struct pci_addr hb = { 0, 0, 0 };
    uint8_t orig = pci_read8(PCI_CF8, hb, PCI_INTERRUPT_LINE), v;

    pci_write8(PCI_ECAM, hb, PCI_INTERRUPT_LINE, 0x5A);
    v = pci_read8(PCI_CF8, hb, PCI_INTERRUPT_LINE);
    pci_write8(PCI_CF8, hb, PCI_INTERRUPT_LINE, orig);
    if (v != 0x5A && v != orig)
        return test_fail("interrupt line: wrote 0x5a via ECAM, CF8 reads "
                         "%#x", v);
    if (v != 0x5A)
        printf("pci: 00:00.0 interrupt line is read-only\n");
    return 0;
}

int test_pci(void)
{
    unsigned int found = 0;

    printf("pci: ECAM at %#lx\n", pci_ecam_base());
    for (unsigned int dev = 0; dev < 32; dev++) {
        unsigned int multi = 0;

        for (unsigned int fn = 0; fn < 8; fn++) {
            struct pci_addr a = { 0, (uint8_t)dev, (uint8_t)fn };
            int r = check_fn(a, &multi);

            if (r < 0)
                return -1;
            if (r == 0 && fn == 0)
                break;
            found += (unsigned int)r;
            if (!multi)
                break;
        }
    }
    if (!found)
        return test_fail("no PCI functions on bus 0");
    if (check_host_bridge() < 0 || check_write_path() < 0)
        return -1;
    printf("pci: %u functions, CF8 and ECAM agree\n", found);
    return 0;
}
