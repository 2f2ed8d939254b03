/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vfio-evil: the guest side of the misbehaving-server suite. Finds the
 * vfu-evil device (1234:11e5), programs BAR 0, enables decoding and reads
 * the BAR's first dword eight times, printing each value, plus one write.
 * Whatever the server does, the guest must get an answer (its value, or
 * all-ones once the device is dead) and finish: the host checks minivmm's
 * report and that it kept running.
 *
 * For the hang tests: evil-reads=N reads only N times (no write, no
 * config read: the device is left alone after the fault); evil-blk=1 then
 * writes and reads back sector 0 of the in-VMM virtio-blk (served by the
 * event loop: proves the loop is not stuck behind the server), printing
 * "vfio-evil: blk ok"; evil-hold=1 then prints "vfio-evil: holding" and
 * idles until minivmm is stopped (SIGTERM, quit).
 */
#include "lib/errno.h"
#include "lib/bootinfo.h"
#include "lib/io.h"
#include "lib/pci.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/time.h"
#include "lib/test.h"
#include "vfio/vfio_tests.h"
#include "virtio/vblk.h"

static int find(struct pci_addr *a)
{
    for (uint8_t dev = 1; dev < 32; dev++) {
        *a = (struct pci_addr){0, dev, 0};
        if (pci_read32(PCI_CF8, *a, 0) == 0x11e51234)
            return 0;
    }
    return -ENODEV;
}

/* The second device: the in-VMM virtio-blk keeps working. */
static int blk_check(void)
{
    static uint8_t w[512] __attribute__((aligned(4096)));
    static uint8_t r[512] __attribute__((aligned(4096)));
    struct vblk b;
    int st;

    if (vblk_open(&b, VEC_VFIO1) < 0)
        return -1;
    memset(w, 0, sizeof(w));
    memcpy(w, "evil-blk", 8);
    st = vblk_rw(&b, VBLK_T_OUT, 0, w, 512);
    if (st == 0)
        st = vblk_rw(&b, VBLK_T_IN, 0, r, 512);
    if (st != 0 || memcmp(w, r, 512))
        return test_fail("in-VMM virtio-blk I/O failed (%d)", st);
    printf("vfio-evil: blk ok\n");
    return 0;
}

static int hold(void)
{
    uint64_t blk = 0, h = 0;

    cmdline_get_u64("evil-blk", &blk);
    cmdline_get_u64("evil-hold", &h);
    if (blk && blk_check() < 0)
        return -1;
    if (!h)
        return 0;
    printf("vfio-evil: holding\n");
    for (;;)
        delay_us(100000);
}

int test_vfio_evil(void)
{
    uint64_t reads = 8;
    /* Apart from vdev_find()'s window (the in-VMM virtio-blk). */
    struct pci_window win = {0xD0000000ULL, 0xE0000000ULL};
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
    cmdline_get_u64("evil-reads", &reads);
    for (int i = 0; i < (int)reads; i++) {
        uint32_t v = mmio_read32(addr + 4 * (uint64_t)i);

        printf("vfio-evil: read %d %#x\n", i, v);
        if (i == 4)
            mmio_write32(addr, 0xdead);
    }
    if (reads < 8)
        return hold();
    printf("vfio-evil: vendor now %#x\n", pci_read32(PCI_CF8, a, 0));
    return 0;
}
