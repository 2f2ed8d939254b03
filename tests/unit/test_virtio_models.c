/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-net, virtio-console and virtio-rng device models (virtio/net.c,
 * console.c, rng.c) over fake flat guest memory, driven with
 * virtio/vring_driver.c: a SOCK_DGRAM socketpair stands in for the tap
 * (one message per frame), pipes for stdio. Frames both ways with the
 * 12-byte header, rx back-pressure and resume, the message-DMA (bounce)
 * path, malformed chains marking the device broken, console input backlog
 * and emerg_wr, rng fills, and state round trips. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "virtio/console.h"
#include "virtio/device.h"
#include "virtio/guest_mem.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vring_driver.h"

#define MEM_GPA  0x100000ULL
#define MEM_SIZE (4u << 20)
#define QSIZE    16
#define BUF_GPA  (MEM_GPA + 0x100000)   /* 4 KiB per buffer slot */

struct fixture {
    uint8_t *host;
    struct virtio_flat_mem fm;
    struct virtio_mem mem;
    struct vring_drv drv[2];
    struct virtio_irq irq;
    unsigned int queue_irqs, config_irqs;
    int sock[2];                /* [0] the "tap" given to the model */
    int in[2], out[2];          /* console pipes */
    bool watching;
    unsigned int want_calls;
    struct virtio_net *net;
    struct virtio_console *con;
    struct virtio_rng *rng;
};

static int irq_queue(void *opaque, uint16_t qidx)
{
    (void)qidx;
    ((struct fixture *)opaque)->queue_irqs++;
    return 0;
}

static int irq_config(void *opaque)
{
    ((struct fixture *)opaque)->config_irqs++;
    return 0;
}

static const struct virtio_irq_ops irq_ops = { irq_queue, irq_config };

static uint8_t *host(struct fixture *f, uint64_t gpa)
{
    return f->host + (gpa - MEM_GPA);
}

static uint64_t buf_gpa(unsigned int slot)
{
    return BUF_GPA + 0x1000ULL * slot;
}

static struct fixture *new_fixture(bool shared, unsigned int nq)
{
    struct fixture *f = calloc(1, sizeof(*f));
    uint64_t end;

    assert_non_null(f);
    f->host = calloc(1, MEM_SIZE);
    assert_non_null(f->host);
    virtio_flat_mem_init(&f->fm, f->host, MEM_GPA, MEM_SIZE, shared,
                         &f->mem);
    f->irq = (struct virtio_irq){ &irq_ops, f };
    for (unsigned int i = 0; i < nq; i++)
        assert_int_equal(vring_drv_init(&f->drv[i], &f->mem, QSIZE,
                                        MEM_GPA + i * 0x10000, &end), 0);
    f->sock[0] = f->sock[1] = f->in[0] = f->in[1] = f->out[0] = -1;
    f->out[1] = -1;
    return f;
}

static void close_fds(struct fixture *f)
{
    int *fds[] = { f->sock, f->in, f->out };

    for (unsigned int i = 0; i < 3; i++)
        for (unsigned int k = 0; k < 2; k++)
            if (fds[i][k] >= 0)
                close(fds[i][k]);
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    virtio_net_destroy(f->net);
    virtio_console_destroy(f->con);
    virtio_rng_destroy(f->rng);
    close_fds(f);
    free(f->host);
    free(f);
    return 0;
}

/* Post one buffer of @len bytes at slot @slot on queue @q. */
static uint16_t post(struct fixture *f, unsigned int q, unsigned int slot,
                     uint32_t len, bool write)
{
    struct vring_drv_buf b = { buf_gpa(slot), len, write };
    uint16_t head;

    assert_int_equal(vring_drv_add_chain(&f->drv[q], &b, 1, 0, &head), 0);
    assert_int_equal(vring_drv_publish(&f->drv[q], head), 0);
    return head;
}

/* --- virtio-net ---------------------------------------------------------- */

