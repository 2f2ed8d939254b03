/* SPDX-License-Identifier: BSD-3-Clause */
/* BAR placement by the VMM (devices/pci_bar.c pci_bars_assign, with the
 * allocator of devices/pci_alloc.c): every BAR of a registered function
 * gets a nonzero, aligned, non-overlapping address in its window and
 * decoding is on; the guest can still size and move BARs; a placement over
 * a reserved range (ECAM, RAM) or another BAR is refused and logged once
 * with the BDF and address; a BAR without room is logged and left at 0; a
 * device owning its config sees the firmware writes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/pci.h"
#include "vmm/bus.h"

#define IO_BASE  0xC000
#define M32_BASE 0xC0000000ULL
#define M64_BASE 0x8000000000ULL

struct tdev {
    struct pci_dev pci;
    int maps;
    int hook_bar_writes, hook_cmd_writes; /* PCI_DEV_OWNS_CONFIG */
};

static void bar_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
    (void)off;
    memset(data, (int)(uintptr_t)opaque, len);
}

static void bar_write(void *opaque, uint64_t off, const void *data,
                      uint32_t len)
{
    (void)opaque, (void)off, (void)data, (void)len;
}

static const struct bus_ops bar_ops = { bar_read, bar_write };

static int tdev_bar_map(struct pci_dev *dev, unsigned int bar, uint64_t addr,
                        uint64_t size)
{
    (void)bar, (void)addr, (void)size;
    ((struct tdev *)dev->opaque)->maps++;
    return 0;
}

static void owner_read(struct pci_dev *dev, uint32_t off, uint32_t len,
                       uint32_t *val)
{
    pci_dev_emulate_read(dev, off, len, val);
}

static void owner_write(struct pci_dev *dev, uint32_t off, uint32_t len,
                        uint32_t val)
{
    struct tdev *t = dev->opaque;

    pci_dev_emulate_write(dev, off, len, val);
    if (pci_cfg_overlaps(off, len, PCI_BASE_ADDRESS_0, 24))
        t->hook_bar_writes++;
    if (pci_cfg_overlaps(off, len, PCI_COMMAND, 2))
        t->hook_cmd_writes++;
}

static const struct pci_dev_ops tdev_ops = { .bar_map = tdev_bar_map };
static const struct pci_dev_ops owner_ops = {
    .flags = PCI_DEV_OWNS_CONFIG, .cfg_read = owner_read,
    .cfg_write = owner_write, .bar_map = tdev_bar_map,
};

struct fixture {
    struct bus *mmio, *pio;
    struct pci_bus *pci;
    struct tdev dev[3];
};

/* BAR0 MEM32 16 B, BAR1 I/O 256 B, BAR2 MEM64 prefetchable 1 MiB, ROM. */
static void tdev_init(struct tdev *t, const struct pci_dev_ops *ops)
{
    const struct pci_dev_info info = { .vendor_id = 0x1AF4,
                                       .device_id = 0x1000,
                                       .class_code = 0 };

    memset(t, 0, sizeof(*t));
    assert_int_equal(pci_dev_init(&t->pci, &info, ops, t), 0);
    assert_int_equal(pci_dev_set_bar(&t->pci, 0, PCI_BAR_MEM32, 16, &bar_ops,
                                     (void *)0xA0), 0);
    assert_int_equal(pci_dev_set_bar(&t->pci, 1, PCI_BAR_IO, 256, &bar_ops,
                                     (void *)0xA1), 0);
    assert_int_equal(pci_dev_set_bar(&t->pci, 2,
                                     PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
                                     1 << 20, &bar_ops, (void *)0xA2), 0);
    assert_int_equal(pci_dev_set_bar(&t->pci, PCI_ROM_BAR, PCI_BAR_ROM,
                                     0x10000, &bar_ops, (void *)0xA6), 0);
}

static void fixture_up(struct fixture *f, uint64_t m32_size)
{
    struct pci_bus_config bc = { .assign_bars = true };

    memset(f, 0, sizeof(*f));
    assert_int_equal(bus_create("mmio", &f->mmio), 0);
    assert_int_equal(bus_create("pio", &f->pio), 0);
    bc.mmio = f->mmio;
    bc.pio = f->pio;
    bc.windows = (struct pci_alloc_config){
        .io = { IO_BASE, 0x4000 }, .mem32 = { M32_BASE, m32_size },
        .mem64 = { M64_BASE, 1ULL << 39 } };
    bc.reserved[0] = (struct pci_reserved){ 0xE0000000ULL, 0x10000000,
                                            "ECAM" };
    bc.reserved[1] = (struct pci_reserved){ 0, 0x80000000ULL, "guest RAM" };
    bc.nreserved = 2;
    assert_int_equal(pci_bus_create(&bc, &f->pci), 0);
}

