/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci transport (virtio/pci*.c) over a real PCI bus and address
 * buses with a fake hypervisor and a fake two-queue device model:
 * capabilities, common config semantics, queue setup, MSI-X vector wiring
 * (routes, irqfds, masking and the PBA), the INTx/ISR fallback, doorbell
 * ioeventfds following BAR map/move/unmap, trapped doorbells, reset and
 * save/load. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libfdt.h>
#include <linux/virtio_pci.h>

#include "devices/pci.h"
#include "virtio/guest_mem.h"
#include "virtio/pci.h"
#include "vmm/bus.h"

#define BDF       PCI_BDF(0, 1, 0)
#define MSIX_ADDR 0xC0000000ULL
#define CFG_ADDR  0xC0010000ULL
#define CFG_ADDR2 0xC0020000ULL
#define MEM_GPA   0x100000ULL
#define MEM_SIZE  (1u << 20)
#define NQ        2
#define MAX_IOEV  8

/* --- fake hypervisor ----------------------------------------------------- */

struct fake_hv {
    unsigned int routes, updates, dels;
    uint64_t addr[8];
    uint32_t data[8];
    bool irqfd[8];          /* by GSI */
    int irqfd_fd[8];
    struct { int fd; uint64_t addr; } ioev[MAX_IOEV];
    unsigned int nioev;
};

static int hv_msi_add(void *o, uint64_t addr, uint32_t data, uint32_t *gsi)
{
    struct fake_hv *h = o;

    assert_true(h->routes < 8);
    *gsi = h->routes++;
    h->addr[*gsi] = addr;
    h->data[*gsi] = data;
    return 0;
}

static int hv_msi_update(void *o, uint32_t gsi, uint64_t addr, uint32_t data)
{
    struct fake_hv *h = o;

    h->updates++;
    h->addr[gsi] = addr;
    h->data[gsi] = data;
    return 0;
}

static int hv_msi_del(void *o, uint32_t gsi)
{
    (void)gsi;
    ((struct fake_hv *)o)->dels++;
    return 0;
}

static int hv_irqfd(void *o, int fd, uint32_t gsi, int rfd, bool assign)
{
    struct fake_hv *h = o;

    assert_int_equal(rfd, -1);
    h->irqfd[gsi] = assign;
    h->irqfd_fd[gsi] = fd;
    return 0;
}

static int hv_ioeventfd(void *o, int fd, uint64_t addr, uint32_t len,
                        bool pio, bool dm, uint64_t data, bool assign)
{
    struct fake_hv *h = o;

    (void)data;
    assert_int_equal(len, 2);
    assert_false(pio);
    assert_false(dm);
    if (assign) {
        assert_true(h->nioev < MAX_IOEV);
        h->ioev[h->nioev].fd = fd;
        h->ioev[h->nioev++].addr = addr;
        return 0;
    }
    for (unsigned int i = 0; i < h->nioev; i++) {
        if (h->ioev[i].fd == fd && h->ioev[i].addr == addr) {
            h->ioev[i] = h->ioev[--h->nioev];
            return 0;
        }
    }
    fail_msg("deassigning an ioeventfd that is not registered");
    return -ENOENT;
}

static const struct hv_ops fake_hv_ops = {
    hv_msi_add, hv_msi_update, hv_msi_del, hv_irqfd, hv_ioeventfd, NULL,
    NULL, NULL,
};

/* --- fake INTx and device model ------------------------------------------ */

struct fixture {
    struct bus *mmio, *pio;
    struct pci_bus *pci;
    bool intx[24];
    struct fake_hv hv;
    uint8_t *ram;
    struct virtio_flat_mem fm;
    struct virtio_mem mem;
    struct virtq queues[NQ];
    struct virtio_dev vdev;
    struct virtio_pci *vp;
    unsigned int notifies[NQ];
    unsigned int resets;
    uint8_t config[8];
};

static int fake_set_level(void *opaque, uint32_t gsi, bool level)
{
    struct fixture *f = opaque;

    f->intx[gsi] = level;
    return 0;
}

static const struct irq_ops fake_irq_ops = { fake_set_level };

