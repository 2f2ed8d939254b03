/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vfio/proto/endpoint.c (moved here from test_conn.c with
 * the request/reply engine): a call on the main socket with a server
 * DMA_WRITE interleaved, a reply with a wrong msg_id, the twin socket, the
 * event-loop hook's error reply, and the deferral of peer commands (the
 * server role). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfio/proto/endpoint.h"

struct pair {
    struct vfio_user_conn *cli, *srv;
    struct vfio_user_ep *ep; /* over cli */
};

/* Client-side handler for server->client commands. */
struct cli_ctx {
    int dma_writes;
    uint8_t mem[64];
    int fails;
};

static int cli_handler(void *opaque, struct vfio_user_ep *ep,
                       enum vfio_user_chan chan, struct vfio_user_msg *msg)
{
    struct cli_ctx *ctx = opaque;
    struct vfio_user_dma_access a;

    if (msg->hdr.cmd != VFIO_USER_DMA_WRITE || msg->payload_len < sizeof(a))
        return -EINVAL;
    memcpy(&a, msg->payload, sizeof(a));
    if (a.address + a.count > sizeof(ctx->mem) ||
        msg->payload_len != sizeof(a) + a.count)
        return -EFAULT;
    memcpy(ctx->mem + a.address, (uint8_t *)msg->payload + sizeof(a),
           a.count);
    ctx->dma_writes++;
    return vfio_user_ep_reply(ep, chan, &msg->hdr, &a, sizeof(a));
}

static void cli_fail(void *opaque, const char *what, const char *why)
{
    struct cli_ctx *ctx = opaque;

    (void)what;
    (void)why;
    ctx->fails++;
}

static void pair_open(struct pair *p, struct cli_ctx *cc, bool server)
{
    struct vfio_user_ep_opts eo = {
        .server = server,
        .on_cmd = server ? NULL : cli_handler,
        .on_fail = cli_fail,
        .opaque = cc,
    };
    struct vfio_user_caps caps;
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                     0);
    assert_int_equal(vfio_user_conn_new(sv[0], &p->cli), 0);
    assert_int_equal(vfio_user_conn_new(sv[1], &p->srv), 0);
    vfio_user_caps_default(&caps);
    caps.max_msg_fds = 1;
    vfio_user_conn_set_caps(p->cli, &caps, &caps);
    vfio_user_conn_set_caps(p->srv, &caps, &caps);
    assert_int_equal(vfio_user_ep_new(p->cli, &eo, &p->ep), 0);
    assert_ptr_equal(vfio_user_ep_conn(p->ep), p->cli);
}

static void pair_close(struct pair *p)
{
    vfio_user_ep_free(p->ep); /* frees cli */
    vfio_user_conn_free(p->srv);
}

/* Server thread: take one command, issue a DMA_WRITE to the client on its
 * s2c channel (main or twin), then reply to the command. */
struct srv_ctx {
    struct vfio_user_conn *c;
    int bad_id; /* reply with a wrong msg_id */
    int r;
};

static int srv_dma_write(struct vfio_user_conn *c)
{
    struct {
        struct vfio_user_dma_access a;
        uint8_t data[4];
    } w = {{8, 4}, {1, 2, 3, 4}};
    enum vfio_user_chan ch = vfio_user_conn_s2c_chan(c);
    struct vfio_user_expect e;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    uint8_t buf[32];
    uint16_t id;
    int r;

    r = vfio_user_conn_send_command(c, ch, VFIO_USER_DMA_WRITE, 0, &w,
                                    sizeof(w), NULL, 0, &id);
    vfio_user_conn_expect_reply(c, VFIO_USER_DMA_WRITE, id, &e);
    e.min_payload = VFIO_USER_DMA_WRITE_REPLY_MIN;
    m->payload = buf;
    m->payload_cap = sizeof(buf);
    if (!r)
        r = vfio_user_conn_recv(c, ch, &e, false, m, NULL);
    free(m);
    return r;
}

