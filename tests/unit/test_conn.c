/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vfio/conn.c: the pure validation function over byte
 * buffers (truncated, oversized, wrong type/id/command, error replies, fd
 * counts) and real socketpair round trips (fds, partial sends and reads,
 * twin socket). Request/reply: test_endpoint.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfio/proto/conn.h"

/* ---- helpers ---- */

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    assert_non_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void mkhdr(uint8_t *buf, uint16_t id, uint16_t cmd, uint32_t size,
                  uint32_t flags, uint32_t error)
{
    struct vfio_user_header h = {id, cmd, size, flags, error};

    memcpy(buf, &h, sizeof(h));
}

static void reply_exp(struct vfio_user_expect *e, uint16_t cmd, uint16_t id)
{
    memset(e, 0, sizeof(*e));
    e->type = VFIO_USER_F_TYPE_REPLY;
    e->cmd = cmd;
    e->msg_id = id;
    e->max_msg_size = 4096;
    e->max_fds = 2;
}

static int validate(const uint8_t *buf, size_t len, unsigned int nfds,
                    const struct vfio_user_expect *e)
{
    const char *why = NULL;
    int r = vfio_user_msg_validate((const void *)buf, len, nfds, e, &why);

    assert_true(r == 0 ? why == NULL : why != NULL);
    return r;
}

/* ---- pure validation ---- */

static void test_validate_ok(void **state)
{
    uint8_t b[64] = {0};
    struct vfio_user_expect e;

    (void)state;
    reply_exp(&e, VFIO_USER_REGION_READ, 7);
    mkhdr(b, 7, VFIO_USER_REGION_READ, 16 + 20, VFIO_USER_F_TYPE_REPLY, 0);
    e.min_payload = 16;
    e.max_payload = 20;
    assert_int_equal(validate(b, 36, 0, &e), 0);
    assert_int_equal(validate(b, 36, 2, &e), 0);
    /* Header-only reply. */
    e.min_payload = 0;
    mkhdr(b, 7, VFIO_USER_REGION_READ, 16, VFIO_USER_F_TYPE_REPLY, 0);
    assert_int_equal(validate(b, 16, 0, &e), 0);
}

static void test_validate_framing(void **state)
{
    uint8_t b[64] = {0};
    struct vfio_user_expect e;

    (void)state;
    reply_exp(&e, VFIO_USER_DMA_MAP, 1);
    mkhdr(b, 1, VFIO_USER_DMA_MAP, 16, VFIO_USER_F_TYPE_REPLY, 0);
    assert_int_equal(validate(b, 0, 0, &e), -EBADMSG);
    assert_int_equal(validate(b, 15, 0, &e), -EBADMSG);  /* short header */
    assert_int_equal(validate(b, 17, 0, &e), -EBADMSG);  /* trailing */
    mkhdr(b, 1, VFIO_USER_DMA_MAP, 15, VFIO_USER_F_TYPE_REPLY, 0);
    assert_int_equal(validate(b, 16, 0, &e), -EBADMSG);  /* size < hdr */
    mkhdr(b, 1, VFIO_USER_DMA_MAP, 0, VFIO_USER_F_TYPE_REPLY, 0);
    assert_int_equal(validate(b, 16, 0, &e), -EBADMSG);
    mkhdr(b, 1, VFIO_USER_DMA_MAP, 40, VFIO_USER_F_TYPE_REPLY, 0);
    assert_int_equal(validate(b, 39, 0, &e), -EBADMSG);  /* truncated */
    mkhdr(b, 1, VFIO_USER_DMA_MAP, 4097, VFIO_USER_F_TYPE_REPLY, 0);
    assert_int_equal(validate(b, 64, 0, &e), -EMSGSIZE); /* oversized */
    mkhdr(b, 1, VFIO_USER_DMA_MAP, 0xffffffff, VFIO_USER_F_TYPE_REPLY, 0);
    assert_int_equal(validate(b, 64, 0, &e), -EMSGSIZE);
    e.max_payload = 8;
    mkhdr(b, 1, VFIO_USER_DMA_MAP, 16 + 9, VFIO_USER_F_TYPE_REPLY, 0);
    assert_int_equal(validate(b, 25, 0, &e), -EMSGSIZE);
}

