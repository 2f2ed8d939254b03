/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for tools/vfu-blk/regions.c: vfu-blk's config space, MSI-X
 * BAR and virtio registers on the shared models (devices/pci_cfg.c,
 * devices/msix.c, virtio/pci_caps.c, virtio/pci_model.c), driven through
 * the region accessors as a vfio-user client would: header, capability
 * walk, BAR sizing, MSI-X Enable reaching the MSI-X model, INTx Disable,
 * the PCI_CFG window, MSI-X table storage, and save/load of the transport
 * state (refusing another device's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "tools/vfu-blk/regions.c"
#include "virtio/guest_mem.h"

#define NQ      2
#define MEM_GPA 0x100000ULL

struct fake {
    uint8_t ram[65536];
    struct virtio_flat_mem fm;
    struct virtio_mem mem;
    struct virtq q[NQ];
    struct virtio_dev vdev;
    struct vfr r;
    unsigned int doorbells;
};

/* The device core behind the transport: its config reads 0x5A, nothing
 * else happens (no interrupts are raised in these tests). */
static int fake_config_read(struct virtio_dev *vdev, uint32_t off,
                            void *buf, uint32_t len)
{
    (void)vdev, (void)off;
    memset(buf, 0x5A, len);
    return 0;
}

static int fake_queue_notify(struct virtio_dev *vdev, uint16_t qidx)
{
    (void)vdev, (void)qidx;
    return 0;
}

static void fake_reset(struct virtio_dev *vdev)
{
    (void)vdev;
}

static const struct virtio_dev_ops dev_ops = {
    .config_read = fake_config_read,
    .queue_notify = fake_queue_notify,
    .reset = fake_reset,
};

static void doorbell(void *opaque, uint16_t qidx)
{
    (void)qidx;
    ((struct fake *)opaque)->doorbells++;
}

static const struct vfr_ops r_ops = { .doorbell = doorbell };

static int setup(void **state)
{
    struct fake *f = calloc(1, sizeof(*f));
    struct virtio_irq irq = { NULL, f };

    if (!f)
        return -1;
    virtio_flat_mem_init(&f->fm, f->ram, MEM_GPA, sizeof(f->ram), true,
                         &f->mem);
    for (unsigned int i = 0; i < NQ; i++)
        if (virtq_init(&f->q[i], &f->mem, 64))
            return -1;
    if (virtio_dev_init(&f->vdev, 2, 0, f->q, NQ, &dev_ops, f, &irq) ||
        vfr_init(&f->r, &f->vdev, 0x010000, 60, &r_ops, f))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fake *f = *state;

    vfr_fini(&f->r);
    free(f);
    return 0;
}

static uint32_t cfg_rd(struct fake *f, uint32_t off, uint32_t len)
{
    uint8_t b[4] = {0};

    assert_int_equal(vfr_cfg_access(&f->r, off, b, len, false), 0);
    return (uint32_t)le_load(b, len);
}

static void cfg_wr(struct fake *f, uint32_t off, uint32_t len, uint32_t v)
{
    uint8_t b[4];

    le_store(b, len, v);
    assert_int_equal(vfr_cfg_access(&f->r, off, b, len, true), 0);
}

static void test_header_and_caps(void **state)
{
    struct fake *f = *state;
    uint32_t seen = 0;
    uint8_t at, buf[VFR_CFG_SIZE];

    assert_int_equal(cfg_rd(f, PCI_VENDOR_ID, 4), 0x10421af4);
    assert_int_equal(cfg_rd(f, PCI_CLASS_REVISION, 4), 0x01000001);
    assert_int_equal(cfg_rd(f, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
    assert_int_equal(cfg_rd(f, PCI_INTERRUPT_PIN, 1), 1);
    at = (uint8_t)cfg_rd(f, PCI_CAPABILITY_LIST, 1);
    for (int n = 0; at && n < 16; n++) {
        uint8_t id = (uint8_t)cfg_rd(f, at, 1);

        if (id == PCI_CAP_ID_MSIX)
            seen |= 1;
        else if (id == PCI_CAP_ID_VNDR)
            seen |= 1u << cfg_rd(f, at + 3u, 1);
        at = (uint8_t)cfg_rd(f, at + 1u, 1);
    }
    assert_int_equal(seen, 0x3f); /* MSI-X + common/notify/ISR/device/pci */
    assert_int_equal(cfg_rd(f, f->r.caps.msix + PCI_MSIX_FLAGS, 2), NQ);
    /* Any length inside the 256 bytes; nothing past them. */
    assert_int_equal(vfr_cfg_access(&f->r, 0, buf, sizeof(buf), false), 0);
    assert_int_equal(le_load(buf, 2), 0x1af4);
    assert_int_equal(vfr_cfg_access(&f->r, 255, buf, 2, false), -EINVAL);
    assert_int_equal(vfr_cfg_access(&f->r, 256, buf, 1, false), -EINVAL);
}

static void test_bar_sizing(void **state)
{
    struct fake *f = *state;

    cfg_wr(f, PCI_BASE_ADDRESS_0, 4, ~0u);
    assert_int_equal(cfg_rd(f, PCI_BASE_ADDRESS_0, 4), 0xfffff000);
    cfg_wr(f, PCI_BASE_ADDRESS_2, 4, ~0u);
    assert_int_equal(cfg_rd(f, PCI_BASE_ADDRESS_2, 4), 0xffffc004);
    cfg_wr(f, PCI_BASE_ADDRESS_3, 4, ~0u);
    assert_int_equal(cfg_rd(f, PCI_BASE_ADDRESS_3, 4), 0xffffffff);
    cfg_wr(f, PCI_BASE_ADDRESS_1, 4, ~0u);
    assert_int_equal(cfg_rd(f, PCI_BASE_ADDRESS_1, 4), 0);
}

static void test_msix_and_intx(void **state)
{
    struct fake *f = *state;
    uint32_t ctrl = f->r.caps.msix + PCI_MSIX_FLAGS;

    assert_false(vfr_msix_enabled(&f->r));
    cfg_wr(f, ctrl, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    assert_true(vfr_msix_enabled(&f->r));
    assert_int_equal(msix_control(&f->r.msix), 0xC000 | NQ);
    cfg_wr(f, ctrl + 1, 1, 0x80); /* byte write: Function Mask off */
    assert_int_equal(msix_control(&f->r.msix), 0x8000 | NQ);
    assert_false(vfr_intx_disabled(&f->r));
    cfg_wr(f, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
    assert_true(vfr_intx_disabled(&f->r));
}

static void test_msix_bar(void **state)
{
    struct fake *f = *state;
    uint32_t v = 0xFEE01000, got = 0;
    uint64_t pba = ~0ULL;

    assert_int_equal(vfr_msix_access(&f->r, 16, &v, 4, true), 0);
    assert_int_equal(vfr_msix_access(&f->r, 16, &got, 4, false), 0);
    assert_int_equal(got, 0xFEE01000);
    assert_int_equal(vfr_msix_access(&f->r, 12, &got, 4, false), 0);
    assert_int_equal(got, 1); /* entries start masked */
    assert_int_equal(vfr_msix_access(&f->r, VFR_MSIX_PBA_OFF, &pba, 8,
                                     false), 0);
    assert_int_equal(pba, 0);
    assert_int_equal(vfr_msix_access(&f->r, VFR_MSIX_PBA_OFF, &v, 4, true),
                     0); /* ignored */
    assert_int_equal(vfr_msix_access(&f->r, VFR_MSIX_BAR_SIZE, &got, 4,
                                     false), -EINVAL);
}

static void test_pci_cfg_window(void **state)
{
    struct fake *f = *state;
    uint32_t c = f->r.caps.pci_cfg;

    /* num_queues of the common configuration (offset 18, 2 bytes). */
    cfg_wr(f, c + 4, 1, VFR_BAR);
    cfg_wr(f, c + 8, 4, VIRTIO_PCI_COMMON_OFF + 18);
    cfg_wr(f, c + 12, 4, 2);
    assert_int_equal(cfg_rd(f, c + VPC_CFG_DATA, 2), NQ);
    /* A write through it: queue_select (offset 22) to 1. */
    cfg_wr(f, c + 8, 4, VIRTIO_PCI_COMMON_OFF + 22);
    cfg_wr(f, c + VPC_CFG_DATA, 2, 1);
    assert_int_equal(f->r.regs.queue_select, 1);
    /* Another BAR is not reachable. */
    cfg_wr(f, c + 4, 1, 0);
    cfg_wr(f, c + VPC_CFG_DATA, 2, 0);
    assert_int_equal(f->r.regs.queue_select, 1);
    /* A doorbell through the window. */
    cfg_wr(f, c + 4, 1, VFR_BAR);
    cfg_wr(f, c + 8, 4, VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT);
    cfg_wr(f, c + 12, 4, 2);
    cfg_wr(f, c + VPC_CFG_DATA, 2, 1);
    assert_int_equal(f->doorbells, 1);
}

static void *save(struct fake *f)
{
    void *fdt = malloc(65536);
    int node;

    assert_non_null(fdt);
    assert_int_equal(fdt_create_empty_tree(fdt, 65536), 0);
    node = fdt_add_subnode(fdt, 0, "vpci");
    assert_true(node >= 0);
    assert_int_equal(vfr_save(&f->r, fdt, node), 0);
    return fdt;
}

static void test_save_load(void **state)
{
    struct fake *f = *state;
    uint32_t ctrl = f->r.caps.msix + PCI_MSIX_FLAGS, v = 0x4321, got = 0;
    void *fdt;

    cfg_wr(f, ctrl, 2, PCI_MSIX_FLAGS_ENABLE);
    cfg_wr(f, PCI_BASE_ADDRESS_0, 4, 0xC0000000);
    assert_int_equal(vfr_msix_access(&f->r, 8, &v, 4, true), 0);
    fdt = save(f);
    cfg_wr(f, ctrl, 2, 0);
    cfg_wr(f, PCI_BASE_ADDRESS_0, 4, 0);
    v = 0;
    assert_int_equal(vfr_msix_access(&f->r, 8, &v, 4, true), 0);
    assert_int_equal(vfr_load(&f->r, fdt, fdt_subnode_offset(fdt, 0, "vpci")),
                     0);
    assert_true(vfr_msix_enabled(&f->r));
    assert_int_equal(msix_control(&f->r.msix), 0x8000 | NQ);
    assert_int_equal(cfg_rd(f, PCI_BASE_ADDRESS_0, 4), 0xC0000000);
    assert_int_equal(vfr_msix_access(&f->r, 8, &got, 4, false), 0);
    assert_int_equal(got, 0x4321);
    /* Another device's state is refused. */
    f->r.cs.cfg[PCI_DEVICE_ID] ^= 1;
    assert_int_equal(vfr_load(&f->r, fdt, fdt_subnode_offset(fdt, 0, "vpci")),
                     -EINVAL);
    free(fdt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_header_and_caps, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msix_and_intx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msix_bar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pci_cfg_window, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
