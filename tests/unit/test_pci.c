/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI core and host bridge (devices/pci*.c): config mechanisms #1 and
 * ECAM, BAR sizing and mapping onto real buses, INTx, capabilities,
 * config takeover, reset, save/load. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libfdt.h>

#include "devices/pci.h"
#include "devices/pci_host.h"
#include "vmm/bus.h"

#define ECAM_BASE 0xE0000000ULL
#define ECAM_SIZE 0x10000000ULL
#define GSI_BASE  16

struct fake_irq {
    bool level[24];
    int calls;
};

static int fake_set_level(void *opaque, uint32_t gsi, bool level)
{
    struct fake_irq *f = opaque;

    assert_true(gsi < 24);
    f->level[gsi] = level;
    f->calls++;
    return 0;
}

static const struct irq_ops fake_irq_ops = { fake_set_level };

/* A test function: BAR handlers record the last access. */
struct tdev {
    struct pci_dev pci;
    uint64_t last_off;
    unsigned int last_bar;
    int maps, unmaps;
    uint64_t map_addr[PCI_NR_BAR_SLOTS];
    uint32_t hook_writes;
    uint32_t reg_0x40;
};

struct bar_ctx {
    struct tdev *dev;
    unsigned int idx;
};

static void bar_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
    struct bar_ctx *c = opaque;

    c->dev->last_off = off;
    c->dev->last_bar = c->idx;
    memset(data, 0xA0 + c->idx, len);
}

static void bar_write(void *opaque, uint64_t off, const void *data,
                      uint32_t len)
{
    (void)data, (void)len;
    bar_read(opaque, off, &(uint64_t){ 0 }, 1);
}

static const struct bus_ops bar_ops = { bar_read, bar_write };

static int tdev_bar_map(struct pci_dev *dev, unsigned int bar, uint64_t addr,
                        uint64_t size)
{
    struct tdev *t = dev->opaque;

    (void)size;
    t->maps++;
    t->map_addr[bar] = addr;
    return 0;
}

static void tdev_bar_unmap(struct pci_dev *dev, unsigned int bar,
                           uint64_t addr, uint64_t size)
{
    struct tdev *t = dev->opaque;

    (void)size;
    assert_int_equal(t->map_addr[bar], addr);
    t->unmaps++;
    t->map_addr[bar] = 0;
}

static void tdev_cfg_write(struct pci_dev *dev, uint32_t off, uint32_t len,
                           uint32_t val)
{
    struct tdev *t = dev->opaque;

    (void)len;
    t->hook_writes++;
    if (off == 0x40)
        t->reg_0x40 = val;
}

static const struct pci_dev_ops tdev_ops = {
    .cfg_write = tdev_cfg_write,
    .bar_map = tdev_bar_map,
    .bar_unmap = tdev_bar_unmap,
};

struct fixture {
    struct bus *mmio, *pio;
    struct fake_irq irq;
    struct pci_bus *pci;
    struct pci_host *host;
    struct tdev dev;
    struct bar_ctx ctx[PCI_NR_BAR_SLOTS];
    int cf9_writes;
};

static void cf9_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
    (void)opaque, (void)off;
    memset(data, 0x5A, len);
}

static void cf9_write(void *opaque, uint64_t off, const void *data,
                      uint32_t len)
{
    struct fixture *f = opaque;

    (void)off, (void)data, (void)len;
    f->cf9_writes++;
}

static const struct bus_ops cf9_ops = { cf9_read, cf9_write };

