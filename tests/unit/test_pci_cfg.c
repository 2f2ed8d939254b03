/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for devices/pci_cfg.c, the pure config-space model: header
 * reads, write masks and W1C bits, BAR sizing (32/64-bit memory,
 * prefetchable, I/O, Expansion ROM) and decode, capability walks (also of
 * a looping list), the MSI-X capability's Enable/Function Mask bits,
 * reset, and snapshot images. No bus: everything is on a struct pcfg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci_cfg.h"

static const struct pci_dev_info info = {
    .vendor_id = 0x1af4,
    .device_id = 0x1042,
    .subsys_vendor_id = 0x1af4,
    .subsys_id = 0x1100,
    .class_code = 0x010000,
    .revision = 1,
    .irq_pin = 1,
};

static int setup(void **state)
{
    struct pcfg *c = calloc(1, sizeof(*c));

    if (!c || pcfg_init(c, &info))
        return -1;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* Write @v, read back: what a guest sees. */
static uint32_t wr_rd(struct pcfg *c, uint32_t off, uint32_t len, uint32_t v)
{
    pcfg_write(c, off, len, v);
    return pcfg_read(c, off, len);
}

static void test_header(void **state)
{
    struct pcfg *c = *state;
    struct pci_dev_info bad = info;

    assert_int_equal(pcfg_read(c, PCI_VENDOR_ID, 4), 0x10421af4);
    assert_int_equal(pcfg_read(c, PCI_CLASS_REVISION, 4), 0x01000001);
    assert_int_equal(pcfg_read(c, PCI_HEADER_TYPE, 1), 0);
    assert_int_equal(pcfg_read(c, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
    assert_int_equal(pcfg_read(c, PCI_INTERRUPT_PIN, 1), 1);
    assert_int_equal(pcfg_read(c, PCI_COMMAND, 2), 0);
    assert_int_equal(pcfg_read(c, PCI_STATUS, 2), 0);
    assert_int_equal(c->size, 256);
    bad.irq_pin = 5;
    assert_int_equal(pcfg_init(c, &bad), -EINVAL);
    bad = info;
    bad.ext_cfg = true;
    assert_int_equal(pcfg_init(c, &bad), 0);
    assert_int_equal(c->size, 4096);
}

static void test_access_ok(void **state)
{
    struct pcfg *c = *state;

    assert_true(pcfg_access_ok(c, 0, 4));
    assert_true(pcfg_access_ok(c, 0xFE, 2));
    assert_true(pcfg_access_ok(c, 0xFF, 1));
    assert_false(pcfg_access_ok(c, 0x101, 1)); /* 256-byte function */
    assert_false(pcfg_access_ok(c, 2, 4));     /* unaligned */
    assert_false(pcfg_access_ok(c, 0, 3));
    assert_false(pcfg_access_ok(c, 0, 8));
}

static void test_write_masks(void **state)
{
    struct pcfg *c = *state;
    unsigned int chg;

    /* Read-only: IDs, class, header type, pin. */
    assert_int_equal(wr_rd(c, PCI_VENDOR_ID, 4, 0), 0x10421af4);
    assert_int_equal(wr_rd(c, PCI_CLASS_REVISION, 4, 0), 0x01000001);
    assert_int_equal(wr_rd(c, PCI_INTERRUPT_PIN, 1, 3), 1);
    /* Command: only its defined bits. */
    chg = pcfg_write(c, PCI_COMMAND, 2, 0xFFFF);
    assert_int_equal(pcfg_read(c, PCI_COMMAND, 2), 0x547);
    assert_true(chg & PCFG_CHG_DECODE);
    assert_true(chg & PCFG_CHG_INTX);
    assert_int_equal(pcfg_write(c, PCI_COMMAND, 2, 0x147),
                     PCFG_CHG_DECODE | PCFG_CHG_INTX);
    assert_int_equal(pcfg_write(c, PCI_CACHE_LINE_SIZE, 1, 0x10), 0);
    /* Writable header bytes. */
    assert_int_equal(wr_rd(c, PCI_CACHE_LINE_SIZE, 1, 0x10), 0x10);
    assert_int_equal(wr_rd(c, PCI_LATENCY_TIMER, 1, 0x20), 0x20);
    assert_int_equal(wr_rd(c, PCI_INTERRUPT_LINE, 1, 0x0B), 0x0B);
    /* A device opens a register of its own. */
    assert_int_equal(wr_rd(c, 0x80, 4, 0x12345678), 0);
    pcfg_set_wmask(c, 0x80, 4, 0x0000FFFF);
    assert_int_equal(wr_rd(c, 0x80, 4, 0x12345678), 0x5678);
}

static void test_status_w1c(void **state)
{
    struct pcfg *c = *state;

    pcfg_set(c, PCI_STATUS, 2,
             PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_DETECTED_PARITY);
    /* Writing 0 keeps, writing 1 clears just that bit. */
    assert_int_equal(wr_rd(c, PCI_STATUS, 2, 0),
                     PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_DETECTED_PARITY);
    assert_int_equal(wr_rd(c, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT),
                     PCI_STATUS_DETECTED_PARITY);
    /* A byte write to the high half of Status works the same. */
    assert_int_equal(wr_rd(c, PCI_STATUS + 1, 1, 0xFF), 0);
}

static void test_bar_mem32_io(void **state)
{
    struct pcfg *c = *state;

    assert_int_equal(pcfg_set_bar(c, 0, PCI_BAR_MEM32, 0x1000), 0);
    assert_int_equal(pcfg_set_bar(c, 1, PCI_BAR_IO, 0x20), 0);
    assert_int_equal(wr_rd(c, PCI_BASE_ADDRESS_0, 4, ~0u), 0xFFFFF000);
    assert_int_equal(wr_rd(c, PCI_BASE_ADDRESS_1, 4, ~0u), 0xFFFFFFE1);
    assert_int_equal(wr_rd(c, PCI_BASE_ADDRESS_0, 4, 0xC0001234),
                     0xC0001000);
    assert_int_equal(wr_rd(c, PCI_BASE_ADDRESS_1, 4, 0xC040), 0xC041);
    /* Unused BARs read 0 and stay 0. */
    assert_int_equal(wr_rd(c, PCI_BASE_ADDRESS_5, 4, ~0u), 0);
}

static void test_bar_mem64_prefetch(void **state)
{
    struct pcfg *c = *state;

    assert_int_equal(pcfg_set_bar(c, 2, PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
                                  0x4000), 0);
    assert_int_equal(wr_rd(c, PCI_BASE_ADDRESS_2, 4, ~0u), 0xFFFFC00C);
    assert_int_equal(wr_rd(c, PCI_BASE_ADDRESS_3, 4, ~0u), 0xFFFFFFFF);
    /* Large 64-bit BAR: the high dword sizes too. */
    assert_int_equal(pcfg_set_bar(c, 4, PCI_BAR_MEM64, 1ULL << 33), 0);
    assert_int_equal(wr_rd(c, PCI_BASE_ADDRESS_4, 4, ~0u), 0x4);
    assert_int_equal(wr_rd(c, PCI_BASE_ADDRESS_5, 4, ~0u), 0xFFFFFFFE);
}

static void test_bar_rom(void **state)
{
    struct pcfg *c = *state;

    assert_int_equal(pcfg_set_bar(c, PCI_ROM_BAR, PCI_BAR_ROM, 0x8000), 0);
    assert_int_equal(wr_rd(c, PCI_ROM_ADDRESS, 4, ~0u), 0xFFFF8001);
    assert_int_equal(wr_rd(c, PCI_ROM_ADDRESS, 4, 0xFEB00000), 0xFEB00000);
}

static void test_bar_refused(void **state)
{
    struct pcfg *c = *state;

    assert_int_equal(pcfg_set_bar(c, 0, PCI_BAR_MEM32, 0x3000), -EINVAL);
    assert_int_equal(pcfg_set_bar(c, 0, PCI_BAR_IO, 2), -EINVAL);
    assert_int_equal(pcfg_set_bar(c, 0, PCI_BAR_IO | PCI_BAR_PREFETCH, 16),
                     -EINVAL);
    assert_int_equal(pcfg_set_bar(c, 0, PCI_BAR_MEM32, 1ULL << 32), -EINVAL);
    assert_int_equal(pcfg_set_bar(c, 0, PCI_BAR_ROM, 0x1000), -EINVAL);
    assert_int_equal(pcfg_set_bar(c, PCI_ROM_BAR, PCI_BAR_ROM, 0x400),
                     -EINVAL);
    assert_int_equal(pcfg_set_bar(c, 5, PCI_BAR_MEM64, 0x1000), -EINVAL);
    assert_int_equal(pcfg_set_bar(c, 0, PCI_BAR_MEM64, 0x1000), 0);
    assert_int_equal(pcfg_set_bar(c, 1, PCI_BAR_MEM32, 0x1000), -EBUSY);
    assert_int_equal(pcfg_set_bar(c, 0, PCI_BAR_MEM32, 0x1000), -EBUSY);
}

static void test_bar_decode(void **state)
{
    struct pcfg *c = *state;
    uint64_t a = 0;

    pcfg_set_bar(c, 0, PCI_BAR_MEM32, 0x1000);
    pcfg_set_bar(c, 1, PCI_BAR_IO, 0x20);
    pcfg_set_bar(c, 2, PCI_BAR_MEM64, 0x4000);
    pcfg_set_bar(c, PCI_ROM_BAR, PCI_BAR_ROM, 0x800);
    pcfg_write(c, PCI_BASE_ADDRESS_0, 4, 0xC0000000);
    pcfg_write(c, PCI_BASE_ADDRESS_1, 4, 0xFFE0);
    pcfg_write(c, PCI_BASE_ADDRESS_2, 4, 0x40000000);
    pcfg_write(c, PCI_BASE_ADDRESS_3, 4, 0x80);
    pcfg_write(c, PCI_ROM_ADDRESS, 4, 0xC0100000);
    for (unsigned int i = 0; i < PCI_NR_BAR_SLOTS; i++)
        assert_false(pcfg_bar_decoded(c, i, &a)); /* Command off */
    pcfg_write(c, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
    assert_true(pcfg_bar_decoded(c, 0, &a));
    assert_int_equal(a, 0xC0000000);
    assert_true(pcfg_bar_decoded(c, 1, &a)); /* top I/O slot decodes */
    assert_int_equal(a, 0xFFE0);
    assert_true(pcfg_bar_decoded(c, 2, &a));
    assert_int_equal(a, 0x8040000000ULL);
    assert_false(pcfg_bar_decoded(c, PCI_ROM_BAR, &a)); /* not enabled */
    pcfg_write(c, PCI_ROM_ADDRESS, 4, 0xC0100001);
    assert_true(pcfg_bar_decoded(c, PCI_ROM_BAR, &a));
    assert_int_equal(a, 0xC0100000);
    /* The sizing pattern never decodes; address 0 neither. */
    pcfg_write(c, PCI_BASE_ADDRESS_0, 4, ~0u);
    assert_false(pcfg_bar_decoded(c, 0, &a));
    pcfg_write(c, PCI_BASE_ADDRESS_0, 4, 0);
    assert_false(pcfg_bar_decoded(c, 0, &a));
    /* Memory off: memory BARs stop, the I/O one goes on. */
    pcfg_write(c, PCI_COMMAND, 2, PCI_COMMAND_IO);
    assert_false(pcfg_bar_decoded(c, 2, &a));
    assert_true(pcfg_bar_decoded(c, 1, &a));
    assert_false(pcfg_bar_decoded(c, 3, &a)); /* 64-bit high half */
}

static void test_caps(void **state)
{
    struct pcfg *c = *state;

    assert_int_equal(pcfg_find_cap(c, PCI_CAP_ID_VNDR), -ENOENT);
    assert_int_equal(pcfg_add_cap(c, PCI_CAP_ID_VNDR, 6), 0x40);
    assert_int_equal(pcfg_add_cap(c, PCI_CAP_ID_MSI, 14), 0x48);
    assert_int_equal(pcfg_add_cap(c, PCI_CAP_ID_VNDR, 16), 0x58);
    assert_true(pcfg_read(c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    assert_int_equal(pcfg_read(c, PCI_CAPABILITY_LIST, 1), 0x40);
    /* The walk a guest makes. */
    assert_int_equal(pcfg_read(c, 0x41, 1), 0x48);
    assert_int_equal(pcfg_read(c, 0x49, 1), 0x58);
    assert_int_equal(pcfg_read(c, 0x59, 1), 0);
    assert_int_equal(pcfg_find_cap(c, PCI_CAP_ID_MSI), 0x48);
    assert_int_equal(pcfg_find_cap(c, PCI_CAP_ID_VNDR), 0x40);
    assert_int_equal(pcfg_find_cap(c, PCI_CAP_ID_EXP), -ENOENT);
    /* Capability bodies are read-only; the list too. */
    assert_int_equal(wr_rd(c, 0x58, 4, ~0u), 0x0009);
    assert_int_equal(pcfg_add_cap(c, PCI_CAP_ID_VNDR, 200), -ENOSPC);
    assert_int_equal(pcfg_add_cap(c, PCI_CAP_ID_VNDR, 1), -EINVAL);
    /* A looping list (e.g. copied from a remote server) terminates. */
    c->cfg[0x59] = 0x40;
    assert_int_equal(pcfg_find_cap(c, PCI_CAP_ID_EXP), -ENOENT);
    assert_int_equal(pcfg_add_ext_cap(c, 1, 1, 16), -EINVAL); /* 256 B */
}

static void test_ext_caps(void **state)
{
    struct pcfg *c = *state;
    struct pci_dev_info x = info;

    x.ext_cfg = true;
    assert_int_equal(pcfg_init(c, &x), 0);
    assert_int_equal(pcfg_find_ext_cap(c, 0x1), -ENOENT);
    assert_int_equal(pcfg_add_ext_cap(c, 0x1, 2, 0x30), 0x100);
    assert_int_equal(pcfg_add_ext_cap(c, 0xB, 1, 0x10), 0x130);
    assert_int_equal(pcfg_read(c, 0x100, 4), 0x13020001);
    assert_int_equal(pcfg_find_ext_cap(c, 0xB), 0x130);
    assert_int_equal(pcfg_add_ext_cap(c, 0x2, 1, 0x1000), -ENOSPC);
    /* A loop through itself ends. */
    pcfg_set(c, 0x130, 4, 0x1301000B);
    assert_int_equal(pcfg_find_ext_cap(c, 0x7), -ENOENT);
}

static void test_msix_cap(void **state)
{
    struct pcfg *c = *state;
    uint32_t ctrl;
    int at;

    assert_int_equal(pcfg_msix_control(c), 0);
    assert_int_equal(pcfg_add_msix(c, 0, 0, 0, 0, 0x800), -EINVAL);
    assert_int_equal(pcfg_add_msix(c, 5, 6, 0, 0, 0x800), -EINVAL);
    assert_int_equal(pcfg_add_msix(c, 5, 0, 0, 0, 0x804), -EINVAL);
    at = pcfg_add_msix(c, 5, 0, 0, 2, 0x800);
    assert_int_equal(at, 0x40);
    assert_int_equal(pcfg_find_cap(c, PCI_CAP_ID_MSIX), at);
    assert_int_equal(pcfg_add_msix(c, 5, 0, 0, 0, 0x800), -EINVAL); /* 2nd */
    ctrl = (uint32_t)at + PCI_MSIX_FLAGS;
    assert_int_equal(pcfg_read(c, ctrl, 2), 4); /* Table Size: N - 1 */
    assert_int_equal(pcfg_read(c, (uint32_t)at + PCI_MSIX_TABLE, 4), 0);
    assert_int_equal(pcfg_read(c, (uint32_t)at + PCI_MSIX_PBA, 4), 0x802);
    /* Enable and Function Mask are writable; Table Size is not. */
    assert_int_equal(pcfg_write(c, ctrl, 2, 0xFFFF), PCFG_CHG_MSIX);
    assert_int_equal(pcfg_msix_control(c), 0xC004);
    assert_int_equal(wr_rd(c, ctrl, 2, PCI_MSIX_FLAGS_ENABLE), 0x8004);
    /* A byte write to the high byte, as Linux does. */
    assert_int_equal(pcfg_write(c, ctrl + 1, 1, 0x40), PCFG_CHG_MSIX);
    assert_int_equal(pcfg_msix_control(c), 0x4004);
    /* A dword write at the capability start covers the control too. */
    assert_int_equal(pcfg_write(c, (uint32_t)at, 4, 0x80000000),
                     PCFG_CHG_MSIX);
    assert_int_equal(pcfg_msix_control(c), 0x8004);
    assert_int_equal(wr_rd(c, (uint32_t)at + PCI_MSIX_TABLE, 4, ~0u), 0);
    /* Reset clears Enable and Function Mask. */
    pcfg_write(c, ctrl, 2, 0xC000);
    pcfg_reset(c);
    assert_int_equal(pcfg_msix_control(c), 4);
}

static void test_reset(void **state)
{
    struct pcfg *c = *state;

    pcfg_set_bar(c, 0, PCI_BAR_MEM32, 0x1000);
    pcfg_write(c, PCI_BASE_ADDRESS_0, 4, 0xC0000000);
    pcfg_write(c, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pcfg_write(c, PCI_INTERRUPT_LINE, 1, 11);
    pcfg_set(c, PCI_STATUS, 2, PCI_STATUS_SIG_SYSTEM_ERROR);
    pcfg_reset(c);
    assert_int_equal(pcfg_read(c, PCI_COMMAND, 2), 0);
    assert_int_equal(pcfg_read(c, PCI_STATUS, 2), 0);
    assert_int_equal(pcfg_read(c, PCI_BASE_ADDRESS_0, 4), 0); /* type 32 */
    assert_int_equal(pcfg_read(c, PCI_VENDOR_ID, 2), 0x1af4);
}

static void test_image(void **state)
{
    struct pcfg *c = *state;
    uint8_t img[256];

    pcfg_set_bar(c, 2, PCI_BAR_MEM64, 0x4000);
    pcfg_write(c, PCI_BASE_ADDRESS_2, 4, 0x40000000);
    memcpy(img, c->cfg, sizeof(img));
    assert_true(pcfg_same_identity(c, img));
    img[PCI_SUBSYSTEM_ID] ^= 1;
    assert_false(pcfg_same_identity(c, img));
    img[PCI_SUBSYSTEM_ID] ^= 1;
    /* Loading keeps the BAR type bits, takes the address, drops INTx
     * status and takes the rest as it is. */
    le_store(img + PCI_BASE_ADDRESS_2, 4, 0x50000000 | 0xF);
    img[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    img[0x80] = 0x5A;
    pcfg_take_image(c, img);
    assert_int_equal(pcfg_read(c, PCI_BASE_ADDRESS_2, 4), 0x50000004);
    assert_int_equal(pcfg_read(c, PCI_STATUS, 1) & PCI_STATUS_INTERRUPT, 0);
    assert_int_equal(pcfg_read(c, 0x80, 1), 0x5A);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_masks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_w1c, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_mem32_io, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_mem64_prefetch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bar_rom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_decode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ext_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msix_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_image, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