static void *srv_fn(void *arg)
{
    struct srv_ctx *s = arg;
    struct vfio_user_expect e;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    uint8_t buf[64];
    uint32_t info[4] = {16, 3, 9, 5};

    vfio_user_conn_expect_command(s->c, &e);
    m->payload = buf;
    m->payload_cap = sizeof(buf);
    s->r = vfio_user_conn_recv(s->c, VFIO_USER_CHAN_MAIN, &e, false, m, NULL);
    if (!s->r)
        s->r = srv_dma_write(s->c);
    m->hdr.msg_id += s->bad_id;
    if (!s->r)
        s->r = vfio_user_conn_send_reply(s->c, VFIO_USER_CHAN_MAIN, &m->hdr,
                                         info, sizeof(info), NULL, 0);
    free(m);
    return NULL;
}

static void run_call(struct pair *p, struct srv_ctx *s, struct cli_ctx *cc,
                     int expect)
{
    uint32_t req[4] = {16, 0, 0, 0}, rep[4] = {0};
    struct vfio_user_call call = {
        .cmd = VFIO_USER_DEVICE_GET_INFO, .req = req, .req_len = sizeof(req),
        .reply = rep, .reply_cap = sizeof(rep), .reply_min = sizeof(rep),
    };
    pthread_t th;

    s->c = p->srv;
    assert_int_equal(pthread_create(&th, NULL, srv_fn, s), 0);
    assert_int_equal(vfio_user_ep_call(p->ep, &call), expect);
    pthread_join(th, NULL);
    assert_int_equal(s->r, 0);
    if (!expect) {
        assert_int_equal(call.reply_len, sizeof(rep));
        assert_int_equal(rep[2], 9);
        assert_int_equal(rep[3], 5);
    }
    assert_int_equal(cc->dma_writes, 1);
    assert_memory_equal(cc->mem + 8, ((uint8_t[]){1, 2, 3, 4}), 4);
}

/* Pipelining (spec "Command Concurrency"): three calls started from one
 * thread before any reply; the peer answers them in reverse order; each
 * reply reaches its own call (matched by msg_id), the long one split
 * between reply and reply_data. */
struct rev_ctx {
    struct vfio_user_conn *c;
    int r;
};

static void *rev_fn(void *arg)
{
    struct rev_ctx *s = arg;
    struct vfio_user_expect e;
    struct vfio_user_msg m[3];
    uint8_t buf[3][64], rep[40];

    memset(m, 0, sizeof(m));
    vfio_user_conn_expect_command(s->c, &e);
    for (int i = 0; i < 3 && !s->r; i++) {
        m[i].payload = buf[i];
        m[i].payload_cap = sizeof(buf[i]);
        s->r = vfio_user_conn_recv(s->c, VFIO_USER_CHAN_MAIN, &e, false,
                                   &m[i], NULL);
    }
    for (int i = 2; i >= 0 && !s->r; i--) {
        memset(rep, 0x10 + i, sizeof(rep));
        s->r = vfio_user_conn_send_reply(s->c, VFIO_USER_CHAN_MAIN,
                                         &m[i].hdr, rep, i == 1 ? 40 : 8,
                                         NULL, 0);
    }
    return NULL;
}

static void test_pipelined_calls(void **state)
{
    struct pair p;
    struct cli_ctx cc = {0};
    struct rev_ctx s = {0};
    uint8_t rep[3][8], data[32];
    struct vfio_user_call call[3];
    int h[3];
    pthread_t th;

    (void)state;
    pair_open(&p, &cc, false);
    s.c = p.srv;
    memset(data, 0, sizeof(data));
    for (int i = 0; i < 3; i++) {
        call[i] = (struct vfio_user_call){
            .cmd = VFIO_USER_DEVICE_GET_INFO, .req = "abcd", .req_len = 4,
            .data = "efgh", .data_len = i, /* 4..6 bytes, gathered */
            .reply = rep[i], .reply_cap = sizeof(rep[i]),
        };
        if (i == 1) {
            call[i].reply_data = data;
            call[i].reply_data_cap = sizeof(data);
        }
        h[i] = vfio_user_ep_call_start(p.ep, &call[i]);
        assert_true(h[i] >= 0);
    }
    assert_int_equal(pthread_create(&th, NULL, rev_fn, &s), 0);
    assert_int_equal(vfio_user_ep_call_finish(p.ep, &call[1], h[0]), -EINVAL);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(vfio_user_ep_call_finish(p.ep, &call[i], h[i]), 0);
        assert_int_equal(call[i].reply_len, i == 1 ? 40 : 8);
        assert_int_equal(rep[i][0], 0x10 + i);
        assert_int_equal(rep[i][7], 0x10 + i);
    }
    pthread_join(th, NULL);
    assert_int_equal(s.r, 0);
    assert_int_equal(data[0], 0x11);
    assert_int_equal(data[31], 0x11);
    assert_false(vfio_user_ep_failed(p.ep));
    assert_int_equal(cc.fails, 0);
    /* A posted command has nothing to finish. */
    call[0].flags = VFIO_USER_F_NO_REPLY;
    assert_int_equal(vfio_user_ep_call_start(p.ep, &call[0]), -EINVAL);
    pair_close(&p);
}