static void test_validate_type_and_match(void **state)
{
    uint8_t b[32] = {0};
    struct vfio_user_expect e;
    const uint32_t R = VFIO_USER_F_TYPE_REPLY;

    (void)state;
    reply_exp(&e, VFIO_USER_DEVICE_RESET, 9);
    mkhdr(b, 9, VFIO_USER_DEVICE_RESET, 16, VFIO_USER_F_TYPE_COMMAND, 0);
    assert_int_equal(validate(b, 16, 0, &e), -EPROTO);   /* not a reply */
    mkhdr(b, 8, VFIO_USER_DEVICE_RESET, 16, R, 0);
    assert_int_equal(validate(b, 16, 0, &e), -EPROTO);   /* wrong id */
    mkhdr(b, 9, VFIO_USER_DMA_MAP, 16, R, 0);
    assert_int_equal(validate(b, 16, 0, &e), -EPROTO);   /* wrong cmd */
    mkhdr(b, 9, VFIO_USER_DEVICE_RESET, 16, 2, 0);
    assert_int_equal(validate(b, 16, 0, &e), -EPROTO);   /* type 2 */
    mkhdr(b, 9, VFIO_USER_DEVICE_RESET, 16, R | (1u << 6), 0);
    assert_int_equal(validate(b, 16, 0, &e), -EPROTO);   /* undefined bit */
    mkhdr(b, 9, VFIO_USER_DEVICE_RESET, 16, R | VFIO_USER_F_NO_REPLY, 0);
    assert_int_equal(validate(b, 16, 0, &e), -EPROTO);
    /* Commands. */
    memset(&e, 0, sizeof(e));
    e.type = VFIO_USER_F_TYPE_COMMAND;
    e.max_msg_size = 4096;
    mkhdr(b, 3, VFIO_USER_DMA_READ, 16, R, 0);
    assert_int_equal(validate(b, 16, 0, &e), -EPROTO);   /* not a command */
    mkhdr(b, 3, 0, 16, VFIO_USER_F_TYPE_COMMAND, 0);
    assert_int_equal(validate(b, 16, 0, &e), -EPROTO);   /* command 0 */
    mkhdr(b, 3, VFIO_USER_DMA_READ, 16,
          VFIO_USER_F_TYPE_COMMAND | VFIO_USER_F_ERROR, 5);
    assert_int_equal(validate(b, 16, 0, &e), -EPROTO);   /* error flag */
    mkhdr(b, 3, 999, 16, VFIO_USER_F_TYPE_COMMAND | VFIO_USER_F_NO_REPLY, 0);
    assert_int_equal(validate(b, 16, 0, &e), 0);          /* handler's job */
    e.cmd = VFIO_USER_DMA_READ;
    assert_int_equal(validate(b, 16, 0, &e), -EPROTO);
    /* Either type. */
    e.type = VFIO_USER_EXPECT_ANY;
    e.cmd = 0;
    assert_int_equal(validate(b, 16, 0, &e), 0);
}

static void test_validate_errors_and_fds(void **state)
{
    uint8_t b[32] = {0};
    struct vfio_user_expect e;
    const uint32_t RE = VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR;

    (void)state;
    reply_exp(&e, VFIO_USER_DMA_UNMAP, 4);
    e.min_payload = 24;
    mkhdr(b, 4, VFIO_USER_DMA_UNMAP, 16, RE, EPERM);
    assert_int_equal(validate(b, 16, 0, &e), -EPERM);
    mkhdr(b, 4, VFIO_USER_DMA_UNMAP, 16, RE, 0); /* "may be zero" */
    assert_int_equal(validate(b, 16, 0, &e), -EIO);
    mkhdr(b, 4, VFIO_USER_DMA_UNMAP, 16, RE, 100000);
    assert_int_equal(validate(b, 16, 0, &e), -EIO);
    mkhdr(b, 5, VFIO_USER_DMA_UNMAP, 16, RE, EPERM);
    assert_int_equal(validate(b, 16, 0, &e), -EPROTO); /* id first */
    /* Success needs the payload. */
    mkhdr(b, 4, VFIO_USER_DMA_UNMAP, 16 + 8, VFIO_USER_F_TYPE_REPLY, 0);
    assert_int_equal(validate(b, 24, 0, &e), -EPROTO);
    /* fd count. */
    e.min_payload = 0;
    e.max_fds = 1;
    mkhdr(b, 4, VFIO_USER_DMA_UNMAP, 16, VFIO_USER_F_TYPE_REPLY, 0);
    assert_int_equal(validate(b, 16, 1, &e), 0);
    assert_int_equal(validate(b, 16, 2, &e), -EPROTO);
    e.max_fds = 0;
    assert_int_equal(validate(b, 16, 1, &e), -EPROTO);
}

