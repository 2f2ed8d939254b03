/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests: devices/msix_route.c over a fake hv (a struct of function
 * pointers standing in for KVM) and the devices/msix.c table: routes made
 * on unmask and following the table, irqfds detached while masked, a
 * signal while masked becoming a PBA bit that fires on unmask (PCI Local
 * Bus 3.0 §6.8.2), route failures, suspend/resume, teardown. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/msix_route.h"

#define NV 4

struct fake_hv {
    int routes, adds, updates, dels;
    bool irqfd[64];             /* by GSI */
    int irqfd_fd[64];
    uint32_t data[64];          /* by GSI */
    int fail_add;               /* -errno for the next msi_add */
    int fail_irqfd;
};

static int h_msi_add(void *o, uint64_t a, uint32_t d, uint32_t *gsi)
{
    struct fake_hv *h = o;
    int e = h->fail_add;

    (void)a;
    h->fail_add = 0;
    if (e)
        return e;
    *gsi = 24 + (uint32_t)h->adds++;
    h->data[*gsi] = d;
    h->routes++;
    return 0;
}

static int h_msi_update(void *o, uint32_t gsi, uint64_t a, uint32_t d)
{
    struct fake_hv *h = o;

    (void)a;
    h->updates++;
    h->data[gsi] = d;
    return 0;
}

static int h_msi_del(void *o, uint32_t gsi)
{
    struct fake_hv *h = o;

    (void)gsi;
    h->routes--;
    h->dels++;
    return 0;
}

static int h_irqfd(void *o, int fd, uint32_t gsi, int rfd, bool assign)
{
    struct fake_hv *h = o;
    int e = assign ? h->fail_irqfd : 0;

    (void)rfd;
    h->fail_irqfd = 0;
    if (e)
        return e;
    assert_true(h->irqfd[gsi] != assign);   /* never twice, never stray */
    h->irqfd[gsi] = assign;
    h->irqfd_fd[gsi] = fd;
    return 0;
}

static const struct hv_ops fake_ops = {
    .msi_add = h_msi_add, .msi_update = h_msi_update,
    .msi_del = h_msi_del, .irqfd = h_irqfd,
};

struct rig {
    struct fake_hv hv;
    struct msix_route r;
    struct msix m;
};

static struct rig *rig_new(bool with_hv)
{
    static struct rig g;
    struct hv hv = { with_hv ? &fake_ops : NULL, &g.hv };

    memset(&g, 0, sizeof(g));
    assert_int_equal(msix_route_init(&g.r, &hv, NV, "test"), 0);
    assert_int_equal(msix_init(&g.m, NV, &msix_route_msix_ops, &g.r), 0);
    return &g;
}

static void rig_free(struct rig *g)
{
    msix_fini(&g->m);
    msix_route_fini(&g->r);
}

static void entry(struct rig *g, unsigned int vec, uint32_t data,
                  bool masked)
{
    uint32_t e[4] = { 0xFEE00000u, 0, data, masked };

    msix_table_write(&g->m, vec * 16, &e[0], 4);
    msix_table_write(&g->m, vec * 16 + 4, &e[1], 4);
    msix_table_write(&g->m, vec * 16 + 8, &e[2], 4);
    msix_table_write(&g->m, vec * 16 + 12, &e[3], 4);
}

static bool fired(int fd)
{
    eventfd_t v;

    return eventfd_read(fd, &v) == 0 && v > 0;
}

static uint64_t pba(struct rig *g)
{
    uint64_t v;

    msix_pba_read(&g->m, 0, &v, 8);
    return v;
}

static void pend(void *opaque, unsigned int vec)
{
    msix_notify(opaque, vec);
}

