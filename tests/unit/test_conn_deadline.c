/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vfio/conn.c's deadlines and buffering (issue 10 "Hangs"):
 * a non-blocking receive assembles a message across calls (header and
 * payload split, fds with the first byte) without ever waiting; a blocking
 * receive gives up at the whole-message deadline, counted from the first
 * byte even when bytes keep coming; the reply queue never blocks, pauses
 * at VFIO_USER_CONN_TXQ_PAUSE, reports a deadline while the peer does not
 * read, drains when it does, goes before a blocking send, and refuses to
 * grow past its bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfio/proto/conn.h"

struct pair {
    struct vfio_user_conn *cli, *srv;
    int sv[2];
};

static void pair_open(struct pair *p)
{
    struct vfio_user_caps caps;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->sv),
                     0);
    assert_int_equal(vfio_user_conn_new(p->sv[0], &p->cli), 0);
    assert_int_equal(vfio_user_conn_new(p->sv[1], &p->srv), 0);
    vfio_user_caps_default(&caps);
    caps.max_msg_fds = 2;
    vfio_user_conn_set_caps(p->cli, &caps, &caps);
    vfio_user_conn_set_caps(p->srv, &caps, &caps);
}

static void pair_close(struct pair *p)
{
    vfio_user_conn_free(p->cli);
    vfio_user_conn_free(p->srv);
}

/* Write @len raw bytes on @sock, with @fd attached if >= 0. */
static void raw_send(int sock, const void *b, size_t len, int fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } cb;
    struct iovec iov = {(void *)b, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    struct cmsghdr *cm;

    if (fd >= 0) {
        memset(&cb, 0, sizeof(cb));
        mh.msg_control = cb.buf;
        mh.msg_controllen = sizeof(cb.buf);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    }
    assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)len);
}

static void mkmsg(uint8_t *b, uint16_t id, uint32_t plen)
{
    struct vfio_user_header h = {id, VFIO_USER_DMA_WRITE, 16 + plen,
                                 VFIO_USER_F_TYPE_COMMAND, 0};

    memcpy(b, &h, sizeof(h));
    for (uint32_t i = 0; i < plen; i++)
        b[16 + i] = (uint8_t)(i + id);
}

/* A message in four pieces (8 header bytes with an fd, 8 more, payload in
 * two): -EAGAIN after each of the first three, whole after the last. */
static void test_assemble_across_calls(void **state)
{
    struct pair p;
    struct vfio_user_expect e;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    uint8_t b[16 + 40], buf[64];
    size_t cut[] = {0, 8, 16, 30, sizeof(b)};
    int efd = eventfd(0, EFD_CLOEXEC);

    (void)state;
    pair_open(&p);
    mkmsg(b, 3, 40);
    vfio_user_conn_expect_command(p.cli, &e);
    e.max_fds = 2;
    m->payload = buf;
    m->payload_cap = sizeof(buf);
    for (int i = 0; i < 4; i++) {
        raw_send(p.sv[1], b + cut[i], cut[i + 1] - cut[i], i ? -1 : efd);
        assert_int_equal(vfio_user_conn_recv(p.cli, VFIO_USER_CHAN_MAIN, &e,
                                             true, m, NULL),
                         i < 3 ? -EAGAIN : 0);
        assert_int_equal(vfio_user_conn_deadline(p.cli, NULL), INT64_MAX);
    }
    assert_int_equal(m->hdr.msg_id, 3);
    assert_int_equal(m->payload_len, 40);
    assert_memory_equal(buf, b + 16, 40);
    assert_int_equal(m->nfds, 1);
    vfio_user_msg_close_fds(m);
    /* Nothing more: -EAGAIN, not a wait. */
    assert_int_equal(vfio_user_conn_recv(p.cli, VFIO_USER_CHAN_MAIN, &e, true,
                                         m, NULL),
                     -EAGAIN);
    assert_false(vfio_user_conn_failed(p.cli));
    close(efd);
    pair_close(&p);
    free(m);
}

/* A half message: the deadline is reported from its first byte, and a
 * blocking receive ends there (not at timeout-from-the-call) with
 * -ETIMEDOUT, failing the connection. */
static void test_partial_deadline(void **state)
{
    struct pair p;
    struct vfio_user_expect e;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    uint8_t b[16 + 8], buf[16];
    const char *what = NULL, *why = NULL;
    int64_t t0, dl, t;

    (void)state;
    pair_open(&p);
    vfio_user_conn_set_timeout(p.cli, 300);
    mkmsg(b, 1, 8);
    vfio_user_conn_expect_command(p.cli, &e);
    m->payload = buf;
    m->payload_cap = sizeof(buf);
    t0 = vfio_user_conn_now_ms();
    raw_send(p.sv[1], b, 20, -1);
    assert_int_equal(vfio_user_conn_recv(p.cli, VFIO_USER_CHAN_MAIN, &e, true,
                                         m, NULL),
                     -EAGAIN);
    dl = vfio_user_conn_deadline(p.cli, &what);
    assert_true(dl >= t0 + 300 && dl <= t0 + 350);
    assert_string_equal(what, "message incomplete");
    usleep(200000);
    raw_send(p.sv[1], b + 20, 1, -1); /* still coming, one byte */
    assert_int_equal(vfio_user_conn_recv(p.cli, VFIO_USER_CHAN_MAIN, &e,
                                         false, m, &why),
                     -ETIMEDOUT);
    t = vfio_user_conn_now_ms();
    assert_true(t >= dl && t < t0 + 450); /* not 200 + 300 */
    assert_string_equal(why, "message incomplete at the deadline");
    assert_true(vfio_user_conn_failed(p.cli));
    assert_int_equal(vfio_user_conn_deadline(p.cli, NULL), INT64_MAX);
    pair_close(&p);
    free(m);
}