/* ---- sockets ---- */

struct pair {
    struct vfio_user_conn *cli, *srv;
    int sv[2];
};

static void pair_open(struct pair *p, uint32_t max_fds)
{
    struct vfio_user_caps caps;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->sv),
                     0);
    assert_int_equal(vfio_user_conn_new(p->sv[0], &p->cli), 0);
    assert_int_equal(vfio_user_conn_new(p->sv[1], &p->srv), 0);
    vfio_user_caps_default(&caps);
    caps.max_msg_fds = max_fds;
    vfio_user_conn_set_caps(p->cli, &caps, &caps);
    vfio_user_conn_set_caps(p->srv, &caps, &caps);
}

static void pair_close(struct pair *p)
{
    vfio_user_conn_free(p->cli);
    vfio_user_conn_free(p->srv);
}

static void test_conn_new_rejects(void **state)
{
    struct vfio_user_conn *c = (void *)1;
    int pfd[2], sv[2];

    (void)state;
    assert_int_equal(pipe(pfd), 0);
    assert_int_equal(vfio_user_conn_new(pfd[0], &c), -ENOTSOCK);
    assert_null(c);
    close(pfd[0]);
    close(pfd[1]);
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    assert_int_equal(vfio_user_conn_new(sv[0], &c), -EINVAL);
    close(sv[0]);
    close(sv[1]);
}

static void test_roundtrip_fds(void **state)
{
    struct pair p;
    struct vfio_user_expect e;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    struct vfio_user_dma_map map = {sizeof(map), 3, 0, 0x1000, 0x2000};
    uint8_t buf[64];
    int efd[2], base = count_fds();
    uint64_t v = 5, sent, recvd;
    uint16_t id;

    (void)state;
    pair_open(&p, 4);
    efd[0] = eventfd(0, EFD_CLOEXEC);
    efd[1] = eventfd(0, EFD_CLOEXEC);
    assert_int_equal(vfio_user_conn_send_command(p.cli, VFIO_USER_CHAN_MAIN,
                                                 VFIO_USER_DMA_MAP, 0, &map,
                                                 sizeof(map), efd, 2, &id),
                     0);
    vfio_user_conn_expect_command(p.srv, &e);
    m->payload = buf;
    m->payload_cap = sizeof(buf);
    assert_int_equal(
        vfio_user_conn_recv(p.srv, VFIO_USER_CHAN_MAIN, &e, false, m, NULL), 0);
    assert_int_equal(m->hdr.cmd, VFIO_USER_DMA_MAP);
    assert_int_equal(m->hdr.msg_id, id);
    assert_int_equal(m->payload_len, sizeof(map));
    assert_memory_equal(buf, &map, sizeof(map));
    assert_int_equal(m->nfds, 2);
    /* The received fd is the same eventfd. */
    assert_int_equal(write(efd[1], &v, 8), 8);
    v = 0;
    assert_int_equal(read(m->fds[1], &v, 8), 8);
    assert_int_equal(v, 5);
    vfio_user_msg_close_fds(m);
    /* Reply, then an error reply. */
    assert_int_equal(vfio_user_conn_send_reply(p.srv, VFIO_USER_CHAN_MAIN,
                                               &m->hdr, NULL, 0, NULL, 0),
                     0);
    vfio_user_conn_expect_reply(p.cli, VFIO_USER_DMA_MAP, id, &e);
    assert_int_equal(
        vfio_user_conn_recv(p.cli, VFIO_USER_CHAN_MAIN, &e, false, m, NULL), 0);
    assert_int_equal(vfio_user_conn_send_error(p.srv, VFIO_USER_CHAN_MAIN,
                                               &m->hdr, EEXIST),
                     0);
    assert_int_equal(
        vfio_user_conn_recv(p.cli, VFIO_USER_CHAN_MAIN, &e, false, m, NULL),
        -EEXIST);
    assert_false(vfio_user_conn_failed(p.cli));
    /* Counted whole, each way, error replies included (stats). */
    vfio_user_conn_msg_counts(p.cli, &sent, &recvd);
    assert_int_equal(sent, 1);
    assert_int_equal(recvd, 2);
    vfio_user_conn_msg_counts(p.srv, &sent, &recvd);
    assert_int_equal(sent, 2);
    assert_int_equal(recvd, 1);
    close(efd[0]);
    close(efd[1]);
    pair_close(&p);
    assert_int_equal(count_fds(), base);
    free(m);
}