static void fixture_down(struct fixture *f)
{
    pci_bus_destroy(f->pci);
    bus_destroy(f->mmio);
    bus_destroy(f->pio);
}

static uint32_t rd(struct fixture *f, unsigned int slot, uint32_t off)
{
    uint32_t v = 0;

    pci_cfg_read(f->pci, PCI_BDF(0, slot, 0), off, &v, 4);
    return v;
}

static void wr(struct fixture *f, unsigned int slot, uint32_t off,
               uint32_t v)
{
    pci_cfg_write(f->pci, PCI_BDF(0, slot, 0), off, &v, 4);
}

static uint64_t bar_addr(struct fixture *f, unsigned int slot, unsigned int i)
{
    uint32_t lo = rd(f, slot, PCI_BASE_ADDRESS_0 + 4 * i);

    if (lo & PCI_BASE_ADDRESS_SPACE_IO)
        return lo & PCI_BASE_ADDRESS_IO_MASK;
    if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64)
        return (lo & PCI_BASE_ADDRESS_MEM_MASK) |
               (uint64_t)rd(f, slot, PCI_BASE_ADDRESS_0 + 4 * i + 4) << 32;
    return lo & PCI_BASE_ADDRESS_MEM_MASK;
}

static uint8_t mmio_byte(struct fixture *f, uint64_t addr)
{
    uint8_t v = 0;

    if (bus_dispatch(f->mmio, addr, &v, 1, false) < 0)
        return 0;
    return v;
}

