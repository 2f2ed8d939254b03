/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vmm/console.c's socket mode (--serial socket:PATH) with
 * a real event loop on its own thread, the test acting as the client:
 * guest output reaches the attached client, client input reaches in_fd,
 * a second client is told "busy", output with nobody attached never
 * blocks (the pipe takes what fits, the rest fails with EAGAIN), a client
 * can leave and a new one attach, the socket file is 0600 and close
 * removes it. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "minivmm/console.h"
#include "vmm/evloop.h"

#define WAIT_MS 5000

struct ctx {
    struct evloop *loop;
    struct console con;
    pthread_t thread;
    int quit_fd;
    char path[108];
    char dir[64];
};

static void on_quit(void *opaque, int fd, uint32_t events)
{
    struct ctx *c = opaque;
    uint64_t v;

    (void)events;
    if (read(fd, &v, sizeof(v)) < 0) {
        /* nothing */
    }
    evloop_quit(c->loop);
}

static void *loop_main(void *arg)
{
    struct ctx *c = arg;

    evloop_run(c->loop);
    return NULL;
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    char err[256];

    if (!c)
        return -1;
    strcpy(c->dir, "/tmp/test_console.XXXXXX");
    if (!mkdtemp(c->dir) || evloop_create(&c->loop) < 0)
        return -1;
    snprintf(c->path, sizeof(c->path), "%s/con", c->dir);
    if (console_open(&c->con, SERIAL_SOCKET, c->path, c->loop, err,
                     sizeof(err)) < 0)
        return -1;
    c->quit_fd = eventfd(0, EFD_CLOEXEC);
    if (evloop_add(c->loop, c->quit_fd, EPOLLIN, on_quit, c) < 0 ||
        pthread_create(&c->thread, NULL, loop_main, c))
        return -1;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    uint64_t one = 1;

    if (write(c->quit_fd, &one, sizeof(one)) < 0)
        return -1;
    pthread_join(c->thread, NULL);
    console_close(&c->con);
    assert_int_equal(access(c->path, F_OK), -1); /* socket removed */
    evloop_del(c->loop, c->quit_fd);
    close(c->quit_fd);
    evloop_destroy(c->loop);
    rmdir(c->dir);
    free(c);
    return 0;
}

static int client(const struct ctx *c)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    strcpy(sa.sun_path, c->path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Read from @fd until @want (under 64 bytes) is among what arrived (or
 * fail); older bytes slide out of the window. */
static void expect_data(int fd, const char *want)
{
    size_t have = 0, keep = strlen(want) - 1;
    char buf[512];

    while (!memmem(buf, have, want, strlen(want))) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (have > keep) {
            memmove(buf, buf + have - keep, keep);
            have = keep;
        }
        assert_int_equal(poll(&p, 1, WAIT_MS), 1);
        n = read(fd, buf + have, sizeof(buf) - have);
        assert_true(n > 0);
        have += (size_t)n;
    }
}

/* Guest output until the client sees @mark (under 64 bytes): the accept
 * may come after the first writes, and a full pipe refuses some; those
 * are dropped, so the mark is written again every 10 ms. */
static void output_until_seen(struct ctx *c, int cl, const char *mark)
{
    size_t have = 0, keep = strlen(mark) - 1;
    char buf[512];

    for (int i = 0; i < WAIT_MS / 10; i++) {
        struct pollfd p = { .fd = cl, .events = POLLIN };
        ssize_t n;

        if (write(c->con.out_fd, mark, strlen(mark)) < 0)
            assert_int_equal(errno, EAGAIN);
        while (poll(&p, 1, 10) == 1) {
            if (have > keep) {
                memmove(buf, buf + have - keep, keep);
                have = keep;
            }
            n = read(cl, buf + have, sizeof(buf) - have);
            assert_true(n > 0);
            have += (size_t)n;
            if (memmem(buf, have, mark, strlen(mark)))
                return;
        }
    }
    fail_msg("output never reached the client");
}

static void test_attach_io_busy_detach(void **state)
{
    struct ctx *c = *state;
    int cl = client(c), cl2;
    struct stat st;

    assert_int_equal(stat(c->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* owner-only */
    output_until_seen(c, cl, "guest-says-hi\n");
    assert_int_equal(write(cl, "typed", 5), 5);
    expect_data(c->con.in_fd, "typed");
    cl2 = client(c);
    expect_data(cl2, "console busy");
    close(cl2);
    close(cl); /* detach; the console goes on */
    cl = client(c);
    output_until_seen(c, cl, "again\n");
    close(cl);
}

static void test_nobody_attached_never_blocks(void **state)
{
    struct ctx *c = *state;
    static char chunk[4096];
    int eagain = 0;

    memset(chunk, 'x', sizeof(chunk));
    for (int i = 0; i < 256; i++) {     /* 1 MiB, far beyond the pipe */
        ssize_t n = write(c->con.out_fd, chunk, sizeof(chunk));

        if (n < 0) {
            assert_int_equal(errno, EAGAIN);
            eagain++;
        }
    }
    (void)eagain; /* the loop may have drained it all: either is fine */
    /* Still usable afterwards. */
    {
        int cl = client(c);

        output_until_seen(c, cl, "after-flood\n");
        close(cl);
    }
}

static void test_refuses_non_socket(void **state)
{
    struct ctx *c = *state;
    struct console other;
    char path[128], err[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/plain", c->dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(console_open(&other, SERIAL_SOCKET, path, c->loop, err,
                                  sizeof(err)), -EEXIST);
    assert_non_null(strstr(err, path));
    console_close(&other);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_attach_io_busy_detach, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nobody_attached_never_blocks,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_non_socket, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
