/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for the vfio-user client's event-loop side under a server
 * that stops half-way (issue 10, "Hangs"): vfio_client_handle_ready()
 * never waits on the server. A DMA_WRITE command cut after 20 bytes is
 * kept in the channel's buffer and fails the device when the deadline
 * timer fires; a flood of DMA_READs whose replies the server never reads
 * stops being served (back-pressure) and fails the device after the
 * deadline. Both hang in recvmsg()/sendmsg() on the old code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>

#include "vfio/client/client.h"
#include "test_vfio_client_fake.h"

static int fail_calls;

static void on_fail(void *opaque)
{
    (void)opaque;
    fail_calls++;
}

static struct vfio_client *connect_twin(struct fake *f, unsigned int tmo)
{
    struct vfio_client_opts o = {.name = "hang", .timeout_ms = tmo,
                                 .on_fail = on_fail};
    struct vfio_client *c;
    char err[200] = "";

    fake_init(f);
    f->twin = true;
    fake_start(f);
    assert_int_equal(vfio_client_new(f->cfd, &o, &c, err, sizeof(err)), 0);
    assert_true(vfio_client_twin(c));
    fail_calls = 0;
    return c;
}

/* Run the client's loop side for up to @ms or until it fails; every
 * handle_ready() call must return within 100 ms. Returns the ms spent. */
static int64_t loop_until_failed(struct vfio_client *c, int64_t ms,
                                 int sock, const uint8_t *cmd, size_t len)
{
    struct pollfd p = {.fd = vfio_client_poll_fd(c), .events = POLLIN};
    int64_t t0 = vfio_user_conn_now_ms(), t;
    size_t off = 0;
    ssize_t n;

    while (!vfio_client_failed(c) && vfio_user_conn_now_ms() - t0 < ms) {
        /* Flood mode: commands as fast as the socket takes them. */
        while (cmd && (n = send(sock, cmd + off, len - off,
                                MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
            off = (off + (size_t)n) % len;
        if (poll(&p, 1, 10) <= 0)
            continue;
        t = vfio_user_conn_now_ms();
        vfio_client_handle_ready(c);
        assert_true(vfio_user_conn_now_ms() - t < 100);
    }
    return vfio_user_conn_now_ms() - t0;
}

static void test_partial_command_times_out(void **state)
{
    struct fake f;
    struct vfio_client *c = connect_twin(&f, 200);
    struct vfio_user_header h = {
        .msg_id = 9, .cmd = VFIO_USER_DMA_WRITE, .msg_size = 16 + 24,
        .flags = VFIO_USER_F_TYPE_COMMAND,
    };
    uint8_t b[20] = {0};
    int64_t spent;

    (void)state;
    memcpy(b, &h, sizeof(h));
    assert_int_equal(write(vfio_user_conn_fd(f.conn, VFIO_USER_CHAN_TWIN), b,
                           sizeof(b)),
                     (ssize_t)sizeof(b));
    spent = loop_until_failed(c, 150, -1, NULL, 0);
    assert_false(vfio_client_failed(c)); /* not before the deadline */
    assert_int_equal(vfio_client_reset(c), 0); /* MAIN still works */
    spent += loop_until_failed(c, 3000, -1, NULL, 0);
    assert_true(vfio_client_failed(c));
    assert_int_equal(fail_calls, 1);
    assert_true(spent >= 150 && spent < 1000);
    fake_stop(&f);
    vfio_client_free(c);
}

static void test_dma_flood_backpressure(void **state)
{
    struct fake f;
    struct vfio_client *c = connect_twin(&f, 200);
    struct vfio_user_header h = {
        .msg_id = 1, .cmd = VFIO_USER_DMA_READ, .msg_size = 16 + 16,
        .flags = VFIO_USER_F_TYPE_COMMAND,
    };
    struct vfio_user_dma_access a = {.address = 0x1000, .count = 8};
    uint8_t b[32];
    int64_t spent;

    (void)state;
    memcpy(b, &h, sizeof(h));
    memcpy(b + 16, &a, sizeof(a));
    /* Unmapped address: each command gets a 16-byte error reply, which the
     * "server" never reads. */
    spent = loop_until_failed(c, 20000,
                              vfio_user_conn_fd(f.conn, VFIO_USER_CHAN_TWIN),
                              b, sizeof(b));
    assert_true(vfio_client_failed(c));
    assert_int_equal(fail_calls, 1);
    assert_true(spent < 20000);
    fake_stop(&f);
    vfio_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial_command_times_out),
        cmocka_unit_test(test_dma_flood_backpressure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
