/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vmm/evloop.c: add/del, quit, handlers that remove
 * themselves or another fd while both are in the same epoll batch (the
 * removed one must not run; run under `make asan` for use-after-free),
 * fd-number reuse within a batch, hang-up events and EINTR.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/evloop.h"

struct ctx {
    struct evloop *loop;
    int a, b, c, quit_fd;      /* eventfds */
    int calls_a, calls_b, calls_c, calls_quit;
    int fd_c;                  /* the fd C was called with */
    uint32_t last_events;
    int quit_after;            /* counter handlers: quit after N calls */
};

static void kick(int fd)
{
    uint64_t one = 1;

    assert_int_equal(write(fd, &one, 8), 8);
}

static void drain(int fd)
{
    uint64_t v;

    assert_int_equal(read(fd, &v, 8), 8);
}

static int setup(void **state)
{
    static struct ctx c;

    memset(&c, 0, sizeof(c));
    if (evloop_create(&c.loop) < 0)
        return -1;
    c.a = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c.b = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c.quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c.c = -1;
    *state = &c;
    return c.a >= 0 && c.b >= 0 && c.quit_fd >= 0 ? 0 : -1;
}

static int teardown(void **state)
{
    struct ctx *c = *state;

    evloop_destroy(c->loop);
    close(c->a);
    close(c->b);
    close(c->quit_fd);
    if (c->c >= 0)
        close(c->c);
    return 0;
}

static void on_quit(void *opaque, int fd, uint32_t events)
{
    struct ctx *c = opaque;

    (void)events;
    drain(fd);
    c->calls_quit++;
    evloop_quit(c->loop);
}

static void on_count(void *opaque, int fd, uint32_t events)
{
    struct ctx *c = opaque;

    drain(fd);
    c->last_events = events;
    if (fd == c->a)
        c->calls_a++;
    else
        c->calls_b++;
    if (c->calls_a + c->calls_b == c->quit_after)
        evloop_quit(c->loop);
    else
        kick(fd); /* keep going */
}

static void test_add_del(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(evloop_del(c->loop, c->a), -ENOENT);
    assert_int_equal(evloop_add(c->loop, c->a, EPOLLIN, on_count, c), 0);
    assert_int_equal(evloop_add(c->loop, c->a, EPOLLIN, on_count, c),
                     -EEXIST);
    assert_int_equal(evloop_add(c->loop, -1, EPOLLIN, on_count, c), -EBADF);
    assert_int_equal(evloop_add(c->loop, c->b, EPOLLIN, on_count, c), 0);
    assert_int_equal(evloop_del(c->loop, c->a), 0);
    assert_int_equal(evloop_del(c->loop, c->a), -ENOENT);
    assert_int_equal(evloop_add(c->loop, c->a, EPOLLIN, on_count, c), 0);
    assert_int_equal(evloop_del(c->loop, c->b), 0);
    /* Deleted outside a run: freed by destroy (teardown), no leak. */
}

static void test_run_quit(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(evloop_add(c->loop, c->a, EPOLLIN, on_count, c), 0);
    c->quit_after = 5;
    kick(c->a);
    assert_int_equal(evloop_wakeups(c->loop), 0);
    assert_int_equal(evloop_run(c->loop), 0);
    assert_int_equal(c->calls_a, 5);
    assert_int_equal(evloop_wakeups(c->loop), 5); /* one epoll_wait each */
    assert_true(c->last_events & EPOLLIN);
    /* The loop can run again after a quit. */
    c->quit_after = 8;
    kick(c->a);
    assert_int_equal(evloop_run(c->loop), 0);
    assert_int_equal(c->calls_a, 8);
}

/* Whichever of A and B runs first removes the other and itself. */
static void on_remove_both(void *opaque, int fd, uint32_t events)
{
    struct ctx *c = opaque;
    int other = fd == c->a ? c->b : c->a;

    (void)events;
    if (fd == c->a)
        c->calls_a++;
    else
        c->calls_b++;
    assert_int_equal(evloop_del(c->loop, other), 0);
    assert_int_equal(evloop_del(c->loop, fd), 0);
    kick(c->quit_fd);
}

static void test_remove_other_in_batch(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(evloop_add(c->loop, c->a, EPOLLIN, on_remove_both, c),
                     0);
    assert_int_equal(evloop_add(c->loop, c->b, EPOLLIN, on_remove_both, c),
                     0);
    assert_int_equal(evloop_add(c->loop, c->quit_fd, EPOLLIN, on_quit, c),
                     0);
    kick(c->a);
    kick(c->b); /* both ready: one epoll_wait batch holds both */
    assert_int_equal(evloop_run(c->loop), 0);
    assert_int_equal(c->calls_a + c->calls_b, 1);
    assert_int_equal(c->calls_quit, 1);
    assert_int_equal(evloop_del(c->loop, c->a), -ENOENT);
    assert_int_equal(evloop_del(c->loop, c->b), -ENOENT);
}

/* A removes only itself; B, in the same batch, still runs. */
static void on_remove_self(void *opaque, int fd, uint32_t events)
{
    struct ctx *c = opaque;

    (void)events;
    c->calls_a++;
    assert_int_equal(evloop_del(c->loop, fd), 0);
}

