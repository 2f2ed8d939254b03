/* Unit tests for vfio/pci_dev*.c with a socketpair fake server, a real PCI
 * bus and a fake hypervisor (devices/hv.h) that records memslots,
 * ioeventfds, MSI routes and irqfds: config-space virtualisation (BAR
 * sizing, 64-bit BARs, what reaches the server), ioeventfds following BAR
 * moves and decode, MSI-X table/PBA wiring (irqfd on unmask, masked vector
 * polled into the PBA, delivery on unmask), failure teardown, and a
 * DMA_WRITE served by the client marking guest pages dirty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <linux/kvm.h>

#include "devices/pci.h"
#include "vfio/client.h"
#include "vfio/pci_dev.h"
#include "vmm/bus.h"
#include "vmm/memory.h"
#include "test_vfio_client_fake.h"

#define BDF PCI_BDF(0, 1, 0)

struct fake_hv {
    int ioev, ioev_pio, memslots, routes, irqfds;
    uint64_t last_ioev_addr;
    int last_irqfd;
};

static int h_msi_add(void *o, uint64_t a, uint32_t d, uint32_t *gsi)
{
    struct fake_hv *h = o;

    (void)a, (void)d;
    *gsi = 24 + (uint32_t)h->routes++;
    return 0;
}

static int h_msi_update(void *o, uint32_t gsi, uint64_t a, uint32_t d)
{
    (void)o, (void)gsi, (void)a, (void)d;
    return 0;
}

static int h_msi_del(void *o, uint32_t gsi)
{
    (void)gsi;
    ((struct fake_hv *)o)->routes--;
    return 0;
}

static int h_irqfd(void *o, int fd, uint32_t gsi, int rfd, bool assign)
{
    struct fake_hv *h = o;

    (void)gsi, (void)rfd;
    h->irqfds += assign ? 1 : -1;
    h->last_irqfd = fd;
    return 0;
}

static int h_ioeventfd(void *o, int fd, uint64_t addr, uint32_t len,
                       bool pio, bool dm, uint64_t data, bool assign)
{
    struct fake_hv *h = o;

    (void)fd, (void)len, (void)dm, (void)data;
    h->ioev += assign ? 1 : -1;
    h->ioev_pio += pio;
    if (assign)
        h->last_ioev_addr = addr;
    return 0;
}

static int h_slot_add(void *o, uint64_t gpa, uint64_t size, void *hva,
                      bool ro, uint32_t *slot)
{
    (void)gpa, (void)size, (void)hva, (void)ro;
    *slot = (uint32_t)((struct fake_hv *)o)->memslots++;
    return 0;
}

static int h_slot_del(void *o, uint32_t slot)
{
    (void)slot;
    ((struct fake_hv *)o)->memslots--;
    return 0;
}

static const struct hv_ops fake_hv_ops = {
    h_msi_add, h_msi_update, h_msi_del, h_irqfd, h_ioeventfd, h_slot_add,
    h_slot_del,
};

struct rig {
    struct fake f;
    struct fake_hv hv;
    struct bus *mmio, *pio;
    struct pci_bus *bus;
    struct vfio_pci *d;
    uint8_t iofds[16 + 40];
};

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* A virtio-pci-like device: BAR0 MSI-X (4 vectors, PBA at 0x800), BAR2
 * 64-bit 16 KiB with an ioeventfd at 0x3000. */
static void rig_server(struct rig *r)
{
    uint8_t *cfg = r->f.mem[VFIO_PCI_CONFIG_REGION_INDEX];
    struct vfio_user_region_io_fds_reply h = {16 + 40, 0, 2, 1};
    struct vfio_user_sub_region_ioeventfd e = {
        0x3000, 0, 0, VFIO_USER_IO_FD_TYPE_IOEVENTFD, 0, 0, 0};

    fake_init(&r->f);
    r->f.rsize[VFIO_PCI_CONFIG_REGION_INDEX] = 256;
    r->f.rsize[2] = 0x4000;
    r->f.rflags[2] = r->f.rflags[0];
    put32(cfg, 0x10421af4);
    put32(cfg + 8, 0x01800001);
    cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
    put32(cfg + PCI_BASE_ADDRESS_2, PCI_BASE_ADDRESS_MEM_TYPE_64);
    cfg[PCI_CAPABILITY_LIST] = 0x40;
    cfg[0x40] = PCI_CAP_ID_MSIX;
    cfg[0x42] = 3;
    put32(cfg + 0x44, 0);
    put32(cfg + 0x48, 0x800);
    cfg[0x80] = 0x77;
    r->f.mem[2][0x10] = 0x5A;
    memcpy(r->iofds, &h, 16);
    memcpy(r->iofds + 16, &e, 40);
    r->f.iofds = r->iofds;
    r->f.iofds_len = sizeof(r->iofds);
    r->f.iofd_efd = eventfd(0, EFD_CLOEXEC);
}