/* Raw sendmsg of @len bytes with @nfds copies of @fd. */
static void raw_send(int sock, const void *buf, size_t len, int fd,
                     unsigned int nfds)
{
    char cbuf[CMSG_SPACE(sizeof(int) * 8)];
    struct iovec iov = {(void *)buf, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    struct cmsghdr *cm;
    unsigned int i;

    if (nfds) {
        memset(cbuf, 0, sizeof(cbuf));
        mh.msg_control = cbuf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        for (i = 0; i < nfds; i++)
            memcpy(CMSG_DATA(cm) + i * sizeof(int), &fd, sizeof(int));
    }
    assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)len);
}

static void test_too_many_fds(void **state)
{
    struct pair p;
    struct vfio_user_expect e;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    uint8_t b[16];
    int fd = eventfd(0, EFD_CLOEXEC), base;
    int fds[3] = {fd, fd, fd};
    const char *why;

    (void)state;
    pair_open(&p, 1);
    base = count_fds();
    /* The sender refuses to exceed the peer's limit... */
    assert_int_equal(vfio_user_conn_send_command(p.cli, VFIO_USER_CHAN_MAIN,
                                                 VFIO_USER_DEVICE_RESET, 0,
                                                 NULL, 0, fds, 3, NULL),
                     -EINVAL);
    /* ...and the receiver closes and rejects extra fds from a raw peer. */
    mkhdr(b, 1, VFIO_USER_DEVICE_RESET, 16, VFIO_USER_F_TYPE_COMMAND, 0);
    raw_send(p.sv[0], b, 16, fd, 3);
    vfio_user_conn_expect_command(p.srv, &e);
    assert_int_equal(
        vfio_user_conn_recv(p.srv, VFIO_USER_CHAN_MAIN, &e, false, m, &why),
        -EPROTO);
    assert_non_null(strstr(why, "fds"));
    assert_int_equal(m->nfds, 0);
    assert_int_equal(count_fds(), base);
    /* The stream is still in step: the next message is fine. */
    raw_send(p.sv[0], b, 16, fd, 1);
    assert_int_equal(
        vfio_user_conn_recv(p.srv, VFIO_USER_CHAN_MAIN, &e, false, m, &why),
        0);
    assert_int_equal(m->nfds, 1);
    vfio_user_msg_close_fds(m);
    assert_int_equal(count_fds(), base);
    close(fd);
    pair_close(&p);
    free(m);
}