static void model_reset(struct virtio_dev *vdev)
{
    ((struct fixture *)vdev->priv)->resets++;
}

static int model_cfg_read(struct virtio_dev *vdev, uint32_t off, void *buf,
                          uint32_t len)
{
    struct fixture *f = vdev->priv;

    memcpy(buf, f->config + off, len);
    return 0;
}

static int model_notify(struct virtio_dev *vdev, uint16_t qidx)
{
    ((struct fixture *)vdev->priv)->notifies[qidx]++;
    return 0;
}

static const struct virtio_dev_ops model_ops = {
    .reset = model_reset,
    .config_read = model_cfg_read,
    .queue_notify = model_notify,
};

/* --- access helpers ------------------------------------------------------- */

static uint32_t cfg_rd(struct fixture *f, uint32_t off, uint32_t len)
{
    uint32_t v = 0;

    assert_int_equal(pci_cfg_read(f->pci, BDF, off, &v, len), 0);
    return v;
}

static void cfg_wr(struct fixture *f, uint32_t off, uint32_t len, uint32_t v)
{
    assert_int_equal(pci_cfg_write(f->pci, BDF, off, &v, len), 0);
}

static uint64_t mm_rd(struct fixture *f, uint64_t addr, uint32_t len)
{
    uint64_t v = 0;

    assert_int_equal(bus_dispatch(f->mmio, addr, &v, len, false), 0);
    return v;
}

static void mm_wr(struct fixture *f, uint64_t addr, uint32_t len, uint64_t v)
{
    assert_int_equal(bus_dispatch(f->mmio, addr, &v, len, true), 0);
}

static uint64_t common(uint32_t off)
{
    return CFG_ADDR + VIRTIO_PCI_COMMON_OFF + off;
}

