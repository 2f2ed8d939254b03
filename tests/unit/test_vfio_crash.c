/* SPDX-License-Identifier: BSD-3-Clause */
/* Regression tests for segfaults a vfio-user server could cause with
 * counts the client checked one by one but not together (issue 10, item
 * 1): sparse-mmap areas over several capabilities (the 32-entry array, on
 * the heap, on the stack in config setup, and after a reconnect), 64
 * io-fds inside one mmap-able BAR (the 40-entry memslot carve list), and
 * an MSI-X table outside its BAR with vectors offered (nvec set, vec NULL,
 * dereferenced at cleanup). Each failed (crashed) before its fix. Uses the
 * socketpair fake server and a fake hypervisor, as test_vfio_pci.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "devices/pci.h"
#include "vfio/client/client.h"
#include "vfio/pci/pci_dev.h"
#include "vfio/pci/pci_dev.h"
#include "vfio/pci/pci_dev_priv.h"
#include "vmm/bus.h"
#include "test_vfio_client_fake.h"
#include "test_vfio_pci_rig.h"

#define SPARSE_CAP_LEN(n) (16u + 16u * (n))

/* ---- helpers ------------------------------------------------------------ */

/* @ncaps sparse-mmap capabilities of @per areas each, chained from offset
 * 32 of the reply; every area is [0, 4 KiB) (overlap is allowed). */
static uint32_t build_sparse_chain(uint8_t *b, unsigned int ncaps,
                                   uint32_t per)
{
    uint32_t off = 0;

    for (unsigned int c = 0; c < ncaps; c++) {
        struct vfio_region_info_cap_sparse_mmap s = {
            .header = {VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, 0},
            .nr_areas = per,
        };

        if (c + 1 < ncaps)
            s.header.next = 32 + off + SPARSE_CAP_LEN(per);
        memcpy(b + off, &s, sizeof(s));
        for (uint32_t i = 0; i < per; i++) {
            struct vfio_region_sparse_mmap_area a = {0, 0x1000};

            memcpy(b + off + 16 + 16 * i, &a, 16);
        }
        off += SPARSE_CAP_LEN(per);
    }
    return off;
}

static struct vfio_client *connect_client(struct fake *f)
{
    struct vfio_client_opts o = {.name = "c0", .timeout_ms = 2000};
    struct vfio_client *c;
    char err[200] = "";

    fake_start(f);
    if (vfio_client_new(f->cfd, &o, &c, err, sizeof(err)))
        fail_msg("connect: %s", err);
    return c;
}

struct rig {
    struct fake f;
    struct vfio_rig v;
    char err[256];
};

/* A plain device: 256-byte config space, BAR0 4 KiB, nothing mmap-able. */
static void rig_init(struct rig *r)
{
    uint8_t *cfg;

    memset(r, 0, sizeof(*r));
    fake_init(&r->f);
    cfg = r->f.mem[VFIO_PCI_CONFIG_REGION_INDEX];
    r->f.rsize[VFIO_PCI_CONFIG_REGION_INDEX] = 256;
    put32(cfg, 0x10421af4);
    put32(cfg + 8, 0x01800001);
}

/* Create the vfio_pci device against the fake: its result. */
static int rig_create(struct rig *r)
{
    struct vfio_pci_opts o = {.name = "x0", .timeout_ms = 2000};

    return vfio_rig_create(&r->v, &r->f, &o, NULL, r->err, sizeof(r->err));
}

static void rig_down(struct rig *r)
{
    vfio_rig_destroy(&r->v, &r->f);
}

/* ---- sparse mmap areas over several capabilities ------------------------ */

/* Two and three capabilities of 32 areas: each within the per-capability
 * limit, 64 / 96 in all. Before: written past sparse[32]. */
static void test_sparse_total_client(void **state)
{
    static uint8_t caps[3 * SPARSE_CAP_LEN(32)];
    struct vfio_client_region ri;
    struct fake f;
    struct vfio_client *c;

    (void)state;
    for (unsigned int n = 1; n <= 3; n++) {
        fake_init(&f);
        f.rsize[2] = 0x4000;
        f.rcaps[2] = caps;
        f.rcaps_len[2] = build_sparse_chain(caps, n, 32);
        c = connect_client(&f);
        if (n == 1) {
            assert_int_equal(vfio_client_region_info(c, 2, &ri), 0);
            assert_int_equal(ri.nsparse, 32);
            assert_false(vfio_client_failed(c));
        } else {
            assert_int_equal(vfio_client_region_info(c, 2, &ri), -EPROTO);
            assert_true(vfio_client_failed(c));
        }
        fake_stop(&f);
        vfio_client_free(c);
    }
}

