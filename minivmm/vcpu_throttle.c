/* SPDX-License-Identifier: BSD-3-Clause */
/* vCPU throttling for auto-converge (see vcpu_throttle.h). */
#include "minivmm/vcpu_throttle.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "minivmm/vcpu.h"
#include "vmm/evloop.h"

struct vcpu_throttle {
    struct evloop *loop;
    struct vcpu *vcpus;
    unsigned int n;
    struct vcpu_sync *sync;
    int tfd;
    unsigned int pct;
};

/* Each period: kick every vCPU; those that ran their slice hold. */
static void on_tick(void *opaque, int fd, uint32_t events)
{
    struct vcpu_throttle *t = opaque;
    uint64_t ticks;

    (void)events;
    if (read(fd, &ticks, sizeof(ticks)) < 0 || !t->pct)
        return;
    for (unsigned int i = 0; i < t->n; i++)
        vcpu_kick(&t->vcpus[i]);
}

int vcpu_throttle_create(struct evloop *loop, struct vcpu *vcpus,
                         unsigned int n, struct vcpu_sync *sync,
                         struct vcpu_throttle **out)
{
    struct vcpu_throttle *t = calloc(1, sizeof(*t));
    int r;

    if (!t)
        return -ENOMEM;
    *t = (struct vcpu_throttle){ .loop = loop, .vcpus = vcpus, .n = n,
                                 .sync = sync };
    t->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    r = t->tfd < 0 ? -errno : evloop_add(loop, t->tfd, EPOLLIN, on_tick, t);
    if (r < 0) {
        if (t->tfd >= 0)
            close(t->tfd);
        free(t);
        return r;
    }
    *out = t;
    return 0;
}

void vcpu_throttle_destroy(struct vcpu_throttle *t)
{
    if (!t)
        return;
    vcpu_throttle_set(t, 0);
    evloop_del(t->loop, t->tfd);
    close(t->tfd);
    free(t);
}

int vcpu_throttle_set(struct vcpu_throttle *t, unsigned int pct)
{
    uint64_t ns = pct ? VCPU_THROTTLE_SLICE_MS * 1000000ULL * 100 /
                            (100 - (pct > 99 ? 99 : pct)) : 0;
    struct itimerspec its = {
        .it_interval = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) },
        .it_value = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) },
    };

    if (pct > 99)
        return -EINVAL;
    pthread_mutex_lock(&t->sync->lock);
    __atomic_store_n(&t->sync->throttle_pct, pct, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&t->sync->cond); /* a hold at the old pct ends */
    pthread_mutex_unlock(&t->sync->lock);
    t->pct = pct;
    return timerfd_settime(t->tfd, 0, &its, NULL) < 0 ? -errno : 0;
}