static void test_call_main_socket(void **state)
{
    struct pair p;
    struct srv_ctx s = {0};
    struct cli_ctx cc = {0};

    (void)state;
    pair_open(&p, &cc, false);
    run_call(&p, &s, &cc, 0);
    assert_false(vfio_user_ep_failed(p.ep));
    assert_false(vfio_user_conn_failed(p.cli));
    assert_int_equal(cc.fails, 0);
    pair_close(&p);
}

/* A reply naming no request in flight fails the endpoint: the call gets
 * -ENODEV, on_fail runs once, later calls fail at once. */
static void test_call_wrong_id(void **state)
{
    struct pair p;
    struct srv_ctx s = {.bad_id = 1};
    struct cli_ctx cc = {0};
    struct vfio_user_call call = {.cmd = VFIO_USER_DEVICE_RESET};

    (void)state;
    pair_open(&p, &cc, false);
    run_call(&p, &s, &cc, -ENODEV);
    assert_true(vfio_user_ep_failed(p.ep));
    assert_int_equal(cc.fails, 1);
    assert_int_equal(vfio_user_ep_call(p.ep, &call), -ENODEV);
    assert_int_equal(cc.fails, 1);
    pair_close(&p);
}

/* Twin socket: the server creates the pair and passes the client's end
 * (as in the VERSION reply); DMA_WRITE then travels on the twin socket,
 * while an event-loop thread runs the endpoint's hook. */
struct loop_ctx {
    struct vfio_user_ep *ep;
    atomic_bool stop;
};

static void *loop_fn(void *arg)
{
    struct loop_ctx *l = arg;
    struct pollfd p = {.fd = vfio_user_ep_poll_fd(l->ep), .events = POLLIN};

    while (!atomic_load(&l->stop))
        if (poll(&p, 1, 10) > 0)
            vfio_user_ep_handle_ready(l->ep);
    return NULL;
}

static void test_twin_socket(void **state)
{
    struct pair p;
    struct srv_ctx s = {0};
    struct cli_ctx cc = {0};
    struct loop_ctx l;
    pthread_t th;
    int peer, peer2;

    (void)state;
    pair_open(&p, &cc, false);
    assert_int_equal(vfio_user_conn_twin_pair(p.srv, &peer), 0);
    assert_int_equal(vfio_user_conn_twin_pair(p.srv, &peer2), -EEXIST);
    assert_int_equal(peer2, -1);
    assert_int_equal(vfio_user_conn_set_twin(p.cli, peer), 0);
    assert_int_equal(vfio_user_conn_set_twin(p.cli, peer), -EEXIST);
    assert_int_equal(vfio_user_conn_s2c_chan(p.cli), VFIO_USER_CHAN_TWIN);
    assert_int_equal(vfio_user_conn_s2c_chan(p.srv), VFIO_USER_CHAN_TWIN);
    assert_true(vfio_user_conn_fd(p.cli, VFIO_USER_CHAN_TWIN) >= 0);
    assert_int_equal(vfio_user_ep_watch(p.ep), 0);
    l.ep = p.ep;
    atomic_init(&l.stop, false);
    assert_int_equal(pthread_create(&th, NULL, loop_fn, &l), 0);
    run_call(&p, &s, &cc, 0);
    atomic_store(&l.stop, true);
    pthread_join(th, NULL);
    assert_false(vfio_user_ep_failed(p.ep));
    pair_close(&p);
}