/* Program both BARs and enable memory decoding. */
static void map_bars(struct fixture *f, uint64_t cfg_addr)
{
    cfg_wr(f, PCI_BASE_ADDRESS_0, 4, (uint32_t)MSIX_ADDR);
    cfg_wr(f, PCI_BASE_ADDRESS_2, 4, (uint32_t)cfg_addr | 4);
    cfg_wr(f, PCI_BASE_ADDRESS_3, 4, 0);
    cfg_wr(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct pci_bus_config bc = { .intx_gsi_base = 16 };
    struct virtio_pci_params p = {
        .device_type = 2, .class_code = 0x018000, .num_queues = NQ,
        .config_size = sizeof(f->config),
    };
    struct virtio_irq irq;

    assert_non_null(f);
    assert_int_equal(bus_create("mmio", &f->mmio), 0);
    assert_int_equal(bus_create("pio", &f->pio), 0);
    bc.mmio = f->mmio;
    bc.pio = f->pio;
    bc.irq = (struct irq_chip){ &fake_irq_ops, f };
    assert_int_equal(pci_bus_create(&bc, &f->pci), 0);
    f->ram = calloc(1, MEM_SIZE);
    virtio_flat_mem_init(&f->fm, f->ram, MEM_GPA, MEM_SIZE, true, &f->mem);
    for (int i = 0; i < NQ; i++)
        assert_int_equal(virtq_init(&f->queues[i], &f->mem, 64), 0);
    p.hv = (struct hv){ &fake_hv_ops, &f->hv };
    assert_int_equal(virtio_pci_create(&p, &f->vp), 0);
    irq = virtio_pci_irq(f->vp);
    assert_int_equal(virtio_dev_init(&f->vdev, 2, 1ULL << 5, f->queues, NQ,
                                     &model_ops, f, &irq), 0);
    memcpy(f->config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    assert_int_equal(virtio_pci_attach(f->vp, &f->vdev, NULL, NULL), 0);
    assert_int_equal(pci_register(f->pci, virtio_pci_pci_dev(f->vp)), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    pci_unregister(virtio_pci_pci_dev(f->vp));
    virtio_pci_destroy(f->vp);
    assert_int_equal(f->hv.nioev, 0);
    pci_bus_destroy(f->pci);
    bus_destroy(f->mmio);
    bus_destroy(f->pio);
    free(f->ram);
    free(f);
    return 0;
}

/* Offset of the vendor capability of @type, or 0. */
static uint32_t find_vcap(struct fixture *f, uint8_t type)
{
    uint32_t off = cfg_rd(f, PCI_CAPABILITY_LIST, 1);

    for (int n = 0; off && n < 48; n++) {
        if (cfg_rd(f, off, 1) == PCI_CAP_ID_VNDR &&
            cfg_rd(f, off + 3, 1) == type)
            return off;
        off = cfg_rd(f, off + 1, 1);
    }
    return 0;
}

static bool efd_fired(int fd)
{
    uint64_t v;

    return read(fd, &v, sizeof(v)) == sizeof(v);
}

/* --- tests --------------------------------------------------------------- */

static void test_identity_and_caps(void **state)
{
    struct fixture *f = *state;
    uint32_t c;

    assert_int_equal(cfg_rd(f, PCI_VENDOR_ID, 2), 0x1AF4);
    assert_int_equal(cfg_rd(f, PCI_DEVICE_ID, 2), 0x1042);
    assert_int_equal(cfg_rd(f, PCI_REVISION_ID, 1), 1);
    assert_int_equal(cfg_rd(f, PCI_SUBSYSTEM_ID, 2), 0x1042);
    c = find_vcap(f, VIRTIO_PCI_CAP_COMMON_CFG);
    assert_true(c);
    assert_int_equal(cfg_rd(f, c + 4, 1), VIRTIO_PCI_CFG_BAR);
    assert_int_equal(cfg_rd(f, c + 8, 4), VIRTIO_PCI_COMMON_OFF);
    assert_true(cfg_rd(f, c + 12, 4) >=
                sizeof(struct virtio_pci_common_cfg));
    c = find_vcap(f, VIRTIO_PCI_CAP_NOTIFY_CFG);
    assert_true(c);
    assert_int_equal(cfg_rd(f, c + 2, 1), 20);
    assert_int_equal(cfg_rd(f, c + 16, 4), VIRTIO_PCI_NOTIFY_MULT);
    assert_int_equal(cfg_rd(f, c + 12, 4), NQ * VIRTIO_PCI_NOTIFY_MULT);
    c = find_vcap(f, VIRTIO_PCI_CAP_DEVICE_CFG);
    assert_int_equal(cfg_rd(f, c + 12, 4), 8);
    assert_true(find_vcap(f, VIRTIO_PCI_CAP_ISR_CFG));
    assert_true(find_vcap(f, VIRTIO_PCI_CAP_PCI_CFG));
    /* MSI-X: NQ + 1 vectors, table in BAR 0 at 0. */
    c = cfg_rd(f, PCI_CAPABILITY_LIST, 1);
    assert_int_equal(cfg_rd(f, c, 1), PCI_CAP_ID_MSIX);
    assert_int_equal(cfg_rd(f, c + 2, 2) & 0x7FF, NQ);
    assert_int_equal(cfg_rd(f, c + 4, 4), VIRTIO_PCI_MSIX_BAR);
}

static void test_common_cfg(void **state)
{
    struct fixture *f = *state;

    map_bars(f, CFG_ADDR);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_NUMQ), 2), NQ);
    mm_wr(f, common(VIRTIO_PCI_COMMON_DFSELECT), 4, 0);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_DF), 4), 1u << 5);
    mm_wr(f, common(VIRTIO_PCI_COMMON_DFSELECT), 4, 1);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_DF), 4), 1);
    /* Status bits in order; FEATURES_OK needs VERSION_1. */
    mm_wr(f, common(VIRTIO_PCI_COMMON_STATUS), 1, 1);
    mm_wr(f, common(VIRTIO_PCI_COMMON_STATUS), 1, 3);
    mm_wr(f, common(VIRTIO_PCI_COMMON_STATUS), 1, 0xB);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_STATUS), 1), 3);
    mm_wr(f, common(VIRTIO_PCI_COMMON_GFSELECT), 4, 1);
    mm_wr(f, common(VIRTIO_PCI_COMMON_GF), 4, 1);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_GF), 4), 1);
    mm_wr(f, common(VIRTIO_PCI_COMMON_STATUS), 1, 0xB);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_STATUS), 1), 0xB);
    /* Device config through BAR 2. */
    assert_int_equal(mm_rd(f, CFG_ADDR + VIRTIO_PCI_DEVICE_OFF + 4, 4),
                     0x88776655);
    /* Reset clears status and feature state, calls the model. */
    mm_wr(f, common(VIRTIO_PCI_COMMON_STATUS), 1, 0);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_STATUS), 1), 0);
    assert_int_equal(f->resets, 1);
}

