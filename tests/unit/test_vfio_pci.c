/* SPDX-License-Identifier: BSD-3-Clause */
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
#include "vfio/client/client.h"
#include "vfio/pci/pci_dev.h"
#include "vmm/bus.h"
#include "vmm/memory.h"
#include "test_vfio_client_fake.h"
#include "test_vfio_pci_rig.h"

#define BDF PCI_BDF(0, 1, 0)

struct rig {
    struct fake f;
    struct vfio_rig v;
    uint8_t iofds[VFIO_RIG_IOFDS_LEN];
};

/* A virtio-pci-like device: BAR0 MSI-X (4 vectors, PBA at 0x800), BAR2
 * 64-bit 16 KiB with an ioeventfd at 0x3000. */
static void rig_server(struct rig *r)
{
    uint8_t *cfg = r->f.mem[VFIO_PCI_CONFIG_REGION_INDEX];

    vfio_rig_virtio_like(&r->f, 0x4000, r->iofds);
    put32(cfg + 0x44, 0);
    cfg[0x80] = 0x77;
    r->f.mem[2][0x10] = 0x5A;
}

/* With @mem: guest RAM DMA-mapped, by messages when @dma_message. */
static void rig_up_mem(struct rig *r, const struct guest_memory *mem,
                       bool dma_message)
{
    struct vfio_pci_opts o = {.name = "p0", .timeout_ms = 2000,
                              .dma_message = dma_message};
    char err[256] = "";

    memset(r, 0, sizeof(*r));
    rig_server(r);
    if (vfio_rig_create(&r->v, &r->f, &o, mem, err, sizeof(err)))
        fail_msg("create: %s", err);
}

static void rig_up(struct rig *r)
{
    rig_up_mem(r, NULL, false);
}

static void rig_down(struct rig *r)
{
    vfio_rig_destroy(&r->v, &r->f);
}

static uint32_t cfg_rd(struct rig *r, uint32_t off, uint32_t len)
{
    return vfio_rig_cfg_rd(&r->v, BDF, off, len);
}