/* With @mem: guest RAM DMA-mapped, by messages when @dma_message. */
static void rig_up_mem(struct rig *r, const struct guest_memory *mem,
                       bool dma_message)
{
    struct pci_bus_config bc;
    struct vfio_pci_env env;
    struct vfio_pci_opts o = {.name = "p0", .timeout_ms = 2000,
                              .dma_message = dma_message};
    char err[256] = "";

    memset(r, 0, sizeof(*r));
    rig_server(r);
    assert_int_equal(bus_create("mmio", &r->mmio), 0);
    assert_int_equal(bus_create("pio", &r->pio), 0);
    bc = (struct pci_bus_config){.mmio = r->mmio, .pio = r->pio,
                                 .intx_gsi_base = 16};
    assert_int_equal(pci_bus_create(&bc, &r->bus), 0);
    env = (struct vfio_pci_env){.bus = r->bus,
                                .hv = {&fake_hv_ops, &r->hv}, .mem = mem};
    o.sock_fd = r->f.cfd;
    fake_start(&r->f);
    if (vfio_pci_create(&env, &o, &r->d, err, sizeof(err)))
        fail_msg("create: %s", err);
}

static void rig_up(struct rig *r)
{
    rig_up_mem(r, NULL, false);
}

static void rig_down(struct rig *r)
{
    vfio_pci_destroy(r->d);
    fake_stop(&r->f);
    pci_bus_destroy(r->bus);
    bus_destroy(r->mmio);
    bus_destroy(r->pio);
}

static uint32_t cfg_rd(struct rig *r, uint32_t off, uint32_t len)
{
    uint32_t v = 0;

    pci_cfg_read(r->bus, BDF, off, &v, len);
    return v;
}

static void cfg_wr(struct rig *r, uint32_t off, uint32_t len, uint32_t v)
{
    pci_cfg_write(r->bus, BDF, off, &v, len);
}