/* Drive the device to DRIVER_OK with queue 0 at the given rings. */
static void setup_queue0(struct fixture *f, uint16_t vector)
{
    mm_wr(f, common(VIRTIO_PCI_COMMON_STATUS), 1, 3);
    mm_wr(f, common(VIRTIO_PCI_COMMON_GFSELECT), 4, 1);
    mm_wr(f, common(VIRTIO_PCI_COMMON_GF), 4, 1);
    mm_wr(f, common(VIRTIO_PCI_COMMON_STATUS), 1, 0xB);
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_SELECT), 2, 0);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_Q_SIZE), 2), 64);
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_SIZE), 2, 16);
    /* 64-bit registers as two halves, and as one 8-byte access. */
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_DESCLO), 4, MEM_GPA);
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_DESCHI), 4, 0);
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_AVAILLO), 8, MEM_GPA + 0x1000);
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_USEDLO), 4, MEM_GPA + 0x2000);
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_MSIX), 2, vector);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 0);
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_ENABLE), 2, 1);
    mm_wr(f, common(VIRTIO_PCI_COMMON_STATUS), 1, 0xF);
}

static void test_queue_setup(void **state)
{
    struct fixture *f = *state;

    map_bars(f, CFG_ADDR);
    setup_queue0(f, 1);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 1);
    assert_true(f->queues[0].enabled);
    assert_int_equal(f->queues[0].size, 16);
    assert_int_equal(f->queues[0].desc_gpa, MEM_GPA);
    assert_int_equal(f->queues[0].avail_gpa, MEM_GPA + 0x1000);
    assert_int_equal(f->queues[0].used_gpa, MEM_GPA + 0x2000);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_Q_DESCLO), 8),
                     MEM_GPA);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_Q_MSIX), 2), 1);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_Q_NOFF), 2), 0);
    /* Vectors beyond the table read back as NO_VECTOR. */
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_MSIX), 2, NQ + 1);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_Q_MSIX), 2),
                     VIRTIO_MSI_NO_VECTOR);
    /* A queue beyond num_queues reads size 0. */
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_SELECT), 2, NQ);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_Q_SIZE), 2), 0);
    /* Reset disables the queue and restores the maximum size. */
    mm_wr(f, common(VIRTIO_PCI_COMMON_STATUS), 1, 0);
    assert_false(f->queues[0].enabled);
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_SELECT), 2, 0);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_Q_SIZE), 2), 64);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_Q_MSIX), 2),
                     VIRTIO_MSI_NO_VECTOR);
}

static void test_bad_queue_needs_reset(void **state)
{
    struct fixture *f = *state;

    map_bars(f, CFG_ADDR);
    mm_wr(f, common(VIRTIO_PCI_COMMON_STATUS), 1, 3);
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_SIZE), 2, 3);  /* not a power of 2 */
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_ENABLE), 2, 1);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 0);
    assert_true(mm_rd(f, common(VIRTIO_PCI_COMMON_STATUS), 1) & 0x40);
}

static void test_ioeventfd_follows_bar(void **state)
{
    struct fixture *f = *state;
    int fd0 = virtio_pci_doorbell_fd(f->vp, 0);

    assert_int_equal(f->hv.nioev, 0);
    map_bars(f, CFG_ADDR);
    assert_int_equal(f->hv.nioev, NQ);
    for (unsigned int i = 0; i < NQ; i++) {
        int fd = virtio_pci_doorbell_fd(f->vp, (uint16_t)i);
        bool found = false;

        for (unsigned int k = 0; k < f->hv.nioev; k++)
            found |= f->hv.ioev[k].fd == fd &&
                     f->hv.ioev[k].addr == CFG_ADDR + VIRTIO_PCI_NOTIFY_OFF +
                                               4 * i;
        assert_true(found);
    }
    /* Move BAR 2: old registrations go, new ones appear. */
    cfg_wr(f, PCI_BASE_ADDRESS_2, 4, (uint32_t)CFG_ADDR2 | 4);
    assert_int_equal(f->hv.nioev, NQ);
    for (unsigned int k = 0; k < f->hv.nioev; k++)
        assert_true(f->hv.ioev[k].addr >= CFG_ADDR2);
    /* Decode off: all gone. */
    cfg_wr(f, PCI_COMMAND, 2, 0);
    assert_int_equal(f->hv.nioev, 0);
    assert_int_equal(virtio_pci_doorbell_fd(f->vp, NQ), -1);
    assert_true(fd0 >= 0);
}