static void test_assign(void **state)
{
    struct fixture f;
    uint64_t a[2][3];

    (void)state;
    fixture_up(&f, 0x20000000);
    for (unsigned int s = 0; s < 2; s++) {
        tdev_init(&f.dev[s], &tdev_ops);
        assert_int_equal(pci_register_slot(f.pci, &f.dev[s].pci, s + 1), 0);
    }
    for (unsigned int s = 0; s < 2; s++) {
        unsigned int slot = s + 1;
        uint32_t cmd = rd(&f, slot, PCI_COMMAND) & 0xFFFF;
        uint32_t rom = rd(&f, slot, PCI_ROM_ADDRESS);

        a[s][0] = bar_addr(&f, slot, 0);
        a[s][1] = bar_addr(&f, slot, 1);
        a[s][2] = bar_addr(&f, slot, 2);
        /* In their windows, aligned (memory: at least a page). */
        assert_true(a[s][0] >= M32_BASE && a[s][0] < 0xE0000000ULL);
        assert_int_equal(a[s][0] % 4096, 0);
        assert_true(a[s][1] >= IO_BASE && a[s][1] + 256 <= 0x10000);
        assert_int_equal(a[s][1] % 256, 0);
        assert_true(a[s][2] >= M64_BASE);
        assert_int_equal(a[s][2] % (1 << 20), 0);
        /* The ROM has an address but stays disabled. */
        assert_true((rom & PCI_ROM_ADDRESS_MASK) >= M32_BASE);
        assert_int_equal(rom & PCI_ROM_ADDRESS_ENABLE, 0);
        /* Decoding on, as firmware leaves it; no bus mastering. */
        assert_int_equal(cmd, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
        assert_int_equal(f.dev[s].maps, 3);
        assert_int_equal(mmio_byte(&f, a[s][0]), 0xA0);
        assert_int_equal(mmio_byte(&f, a[s][2] + 0xFFFFF), 0xA2);
    }
    /* No two BARs of the two functions overlap. */
    assert_true(a[0][0] != a[1][0] && a[0][1] != a[1][1] &&
                a[0][2] != a[1][2]);
    fixture_down(&f);
}

static void test_guest_reprograms(void **state)
{
    struct fixture f;
    uint64_t old;

    (void)state;
    fixture_up(&f, 0x20000000);
    tdev_init(&f.dev[0], &tdev_ops);
    assert_int_equal(pci_register_slot(f.pci, &f.dev[0].pci, 1), 0);
    old = bar_addr(&f, 1, 0);
    /* Sizing with decoding off, as Linux does, then restore. */
    wr(&f, 1, PCI_COMMAND, 0);
    wr(&f, 1, PCI_BASE_ADDRESS_0, 0xFFFFFFFF);
    assert_int_equal(rd(&f, 1, PCI_BASE_ADDRESS_0), 0xFFFFFFF0);
    wr(&f, 1, PCI_BASE_ADDRESS_0, (uint32_t)old);
    wr(&f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
    assert_int_equal(mmio_byte(&f, old), 0xA0);
    /* Moved by the guest: decodes at the new place only. */
    wr(&f, 1, PCI_BASE_ADDRESS_0, 0xC0000000);
    assert_int_equal(mmio_byte(&f, 0xC0000000), 0xA0);
    assert_int_equal(mmio_byte(&f, old), 0);
    fixture_down(&f);
}

/* Run @fn with stderr going to a buffer; returns it (static). */
static const char *capture(void (*fn)(struct fixture *), struct fixture *f)
{
    static char buf[4096];
    FILE *tmp = tmpfile();
    int saved = dup(2);
    size_t n;

    assert_non_null(tmp);
    fflush(stderr);
    assert_true(dup2(fileno(tmp), 2) >= 0);
    fn(f);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    n = fread(buf, 1, sizeof(buf) - 1, tmp);
    buf[n] = 0;
    fclose(tmp);
    return buf;
}

static unsigned int count(const char *s, const char *what)
{
    unsigned int n = 0;

    for (; (s = strstr(s, what)) != NULL; s += strlen(what))
        n++;
    return n;
}

static void onto_ecam_and_ram(struct fixture *f)
{
    wr(f, 1, PCI_BASE_ADDRESS_0, 0xE0001000);
    wr(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY); /* retried: no new line */
    wr(f, 1, PCI_BASE_ADDRESS_0, 0x10000000);
    /* Onto function 2's BAR0: the bus refuses it. */
    wr(f, 1, PCI_BASE_ADDRESS_0, (uint32_t)bar_addr(f, 2, 0));
}

static void test_refused_logged_once(void **state)
{
    struct fixture f;
    const char *log;

    (void)state;
    fixture_up(&f, 0x20000000);
    tdev_init(&f.dev[0], &tdev_ops);
    tdev_init(&f.dev[1], &tdev_ops);
    assert_int_equal(pci_register_slot(f.pci, &f.dev[0].pci, 1), 0);
    assert_int_equal(pci_register_slot(f.pci, &f.dev[1].pci, 2), 0);
    log = capture(onto_ecam_and_ram, &f);
    assert_int_equal(count(log, "pci 00:01.0 BAR 0 at 0xe0001000"), 1);
    assert_int_equal(count(log, "overlaps ECAM"), 1);
    assert_int_equal(count(log, "pci 00:01.0 BAR 0 at 0x10000000"), 1);
    assert_int_equal(count(log, "overlaps guest RAM"), 1);
    assert_int_equal(count(log, "overlaps another mapping"), 1);
    assert_int_equal(count(log, "not mapped"), 3);
    assert_int_equal(mmio_byte(&f, 0x10000000), 0);
    fixture_down(&f);
}

static void register_two(struct fixture *f)
{
    tdev_init(&f->dev[0], &tdev_ops);
    tdev_init(&f->dev[1], &tdev_ops);
    assert_int_equal(pci_register_slot(f->pci, &f->dev[0].pci, 1), 0);
    assert_int_equal(pci_register_slot(f->pci, &f->dev[1].pci, 2), 0);
}

static void test_no_room(void **state)
{
    struct fixture f;
    const char *log;

    (void)state;
    /* 128 KiB: both 64 KiB ROMs cannot fit with function 1's BAR0. */
    fixture_up(&f, 0x20000);
    log = capture(register_two, &f);
    assert_int_equal(count(log, "no room"), 1);
    assert_int_equal(count(log, "pci 00:02.0 ROM (0x10000 bytes): no room "
                                "in the PCI memory window"), 1);
    assert_int_equal(rd(&f, 2, PCI_ROM_ADDRESS), 0);
    assert_true(bar_addr(&f, 2, 0) >= M32_BASE); /* the rest still placed */
    assert_true(bar_addr(&f, 2, 1) >= IO_BASE);
    fixture_down(&f);
}

static void test_owner_sees_writes(void **state)
{
    struct fixture f;

    (void)state;
    fixture_up(&f, 0x20000000);
    tdev_init(&f.dev[0], &owner_ops);
    assert_int_equal(pci_register_slot(f.pci, &f.dev[0].pci, 1), 0);
    /* BAR2 (two dwords), BAR0, BAR1; then Command. */
    assert_int_equal(f.dev[0].hook_bar_writes, 4);
    assert_int_equal(f.dev[0].hook_cmd_writes, 1);
    assert_int_equal(rd(&f, 1, PCI_COMMAND) & 3, 3);
    assert_int_equal(f.dev[0].maps, 3);
    fixture_down(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assign),
        cmocka_unit_test(test_guest_reprograms),
        cmocka_unit_test(test_refused_logged_once),
        cmocka_unit_test(test_no_room),
        cmocka_unit_test(test_owner_sees_writes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