static int setup_net_with(void **state, bool shared)
{
    struct fixture *f = new_fixture(shared, 2);
    struct virtio_net_params p = { .mac = { 0x52, 0x54, 0, 1, 2, 3 } };

    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0,
                                f->sock), 0);
    p.tap_fd = f->sock[0];
    assert_int_equal(virtio_net_create(&p, &f->mem, &f->irq, &f->net), 0);
    assert_int_equal(vring_drv_setup_device(virtio_net_vdev(f->net),
                                            f->drv), 0);
    *state = f;
    return 0;
}

static int setup_net(void **state)
{
    return setup_net_with(state, true);
}

static int setup_net_bounce(void **state)
{
    return setup_net_with(state, false);
}

static void test_net_config(void **state)
{
    struct fixture *f = *state;
    struct virtio_dev *vdev = virtio_net_vdev(f->net);
    uint8_t cfg[8];

    assert_int_equal(virtio_dev_config_read(vdev, 0, cfg, 8), 0);
    assert_memory_equal(cfg, "\x52\x54\x00\x01\x02\x03", 6);
    assert_int_equal(cfg[6], VIRTIO_NET_S_LINK_UP);
    assert_true(vdev->device_features & (1ULL << VIRTIO_NET_F_MAC));
    assert_true(vdev->device_features & (1ULL << VIRTIO_NET_F_HOST_TSO4));
    /* No TUNSETOFFLOAD on this "tap": no guest offloads offered. */
    assert_false(vdev->device_features & (1ULL << VIRTIO_NET_F_GUEST_CSUM));
    assert_int_equal(virtio_dev_config_read(vdev, 10, cfg, 4), -EINVAL);
}

static void test_net_tx(void **state)
{
    struct fixture *f = *state;
    uint8_t frame[200];
    uint32_t id, len;

    memset(host(f, buf_gpa(0)), 0, 12);
    memcpy(host(f, buf_gpa(0)) + 12, "frame-from-guest", 16);
    post(f, 1, 0, 12 + 60, false);
    assert_int_equal(virtio_dev_queue_notify(virtio_net_vdev(f->net), 1), 0);
    assert_int_equal(recv(f->sock[1], frame, sizeof(frame), 0), 72);
    assert_memory_equal(frame + 12, "frame-from-guest", 16);
    assert_int_equal(vring_drv_get_used(&f->drv[1], &id, &len), 1);
    assert_int_equal(len, 0);
    assert_true(f->queue_irqs >= 1);
    /* A chain shorter than the header is dropped, still completed. */
    post(f, 1, 1, 4, false);
    virtio_dev_queue_notify(virtio_net_vdev(f->net), 1);
    assert_int_equal(vring_drv_get_used(&f->drv[1], &id, &len), 1);
    assert_int_equal(recv(f->sock[1], frame, sizeof(frame), 0), -1);
}

static void send_frame(struct fixture *f, const char *payload)
{
    uint8_t frame[128] = { 0 };
    size_t n = 12 + strlen(payload);

    memcpy(frame + 12, payload, strlen(payload));
    assert_int_equal(send(f->sock[1], frame, n, 0), (ssize_t)n);
}

static void test_net_rx_backpressure(void **state)
{
    struct fixture *f = *state;
    struct virtio_net_hdr_v1 *h;
    uint32_t id, len;

    /* Frames before any buffer: nothing happens, they wait in the tap. */
    send_frame(f, "first");
    send_frame(f, "second");
    virtio_net_handle_tap(f->net);
    assert_int_equal(vring_drv_get_used(&f->drv[0], &id, &len), 0);
    /* A buffer and the rx doorbell resume reading: one frame. */
    post(f, 0, 0, 2048, true);
    virtio_dev_queue_notify(virtio_net_vdev(f->net), 0);
    assert_int_equal(vring_drv_get_used(&f->drv[0], &id, &len), 1);
    assert_int_equal(len, 12 + 5);
    h = (struct virtio_net_hdr_v1 *)host(f, buf_gpa(0));
    assert_int_equal(h->num_buffers, 1);
    assert_memory_equal(host(f, buf_gpa(0)) + 12, "first", 5);
    post(f, 0, 1, 2048, true);
    virtio_dev_queue_notify(virtio_net_vdev(f->net), 0);
    assert_int_equal(vring_drv_get_used(&f->drv[0], &id, &len), 1);
    assert_memory_equal(host(f, buf_gpa(1)) + 12, "second", 6);
    /* Tap empty, buffer posted: the next frame goes straight in. */
    post(f, 0, 2, 2048, true);
    virtio_dev_queue_notify(virtio_net_vdev(f->net), 0);
    send_frame(f, "third");
    virtio_net_handle_tap(f->net);
    assert_int_equal(vring_drv_get_used(&f->drv[0], &id, &len), 1);
    assert_memory_equal(host(f, buf_gpa(2)) + 12, "third", 5);
}

