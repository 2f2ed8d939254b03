/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/pci_host.c over a real event loop, a virtio-pci transport (no
 * hypervisor) and a fake one-queue device model: doorbells and backend
 * fds reach the model; between the registry's quiesce and resume nothing
 * does (kicks and backend events are held, a level-triggered fd leaves
 * the loop), and resume runs the model's hook, then what was held, once;
 * save/load are the transport's; watch/unwatch bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>
#include <libfdt.h>

#include "virtio/guest_mem.h"
#include "virtio/pci_host.h"

struct fx {
    struct evloop *loop;
    struct virtio_pci *vp;
    struct virtio_host *h;
    struct virtq q;
    struct virtio_dev vdev;
    uint8_t ram[4096];
    struct virtio_flat_mem fm;
    struct virtio_mem mem;
    struct devreg_entry e;
    int backend;                /* eventfd the model watches */
    int quit;                   /* eventfd ending one loop pass */
    unsigned int notifies, backend_runs, quiesces, resumes;
    unsigned int order;         /* resumes * 10 + backend_runs at a run */
    unsigned int quit_pass;
};

static void model_reset(struct virtio_dev *vdev)
{
    (void)vdev;
}

static int model_cfg(struct virtio_dev *vdev, uint32_t off, void *buf,
                     uint32_t len)
{
    (void)vdev, (void)off;
    memset(buf, 0, len);
    return 0;
}

static int model_notify(struct virtio_dev *vdev, uint16_t qidx)
{
    (void)qidx;
    ((struct fx *)vdev->priv)->notifies++;
    return 0;
}

static const struct virtio_dev_ops model_ops = {
    .reset = model_reset,
    .config_read = model_cfg,
    .queue_notify = model_notify,
};

static void backend_ready(void *model)
{
    struct fx *f = model;
    eventfd_t v;

    eventfd_read(f->backend, &v);
    f->backend_runs++;
    f->order = f->resumes * 10 + f->backend_runs;
}

static int model_quiesce(void *model)
{
    ((struct fx *)model)->quiesces++;
    return 0;
}

static int model_resume(void *model)
{
    ((struct fx *)model)->resumes++;
    return 0;
}

static const struct virtio_host_model hooks = {
    .quiesce = model_quiesce,
    .resume = model_resume,
};

static void on_quit(void *opaque, int fd, uint32_t events)
{
    struct fx *f = opaque;
    eventfd_t v;

    (void)fd, (void)events;
    eventfd_read(f->quit, &v);
    if (++f->quit_pass < 2)
        eventfd_write(f->quit, 1);  /* quit in the next batch */
    else
        evloop_quit(f->loop);
}

/* Run the loop over everything ready now: the quit eventfd quits only in
 * the second batch it is seen in, so the first batch (with every event
 * ready before the pump, in whatever order epoll lists them) runs whole. */
static void pump(struct fx *f)
{
    f->quit_pass = 0;
    eventfd_write(f->quit, 1);
    assert_int_equal(evloop_run(f->loop), 0);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct virtio_pci_params p = {
        .device_type = 4, .class_code = 0x00FF00, .num_queues = 1,
    };
    struct virtio_irq irq;

    assert_non_null(f);
    assert_int_equal(evloop_create(&f->loop), 0);
    virtio_flat_mem_init(&f->fm, f->ram, 0x1000, sizeof(f->ram), true,
                         &f->mem);
    assert_int_equal(virtq_init(&f->q, &f->mem, 8), 0);
    assert_int_equal(virtio_pci_create(&p, &f->vp), 0);
    irq = virtio_pci_irq(f->vp);
    assert_int_equal(virtio_dev_init(&f->vdev, 4, 0, &f->q, 1, &model_ops,
                                     f, &irq), 0);
    assert_int_equal(virtio_pci_attach(f->vp, &f->vdev, NULL, NULL), 0);
    f->vdev.status = VIRTIO_DEV_S_DRIVER_OK;
    assert_int_equal(virtio_host_create(f->loop, f->vp, &hooks, f, &f->h),
                     0);
    f->backend = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    f->quit = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    assert_int_equal(evloop_add(f->loop, f->quit, EPOLLIN, on_quit, f), 0);
    assert_int_equal(virtio_host_watch(f->h, f->backend, EPOLLIN,
                                       backend_ready), 0);
    virtio_pci_devreg_ops(f->h, &f->e);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    virtio_host_destroy(f->h);
    evloop_del(f->loop, f->quit);
    virtio_pci_destroy(f->vp);
    evloop_destroy(f->loop);
    close(f->backend);
    close(f->quit);
    free(f);
    return 0;
}