/* The same after a reconnect: the new server lies where the old did not. */
static void test_sparse_total_reconnect(void **state)
{
    static uint8_t caps[2 * SPARSE_CAP_LEN(32)];
    struct vfio_client_region ri;
    struct fake f, g;
    struct vfio_client *c;
    char err[200] = "";

    (void)state;
    fake_init(&f);
    f.rsize[2] = 0x4000;
    c = connect_client(&f);
    assert_int_equal(vfio_client_region_info(c, 2, &ri), 0);
    fake_stop(&f); /* the server goes away */
    assert_int_not_equal(vfio_client_region_info(c, 2, &ri), 0);
    assert_true(vfio_client_failed(c));
    fake_init(&g);
    g.rsize[2] = 0x4000;
    g.rcaps[2] = caps;
    g.rcaps_len[2] = build_sparse_chain(caps, 2, 32);
    fake_start(&g);
    assert_int_equal(vfio_client_reconnect(c, g.cfd, err, sizeof(err)), 0);
    assert_int_equal(vfio_client_region_info(c, 2, &ri), -EPROTO);
    assert_true(vfio_client_failed(c));
    fake_stop(&g);
    vfio_client_free(c);
}

/* The config region's info lives on config_setup()'s stack. */
static void test_sparse_total_config_stack(void **state)
{
    static uint8_t caps[3 * SPARSE_CAP_LEN(32)];
    struct rig r;

    (void)state;
    rig_init(&r);
    r.f.rsize[VFIO_PCI_CONFIG_REGION_INDEX] = 4096;
    r.f.rcaps[VFIO_PCI_CONFIG_REGION_INDEX] = caps;
    r.f.rcaps_len[VFIO_PCI_CONFIG_REGION_INDEX] =
        build_sparse_chain(caps, 3, 32);
    assert_int_equal(rig_create(&r), -EPROTO);
    /* Refused at the first region info (the identity query or config
     * setup, both with the region info on their stack). */
    if (!strstr(r.err, "Protocol error"))
        fail_msg("error: %s", r.err);
    assert_null(r.v.d);
    rig_down(&r);
}

/* ---- io-fds cutting one mmap-able BAR ----------------------------------- */

/* BAR0 of @pages pages, mmap-able, with @n io-fds of 4 bytes at the
 * page offsets @at[] and, if @nsparse, that many sparse areas covering
 * the whole BAR (overlapping each other: allowed). The device is created;
 * returns it in @r (caller: check_areas, rig_down). */
static void rig_iofds(struct rig *r, uint64_t pages, const uint64_t *at,
                      unsigned int n, unsigned int nsparse, int memfd,
                      uint8_t *iofds, uint8_t *caps)
{
    struct vfio_user_region_io_fds_reply h = {16 + 40 * n, 0, 0, n};
    struct vfio_region_info_cap_sparse_mmap sp = {
        .header = {VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, 0},
        .nr_areas = nsparse,
    };

    assert_int_equal(ftruncate(memfd, (off_t)(pages << 12)), 0);
    rig_init(r);
    r->f.rsize[0] = pages << 12;
    r->f.rflags[0] = VFIO_REGION_INFO_FLAG_READ |
                     VFIO_REGION_INFO_FLAG_WRITE | VFIO_REGION_INFO_FLAG_MMAP;
    r->f.rfd[0] = memfd;
    memcpy(iofds, &h, 16);
    for (unsigned int i = 0; i < n; i++) {
        struct vfio_user_sub_region_ioeventfd e = {
            .offset = at[i] << 12, .size = 4, .fd_index = 0,
            .type = VFIO_USER_IO_FD_TYPE_IOEVENTFD,
        };

        memcpy(iofds + 16 + 40 * i, &e, 40);
    }
    r->f.iofds = iofds;
    r->f.iofds_len = 16 + 40 * n;
    r->f.iofd_efd = eventfd(0, EFD_CLOEXEC);
    if (nsparse) {
        memcpy(caps, &sp, sizeof(sp));
        for (unsigned int i = 0; i < nsparse; i++) {
            struct vfio_region_sparse_mmap_area a = {0, pages << 12};

            memcpy(caps + 16 + 16 * i, &a, 16);
        }
        r->f.rcaps[0] = caps;
        r->f.rcaps_len[0] = SPARSE_CAP_LEN(nsparse);
    }
    if (rig_create(r))
        fail_msg("create: %s", r->err);
}

/* Memslot areas within bounds, none covering a doorbell (those must stay
 * trapped for their ioeventfds to see the writes). */