static void on_b_then_quit(void *opaque, int fd, uint32_t events)
{
    struct ctx *c = opaque;

    (void)events;
    drain(fd);
    c->calls_b++;
    kick(c->quit_fd);
}

static void test_remove_self(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(evloop_add(c->loop, c->a, EPOLLIN, on_remove_self, c),
                     0);
    assert_int_equal(evloop_add(c->loop, c->b, EPOLLIN, on_b_then_quit, c),
                     0);
    assert_int_equal(evloop_add(c->loop, c->quit_fd, EPOLLIN, on_quit, c),
                     0);
    kick(c->a); /* never drained: would fire forever if still watched */
    kick(c->b);
    assert_int_equal(evloop_run(c->loop), 0);
    assert_int_equal(c->calls_a, 1);
    assert_int_equal(c->calls_b, 1);
    /* Re-adding it works, and it fires again. */
    assert_int_equal(evloop_add(c->loop, c->a, EPOLLIN, on_remove_self, c),
                     0);
    kick(c->b);
    assert_int_equal(evloop_run(c->loop), 0);
    assert_int_equal(c->calls_a, 2);
}

/* A removes and closes B, then adds a new fd C, which likely gets B's
 * number: B's pending event in this batch must not call C's handler. */
static void on_c(void *opaque, int fd, uint32_t events)
{
    struct ctx *c = opaque;

    (void)events;
    drain(fd);
    c->calls_c++;
    c->fd_c = fd;
    kick(c->quit_fd);
}

static void on_replace(void *opaque, int fd, uint32_t events)
{
    struct ctx *c = opaque;
    int victim = fd == c->a ? c->b : c->a;

    (void)events;
    drain(fd);
    if (fd == c->a)
        c->calls_a++;
    else
        c->calls_b++;
    assert_int_equal(evloop_del(c->loop, victim), 0);
    close(victim);
    c->c = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(c->c >= 0);
    assert_int_equal(evloop_add(c->loop, c->c, EPOLLIN, on_c, c), 0);
    kick(c->c);
    if (victim == c->a)
        c->a = eventfd(0, EFD_CLOEXEC); /* keep teardown simple */
    else
        c->b = eventfd(0, EFD_CLOEXEC);
}

static void test_fd_reuse_in_batch(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(evloop_add(c->loop, c->a, EPOLLIN, on_replace, c), 0);
    assert_int_equal(evloop_add(c->loop, c->b, EPOLLIN, on_replace, c), 0);
    assert_int_equal(evloop_add(c->loop, c->quit_fd, EPOLLIN, on_quit, c),
                     0);
    kick(c->a);
    kick(c->b);
    assert_int_equal(evloop_run(c->loop), 0);
    assert_int_equal(c->calls_a + c->calls_b, 1);
    assert_int_equal(c->calls_c, 1);
    assert_int_equal(c->fd_c, c->c);
}

static void on_hup(void *opaque, int fd, uint32_t events)
{
    struct ctx *c = opaque;

    c->last_events = events;
    c->calls_a++;
    assert_int_equal(evloop_del(c->loop, fd), 0);
    evloop_quit(c->loop);
}

static void test_hangup(void **state)
{
    struct ctx *c = *state;
    int p[2];

    assert_int_equal(pipe(p), 0);
    assert_int_equal(evloop_add(c->loop, p[0], EPOLLIN, on_hup, c), 0);
    close(p[1]);
    assert_int_equal(evloop_run(c->loop), 0);
    assert_int_equal(c->calls_a, 1);
    assert_true(c->last_events & EPOLLHUP);
    close(p[0]);
}

/* A signal interrupting epoll_wait does not end the loop. */
static void on_signal(int sig)
{
    (void)sig;
}

struct sig_args {
    pthread_t target;
    int fd;
};

static void *signal_then_kick(void *arg)
{
    struct sig_args *s = arg;
    struct timespec ts = { 0, 20 * 1000 * 1000 };

    nanosleep(&ts, NULL);
    pthread_kill(s->target, SIGUSR1);
    nanosleep(&ts, NULL);
    kick(s->fd);
    return NULL;
}

static void test_eintr(void **state)
{
    struct ctx *c = *state;
    struct sigaction sa, old;
    struct sig_args args = { pthread_self(), c->quit_fd };
    pthread_t t;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait gets EINTR */
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    assert_int_equal(evloop_add(c->loop, c->quit_fd, EPOLLIN, on_quit, c),
                     0);
    assert_int_equal(pthread_create(&t, NULL, signal_then_kick, &args), 0);
    assert_int_equal(evloop_run(c->loop), 0);
    assert_int_equal(c->calls_quit, 1);
    assert_int_equal(pthread_join(t, NULL), 0);
    sigaction(SIGUSR1, &old, NULL);
}

static void test_destroy_null(void **state)
{
    (void)state;
    evloop_destroy(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_add_del),
        T(test_run_quit),
        T(test_remove_other_in_batch),
        T(test_remove_self),
        T(test_fd_reuse_in_batch),
        T(test_hangup),
        T(test_eintr),
        cmocka_unit_test(test_destroy_null),
    };

    return cmocka_run_group_tests_name("evloop", tests, NULL, NULL);
}