static void test_trapped_doorbell(void **state)
{
    struct fixture *f = *state;
    int fd1 = virtio_pci_doorbell_fd(f->vp, 1);

    map_bars(f, CFG_ADDR);
    setup_queue0(f, 1);
    /* A 4-byte write is not covered by the 2-byte ioeventfd: trapped. */
    mm_wr(f, CFG_ADDR + VIRTIO_PCI_NOTIFY_OFF + 4, 4, 1);
    assert_true(efd_fired(fd1));
    assert_false(efd_fired(fd1));
    mm_wr(f, CFG_ADDR + VIRTIO_PCI_NOTIFY_OFF + 4, 4, 1);
    virtio_pci_doorbell_ready(f->vp, 1);
    assert_int_equal(f->notifies[1], 1);
    assert_false(efd_fired(fd1));
    /* Out-of-range doorbells are ignored. */
    mm_wr(f, CFG_ADDR + VIRTIO_PCI_NOTIFY_OFF + 4 * NQ, 2, NQ);
}

static void msix_entry(struct fixture *f, unsigned int vec, uint32_t data,
                       bool masked)
{
    uint64_t e = MSIX_ADDR + 16 * vec;

    mm_wr(f, e, 4, 0xFEE00000);
    mm_wr(f, e + 4, 4, 0);
    mm_wr(f, e + 8, 4, data);
    mm_wr(f, e + 12, 4, masked);
}

static void test_msix_wiring(void **state)
{
    struct fixture *f = *state;
    uint32_t cap = cfg_rd(f, PCI_CAPABILITY_LIST, 1);
    int vfd;

    map_bars(f, CFG_ADDR);
    setup_queue0(f, 1);
    cfg_wr(f, cap + 2, 2, 0x8000);              /* MSI-X enable */
    assert_int_equal(f->hv.routes, 0);          /* all masked */
    msix_entry(f, 1, 0x41, false);
    assert_int_equal(f->hv.routes, 1);
    assert_true(f->hv.irqfd[0]);
    assert_int_equal(f->hv.data[0], 0x41);
    vfd = f->hv.irqfd_fd[0];
    /* The guest reprograms the message: the route follows. */
    msix_entry(f, 1, 0x42, false);
    assert_int_equal(f->hv.routes, 1);
    assert_true(f->hv.updates >= 1);
    assert_int_equal(f->hv.data[0], 0x42);
    /* Used buffers on queue 0 signal vector 1's eventfd. */
    virtio_pci_lock(f->vp);
    assert_int_equal(f->vdev.irq.ops->notify_queue(f->vdev.irq.opaque, 0), 0);
    virtio_pci_unlock(f->vp);
    assert_true(efd_fired(vfd));
    /* Masked: no signal, PBA bit set; unmask delivers and clears it. */
    mm_wr(f, MSIX_ADDR + 16 + 12, 4, 1);
    f->vdev.irq.ops->notify_queue(f->vdev.irq.opaque, 0);
    assert_false(efd_fired(vfd));
    assert_int_equal(mm_rd(f, MSIX_ADDR + 16 * (NQ + 1),
                           8) & 2, 2);
    mm_wr(f, MSIX_ADDR + 16 + 12, 4, 0);
    assert_true(efd_fired(vfd));
    assert_int_equal(mm_rd(f, MSIX_ADDR + 16 * (NQ + 1), 8) & 2, 0);
    /* Function mask behaves the same. */
    cfg_wr(f, cap + 2, 2, 0xC000);
    f->vdev.irq.ops->notify_queue(f->vdev.irq.opaque, 0);
    assert_false(efd_fired(vfd));
    cfg_wr(f, cap + 2, 2, 0x8000);
    assert_true(efd_fired(vfd));
    /* NO_VECTOR: nothing at all. */
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_MSIX), 2, VIRTIO_MSI_NO_VECTOR);
    f->vdev.irq.ops->notify_queue(f->vdev.irq.opaque, 0);
    assert_false(efd_fired(vfd));
    assert_int_equal(mm_rd(f, CFG_ADDR + VIRTIO_PCI_ISR_OFF, 1), 0);
}

