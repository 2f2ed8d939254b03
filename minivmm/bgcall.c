/* SPDX-License-Identifier: BSD-3-Clause */
/* One call on a thread (see bgcall.h). */
#include "minivmm/bgcall.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

struct bgcall {
    pthread_t thread;
    int (*fn)(void *arg);
    void *arg;
    int r;
};

static void *bg_thread(void *opaque)
{
    struct bgcall *b = opaque;
    sigset_t all;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    b->r = b->fn(b->arg);
    return NULL;
}

int bgcall_start(int (*fn)(void *arg), void *arg, struct bgcall **out)
{
    struct bgcall *b = calloc(1, sizeof(*b));
    int r;

    *out = NULL;
    if (!b)
        return -ENOMEM;
    b->fn = fn;
    b->arg = arg;
    r = pthread_create(&b->thread, NULL, bg_thread, b);
    if (r != 0) {
        free(b);
        return -r;
    }
    *out = b;
    return 0;
}

int bgcall_join(struct bgcall *b)
{
    int r;

    if (!b)
        return 0;
    pthread_join(b->thread, NULL);
    r = b->r;
    free(b);
    return r;
}