/* Nothing at all: a blocking receive waits the timeout, then fails. */
static void test_silent_peer(void **state)
{
    struct pair p;
    struct vfio_user_expect e;
    struct vfio_user_msg m = {0};
    int64_t t0;

    (void)state;
    pair_open(&p);
    vfio_user_conn_set_timeout(p.cli, 100);
    vfio_user_conn_expect_command(p.cli, &e);
    t0 = vfio_user_conn_now_ms();
    assert_int_equal(vfio_user_conn_recv(p.cli, VFIO_USER_CHAN_MAIN, &e,
                                         false, &m, NULL),
                     -ETIMEDOUT);
    assert_true(vfio_user_conn_now_ms() - t0 >= 100);
    assert_true(vfio_user_conn_failed(p.cli));
    pair_close(&p);
}

/* Fill @c's queue with 4 KiB replies until it pauses; returns how many. */
static unsigned int fill_queue(struct vfio_user_conn *c, const void *pl)
{
    struct vfio_user_header req = {.msg_id = 1, .cmd = VFIO_USER_DMA_READ};
    unsigned int n = 0;

    while (!vfio_user_conn_tx_paused(c, VFIO_USER_CHAN_MAIN)) {
        assert_int_equal(vfio_user_conn_queue_reply(c, VFIO_USER_CHAN_MAIN,
                                                    &req, pl, 4096),
                         0);
        assert_true(++n < 10000);
    }
    return n;
}

/* The peer does not read: queueing never blocks, pauses, reports the
 * deadline; once the peer reads, flushing drains it all, in order, and a
 * blocking send goes after the queued replies. */
static void test_queue_backpressure(void **state)
{
    struct pair p;
    struct vfio_user_expect e;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    uint8_t *pl = calloc(1, 4096), *buf = malloc(8192);
    const char *what = NULL;
    unsigned int n, got = 0;
    int r;

    (void)state;
    pair_open(&p);
    vfio_user_conn_set_timeout(p.cli, 500);
    n = fill_queue(p.cli, pl);
    assert_true(vfio_user_conn_queued(p.cli, VFIO_USER_CHAN_MAIN) >=
                VFIO_USER_CONN_TXQ_PAUSE);
    assert_int_equal(vfio_user_conn_flush(p.cli, VFIO_USER_CHAN_MAIN),
                     -EAGAIN);
    assert_true(vfio_user_conn_deadline(p.cli, &what) != INT64_MAX);
    assert_string_equal(what, "peer does not read its replies");
    /* The peer reads: everything arrives, replies first. */
    vfio_user_conn_expect_reply(p.srv, VFIO_USER_DMA_READ, 1, &e);
    e.type = VFIO_USER_EXPECT_ANY;
    e.any_reply_id = true;
    m->payload = buf;
    m->payload_cap = 8192;
    for (;;) {
        vfio_user_conn_flush(p.cli, VFIO_USER_CHAN_MAIN);
        r = vfio_user_conn_recv(p.srv, VFIO_USER_CHAN_MAIN, &e, true, m,
                                NULL);
        assert_true(r == 0 || r == -EAGAIN);
        if (r == -EAGAIN && !vfio_user_conn_queued(p.cli,
                                                   VFIO_USER_CHAN_MAIN))
            break;
        if (r == 0) {
            assert_int_equal(m->hdr.cmd, VFIO_USER_DMA_READ);
            got++;
        }
    }
    assert_int_equal(got, n);
    assert_int_equal(vfio_user_conn_deadline(p.cli, NULL), INT64_MAX);
    assert_false(vfio_user_conn_failed(p.cli));
    pair_close(&p);
    free(pl);
    free(buf);
    free(m);
}

/* A blocking send behind a queue the peer never drains: -ETIMEDOUT. */
static void test_send_deadline(void **state)
{
    struct pair p;
    uint8_t *pl = calloc(1, 4096);
    int64_t t0;

    (void)state;
    pair_open(&p);
    vfio_user_conn_set_timeout(p.cli, 150);
    fill_queue(p.cli, pl);
    t0 = vfio_user_conn_now_ms();
    assert_int_equal(vfio_user_conn_send_command(p.cli, VFIO_USER_CHAN_MAIN,
                                                 VFIO_USER_DEVICE_RESET, 0,
                                                 NULL, 0, NULL, 0, NULL),
                     -ETIMEDOUT);
    assert_true(vfio_user_conn_now_ms() - t0 >= 150);
    assert_true(vfio_user_conn_failed(p.cli));
    pair_close(&p);
    free(pl);
}

/* A caller that ignores the pause hits the bound: -ENOBUFS, failed. */
static void test_queue_bound(void **state)
{
    struct pair p;
    struct vfio_user_header req = {.msg_id = 1, .cmd = VFIO_USER_DMA_READ};
    uint8_t *pl = calloc(1, 65536);
    int r = 0;

    (void)state;
    pair_open(&p);
    for (int i = 0; i < 1000 && r == 0; i++)
        r = vfio_user_conn_queue_reply(p.cli, VFIO_USER_CHAN_MAIN, &req, pl,
                                       65536);
    assert_int_equal(r, -ENOBUFS);
    assert_true(vfio_user_conn_failed(p.cli));
    assert_int_equal(vfio_user_conn_queue_error(p.cli, VFIO_USER_CHAN_MAIN,
                                                &req, EIO),
                     -ENOTCONN);
    pair_close(&p);
    free(pl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assemble_across_calls),
        cmocka_unit_test(test_partial_deadline),
        cmocka_unit_test(test_silent_peer),
        cmocka_unit_test(test_queue_backpressure),
        cmocka_unit_test(test_send_deadline),
        cmocka_unit_test(test_queue_bound),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