static void check_areas(struct rig *r, unsigned int n)
{
    struct vpd_bar *b = &r->v.d->bars.bar[0];

    assert_non_null(b->map);
    assert_int_equal(b->io_fds.n, n);
    assert_true(b->nareas > 0 && b->nareas <= VPD_MAX_AREAS);
    for (unsigned int i = 0; i < b->nareas; i++)
        for (unsigned int j = 0; j < b->io_fds.n; j++)
            assert_true(b->io_fds.e[j].offset + 4 <= b->areas[i].offset ||
                        b->io_fds.e[j].offset >=
                            b->areas[i].offset + b->areas[i].size);
}

#define IOFD_N 64

/* 64 io-fds on every other page of a 130-page BAR, listed from the top
 * down: each cut splits the first area and the rest are copied after it.
 * Before: 41 and more entries written to carve()'s 40-entry list on the
 * stack (and read back from areas[40+]). */
static void test_iofds_carve_overflow(void **state)
{
    static uint8_t iofds[16 + IOFD_N * 40];
    uint64_t at[IOFD_N];
    struct rig r;
    int memfd = memfd_create("bar0", MFD_CLOEXEC);

    (void)state;
    assert_true(memfd >= 0);
    for (unsigned int i = 0; i < IOFD_N; i++)
        at[i] = 2 * (IOFD_N - i) - 1;
    rig_iofds(&r, 2 * IOFD_N + 2, at, IOFD_N, 0, memfd, iofds, NULL);
    check_areas(&r, IOFD_N);
    rig_down(&r);
    /* Bottom up too (the cut lands on the last area). */
    for (unsigned int i = 0; i < IOFD_N; i++)
        at[i] = 2 * i + 1;
    rig_iofds(&r, 2 * IOFD_N + 2, at, IOFD_N, 0, memfd, iofds, NULL);
    check_areas(&r, IOFD_N);
    rig_down(&r);
    close(memfd);
}

/* 32 sparse areas that all cover the BAR: one cut splits each of them. */
static void test_sparse_overlap_carve(void **state)
{
    static uint8_t iofds[16 + 4 * 40], caps[SPARSE_CAP_LEN(32)];
    static const uint64_t at[4] = {1, 3, 5, 7};
    struct rig r;
    int memfd = memfd_create("bar0", MFD_CLOEXEC);

    (void)state;
    assert_true(memfd >= 0);
    rig_iofds(&r, 16, at, 4, 32, memfd, iofds, caps);
    check_areas(&r, 4);
    rig_down(&r);
    close(memfd);
}

/* ---- MSI-X table outside its BAR ---------------------------------------- */

static void msix_cap_at_0x40(struct rig *r, uint32_t table, uint32_t pba)
{
    uint8_t *cfg = r->f.mem[VFIO_PCI_CONFIG_REGION_INDEX];

    cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
    cfg[PCI_CAPABILITY_LIST] = 0x40;
    cfg[0x40] = PCI_CAP_ID_MSIX;
    cfg[0x42] = 3; /* 4 entries */
    put32(cfg + 0x44, table);
    put32(cfg + 0x48, pba);
}

/* Table at 64 KiB of a 4 KiB BAR0, 4 vectors offered. Before: vpd_irq_*
 * walked vec[0..4) with vec NULL when the failed device was destroyed. */
static void test_msix_table_outside_bar(void **state)
{
    static const uint32_t where[][2] = {
        {0x10000, 0x800},  /* table beyond the BAR */
        {0, 0x10000},      /* PBA beyond the BAR */
        {0, 0x801},        /* PBA in another BAR (BIR 1, absent) */
        {6, 0x806},        /* BIR 6: not a BAR */
    };

    (void)state;
    for (unsigned int i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        struct rig r;

        rig_init(&r);
        msix_cap_at_0x40(&r, where[i][0], where[i][1]);
        r.f.irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = 4;
        assert_int_equal(rig_create(&r), -EPROTO);
        assert_non_null(strstr(r.err, "MSI-X"));
        rig_down(&r);
    }
}

/* The good case still works: the table inside BAR0, 4 vectors. */
static void test_msix_table_inside_bar(void **state)
{
    struct rig r;

    (void)state;
    rig_init(&r);
    msix_cap_at_0x40(&r, 0, 0x800);
    r.f.irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = 4;
    if (rig_create(&r))
        fail_msg("create: %s", r.err);
    assert_int_equal(r.v.d->irq.vec.nvec, 4);
    assert_non_null(r.v.d->irq.vec.vec);
    rig_down(&r);
}

/* An argument runs only the tests matching it (cmocka's filter). */
int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sparse_total_client),
        cmocka_unit_test(test_sparse_total_reconnect),
        cmocka_unit_test(test_sparse_total_config_stack),
        cmocka_unit_test(test_iofds_carve_overflow),
        cmocka_unit_test(test_sparse_overlap_carve),
        cmocka_unit_test(test_msix_table_outside_bar),
        cmocka_unit_test(test_msix_table_inside_bar),
    };

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