static void cfg_wr(struct rig *r, uint32_t off, uint32_t len, uint32_t v)
{
    vfio_rig_cfg_wr(&r->v, BDF, off, len, v);
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
    /* BAR writes reach the server (sizing included), Command too. */
    assert_int_equal(get32(r.f.mem[7] + PCI_BASE_ADDRESS_0), 0xFFFFFFFF);
    cfg_wr(&r, PCI_BASE_ADDRESS_2, 4, 0xC0000000);
    cfg_wr(&r, PCI_BASE_ADDRESS_3, 4, 0);
    cfg_wr(&r, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    assert_int_equal(r.f.mem[7][PCI_COMMAND], PCI_COMMAND_MEMORY);
    /* Beyond the header and the MSI-X capability: the server's bytes. */
    assert_int_equal(cfg_rd(&r, 0x80, 1), 0x77);
    /* The ioeventfd follows the BAR: on, moved, off. */
    assert_int_equal(r.v.hv.ioev, 1);
    assert_int_equal(r.v.hv.last_ioev_addr, 0xC0003000);
    cfg_wr(&r, PCI_BASE_ADDRESS_2, 4, 0xC0100000);
    assert_int_equal(r.v.hv.ioev, 1);
    assert_int_equal(r.v.hv.last_ioev_addr, 0xC0103000);
    cfg_wr(&r, PCI_COMMAND, 2, 0);
    assert_int_equal(r.v.hv.ioev, 0);
    assert_int_equal(r.v.hv.ioev_pio, 0);
    rig_down(&r);
}

/* Config writes to the BARs and Command are forwarded to the server as
 * the guest wrote them (QEMU's server decodes BAR accesses by them), and
 * the guest still reads the emulated registers, not the server's copy. */
static void test_bar_forwarding(void **state)
{
    uint8_t *srv;
    struct rig r;

    (void)state;
    rig_up(&r);
    srv = r.f.mem[VFIO_PCI_CONFIG_REGION_INDEX];
    cfg_wr(&r, PCI_BASE_ADDRESS_0, 4, 0xC0010000);
    cfg_wr(&r, PCI_BASE_ADDRESS_2, 4, 0xC0000000);
    cfg_wr(&r, PCI_BASE_ADDRESS_3, 4, 0x80);
    cfg_wr(&r, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(get32(srv + PCI_BASE_ADDRESS_0), 0xC0010000);
    assert_int_equal(get32(srv + PCI_BASE_ADDRESS_2), 0xC0000000);
    assert_int_equal(get32(srv + PCI_BASE_ADDRESS_3), 0x80);
    assert_int_equal(srv[PCI_COMMAND],
                     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    /* The guest's view is the emulation: type bits, masks. */
    put32(srv + PCI_BASE_ADDRESS_0, 0x12345678);
    assert_int_equal(cfg_rd(&r, PCI_BASE_ADDRESS_0, 4), 0xC0010000);
    assert_int_equal(cfg_rd(&r, PCI_BASE_ADDRESS_2, 4), 0xC0000004);
    /* A sizing write: forwarded as written, answered here. */
    cfg_wr(&r, PCI_BASE_ADDRESS_2, 4, 0xFFFFFFFF);
    assert_int_equal(get32(srv + PCI_BASE_ADDRESS_2), 0xFFFFFFFF);
    assert_int_equal(cfg_rd(&r, PCI_BASE_ADDRESS_2, 4), 0xFFFFC004);
    /* Interrupt Line stays here. */
    cfg_wr(&r, PCI_INTERRUPT_LINE, 1, 0x0B);
    assert_int_equal(srv[PCI_INTERRUPT_LINE], 0);
    assert_int_equal(cfg_rd(&r, PCI_INTERRUPT_LINE, 1), 0x0B);
    rig_down(&r);
}

/* The server fails every REGION_READ/WRITE of BAR2. */
static int fail_bar2(struct fake *f, struct vfio_user_msg *m)
{
    struct vfio_user_region_access a;

    if ((m->hdr.cmd != VFIO_USER_REGION_READ &&
         m->hdr.cmd != VFIO_USER_REGION_WRITE) ||
        m->payload_len < sizeof(a))
        return 0;
    memcpy(&a, m->payload, sizeof(a));
    if (a.region != 2)
        return 0;
    vfio_user_conn_send_error(f->conn, VFIO_USER_CHAN_MAIN, &m->hdr, EINVAL);
    return 1;
}

/* Run @n reads of BAR2 with stderr in a buffer; returns it (static). */
static const char *failing_reads(struct rig *r, int n)
{
    static char buf[8192];
    FILE *tmp = tmpfile();
    int saved = dup(2);
    size_t len;
    uint32_t v;

    assert_non_null(tmp);
    fflush(stderr);
    assert_true(dup2(fileno(tmp), 2) >= 0);
    for (int i = 0; i < n; i++) {
        v = 0;
        assert_int_equal(bus_dispatch(r->v.mmio, 0xC0000010, &v, 4, false), 0);
        assert_int_equal(v, 0xFFFFFFFF);
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    len = fread(buf, 1, sizeof(buf) - 1, tmp);
    buf[len] = 0;
    fclose(tmp);
    return buf;
}

static unsigned int count_lines(const char *s, const char *what)
{
    unsigned int n = 0;

    for (; (s = strstr(s, what)) != NULL; s += strlen(what))
        n++;
    return n;
}

/* A BAR read the server fails reads all-ones and is logged: the first
 * few, then at most one per second (not one line per access). */
static void test_bar_read_error_logged(void **state)
{
    struct rig r;
    const char *log;
    unsigned int n;

    (void)state;
    rig_up(&r);
    r.f.hook = fail_bar2;
    cfg_wr(&r, PCI_BASE_ADDRESS_2, 4, 0xC0000000);
    cfg_wr(&r, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    log = failing_reads(&r, 20);
    n = count_lines(log, "vfio-user p0: read of 4 bytes at BAR 2 offset "
                         "0x10 failed");
    assert_true(n >= 5 && n <= 7); /* 5, +1 per second boundary */
    assert_non_null(strstr(log, "the guest reads all-ones"));
    assert_true(vfio_pci_alive(r.v.d)); /* an error reply is not fatal */
    rig_down(&r);
}

static void mmio_rw(struct rig *r, uint64_t a, void *v, uint32_t len,
                    bool wr)
{
    assert_int_equal(bus_dispatch(r->v.mmio, a, v, len, wr), 0);
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
    assert_int_equal(r.v.hv.routes, 1);
    assert_int_equal(r.v.hv.irqfds, 1);
    /* Mask it: the irqfd goes; the server's signal lands in the PBA. */
    entry[3] = 1;
    mmio_rw(&r, 0xC001000C, &entry[3], 4, true);
    assert_int_equal(r.v.hv.irqfds, 0);
    assert_int_equal(eventfd_write(r.f.irq_fds[0], 1), 0);
    vfio_pci_handle_ready(r.v.d);
    mmio_rw(&r, 0xC0010800, &pba, 8, false);
    assert_int_equal(pba, 1);
    /* Unmask: irqfd back, the pending one delivered, PBA clear. */
    entry[3] = 0;
    mmio_rw(&r, 0xC001000C, &entry[3], 4, true);
    assert_int_equal(r.v.hv.irqfds, 1);
    mmio_rw(&r, 0xC0010800, &pba, 8, false);
    assert_int_equal(pba, 0);
    assert_int_equal(eventfd_read(r.v.hv.last_irqfd, &(eventfd_t){0}), 0);
    /* Function mask works the same way. */
    cfg_wr(&r, 0x42, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    assert_int_equal(r.v.hv.irqfds, 0);
    cfg_wr(&r, 0x42, 2, PCI_MSIX_FLAGS_ENABLE);
    assert_int_equal(r.v.hv.irqfds, 1);
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
    assert_int_equal(r.v.hv.ioev, 1);
    assert_int_equal(r.v.hv.irqfds, 1);
    shutdown(vfio_user_conn_fd(r.f.conn, VFIO_USER_CHAN_MAIN), SHUT_RDWR);
    mmio_rw(&r, 0xC0000010, &v, 4, false);
    assert_int_equal(v, 0xFFFFFFFF);
    vfio_pci_handle_ready(r.v.d); /* the failure is torn down here */
    assert_false(vfio_pci_alive(r.v.d));
    assert_int_equal(r.v.hv.ioev, 0);
    assert_int_equal(r.v.hv.irqfds, 0);
    assert_int_equal(cfg_rd(&r, 0, 4), 0xFFFFFFFF);
    v = 0x1234;
    mmio_rw(&r, 0xC0000010, &v, 4, true); /* dropped, no crash */
    rig_down(&r);
}

/* From a hook: DMA_WRITE @len bytes of @data at @addr through the client;
 * f->dma_result gets the result. */
static void fake_dma_write_pad(struct fake *f, uint64_t addr,
                               const void *data, uint32_t len, uint32_t pad);

static void fake_dma_write(struct fake *f, uint64_t addr, const void *data,
                           uint32_t len)
{
    fake_dma_write_pad(f, addr, data, len, 0);
}

/* The same, with @pad bytes of 0xEE after the data (libvfio-user 2022's
 * vfu_sgl_write sizes its messages for the maximum transfer). */
static void fake_dma_write_pad(struct fake *f, uint64_t addr,
                               const void *data, uint32_t len, uint32_t pad)
{
    enum vfio_user_chan ch = vfio_user_conn_s2c_chan(f->conn);
    struct vfio_user_dma_access a = {addr, len};
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    uint8_t req[16 + 512], rep[64];
    struct vfio_user_expect exp;
    uint16_t id;

    memcpy(req, &a, 16);
    memcpy(req + 16, data, len);
    memset(req + 16 + len, 0xEE, pad);
    f->dma_result = vfio_user_conn_send_command(f->conn, ch,
                                                VFIO_USER_DMA_WRITE, 0, req,
                                                16 + len + pad, NULL, 0, &id);
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

/* A DMA_WRITE padded beyond 16 + count bytes: only count bytes land. */
static int hook_dma_write_padded(struct fake *f, struct vfio_user_msg *m)
{
    if (m->hdr.cmd != VFIO_USER_REGION_WRITE || m->payload_len < 8)
        return 0;
    fake_dma_write_pad(f, f->dma_addr, f->dma_buf, 100, 200);
    fake_rw(f, m, true);
    return 1;
}

static void test_dma_write_padded(void **state)
{
    struct guest_memory gm;
    struct rig r;
    uint32_t v = 1;

    (void)state;
    assert_int_equal(guest_memory_create(16 * 4096, &gm), 0);
    rig_up_mem(&r, &gm, true);
    r.f.hook = hook_dma_write_padded;
    memset(r.f.dma_buf, 0xAB, 100);
    cfg_wr(&r, PCI_BASE_ADDRESS_2, 4, 0xC0000000);
    cfg_wr(&r, PCI_BASE_ADDRESS_3, 4, 0);
    cfg_wr(&r, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    r.f.dma_addr = 0x2000;
    mmio_rw(&r, 0xC0000010, &v, 4, true);
    assert_int_equal(r.f.dma_result, 0);
    assert_int_equal(gm.base[0x2000], 0xAB);
    assert_int_equal(gm.base[0x2000 + 99], 0xAB);
    assert_int_equal(gm.base[0x2000 + 100], 0); /* the padding: not copied */
    rig_down(&r);
    guest_memory_destroy(&gm);
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
        cmocka_unit_test(test_bar_forwarding),
        cmocka_unit_test(test_bar_read_error_logged),
        cmocka_unit_test(test_msix_wiring),
        cmocka_unit_test(test_failure_teardown),
        cmocka_unit_test(test_dma_write_marks_dirty),
        cmocka_unit_test(test_dma_write_padded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