/* A command the handler refuses gets an error reply from the loop hook;
 * an idle hook call does nothing. */
static void test_serve_error_reply(void **state)
{
    struct pair p;
    struct cli_ctx cc = {0};
    struct vfio_user_expect e;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    struct pollfd pf;
    uint16_t id;

    (void)state;
    pair_open(&p, &cc, false);
    assert_int_equal(vfio_user_ep_watch(p.ep), 0);
    pf.fd = vfio_user_ep_poll_fd(p.ep);
    pf.events = POLLIN;
    assert_int_equal(vfio_user_conn_send_command(p.srv, VFIO_USER_CHAN_MAIN,
                                                 VFIO_USER_DMA_READ, 0, NULL,
                                                 0, NULL, 0, &id),
                     0);
    assert_int_equal(poll(&pf, 1, 5000), 1);
    vfio_user_ep_handle_ready(p.ep);
    vfio_user_conn_expect_reply(p.srv, VFIO_USER_DMA_READ, id, &e);
    assert_int_equal(
        vfio_user_conn_recv(p.srv, VFIO_USER_CHAN_MAIN, &e, false, m, NULL),
        -EINVAL);
    vfio_user_ep_handle_ready(p.ep);
    assert_false(vfio_user_ep_failed(p.ep));
    assert_int_equal(cc.dma_writes, 0);
    free(m);
    pair_close(&p);
}

/* Server role: commands arriving while a call waits are deferred, in
 * order, with their fds; a reply on the wrong socket is refused. */
static void *peer_cmds_fn(void *arg)
{
    struct vfio_user_conn *c = arg;
    struct vfio_user_expect e;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    uint8_t buf[64];
    uint32_t v = 7;
    int fd = dup(0), r;

    vfio_user_conn_expect_command(c, &e);
    m->payload = buf;
    m->payload_cap = sizeof(buf);
    /* The DMA_READ from the "server" endpoint under test. */
    r = vfio_user_conn_recv(c, VFIO_USER_CHAN_MAIN, &e, false, m, NULL);
    for (uint16_t i = 0; !r && i < 3; i++)
        r = vfio_user_conn_send_command(c, VFIO_USER_CHAN_MAIN,
                                        VFIO_USER_DEVICE_GET_INFO, 0, &v,
                                        sizeof(v), i == 1 ? &fd : NULL,
                                        i == 1, NULL);
    if (!r)
        r = vfio_user_conn_send_reply(c, VFIO_USER_CHAN_MAIN, &m->hdr, buf,
                                      m->payload_len, NULL, 0);
    close(fd);
    free(m);
    return (void *)(intptr_t)r;
}

/* The "server" endpoint's DMA_READ of 4 bytes at 0: the call's result,
 * the reply's length in *@len. */
static int dma_read(struct vfio_user_ep *ep, uint32_t *len)
{
    struct vfio_user_dma_access a = {0, 4}, rep;
    struct vfio_user_call call = {
        .cmd = VFIO_USER_DMA_READ, .req = &a, .req_len = sizeof(a),
        .reply = &rep, .reply_cap = sizeof(rep), .reply_min = sizeof(rep),
    };
    int r = vfio_user_ep_call(ep, &call);

    *len = call.reply_len;
    return r;
}