static void tdev_init(struct fixture *f, struct tdev *t, uint16_t device_id)
{
    const struct pci_dev_info info = {
        .vendor_id = 0x1AF4, .device_id = device_id,
        .class_code = 0x020000, .irq_pin = 1,
    };

    memset(t, 0, sizeof(*t));
    assert_int_equal(pci_dev_init(&t->pci, &info, &tdev_ops, t), 0);
    for (unsigned int i = 0; i < PCI_NR_BAR_SLOTS; i++)
        f->ctx[i] = (struct bar_ctx){ t, i };
    assert_int_equal(pci_dev_set_bar(&t->pci, 0, PCI_BAR_MEM32, 0x1000,
                                     &bar_ops, &f->ctx[0]), 0);
    assert_int_equal(pci_dev_set_bar(&t->pci, 1, PCI_BAR_IO, 32, &bar_ops,
                                     &f->ctx[1]), 0);
    assert_int_equal(pci_dev_set_bar(&t->pci, 2,
                                     PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
                                     1 << 20, &bar_ops, &f->ctx[2]), 0);
    assert_int_equal(pci_dev_set_bar(&t->pci, PCI_ROM_BAR, PCI_BAR_ROM,
                                     0x10000, &bar_ops, &f->ctx[6]), 0);
    pci_dev_set_wmask(&t->pci, 0x40, 4, 0xFFFFFFFF);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct pci_bus_config bc;
    struct pci_host_config hc;

    assert_non_null(f);
    assert_int_equal(bus_create("mmio", &f->mmio), 0);
    assert_int_equal(bus_create("pio", &f->pio), 0);
    bc = (struct pci_bus_config){ .mmio = f->mmio, .pio = f->pio,
                                  .irq = { &fake_irq_ops, &f->irq },
                                  .intx_gsi_base = GSI_BASE };
    assert_int_equal(pci_bus_create(&bc, &f->pci), 0);
    hc = (struct pci_host_config){ f->pci, &cf9_ops, f };
    assert_int_equal(pci_host_create(&hc, &f->host), 0);
    assert_int_equal(bus_register(f->pio, PCI_HOST_PIO_BASE,
                                  PCI_HOST_PIO_LEN, &pci_host_pio_ops,
                                  f->host), 0);
    assert_int_equal(bus_register(f->mmio, ECAM_BASE, ECAM_SIZE,
                                  &pci_host_ecam_ops, f->host), 0);
    tdev_init(f, &f->dev, 0x1000);
    assert_int_equal(pci_register(f->pci, &f->dev.pci), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    bus_unregister(f->pio, PCI_HOST_PIO_BASE);
    bus_unregister(f->mmio, ECAM_BASE);
    pci_host_destroy(f->host);
    pci_bus_destroy(f->pci); /* unregisters the test device */
    bus_destroy(f->mmio);
    bus_destroy(f->pio);
    free(f);
    return 0;
}

static uint32_t pio_in(struct fixture *f, uint16_t port, uint32_t len)
{
    uint32_t v = 0;

    assert_int_equal(bus_dispatch(f->pio, port, &v, len, false), 0);
    return v;
}

static void pio_out(struct fixture *f, uint16_t port, uint32_t v,
                    uint32_t len)
{
    assert_int_equal(bus_dispatch(f->pio, port, &v, len, true), 0);
}

/* Mechanism #1 accesses. */
static uint32_t cf8_read(struct fixture *f, unsigned int slot, uint32_t off,
                         uint32_t len)
{
    pio_out(f, 0xCF8, 0x80000000u | slot << 11 | (off & 0xFC), 4);
    return pio_in(f, 0xCFC + (off & 3), len);
}

static void cf8_write(struct fixture *f, unsigned int slot, uint32_t off,
                      uint32_t v, uint32_t len)
{
    pio_out(f, 0xCF8, 0x80000000u | slot << 11 | (off & 0xFC), 4);
    pio_out(f, 0xCFC + (off & 3), v, len);
}

static uint32_t ecam_read(struct fixture *f, unsigned int bus,
                          unsigned int slot, uint32_t off, uint32_t len)
{
    uint32_t v = 0;
    uint64_t a = ECAM_BASE + ((uint64_t)bus << 20) + (slot << 15) + off;

    assert_int_equal(bus_dispatch(f->mmio, a, &v, len, false), 0);
    return v;
}

static void ecam_write(struct fixture *f, unsigned int slot, uint32_t off,
                       uint32_t v, uint32_t len)
{
    uint64_t a = ECAM_BASE + (slot << 15) + off;

    assert_int_equal(bus_dispatch(f->mmio, a, &v, len, true), 0);
}

static void test_host_bridge(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(cf8_read(f, 0, 0, 4), 0x29C08086);
    assert_int_equal(cf8_read(f, 0, PCI_CLASS_REVISION, 4) >> 8, 0x060000);
    assert_int_equal(cf8_read(f, 0, PCI_HEADER_TYPE, 1), 0);
    assert_int_equal(ecam_read(f, 0, 0, 0, 4), 0x29C08086);
}

static void test_cf8_mechanism(void **state)
{
    struct fixture *f = *state;

    pio_out(f, 0xCF8, 0xFFFFFFFF, 4);
    assert_int_equal(pio_in(f, 0xCF8, 4), 0x80FFFFFC);
    pio_out(f, 0xCF8, 0x80000000u | 1 << 11, 4);
    assert_int_equal(pio_in(f, 0xCFC, 2), 0x1AF4);   /* word */
    assert_int_equal(pio_in(f, 0xCFE, 2), 0x1000);
    assert_int_equal(pio_in(f, 0xCFD, 1), 0x1A);     /* byte */
    assert_int_equal(pio_in(f, 0xCFD, 2), 0xFFFF);   /* unaligned */
    pio_out(f, 0xCF8, 1 << 11, 4);                   /* enable clear */
    assert_int_equal(pio_in(f, 0xCFC, 4), 0xFFFFFFFF);
    pio_out(f, 0xCFC, 0, 4);                         /* ignored */
    assert_int_equal(pio_in(f, 0xCFA, 1), 0xFF);     /* not CF8/CF9 */
    /* Byte accesses at 0xCF9 go to the reset control register. */
    assert_int_equal(pio_in(f, 0xCF9, 1), 0x5A);
    pio_out(f, 0xCF9, 0x06, 1);
    assert_int_equal(f->cf9_writes, 1);
    /* Byte write via CFC+3 into the latency timer. */
    cf8_write(f, 1, PCI_LATENCY_TIMER, 0x40, 1);
    assert_int_equal(cf8_read(f, 1, PCI_LATENCY_TIMER, 1), 0x40);
}

static void test_absent(void **state)
{
    struct fixture *f = *state;
    uint32_t v;

    assert_int_equal(cf8_read(f, 7, 0, 4), 0xFFFFFFFF);
    assert_int_equal(cf8_read(f, 7, 0, 2), 0xFFFF);
    assert_int_equal(ecam_read(f, 0, 31, 0, 4), 0xFFFFFFFF);
    assert_int_equal(ecam_read(f, 1, 1, 0, 4), 0xFFFFFFFF); /* bus 1 */
    /* Function 1 of a present slot. */
    assert_int_equal(ecam_read(f, 0, 1, 1 << 12, 4), 0xFFFFFFFF);
    assert_int_equal(pci_cfg_read(f->pci, PCI_BDF(0, 9, 0), 0, &v, 4),
                     -ENODEV);
    assert_int_equal(pci_cfg_read(f->pci, PCI_BDF(0, 1, 0), 2, &v, 4),
                     -EINVAL);
}

static void test_ecam_decode(void **state)
{
    struct fixture *f = *state;
    struct tdev *x = calloc(1, sizeof(*x));
    const struct pci_dev_info info = { .vendor_id = 0x1234,
                                       .device_id = 0x5678,
                                       .ext_cfg = true };
    uint64_t q = 0;

    assert_int_equal(ecam_read(f, 0, 1, 0, 4), 0x10001AF4);
    assert_int_equal(ecam_read(f, 0, 1, PCI_INTERRUPT_PIN, 1), 1);
    /* Conventional function: nothing beyond 256 bytes. */
    assert_int_equal(ecam_read(f, 0, 1, 0x100, 4), 0xFFFFFFFF);
    /* Extended function: 4 KiB through ECAM. */
    assert_int_equal(pci_dev_init(&x->pci, &info, NULL, x), 0);
    assert_int_equal(pci_add_ext_capability(&x->pci, 0x0B, 1, 0x10), 0x100);
    pci_dev_set_wmask(&x->pci, 0xFF0, 4, 0xFFFFFFFF);
    assert_int_equal(pci_register_slot(f->pci, &x->pci, 9), 0);
    assert_int_equal(ecam_read(f, 0, 9, 0x100, 4), 0x0001000B);
    ecam_write(f, 9, 0xFF0, 0xCAFEF00D, 4);
    assert_int_equal(ecam_read(f, 0, 9, 0xFF0, 4), 0xCAFEF00D);
    assert_int_equal(ecam_read(f, 0, 9, 0xFF2, 2), 0xCAFE);
    assert_int_equal(ecam_read(f, 0, 9, 0xFF1, 2), 0xFFFF); /* unaligned */
    /* An 8-byte access is two dwords. */
    assert_int_equal(bus_dispatch(f->mmio, ECAM_BASE + (9 << 15), &q, 8,
                                  false), 0);
    assert_int_equal(q, 0x0000000056781234ULL);
    pci_unregister(&x->pci);
    assert_int_equal(ecam_read(f, 0, 9, 0, 4), 0xFFFFFFFF);
    free(x);
}

static void test_bar_sizing(void **state)
{
    struct fixture *f = *state;

    for (unsigned int i = 0; i < 6; i++)
        cf8_write(f, 1, PCI_BASE_ADDRESS_0 + 4 * i, 0xFFFFFFFF, 4);
    assert_int_equal(cf8_read(f, 1, PCI_BASE_ADDRESS_0, 4), 0xFFFFF000);
    assert_int_equal(cf8_read(f, 1, PCI_BASE_ADDRESS_1, 4), 0xFFFFFFE1);
    assert_int_equal(cf8_read(f, 1, PCI_BASE_ADDRESS_2, 4), 0xFFF0000C);
    assert_int_equal(cf8_read(f, 1, PCI_BASE_ADDRESS_3, 4), 0xFFFFFFFF);
    assert_int_equal(cf8_read(f, 1, PCI_BASE_ADDRESS_4, 4), 0);
    assert_int_equal(cf8_read(f, 1, PCI_BASE_ADDRESS_5, 4), 0);
    cf8_write(f, 1, PCI_ROM_ADDRESS, 0xFFFFF7FE, 4);
    assert_int_equal(cf8_read(f, 1, PCI_ROM_ADDRESS, 4), 0xFFFF0000);
    /* Decode on with the sizing pattern still there maps nothing. */
    cf8_write(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    assert_int_equal(f->dev.maps, 0);
}

static void test_bar_set_errors(void **state)
{
    struct fixture *f = *state;
    struct tdev *x = calloc(1, sizeof(*x));
    const struct pci_dev_info info = { .vendor_id = 1 };

    assert_int_equal(pci_dev_init(&x->pci, &info, NULL, NULL), 0);
    assert_int_equal(pci_dev_set_bar(&x->pci, 0, PCI_BAR_MEM32, 3000, NULL,
                                     NULL), -EINVAL);
    assert_int_equal(pci_dev_set_bar(&x->pci, 5, PCI_BAR_MEM64, 4096, NULL,
                                     NULL), -EINVAL);
    assert_int_equal(pci_dev_set_bar(&x->pci, 0, PCI_BAR_ROM, 4096, NULL,
                                     NULL), -EINVAL);
    assert_int_equal(pci_dev_set_bar(&x->pci, 0, PCI_BAR_MEM64, 4096, NULL,
                                     NULL), 0);
    assert_int_equal(pci_dev_set_bar(&x->pci, 1, PCI_BAR_IO, 16, NULL,
                                     NULL), -EBUSY);
    assert_int_equal(pci_dev_set_bar(&f->dev.pci, 4, PCI_BAR_IO, 16, NULL,
                                     NULL), -EBUSY); /* registered */
    free(x);
}

static void program_bars(struct fixture *f)
{
    cf8_write(f, 1, PCI_BASE_ADDRESS_0, 0xC0000000, 4);
    cf8_write(f, 1, PCI_BASE_ADDRESS_1, 0x1000, 4);
    cf8_write(f, 1, PCI_BASE_ADDRESS_2, 0x00000000, 4);
    cf8_write(f, 1, PCI_BASE_ADDRESS_3, 0x80, 4); /* 0x80_0000_0000 */
    cf8_write(f, 1, PCI_ROM_ADDRESS, 0xC0100001, 4);
}

static void expect_bar(struct fixture *f, struct bus *b, uint64_t addr,
                       unsigned int bar, uint64_t off)
{
    uint32_t v = 0;

    assert_int_equal(bus_dispatch(b, addr, &v, 4, false), 0);
    assert_int_equal(f->dev.last_bar, bar);
    assert_int_equal(f->dev.last_off, off);
}

static void test_decode_maps(void **state)
{
    struct fixture *f = *state;
    uint32_t v;

    program_bars(f);
    assert_int_equal(f->dev.maps, 0);
    cf8_write(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    assert_int_equal(f->dev.maps, 4);
    assert_int_equal(f->dev.map_addr[0], 0xC0000000);
    assert_int_equal(f->dev.map_addr[1], 0x1000);
    assert_int_equal(f->dev.map_addr[2], 0x8000000000ULL);
    assert_int_equal(f->dev.map_addr[6], 0xC0100000);
    expect_bar(f, f->mmio, 0xC0000010, 0, 0x10);
    expect_bar(f, f->pio, 0x1004, 1, 4);
    expect_bar(f, f->mmio, 0x8000000000ULL + 0x800, 2, 0x800);
    expect_bar(f, f->mmio, 0xC0100008, 6, 8);
    /* I/O decode off: only the I/O BAR leaves. */
    cf8_write(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    assert_int_equal(f->dev.unmaps, 1);
    assert_int_equal(bus_dispatch(f->pio, 0x1004, &v, 4, false), -ENOENT);
    /* Everything off. */
    cf8_write(f, 1, PCI_COMMAND, 0, 2);
    assert_int_equal(f->dev.unmaps, 4);
    assert_int_equal(bus_dispatch(f->mmio, 0xC0000010, &v, 4, false),
                     -ENOENT);
}

static void test_bar_move(void **state)
{
    struct fixture *f = *state;
    uint32_t v;

    program_bars(f);
    cf8_write(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    cf8_write(f, 1, PCI_BASE_ADDRESS_0, 0xC0200000, 4);
    assert_int_equal(f->dev.unmaps, 1);
    assert_int_equal(f->dev.map_addr[0], 0xC0200000);
    assert_int_equal(bus_dispatch(f->mmio, 0xC0000010, &v, 4, false),
                     -ENOENT);
    expect_bar(f, f->mmio, 0xC0200010, 0, 0x10);
    /* Moving onto the ROM fails to map; it maps once the ROM moves. */
    cf8_write(f, 1, PCI_BASE_ADDRESS_0, 0xC0100000, 4);
    assert_int_equal(f->dev.map_addr[0], 0);
    cf8_write(f, 1, PCI_ROM_ADDRESS, 0xC0400001, 4);
    assert_int_equal(f->dev.map_addr[0], 0xC0100000);
    expect_bar(f, f->mmio, 0xC0100000, 0, 0);
    expect_bar(f, f->mmio, 0xC0400000, 6, 0);
    /* ROM enable bit off: ROM unmapped. */
    cf8_write(f, 1, PCI_ROM_ADDRESS, 0xC0400000, 4);
    assert_int_equal(f->dev.map_addr[6], 0);
}

static void test_slots_and_intx(void **state)
{
    struct fixture *f = *state;
    struct fixture g; /* only ctx[] is used */
    struct tdev *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

    assert_int_equal(cf8_read(f, 1, PCI_INTERRUPT_LINE, 1), GSI_BASE + 1);
    tdev_init(&g, a, 0x1001);
    tdev_init(&g, b, 0x1002);
    assert_int_equal(pci_register(f->pci, &a->pci), 0);
    assert_int_equal(a->pci.devfn, 2 << 3);
    assert_int_equal(cf8_read(f, 2, PCI_INTERRUPT_LINE, 1), GSI_BASE + 2);
    assert_int_equal(pci_register_slot(f->pci, &b->pci, 2), -EBUSY);
    assert_int_equal(pci_register_slot(f->pci, &b->pci, 5), 0);
    assert_int_equal(pci_dev_intx_gsi(&b->pci), GSI_BASE + 1);

    /* Slot 1 and slot 5 share GSI 17: the line is their OR. */
    pci_dev_set_intx(&f->dev.pci, true);
    assert_true(f->irq.level[17]);
    assert_int_equal(cf8_read(f, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT,
                     PCI_STATUS_INTERRUPT);
    pci_dev_set_intx(&b->pci, true);
    pci_dev_set_intx(&f->dev.pci, false);
    assert_true(f->irq.level[17]);
    assert_int_equal(cf8_read(f, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT,
                     0);
    /* INTx Disable masks the pin but not the status bit. */
    cf8_write(f, 5, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
    assert_false(f->irq.level[17]);
    assert_int_equal(cf8_read(f, 5, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT,
                     PCI_STATUS_INTERRUPT);
    cf8_write(f, 5, PCI_COMMAND, 0, 2);
    assert_true(f->irq.level[17]);
    pci_unregister(&b->pci); /* leaving drops its contribution */
    assert_false(f->irq.level[17]);
    pci_unregister(&a->pci);
    free(a);
    free(b);
}

static void test_config_masks(void **state)
{
    struct fixture *f = *state;

    cf8_write(f, 1, 0, 0xFFFFFFFF, 4); /* IDs read-only */
    assert_int_equal(cf8_read(f, 1, 0, 4), 0x10001AF4);
    cf8_write(f, 1, PCI_COMMAND, 0xFFFF, 2);
    assert_int_equal(cf8_read(f, 1, PCI_COMMAND, 2), 0x0547);
    cf8_write(f, 1, PCI_COMMAND, 0, 2);
    /* Status error bits are write-1-to-clear. */
    f->dev.pci.cs.cfg[PCI_STATUS + 1] |= PCI_STATUS_REC_MASTER_ABORT >> 8;
    cf8_write(f, 1, PCI_STATUS, 0, 2);
    assert_int_equal(cf8_read(f, 1, PCI_STATUS, 2),
                     PCI_STATUS_REC_MASTER_ABORT);
    cf8_write(f, 1, PCI_STATUS, PCI_STATUS_REC_MASTER_ABORT, 2);
    assert_int_equal(cf8_read(f, 1, PCI_STATUS, 2), 0);
    /* Device register with a write mask, hook runs after. */
    cf8_write(f, 1, 0x40, 0x12345678, 4);
    assert_int_equal(cf8_read(f, 1, 0x40, 4), 0x12345678);
    assert_int_equal(f->dev.reg_0x40, 0x12345678);
    assert_int_equal(cf8_read(f, 1, 0x44, 4), 0); /* read-only */
}

static void test_capabilities(void **state)
{
    struct fixture *f = *state;
    struct pci_dev *d = calloc(1, sizeof(*d));
    const struct pci_dev_info info = { .vendor_id = 1 };

    assert_int_equal(pci_dev_init(d, &info, NULL, NULL), 0);
    assert_int_equal(pci_find_capability(d, 0x05), -ENOENT);
    assert_int_equal(pci_add_capability(d, 0x09, 6), 0x40);  /* vendor */
    assert_int_equal(pci_add_capability(d, 0x05, 14), 0x48); /* MSI */
    assert_int_equal(pci_add_capability(d, 0x11, 12), 0x58); /* MSI-X */
    assert_int_equal(pci_find_capability(d, 0x05), 0x48);
    assert_int_equal(pci_find_capability(d, 0x11), 0x58);
    assert_int_equal(pci_find_capability(d, 0x10), -ENOENT);
    assert_int_equal(d->cs.cfg[PCI_CAPABILITY_LIST], 0x40);
    assert_int_equal(d->cs.cfg[0x41], 0x48);
    assert_int_equal(d->cs.cfg[0x49], 0x58);
    assert_int_equal(d->cs.cfg[0x59], 0);
    assert_true(pci_cfg_get(d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    assert_int_equal(pci_add_capability(d, 0x09, 200), -ENOSPC);
    /* A looping list (e.g. from a remote server) terminates. */
    d->cs.cfg[0x59] = 0x40;
    assert_int_equal(pci_find_capability(d, 0x10), -ENOENT);
    assert_int_equal(pci_add_ext_capability(d, 1, 1, 16), -EINVAL);
    (void)f;
    free(d);
}

static void test_ext_capabilities(void **state)
{
    struct pci_dev *d = calloc(1, sizeof(*d));
    const struct pci_dev_info info = { .vendor_id = 1, .ext_cfg = true };

    (void)state;
    assert_int_equal(pci_dev_init(d, &info, NULL, NULL), 0);
    assert_int_equal(pci_find_ext_capability(d, 1), -ENOENT);
    assert_int_equal(pci_add_ext_capability(d, 0x01, 2, 0x30), 0x100);
    assert_int_equal(pci_add_ext_capability(d, 0x0B, 1, 0x10), 0x130);
    assert_int_equal(pci_add_ext_capability(d, 0x0E, 1, 0x8), 0x140);
    assert_int_equal(pci_find_ext_capability(d, 0x0B), 0x130);
    assert_int_equal(pci_find_ext_capability(d, 0x0E), 0x140);
    assert_int_equal(pci_cfg_get(d, 0x100, 4), 0x13020001);
    assert_int_equal(pci_add_ext_capability(d, 1, 1, 0x1000), -ENOSPC);
    free(d);
}

/* A device owning its config space: a fake "remote" register file for
 * everything but the BARs and Command, which the core virtualises. */
struct owner {
    struct pci_dev pci;
    uint32_t remote_writes;
};

static bool owner_virtual(uint32_t off, uint32_t len)
{
    return pci_cfg_overlaps(off, len, PCI_COMMAND, 2) ||
           pci_cfg_overlaps(off, len, PCI_BASE_ADDRESS_0, 24);
}

static void owner_cfg_read(struct pci_dev *dev, uint32_t off, uint32_t len,
                           uint32_t *val)
{
    if (owner_virtual(off, len))
        pci_dev_emulate_read(dev, off, len, val);
    else if (off == 0)
        *val = 0xBEEF1B36;
    else
        *val = 0x11111111 & (0xFFFFFFFF >> (32 - 8 * len));
}

static void owner_cfg_write(struct pci_dev *dev, uint32_t off, uint32_t len,
                            uint32_t val)
{
    struct owner *o = dev->opaque;

    if (owner_virtual(off, len))
        pci_dev_emulate_write(dev, off, len, val);
    else
        o->remote_writes++;
}

static const struct pci_dev_ops owner_ops = {
    .flags = PCI_DEV_OWNS_CONFIG,
    .cfg_read = owner_cfg_read,
    .cfg_write = owner_cfg_write,
};

static void test_config_takeover(void **state)
{
    struct fixture *f = *state;
    struct owner *o = calloc(1, sizeof(*o));
    const struct pci_dev_info info = { .vendor_id = 0x1B36 };
    struct bar_ctx ctx = { &f->dev, 3 };

    assert_int_equal(pci_dev_init(&o->pci, &info, &owner_ops, o), 0);
    assert_int_equal(pci_dev_set_bar(&o->pci, 0, PCI_BAR_MEM32, 0x2000,
                                     &bar_ops, &ctx), 0);
    assert_int_equal(pci_register_slot(f->pci, &o->pci, 3), 0);
    assert_int_equal(cf8_read(f, 3, 0, 4), 0xBEEF1B36);
    assert_int_equal(cf8_read(f, 3, 0x40, 1), 0x11);
    cf8_write(f, 3, 0x40, 1, 4);
    assert_int_equal(o->remote_writes, 1);
    cf8_write(f, 3, PCI_BASE_ADDRESS_0, 0xFFFFFFFF, 4);
    assert_int_equal(cf8_read(f, 3, PCI_BASE_ADDRESS_0, 4), 0xFFFFE000);
    cf8_write(f, 3, PCI_BASE_ADDRESS_0, 0xC1000000, 4);
    cf8_write(f, 3, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    expect_bar(f, f->mmio, 0xC1001000, 3, 0x1000);
    pci_unregister(&o->pci);
    free(o);
}

static void test_reset(void **state)
{
    struct fixture *f = *state;
    uint32_t v;

    program_bars(f);
    cf8_write(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    pci_dev_set_intx(&f->dev.pci, true);
    pci_bus_reset(f->pci);
    assert_int_equal(f->dev.unmaps, 4);
    assert_int_equal(cf8_read(f, 1, PCI_COMMAND, 2), 0);
    assert_int_equal(cf8_read(f, 1, PCI_BASE_ADDRESS_2, 4), 0x0C);
    assert_int_equal(cf8_read(f, 1, PCI_ROM_ADDRESS, 4), 0);
    assert_false(f->irq.level[17]);
    assert_int_equal(bus_dispatch(f->mmio, 0xC0000000, &v, 4, false),
                     -ENOENT);
    assert_int_equal(cf8_read(f, 0, 0, 4), 0x29C08086);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    static char fdt[32768];
    struct fixture *g;
    int node, hnode;

    program_bars(f);
    cf8_write(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    cf8_write(f, 1, 0x40, 0xA5A5A5A5, 4);
    pci_dev_set_intx(&f->dev.pci, true);
    pio_out(f, 0xCF8, 0x80000800, 4);
    /* Node offsets move as the tree grows: look them up before use. */
    assert_int_equal(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
    assert_true(fdt_add_subnode(fdt, 0, "pci-01.0") >= 0);
    assert_true(fdt_add_subnode(fdt, 0, "pci-host") >= 0);
    node = fdt_subnode_offset(fdt, 0, "pci-01.0");
    assert_int_equal(pci_dev_state_ops.save(&f->dev.pci, fdt, node), 0);
    hnode = fdt_subnode_offset(fdt, 0, "pci-host");
    assert_int_equal(pci_host_state_ops.save(f->host, fdt, hnode), 0);
    node = fdt_subnode_offset(fdt, 0, "pci-01.0");
    hnode = fdt_subnode_offset(fdt, 0, "pci-host");

    /* A fresh machine, loaded from the tree. */
    assert_int_equal(setup((void **)&g), 0);
    assert_int_equal(pci_host_state_ops.load(g->host, fdt, hnode), 0);
    assert_int_equal(pci_dev_state_ops.load(&g->dev.pci, fdt, node), 0);
    assert_int_equal(pio_in(g, 0xCF8, 4), 0x80000800);
    assert_int_equal(g->dev.maps, 4);
    assert_int_equal(g->dev.map_addr[2], 0x8000000000ULL);
    assert_int_equal(pio_in(g, 0xCFC, 4), 0x10001AF4);
    assert_int_equal(cf8_read(g, 1, 0x40, 4), 0xA5A5A5A5);
    assert_int_equal(cf8_read(g, 1, PCI_BASE_ADDRESS_1, 4), 0x1001);
    assert_true(g->irq.level[17]);
    expect_bar(g, g->pio, 0x1000, 1, 0);
    teardown((void **)&g);

    /* Another device's snapshot is refused. */
    assert_int_equal(setup((void **)&g), 0);
    g->dev.pci.cs.cfg[PCI_DEVICE_ID] = 0x42;
    assert_int_equal(pci_dev_state_ops.load(&g->dev.pci, fdt, node),
                     -EINVAL);
    teardown((void **)&g);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_host_bridge),     T(test_cf8_mechanism),
        T(test_absent),          T(test_ecam_decode),
        T(test_bar_sizing),      T(test_bar_set_errors),
        T(test_decode_maps),     T(test_bar_move),
        T(test_slots_and_intx),  T(test_config_masks),
        T(test_capabilities),    T(test_ext_capabilities),
        T(test_config_takeover), T(test_reset),
        T(test_save_load),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
