/* SPDX-License-Identifier: BSD-3-Clause */
/* The source's stop-window real-time boost (see mig_boost.h). */
#include "minivmm/mig_boost.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "minivmm/persist/migration_host.h"
#include "minivmm/vcpu.h"
#include "vmm/clock.h"
#include "vmm/evloop.h"
#include "vmm/log.h"
#include "vmm/rt_boost.h"
#include "vmm/sched_slice.h"

struct mig_boost {
    struct rt_boost b;
    struct evloop *loop;
    int tfd;                    /* the hard cap, on the event loop */
    pid_t loop_tid;
    struct vcpu *vcpus;
    unsigned int n;
    bool default_on;
    bool told;                  /* the unprivileged line was logged */
};

static void arm(struct mig_boost *mb, uint64_t us)
{
    struct itimerspec its = {
        .it_value = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 },
    };

    timerfd_settime(mb->tfd, 0, &its, NULL);
}

/* The cap: whatever the migration is doing, the boost ends now. */
static void on_cap(void *opaque, int fd, uint32_t events)
{
    struct mig_boost *mb = opaque;
    uint64_t ticks;

    (void)events;
    if (read(fd, &ticks, sizeof(ticks)) < 0)
        return;
    if (rt_boost_expire(&mb->b, clock_now_us()))
        log_debug("migration: real-time boost ended at its %u ms cap",
                  mb->b.cap_ms);
}

int mig_boost_create(struct evloop *loop, struct vcpu *vcpus, unsigned int n,
                     bool default_on, struct mig_boost **out)
{
    struct mig_boost *mb = calloc(1, sizeof(*mb));
    int r;

    if (!mb)
        return -ENOMEM;
    *mb = (struct mig_boost){ .loop = loop, .vcpus = vcpus, .n = n,
                              .default_on = default_on,
                              .loop_tid = gettid() };
    rt_boost_init(&mb->b, &rt_boost_sys_ops, NULL, true, RT_BOOST_CAP_MS,
                  SCHED_SLICE_SHORT_US);
    mb->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    r = mb->tfd < 0 ? -errno : evloop_add(loop, mb->tfd, EPOLLIN, on_cap,
                                          mb);
    if (r < 0) {
        if (mb->tfd >= 0)
            close(mb->tfd);
        rt_boost_fini(&mb->b);
        free(mb);
        return r;
    }
    *out = mb;
    return 0;
}

void mig_boost_destroy(struct mig_boost *mb)
{
    if (!mb)
        return;
    evloop_del(mb->loop, mb->tfd);
    close(mb->tfd);
    rt_boost_fini(&mb->b);
    free(mb);
}

void mig_boost_on(struct mig_boost *mb, int want)
{
    pid_t tids[RT_BOOST_MAX];
    unsigned int k = 0;
    int n;

    if (want == MIG_RT_BOOST_OFF ||
        (want == MIG_RT_BOOST_DEFAULT && !mb->default_on))
        return;
    tids[k++] = gettid();       /* the migration thread */
    tids[k++] = mb->loop_tid;
    for (unsigned int i = 0; i < mb->n && k < RT_BOOST_MAX; i++)
        if (mb->vcpus[i].started)
            tids[k++] = __atomic_load_n(&mb->vcpus[i].tid, __ATOMIC_ACQUIRE);
    n = rt_boost_on(&mb->b, tids, k, clock_now_us());
    if (n > 0) {
        arm(mb, (uint64_t)mb->b.cap_ms * 1000);
        log_debug("migration: real-time boost (SCHED_FIFO %d) for %d "
                  "threads, at most %u ms", RT_BOOST_PRIO, n, mb->b.cap_ms);
    } else if (rt_boost_state(&mb->b) == RT_BOOST_UNPERMITTED && !mb->told) {
        mb->told = true;
        log_debug("migration: no real-time boost (SCHED_FIFO needs "
                  "CAP_SYS_NICE or RLIMIT_RTPRIO): short slices only");
    }
}

bool mig_boost_active(struct mig_boost *mb)
{
    return rt_boost_state(&mb->b) == RT_BOOST_ON;
}

void mig_boost_off(struct mig_boost *mb, int result)
{
    enum rt_boost_end why = result == 0 ? RT_BOOST_DONE :
                            result == -ECANCELED ? RT_BOOST_CANCELLED :
                            RT_BOOST_FAILED;
    uint64_t left = rt_boost_left_us(&mb->b, clock_now_us());

    if (!rt_boost_off(&mb->b, why))
        return;
    arm(mb, 0);
    log_debug("migration: real-time boost ended (%s), %llu ms before its "
              "cap", rt_boost_end_name(why),
              (unsigned long long)(left / 1000));
}
