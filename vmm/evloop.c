/* SPDX-License-Identifier: BSD-3-Clause */
/* epoll-based event loop (see evloop.h). */
#include "vmm/evloop.h"
#include "vmm/stats.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct evloop_watch {
    int fd;
    evloop_fn fn;
    void *opaque;
    struct evloop_watch *next;
    bool dead;
};

struct evloop {
    int epfd;
    bool quit;
    struct evloop_watch *watches;
    struct evloop_watch *graveyard; /* freed after the current batch */
    uint64_t wakeups;               /* epoll_wait returns (stats.h) */
};

int evloop_create(struct evloop **out)
{
    struct evloop *l = calloc(1, sizeof(*l));

    if (!l)
        return -ENOMEM;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        int r = -errno;

        free(l);
        return r;
    }
    *out = l;
    return 0;
}

static void free_list(struct evloop_watch *w)
{
    while (w) {
        struct evloop_watch *n = w->next;

        free(w);
        w = n;
    }
}

void evloop_destroy(struct evloop *loop)
{
    if (!loop)
        return;
    close(loop->epfd);
    free_list(loop->watches);
    free_list(loop->graveyard);
    free(loop);
}

int evloop_add(struct evloop *loop, int fd, uint32_t events, evloop_fn fn,
               void *opaque)
{
    struct evloop_watch *w = calloc(1, sizeof(*w));
    struct epoll_event ev = { .events = events };

    if (!w)
        return -ENOMEM;
    *w = (struct evloop_watch){ .fd = fd, .fn = fn, .opaque = opaque };
    ev.data.ptr = w;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int r = -errno;

        free(w);
        return r;
    }
    w->next = loop->watches;
    loop->watches = w;
    return 0;
}

int evloop_del(struct evloop *loop, int fd)
{
    for (struct evloop_watch **p = &loop->watches; *p; p = &(*p)->next) {
        struct evloop_watch *w = *p;

        if (w->fd != fd)
            continue;
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
        *p = w->next;
        w->dead = true;
        w->next = loop->graveyard;
        loop->graveyard = w;
        return 0;
    }
    return -ENOENT;
}

int evloop_run(struct evloop *loop)
{
    struct epoll_event evs[16];

    loop->quit = false;
    while (!loop->quit) {
        int n = epoll_wait(loop->epfd, evs, 16, -1);

        stats_inc(&loop->wakeups);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        for (int i = 0; i < n && !loop->quit; i++) {
            struct evloop_watch *w = evs[i].data.ptr;

            if (!w->dead)
                w->fn(w->opaque, w->fd, evs[i].events);
        }
        free_list(loop->graveyard);
        loop->graveyard = NULL;
    }
    return 0;
}

void evloop_quit(struct evloop *loop)
{
    loop->quit = true;
}

uint64_t evloop_wakeups(const struct evloop *loop)
{
    return stats_get(&loop->wakeups);
}