static void test_net_malformed(void **state)
{
    struct fixture *f = *state;
    struct vring_drv_buf b = { MEM_GPA + MEM_SIZE + 0x1000, 64, false };
    uint16_t head;

    assert_int_equal(vring_drv_add_chain(&f->drv[1], &b, 1, 0, &head), 0);
    assert_int_equal(vring_drv_publish(&f->drv[1], head), 0);
    /* A buffer outside guest memory: the queue breaks, the device asks
     * for a reset (config interrupt), minivmm carries on. */
    virtio_dev_queue_notify(virtio_net_vdev(f->net), 1);
    assert_true(virtio_net_vdev(f->net)->status & VIRTIO_DEV_S_NEEDS_RESET);
    assert_true(f->config_irqs >= 1);
}

static void test_net_save_load(void **state)
{
    struct fixture *f = *state;
    static char fdt[8192];
    int node;

    assert_int_equal(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
    node = fdt_add_subnode(fdt, 0, "net");
    assert_int_equal(virtio_net_state_ops.save(f->net, fdt, node), 0);
    assert_int_equal(virtio_net_state_ops.load(f->net, fdt, node), 0);
    /* Another MAC is another device. */
    fdt_setprop_inplace_namelen_partial(fdt, node, "config", 6, 5, "\x99",
                                        1);
    assert_int_equal(virtio_net_state_ops.load(f->net, fdt, node), -EINVAL);
}

/* --- virtio-console ------------------------------------------------------ */

static void want_input(void *opaque, bool on)
{
    struct fixture *f = opaque;

    f->watching = on;
    f->want_calls++;
}

static int setup_con(void **state)
{
    struct fixture *f = new_fixture(true, 2);
    struct virtio_console_params p = { .want_input = want_input };

    assert_int_equal(pipe2(f->in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(f->out, O_CLOEXEC), 0);
    p.in_fd = f->in[0];
    p.out_fd = f->out[1];
    p.opaque = f;
    assert_int_equal(virtio_console_create(&p, &f->mem, &f->irq, &f->con),
                     0);
    assert_int_equal(vring_drv_setup_device(virtio_console_vdev(f->con),
                                            f->drv), 0);
    *state = f;
    return 0;
}

static void test_con_tx_and_emerg(void **state)
{
    struct fixture *f = *state;
    struct virtio_dev *vdev = virtio_console_vdev(f->con);
    char out[64] = { 0 };
    uint32_t id, len;

    memcpy(host(f, buf_gpa(0)), "hello hvc0\n", 11);
    post(f, 1, 0, 11, false);
    assert_int_equal(virtio_dev_queue_notify(vdev, 1), 0);
    assert_int_equal(vring_drv_get_used(&f->drv[1], &id, &len), 1);
    assert_int_equal(virtio_dev_config_write(vdev, 8, "!", 1), 0);
    assert_int_equal(read(f->out[0], out, sizeof(out)), 12);
    assert_string_equal(out, "hello hvc0\n!");
}

static void test_con_rx_backlog(void **state)
{
    struct fixture *f = *state;
    struct virtio_dev *vdev = virtio_console_vdev(f->con);
    uint32_t id, len;

    /* Not watching until the driver posts receive buffers. */
    assert_false(f->watching);
    post(f, 0, 0, 4, true);
    virtio_dev_queue_notify(vdev, 0);
    assert_true(f->watching);
    /* 10 bytes in, 4 fit: the rest waits in the backlog. */
    assert_int_equal(write(f->in[1], "0123456789", 10), 10);
    virtio_console_handle_input(f->con);
    assert_int_equal(vring_drv_get_used(&f->drv[0], &id, &len), 1);
    assert_int_equal(len, 4);
    assert_memory_equal(host(f, buf_gpa(0)), "0123", 4);
    post(f, 0, 1, 64, true);
    virtio_dev_queue_notify(vdev, 0);
    assert_int_equal(vring_drv_get_used(&f->drv[0], &id, &len), 1);
    assert_int_equal(len, 6);
    assert_memory_equal(host(f, buf_gpa(1)), "456789", 6);
    /* EOF: stop watching for good. */
    close(f->in[1]);
    f->in[1] = -1;
    virtio_console_handle_input(f->con);
    assert_false(f->watching);
    post(f, 0, 2, 64, true);
    virtio_dev_queue_notify(vdev, 0);
    assert_false(f->watching);
}

static void test_con_save_load(void **state)
{
    struct fixture *f = *state;
    static char fdt[8192];
    uint32_t id, len;
    int node;

    post(f, 0, 0, 2, true);
    virtio_dev_queue_notify(virtio_console_vdev(f->con), 0);
    assert_int_equal(write(f->in[1], "abcdef", 6), 6);
    virtio_console_handle_input(f->con);        /* 4 bytes left over */
    assert_int_equal(vring_drv_get_used(&f->drv[0], &id, &len), 1);
    assert_int_equal(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
    node = fdt_add_subnode(fdt, 0, "console");
    assert_int_equal(virtio_console_state_ops.save(f->con, fdt, node), 0);
    assert_int_equal(virtio_console_state_ops.load(f->con, fdt, node), 0);
    post(f, 0, 1, 64, true);
    virtio_dev_queue_notify(virtio_console_vdev(f->con), 0);
    assert_int_equal(vring_drv_get_used(&f->drv[0], &id, &len), 1);
    assert_int_equal(len, 4);
    assert_memory_equal(host(f, buf_gpa(1)), "cdef", 4);
}

/* --- virtio-rng ---------------------------------------------------------- */

static int setup_rng(void **state)
{
    struct fixture *f = new_fixture(false, 1);

    assert_int_equal(virtio_rng_create(&f->mem, &f->irq, &f->rng), 0);
    assert_int_equal(vring_drv_setup_device(virtio_rng_vdev(f->rng),
                                            f->drv), 0);
    *state = f;
    return 0;
}

static void test_rng_fill(void **state)
{
    struct fixture *f = *state;
    static const uint8_t zero[256];
    struct vring_drv_buf b[2] = { { buf_gpa(0), 200, true },
                                  { buf_gpa(1), 56, true } };
    uint32_t id, len;
    uint16_t head;

    assert_int_equal(vring_drv_add_chain(&f->drv[0], b, 2, 0, &head), 0);
    assert_int_equal(vring_drv_publish(&f->drv[0], head), 0);
    assert_int_equal(virtio_dev_queue_notify(virtio_rng_vdev(f->rng), 0), 0);
    assert_int_equal(vring_drv_get_used(&f->drv[0], &id, &len), 1);
    assert_int_equal(id, head);
    assert_int_equal(len, 256);
    assert_memory_not_equal(host(f, buf_gpa(0)), zero, 200);
    assert_memory_not_equal(host(f, buf_gpa(1)), zero, 56);
    assert_int_equal(virtio_rng_bytes(f->rng), 256);
    assert_int_equal(f->queue_irqs, 1);
    /* A read-only buffer gets nothing, but completes. */
    post(f, 0, 2, 16, false);
    virtio_dev_queue_notify(virtio_rng_vdev(f->rng), 0);
    assert_int_equal(vring_drv_get_used(&f->drv[0], &id, &len), 1);
    assert_int_equal(len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_net_config, setup_net,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_net_tx, setup_net, teardown),
        cmocka_unit_test_setup_teardown(test_net_tx, setup_net_bounce,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_net_rx_backpressure, setup_net,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_net_rx_backpressure,
                                        setup_net_bounce, teardown),
        cmocka_unit_test_setup_teardown(test_net_malformed, setup_net,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_net_save_load, setup_net,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_con_tx_and_emerg, setup_con,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_con_rx_backlog, setup_con,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_con_save_load, setup_con,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rng_fill, setup_rng, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