static void test_unmask_routes_and_follows(void **state)
{
    struct rig *g = rig_new(true);

    (void)state;
    assert_int_equal(msix_route_init(&(struct msix_route){0}, &g->r.hv, 0,
                                     "x"), -EINVAL);
    msix_set_control(&g->m, MSIX_CTRL_ENABLE);
    assert_int_equal(g->hv.routes, 0);              /* all masked */
    entry(g, 1, 0x41, false);
    assert_int_equal(g->hv.routes, 1);
    assert_true(g->hv.irqfd[24]);
    assert_int_equal(g->hv.irqfd_fd[24], msix_route_fd(&g->r, 1));
    assert_int_equal(g->hv.data[24], 0x41);
    /* The message changes while unmasked: the route follows. */
    entry(g, 1, 0x42, false);
    assert_int_equal(g->hv.routes, 1);
    assert_int_equal(g->hv.data[24], 0x42);
    /* Masked: irqfd off, route kept; a new message waits for unmask. */
    msix_table_write(&g->m, 16 + 12, &(uint32_t){ 1 }, 4);
    entry(g, 1, 0x43, true);
    assert_false(g->hv.irqfd[24]);
    assert_int_equal(g->hv.routes, 1);
    assert_int_equal(g->hv.data[24], 0x42);
    entry(g, 1, 0x43, false);
    assert_true(g->hv.irqfd[24]);
    assert_int_equal(g->hv.adds, 1);
    assert_int_equal(g->hv.data[24], 0x43);
    /* Function mask and disable mask every vector alike. */
    msix_set_control(&g->m, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
    assert_false(g->hv.irqfd[24]);
    msix_set_control(&g->m, MSIX_CTRL_ENABLE);
    assert_true(g->hv.irqfd[24]);
    msix_set_control(&g->m, 0);
    assert_false(g->hv.irqfd[24]);
    rig_free(g);
    assert_int_equal(g->hv.routes, 0);
}

/* The device model raises a vector through msix_notify(): signalled when
 * unmasked; a PBA bit while masked, fired on unmask. */
static void test_model_raises(void **state)
{
    struct rig *g = rig_new(true);
    int fd = msix_route_fd(&g->r, 2);

    (void)state;
    msix_set_control(&g->m, MSIX_CTRL_ENABLE);
    entry(g, 2, 0x50, false);
    msix_notify(&g->m, 2);
    assert_true(fired(fd));
    entry(g, 2, 0x50, true);
    msix_notify(&g->m, 2);
    assert_false(fired(fd));
    assert_int_equal(pba(g), 1u << 2);
    entry(g, 2, 0x50, false);
    assert_true(fired(fd));
    assert_int_equal(pba(g), 0);
    rig_free(g);
}

/* An outside signaller (a vfio-user server) writes the eventfd while the
 * vector is masked: the engine sees it, the PBA bit is set, unmask fires
 * it. */
static void test_outside_signal_while_masked(void **state)
{
    struct rig *g = rig_new(true);
    int fd = msix_route_fd(&g->r, 3);

    (void)state;
    msix_set_control(&g->m, MSIX_CTRL_ENABLE);
    entry(g, 3, 0x60, true);
    assert_int_equal(msix_route_take_pending(&g->r, pend, &g->m), 0);
    eventfd_write(fd, 1);
    assert_int_equal(msix_route_take_pending(&g->r, pend, &g->m), 1);
    assert_int_equal(pba(g), 1u << 3);
    assert_false(fired(fd));                    /* consumed */
    entry(g, 3, 0x60, false);
    assert_true(g->hv.irqfd[24]);
    assert_true(fired(fd));                     /* fired on unmask */
    assert_int_equal(pba(g), 0);
    /* Unmasked: the eventfd is KVM's, not watched. */
    eventfd_write(fd, 1);
    assert_int_equal(msix_route_take_pending(&g->r, pend, &g->m), 0);
    rig_free(g);
}

static void test_failures_retry(void **state)
{
    struct rig *g = rig_new(true);

    (void)state;
    msix_set_control(&g->m, MSIX_CTRL_ENABLE);
    g->hv.fail_add = -ENOSPC;
    entry(g, 0, 0x70, false);
    assert_int_equal(g->hv.routes, 0);
    assert_false(g->hv.irqfd[24]);
    entry(g, 0, 0x70, true);
    entry(g, 0, 0x70, false);                   /* retried on unmask */
    assert_int_equal(g->hv.routes, 1);
    assert_true(g->hv.irqfd[24]);
    g->hv.fail_irqfd = -EBUSY;
    entry(g, 1, 0x71, false);
    assert_int_equal(g->hv.routes, 2);
    assert_false(g->hv.irqfd[25]);
    entry(g, 1, 0x71, true);
    entry(g, 1, 0x71, false);
    assert_true(g->hv.irqfd[25]);
    rig_free(g);
    assert_int_equal(g->hv.routes, 0);
    assert_int_equal(g->hv.dels, 2);
}

static void test_suspend_resume(void **state)
{
    struct rig *g = rig_new(true);

    (void)state;
    msix_set_control(&g->m, MSIX_CTRL_ENABLE);
    entry(g, 0, 0x80, false);
    entry(g, 1, 0x81, false);
    msix_route_suspend(&g->r);
    assert_false(g->hv.irqfd[24]);
    assert_false(g->hv.irqfd[25]);
    entry(g, 0, 0x82, false);                   /* recorded only */
    entry(g, 1, 0x81, true);
    assert_false(g->hv.irqfd[24]);
    assert_int_equal(g->hv.data[24], 0x80);
    eventfd_write(msix_route_fd(&g->r, 1), 1);
    assert_int_equal(msix_route_take_pending(&g->r, pend, &g->m), 0);
    msix_route_resume(&g->r);
    assert_true(g->hv.irqfd[24]);
    assert_int_equal(g->hv.data[24], 0x82);
    assert_false(g->hv.irqfd[25]);              /* masked meanwhile */
    assert_int_equal(msix_route_take_pending(&g->r, pend, &g->m), 1);
    rig_free(g);
}

/* Without a hypervisor (tests, no KVM) vectors only signal eventfds; an
 * out-of-range vector is ignored. */
static void test_no_hv(void **state)
{
    struct rig *g = rig_new(false);

    (void)state;
    msix_set_control(&g->m, MSIX_CTRL_ENABLE);
    entry(g, 0, 0x90, false);
    msix_notify(&g->m, 0);
    assert_true(fired(msix_route_fd(&g->r, 0)));
    msix_route_set(&g->r, NV, 0, 0, false);
    msix_route_signal(&g->r, NV);
    assert_int_equal(msix_route_fd(&g->r, NV), -1);
    assert_true(msix_route_poll_fd(&g->r) >= 0);
    rig_free(g);
    msix_route_fini(&g->r);                     /* twice: no-op */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unmask_routes_and_follows),
        cmocka_unit_test(test_model_raises),
        cmocka_unit_test(test_outside_signal_while_masked),
        cmocka_unit_test(test_failures_retry),
        cmocka_unit_test(test_suspend_resume),
        cmocka_unit_test(test_no_hv),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