static void test_oversized_and_truncated(void **state)
{
    struct pair p;
    struct vfio_user_expect e;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    uint8_t b[64] = {0}, small[8];
    int fd = eventfd(0, EFD_CLOEXEC), base;

    (void)state;
    base = count_fds() + 2; /* with the pair open */
    pair_open(&p, 2);
    vfio_user_conn_expect_command(p.srv, &e);
    m->payload = small;
    m->payload_cap = sizeof(small);
    /* Payload larger than the buffer: drained, fds closed, still usable. */
    mkhdr(b, 1, VFIO_USER_REGION_WRITE, 16 + 40, VFIO_USER_F_TYPE_COMMAND, 0);
    raw_send(p.sv[0], b, 56, fd, 1);
    assert_int_equal(
        vfio_user_conn_recv(p.srv, VFIO_USER_CHAN_MAIN, &e, false, m, NULL),
        -EMSGSIZE);
    assert_false(vfio_user_conn_failed(p.srv));
    assert_int_equal(count_fds(), base);
    /* Oversized msg_size: the connection is failed. */
    mkhdr(b, 2, VFIO_USER_REGION_WRITE, vfio_user_conn_max_msg_size(p.srv) + 1,
          VFIO_USER_F_TYPE_COMMAND, 0);
    raw_send(p.sv[0], b, 16, fd, 1);
    assert_int_equal(
        vfio_user_conn_recv(p.srv, VFIO_USER_CHAN_MAIN, &e, false, m, NULL),
        -EMSGSIZE);
    assert_true(vfio_user_conn_failed(p.srv));
    assert_int_equal(count_fds(), base);
    assert_int_equal(
        vfio_user_conn_recv(p.srv, VFIO_USER_CHAN_MAIN, &e, false, m, NULL),
        -ENOTCONN);
    pair_close(&p);
    /* Truncated payload, then the peer goes away. */
    pair_open(&p, 2);
    vfio_user_conn_expect_command(p.srv, &e);
    mkhdr(b, 3, VFIO_USER_REGION_WRITE, 16 + 8, VFIO_USER_F_TYPE_COMMAND, 0);
    raw_send(p.sv[0], b, 20, fd, 1);
    shutdown(p.sv[0], SHUT_WR);
    assert_int_equal(
        vfio_user_conn_recv(p.srv, VFIO_USER_CHAN_MAIN, &e, false, m, NULL),
        -ECONNRESET);
    assert_int_equal(m->nfds, 0);
    assert_int_equal(count_fds(), base);
    pair_close(&p);
    close(fd);
    free(m);
}

static void test_nonblock_empty(void **state)
{
    struct pair p;
    struct vfio_user_expect e;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    uint64_t sent, recvd;

    (void)state;
    pair_open(&p, 1);
    vfio_user_conn_expect_command(p.srv, &e);
    assert_int_equal(
        vfio_user_conn_recv(p.srv, VFIO_USER_CHAN_MAIN, &e, true, m, NULL),
        -EAGAIN);
    assert_false(vfio_user_conn_failed(p.srv));
    vfio_user_conn_msg_counts(p.srv, &sent, &recvd);
    assert_int_equal(recvd, 0);   /* nothing whole: not a message */
    assert_int_equal(vfio_user_conn_recv(p.srv, VFIO_USER_CHAN_TWIN, &e, true,
                                         m, NULL),
                     -ENOTCONN);
    pair_close(&p);
    free(m);
}

/* Writer thread: one message a byte at a time, the fd with byte 0. */
struct trickle {
    int sock, fd;
    uint8_t msg[16 + 32];
};

static void *trickle_fn(void *arg)
{
    struct trickle *t = arg;
    size_t i;

    for (i = 0; i < sizeof(t->msg); i++) {
        raw_send(t->sock, &t->msg[i], 1, t->fd, i == 0);
        usleep(200);
    }
    return NULL;
}

static void test_partial_reads(void **state)
{
    struct pair p;
    struct vfio_user_expect e;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    struct trickle t;
    pthread_t th;
    uint8_t buf[32];
    size_t i;

    (void)state;
    pair_open(&p, 1);
    t.sock = p.sv[0];
    t.fd = eventfd(0, EFD_CLOEXEC);
    mkhdr(t.msg, 11, VFIO_USER_REGION_WRITE, sizeof(t.msg),
          VFIO_USER_F_TYPE_COMMAND, 0);
    for (i = 0; i < 32; i++)
        t.msg[16 + i] = (uint8_t)i;
    assert_int_equal(pthread_create(&th, NULL, trickle_fn, &t), 0);
    vfio_user_conn_expect_command(p.srv, &e);
    m->payload = buf;
    m->payload_cap = sizeof(buf);
    assert_int_equal(
        vfio_user_conn_recv(p.srv, VFIO_USER_CHAN_MAIN, &e, false, m, NULL), 0);
    pthread_join(th, NULL);
    assert_int_equal(m->payload_len, 32);
    assert_memory_equal(buf, &t.msg[16], 32);
    assert_int_equal(m->nfds, 1);
    vfio_user_msg_close_fds(m);
    close(t.fd);
    pair_close(&p);
    free(m);
}