static void test_defer(void **state)
{
    struct pair p;
    struct cli_ctx cc = {0};
    struct vfio_user_msg *m;
    pthread_t th;
    uint32_t len;
    void *ret;

    (void)state;
    pair_open(&p, &cc, true); /* ep over cli acts as the server */
    assert_int_equal(pthread_create(&th, NULL, peer_cmds_fn, p.srv), 0);
    assert_int_equal(dma_read(p.ep, &len), 0);
    pthread_join(th, &ret);
    assert_int_equal((intptr_t)ret, 0);
    assert_int_equal(len, sizeof(struct vfio_user_dma_access));
    for (int i = 0; i < 3; i++) {
        m = vfio_user_ep_pop_deferred(p.ep);
        assert_non_null(m);
        assert_int_equal(m->hdr.cmd, VFIO_USER_DEVICE_GET_INFO);
        assert_int_equal(m->payload_len, 4);
        assert_int_equal(m->nfds, i == 1 ? 1 : 0);
        vfio_user_cmdq_msg_free(m);
    }
    assert_null(vfio_user_ep_pop_deferred(p.ep));
    assert_false(vfio_user_ep_failed(p.ep));
    pair_close(&p);
}

/* The deferral queue: FIFO order, payload copied, fds moved, the bound
 * refused with -ENOBUFS (the message keeps its fds then). */
static void test_cmdq(void **state)
{
    struct vfio_user_cmdq q;
    struct vfio_user_msg m = {0}, *out;
    uint32_t v;
    int fd;

    (void)state;
    vfio_user_cmdq_init(&q, 2);
    m.payload = &v;
    m.payload_len = m.payload_cap = sizeof(v);
    for (v = 1; v <= 2; v++) {
        m.hdr.msg_id = (uint16_t)v;
        assert_int_equal(vfio_user_cmdq_push(&q, &m), 0);
    }
    fd = dup(0);
    m.fds[0] = fd;
    m.nfds = 1;
    assert_int_equal(vfio_user_cmdq_push(&q, &m), -ENOBUFS);
    assert_int_equal(m.nfds, 1); /* still ours */
    out = vfio_user_cmdq_pop(&q);
    assert_non_null(out);
    assert_int_equal(out->hdr.msg_id, 1);
    assert_int_equal(*(uint32_t *)out->payload, 1);
    vfio_user_cmdq_msg_free(out);
    assert_int_equal(vfio_user_cmdq_push(&q, &m), 0);
    assert_int_equal(m.nfds, 0); /* moved */
    out = vfio_user_cmdq_pop(&q);
    assert_int_equal(out->hdr.msg_id, 2);
    assert_int_equal(out->nfds, 0);
    vfio_user_cmdq_msg_free(out);
    out = vfio_user_cmdq_pop(&q);
    assert_int_equal(out->nfds, 1);
    assert_int_equal(out->fds[0], fd);
    vfio_user_cmdq_msg_free(out); /* closes fd */
    assert_int_equal(fcntl(fd, F_GETFD), -1);
    assert_null(vfio_user_cmdq_pop(&q));
    vfio_user_cmdq_clear(&q);
}

/* A server waiting for its reply while the client floods commands: past
 * VFIO_USER_EP_DEFER_MAX the endpoint fails instead of growing. */
static void *flood_fn(void *arg)
{
    struct vfio_user_conn *c = arg;
    uint32_t v = 7;
    int r = 0;

    for (unsigned int i = 0; !r && i <= VFIO_USER_EP_DEFER_MAX; i++)
        r = vfio_user_conn_send_command(c, VFIO_USER_CHAN_MAIN,
                                        VFIO_USER_DEVICE_GET_INFO, 0, &v,
                                        sizeof(v), NULL, 0, NULL);
    return (void *)(intptr_t)r;
}

static void test_defer_bound(void **state)
{
    struct pair p;
    struct cli_ctx cc = {0};
    pthread_t th;
    uint32_t len;

    (void)state;
    pair_open(&p, &cc, true);
    assert_int_equal(pthread_create(&th, NULL, flood_fn, p.srv), 0);
    assert_int_equal(dma_read(p.ep, &len), -ENODEV);
    pthread_join(th, NULL);
    assert_true(vfio_user_ep_failed(p.ep));
    assert_int_equal(cc.fails, 1);
    pair_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_main_socket),
        cmocka_unit_test(test_pipelined_calls),
        cmocka_unit_test(test_call_wrong_id),
        cmocka_unit_test(test_twin_socket),
        cmocka_unit_test(test_serve_error_reply),
        cmocka_unit_test(test_defer),
        cmocka_unit_test(test_cmdq),
        cmocka_unit_test(test_defer_bound),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