static void test_events_reach_model(void **state)
{
    struct fx *f = *state;

    eventfd_write(virtio_pci_doorbell_fd(f->vp, 0), 1);
    eventfd_write(f->backend, 1);
    pump(f);
    assert_int_equal(f->notifies, 1);
    assert_int_equal(f->backend_runs, 1);
}

static void test_paused_events_held(void **state)
{
    struct fx *f = *state;

    assert_non_null(f->e.quiesce);
    assert_int_equal(f->e.opaque, f->h);
    assert_int_equal(f->e.quiesce(f->e.opaque), 0);
    assert_int_equal(f->quiesces, 1);
    eventfd_write(virtio_pci_doorbell_fd(f->vp, 0), 1);
    eventfd_write(f->backend, 1);
    pump(f);
    pump(f);                    /* the level-triggered fd left the loop */
    assert_int_equal(f->notifies, 0);
    assert_int_equal(f->backend_runs, 0);
    assert_int_equal(f->e.resume(f->e.opaque), 0);
    assert_int_equal(f->resumes, 1);
    assert_int_equal(f->notifies, 1);       /* the held kick, once */
    assert_int_equal(f->backend_runs, 1);   /* the held event, once */
    assert_int_equal(f->order, 11);         /* after the model resumed */
    /* Back in the loop: new events flow again. */
    eventfd_write(f->backend, 1);
    pump(f);
    assert_int_equal(f->backend_runs, 2);
    /* A pause with nothing happening replays nothing. */
    f->e.quiesce(f->e.opaque);
    f->e.resume(f->e.opaque);
    assert_int_equal(f->notifies, 1);
    assert_int_equal(f->backend_runs, 2);
}

static void test_watch_bounds(void **state)
{
    struct fx *f = *state;
    int a = eventfd(0, EFD_CLOEXEC), b = eventfd(0, EFD_CLOEXEC);

    assert_int_equal(virtio_host_watch(f->h, f->backend, EPOLLIN,
                                       backend_ready), 0);   /* again */
    assert_int_equal(virtio_host_watch(f->h, a, EPOLLIN, backend_ready), 0);
    assert_int_equal(virtio_host_watch(f->h, b, EPOLLIN, backend_ready),
                     -ENOSPC);
    assert_int_equal(virtio_host_unwatch(f->h, b), -ENOENT);
    assert_int_equal(virtio_host_unwatch(f->h, a), 0);
    assert_int_equal(virtio_host_unwatch(f->h, -1), -ENOENT);
    /* Unwatched: an event no longer reaches the model. */
    assert_int_equal(virtio_host_unwatch(f->h, f->backend), 0);
    eventfd_write(f->backend, 1);
    pump(f);
    assert_int_equal(f->backend_runs, 0);
    close(a);
    close(b);
}

static void test_state_is_the_transport(void **state)
{
    struct fx *f = *state;
    static char fdt[16384];
    int node;

    assert_int_equal(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
    node = fdt_add_subnode(fdt, 0, "virtio-rng");
    assert_true(node >= 0);
    assert_int_equal(f->e.state->save(f->e.opaque, fdt, node), 0);
    assert_non_null(fdt_getprop(fdt, node, "msix-table", NULL));
    assert_non_null(fdt_getprop(fdt, node, "queues", NULL));
    assert_int_equal(f->e.state->load(f->e.opaque, fdt, node), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_events_reach_model, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_paused_events_held, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_watch_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_is_the_transport, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