static void test_config_virtualisation(void **state)
{
    struct rig r;

    (void)state;
    rig_up(&r);
    assert_int_equal(cfg_rd(&r, 0, 4), 0x10421af4);
    assert_int_equal(cfg_rd(&r, PCI_CAPABILITY_LIST, 1), 0x40);
    /* BAR sizing: 4 KiB 32-bit, nothing at BAR1, 16 KiB 64-bit. */
    cfg_wr(&r, PCI_BASE_ADDRESS_0, 4, 0xFFFFFFFF);
    assert_int_equal(cfg_rd(&r, PCI_BASE_ADDRESS_0, 4), 0xFFFFF000);
    cfg_wr(&r, PCI_BASE_ADDRESS_1, 4, 0xFFFFFFFF);
    assert_int_equal(cfg_rd(&r, PCI_BASE_ADDRESS_1, 4), 0);
    cfg_wr(&r, PCI_BASE_ADDRESS_2, 4, 0xFFFFFFFF);
    cfg_wr(&r, PCI_BASE_ADDRESS_3, 4, 0xFFFFFFFF);
    assert_int_equal(cfg_rd(&r, PCI_BASE_ADDRESS_2, 4), 0xFFFFC004);
    assert_int_equal(cfg_rd(&r, PCI_BASE_ADDRESS_3, 4), 0xFFFFFFFF);
    /* BAR addresses never reach the server; Command does. */
    assert_int_equal(r.f.mem[7][PCI_BASE_ADDRESS_0], 0);
    cfg_wr(&r, PCI_BASE_ADDRESS_2, 4, 0xC0000000);
    cfg_wr(&r, PCI_BASE_ADDRESS_3, 4, 0);
    cfg_wr(&r, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    assert_int_equal(r.f.mem[7][PCI_COMMAND], PCI_COMMAND_MEMORY);
    /* Beyond the header and the MSI-X capability: the server's bytes. */
    assert_int_equal(cfg_rd(&r, 0x80, 1), 0x77);
    /* The ioeventfd follows the BAR: on, moved, off. */
    assert_int_equal(r.hv.ioev, 1);
    assert_int_equal(r.hv.last_ioev_addr, 0xC0003000);
    cfg_wr(&r, PCI_BASE_ADDRESS_2, 4, 0xC0100000);
    assert_int_equal(r.hv.ioev, 1);
    assert_int_equal(r.hv.last_ioev_addr, 0xC0103000);
    cfg_wr(&r, PCI_COMMAND, 2, 0);
    assert_int_equal(r.hv.ioev, 0);
    assert_int_equal(r.hv.ioev_pio, 0);
    rig_down(&r);
}

static void mmio_rw(struct rig *r, uint64_t a, void *v, uint32_t len,
                    bool wr)
{
    assert_int_equal(bus_dispatch(r->mmio, a, v, len, wr), 0);
}

static void test_msix_wiring(void **state)
{
    uint32_t v, entry[4] = {0xFEE00000, 0, 0x41, 0};
    uint64_t pba;
    struct rig r;

    (void)state;
    rig_up(&r);
    cfg_wr(&r, PCI_BASE_ADDRESS_0, 4, 0xC0010000);
    cfg_wr(&r, PCI_BASE_ADDRESS_2, 4, 0xC0000000);
    cfg_wr(&r, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    /* Trapped access to BAR2 reaches the server. */
    mmio_rw(&r, 0xC0000010, &v, 1, false);
    assert_int_equal(v & 0xFF, 0x5A);
    /* Enable MSI-X: the 4 eventfds go to the server. */
    cfg_wr(&r, 0x42, 2, PCI_MSIX_FLAGS_ENABLE);
    assert_int_equal(r.f.last_irq_index, VFIO_PCI_MSIX_IRQ_INDEX);
    assert_true(r.f.irq_fds[3] >= 0);
    assert_int_equal(cfg_rd(&r, 0x42, 2), PCI_MSIX_FLAGS_ENABLE | 3);
    /* Program vector 0 (unmasked): a route and an irqfd. */
    for (int i = 0; i < 4; i++)
        mmio_rw(&r, 0xC0010000 + 4 * (uint64_t)i, &entry[i], 4, true);
    assert_int_equal(r.hv.routes, 1);
    assert_int_equal(r.hv.irqfds, 1);
    /* Mask it: the irqfd goes; the server's signal lands in the PBA. */
    entry[3] = 1;
    mmio_rw(&r, 0xC001000C, &entry[3], 4, true);
    assert_int_equal(r.hv.irqfds, 0);
    assert_int_equal(eventfd_write(r.f.irq_fds[0], 1), 0);
    vfio_pci_handle_ready(r.d);
    mmio_rw(&r, 0xC0010800, &pba, 8, false);
    assert_int_equal(pba, 1);
    /* Unmask: irqfd back, the pending one delivered, PBA clear. */
    entry[3] = 0;
    mmio_rw(&r, 0xC001000C, &entry[3], 4, true);
    assert_int_equal(r.hv.irqfds, 1);
    mmio_rw(&r, 0xC0010800, &pba, 8, false);
    assert_int_equal(pba, 0);
    assert_int_equal(eventfd_read(r.hv.last_irqfd, &(eventfd_t){0}), 0);
    /* Function mask works the same way. */
    cfg_wr(&r, 0x42, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    assert_int_equal(r.hv.irqfds, 0);
    cfg_wr(&r, 0x42, 2, PCI_MSIX_FLAGS_ENABLE);
    assert_int_equal(r.hv.irqfds, 1);
    rig_down(&r);
}

static void test_failure_teardown(void **state)
{
    uint32_t v, entry[4] = {0xFEE00000, 0, 0x41, 0};
    struct rig r;

    (void)state;
    rig_up(&r);
    cfg_wr(&r, PCI_BASE_ADDRESS_0, 4, 0xC0010000);
    cfg_wr(&r, PCI_BASE_ADDRESS_2, 4, 0xC0000000);
    cfg_wr(&r, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    cfg_wr(&r, 0x42, 2, PCI_MSIX_FLAGS_ENABLE);
    for (int i = 0; i < 4; i++)
        mmio_rw(&r, 0xC0010000 + 4 * (uint64_t)i, &entry[i], 4, true);
    assert_int_equal(r.hv.ioev, 1);
    assert_int_equal(r.hv.irqfds, 1);
    shutdown(vfio_user_conn_fd(r.f.conn, VFIO_USER_CHAN_MAIN), SHUT_RDWR);
    mmio_rw(&r, 0xC0000010, &v, 4, false);
    assert_int_equal(v, 0xFFFFFFFF);
    vfio_pci_handle_ready(r.d); /* the failure is torn down here */
    assert_false(vfio_pci_alive(r.d));
    assert_int_equal(r.hv.ioev, 0);
    assert_int_equal(r.hv.irqfds, 0);
    assert_int_equal(cfg_rd(&r, 0, 4), 0xFFFFFFFF);
    v = 0x1234;
    mmio_rw(&r, 0xC0000010, &v, 4, true); /* dropped, no crash */
    rig_down(&r);
}

/* From a hook: DMA_WRITE @len bytes of @data at @addr through the client;
 * f->dma_result gets the result. */
static void fake_dma_write(struct fake *f, uint64_t addr, const void *data,
                           uint32_t len)
{
    enum vfio_user_chan ch = vfio_user_conn_s2c_chan(f->conn);
    struct vfio_user_dma_access a = {addr, len};
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    uint8_t req[16 + 256], rep[64];
    struct vfio_user_expect exp;
    uint16_t id;

    memcpy(req, &a, 16);
    memcpy(req + 16, data, len);
    f->dma_result = vfio_user_conn_send_command(f->conn, ch,
                                                VFIO_USER_DMA_WRITE, 0, req,
                                                16 + len, NULL, 0, &id);
    m->payload = rep;
    m->payload_cap = sizeof(rep);
    vfio_user_conn_expect_reply(f->conn, VFIO_USER_DMA_WRITE, id, &exp);
    if (f->dma_result == 0)
        f->dma_result = vfio_user_conn_recv(f->conn, ch, &exp, false, m,
                                            NULL);
    free(m);
}

/* During a trapped BAR write, the server DMA_WRITEs f->dma_buf[0..100)
 * at f->dma_addr (a write straddling a page boundary). */
static int hook_dma_write(struct fake *f, struct vfio_user_msg *m)
{
    if (m->hdr.cmd != VFIO_USER_REGION_WRITE || m->payload_len < 8)
        return 0;
    fake_dma_write(f, f->dma_addr, f->dma_buf, 100);
    fake_rw(f, m, true);
    return 1;
}

/* Issue 9 item 1: a DMA_WRITE served by the client marks the written
 * guest pages in the VMM-side dirty bitmap (else live migration loses
 * the write); nothing is marked while logging is off. */
static void test_dma_write_marks_dirty(void **state)
{
    uint64_t bits[1] = {0};
    struct guest_memory gm;
    struct rig r;
    uint32_t v = 1;
    uint8_t *p;

    (void)state;
    assert_int_equal(guest_memory_create(16 * 4096, &gm), 0);
    rig_up_mem(&r, &gm, true);
    assert_int_equal(r.f.n_maps, 1);
    r.f.hook = hook_dma_write;
    memset(r.f.dma_buf, 0xAB, 100);
    cfg_wr(&r, PCI_BASE_ADDRESS_2, 4, 0xC0000000);
    cfg_wr(&r, PCI_BASE_ADDRESS_3, 4, 0);
    cfg_wr(&r, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    /* Logging off: written, nothing recorded (and no crash). */
    r.f.dma_addr = 0x1000;
    mmio_rw(&r, 0xC0000010, &v, 4, true);
    assert_int_equal(r.f.dma_result, 0);
    assert_int_equal(gm.base[0x1000], 0xAB);
    /* Logging on: pages 5 and 6 (0x5FD0 + 100 crosses into page 6). */
    __atomic_store_n(&gm.dirty, bits, __ATOMIC_RELEASE);
    r.f.dma_addr = 0x5FD0;
    mmio_rw(&r, 0xC0000010, &v, 4, true);
    assert_int_equal(r.f.dma_result, 0);
    p = guest_memory_hva(&gm, 0x5FD0, 100);
    assert_non_null(p);
    assert_int_equal(p[0], 0xAB);
    assert_int_equal(p[99], 0xAB);
    assert_int_equal(bits[0], (1ULL << 5) | (1ULL << 6));
    __atomic_store_n(&gm.dirty, NULL, __ATOMIC_RELEASE);
    rig_down(&r);
    guest_memory_destroy(&gm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_virtualisation),
        cmocka_unit_test(test_msix_wiring),
        cmocka_unit_test(test_failure_teardown),
        cmocka_unit_test(test_dma_write_marks_dirty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