static void test_intx_fallback(void **state)
{
    struct fixture *f = *state;
    uint32_t gsi = cfg_rd(f, PCI_INTERRUPT_LINE, 1);

    map_bars(f, CFG_ADDR);
    setup_queue0(f, VIRTIO_MSI_NO_VECTOR);
    f->vdev.irq.ops->notify_queue(f->vdev.irq.opaque, 0);
    assert_true(f->intx[gsi]);
    assert_int_equal(mm_rd(f, CFG_ADDR + VIRTIO_PCI_ISR_OFF, 1), 1);
    assert_false(f->intx[gsi]);
    assert_int_equal(mm_rd(f, CFG_ADDR + VIRTIO_PCI_ISR_OFF, 1), 0);
    f->vdev.irq.ops->notify_config(f->vdev.irq.opaque);
    assert_int_equal(mm_rd(f, CFG_ADDR + VIRTIO_PCI_ISR_OFF, 1), 2);
}

static void test_pci_cfg_window(void **state)
{
    struct fixture *f = *state;
    uint32_t c = find_vcap(f, VIRTIO_PCI_CAP_PCI_CFG);

    map_bars(f, CFG_ADDR);
    cfg_wr(f, c + 4, 1, VIRTIO_PCI_CFG_BAR);
    cfg_wr(f, c + 8, 4, VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_NUMQ);
    cfg_wr(f, c + 12, 4, 2);
    assert_int_equal(cfg_rd(f, c + 16, 4) & 0xFFFF, NQ);
    /* Writes go through too: the status register. */
    cfg_wr(f, c + 8, 4, VIRTIO_PCI_COMMON_STATUS);
    cfg_wr(f, c + 12, 4, 1);
    cfg_wr(f, c + 16, 4, 1);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_STATUS), 1), 1);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    uint32_t cap = cfg_rd(f, PCI_CAPABILITY_LIST, 1);
    static char fdt[16384];
    int node;

    map_bars(f, CFG_ADDR);
    setup_queue0(f, 1);
    cfg_wr(f, cap + 2, 2, 0x8000);
    msix_entry(f, 1, 0x45, false);
    mm_wr(f, common(VIRTIO_PCI_COMMON_MSIX), 2, 0);
    assert_int_equal(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
    node = fdt_add_subnode(fdt, 0, "virtio-pci");
    assert_true(node >= 0);
    assert_int_equal(virtio_pci_state_ops.save(f->vp, fdt, node), 0);
    /* Scramble, then restore. */
    mm_wr(f, common(VIRTIO_PCI_COMMON_MSIX), 2, 2);
    msix_entry(f, 1, 0x99, true);
    mm_wr(f, common(VIRTIO_PCI_COMMON_Q_MSIX), 2, 2);
    assert_int_equal(virtio_pci_state_ops.load(f->vp, fdt, node), 0);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_MSIX), 2), 0);
    assert_int_equal(mm_rd(f, common(VIRTIO_PCI_COMMON_Q_MSIX), 2), 1);
    assert_int_equal(mm_rd(f, MSIX_ADDR + 16 + 8, 4), 0x45);
    assert_int_equal(mm_rd(f, MSIX_ADDR + 16 + 12, 4), 0);
    assert_int_equal(f->hv.data[0], 0x45);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identity_and_caps, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_common_cfg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_setup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_queue_needs_reset, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ioeventfd_follows_bar, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_trapped_doorbell, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_msix_wiring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intx_fallback, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pci_cfg_window, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