/* Reader thread for the partial-send test. */
struct bigread {
    struct vfio_user_conn *c;
    struct vfio_user_msg m;
    int r;
};

static void *bigread_fn(void *arg)
{
    struct bigread *b = arg;
    struct vfio_user_expect e;

    vfio_user_conn_expect_command(b->c, &e);
    usleep(20000); /* let the sender fill the socket buffer first */
    b->r = vfio_user_conn_recv(b->c, VFIO_USER_CHAN_MAIN, &e, false, &b->m,
                               NULL);
    return NULL;
}

static void test_partial_sends(void **state)
{
    struct pair p;
    struct bigread *b = calloc(1, sizeof(*b));
    size_t len = 1024 * 1024, i;
    uint8_t *out = malloc(len), *in = malloc(len + 64);
    int sz = 4096, fd = eventfd(0, EFD_CLOEXEC);
    pthread_t th;

    (void)state;
    pair_open(&p, 1);
    for (i = 0; i < len; i++)
        out[i] = (uint8_t)(i * 7 + 3);
    /* Small non-blocking send buffer: sendmsg returns short and EAGAIN. */
    setsockopt(p.sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    fcntl(p.sv[0], F_SETFL, O_NONBLOCK);
    fcntl(p.sv[1], F_SETFL, O_NONBLOCK);
    b->c = p.srv;
    b->m.payload = in;
    b->m.payload_cap = (uint32_t)len + 64;
    assert_int_equal(pthread_create(&th, NULL, bigread_fn, b), 0);
    assert_int_equal(vfio_user_conn_send_command(p.cli, VFIO_USER_CHAN_MAIN,
                                                 VFIO_USER_REGION_WRITE, 0,
                                                 out, len, &fd, 1, NULL),
                     0);
    pthread_join(th, NULL);
    assert_int_equal(b->r, 0);
    assert_int_equal(b->m.payload_len, len);
    assert_memory_equal(in, out, len);
    assert_int_equal(b->m.nfds, 1);
    vfio_user_msg_close_fds(&b->m);
    close(fd);
    pair_close(&p);
    free(out);
    free(in);
    free(b);
}

static void test_ids_and_limits(void **state)
{
    struct pair p;
    struct vfio_user_caps loc, eff;
    uint16_t a, b;
    int i;

    (void)state;
    pair_open(&p, 1);
    a = vfio_user_conn_next_id(p.cli);
    b = vfio_user_conn_next_id(p.cli);
    assert_int_equal((uint16_t)(a + 1), b);
    for (i = 0; i < 65535; i++)
        vfio_user_conn_next_id(p.cli);
    assert_int_equal(vfio_user_conn_next_id(p.cli), b); /* wrapped */
    vfio_user_caps_default(&loc);
    loc.max_data_xfer_size = 8u << 20;
    loc.max_msg_fds = 100000;
    eff = loc;
    eff.max_data_xfer_size = 4096;
    vfio_user_conn_set_caps(p.cli, &loc, &eff);
    assert_int_equal(vfio_user_conn_max_msg_size(p.cli),
                     16 + (8u << 20) + VFIO_USER_CONN_MSG_SLACK);
    assert_int_equal(vfio_user_conn_caps(p.cli)->max_data_xfer_size, 4096);
    loc.max_data_xfer_size = 1;
    vfio_user_conn_set_caps(p.cli, &loc, &eff);
    assert_int_equal(vfio_user_conn_max_msg_size(p.cli),
                     16 + VFIO_USER_CONN_MSG_FLOOR);
    pair_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_ok),
        cmocka_unit_test(test_validate_framing),
        cmocka_unit_test(test_validate_type_and_match),
        cmocka_unit_test(test_validate_errors_and_fds),
        cmocka_unit_test(test_conn_new_rejects),
        cmocka_unit_test(test_roundtrip_fds),
        cmocka_unit_test(test_too_many_fds),
        cmocka_unit_test(test_oversized_and_truncated),
        cmocka_unit_test(test_nonblock_empty),
        cmocka_unit_test(test_partial_reads),
        cmocka_unit_test(test_partial_sends),
        cmocka_unit_test(test_ids_and_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
