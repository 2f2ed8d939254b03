/* SPDX-License-Identifier: BSD-3-Clause */
/* A bounded real-time boost for a live migration's stop-and-copy window
 * (docs/migration.md, "Real-time boost"). On a host whose cores are busy,
 * a CPU-bound vCPU thread kicked out of KVM_RUN, or a thread woken by a
 * socket, waits for its turn on a core; SCHED_FIFO (priority
 * RT_BOOST_PRIO) makes it run at once. The boost lasts only while the
 * guest is stopped anyway, and never longer than a hard cap (a wall-clock
 * deadline the owner enforces, rt_boost_expire()); boosted threads carry
 * SCHED_FLAG_RESET_ON_FORK (children start as SCHED_OTHER) unless the
 * owner asks for inheritance, and the kernel's RT throttling
 * (sched_rt_runtime_us) bounds what is left. Needs CAP_SYS_NICE or
 * RLIMIT_RTPRIO >= RT_BOOST_PRIO: without it the first attempt fails with
 * -EPERM, the object remembers it (RT_BOOST_UNPERMITTED) and the caller
 * carries on as before (a debug log line).
 *
 * State machine (thread-safe, one mutex):
 *   OFF --on()--> ON --off(DONE|FAILED|CANCELLED)--> OFF
 *                 ON --expire(now >= deadline)--> OFF (end CAPPED)
 *   OFF --on(), -EPERM--> UNPERMITTED (on() is then a no-op)
 * off() and expire() restore SCHED_OTHER with the caller's slice
 * (vmm/sched_slice.h) on every thread that was boosted; both are
 * idempotent. The scheduling calls go through ops (tests fake them). */
#ifndef MINIVMM_RT_BOOST_H
#define MINIVMM_RT_BOOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define RT_BOOST_PRIO 1         /* the lowest SCHED_FIFO priority */
#define RT_BOOST_CAP_MS 100     /* default hard cap of one boost */
#define RT_BOOST_MAX 64         /* threads in one boost */

enum rt_boost_state { RT_BOOST_OFF, RT_BOOST_ON, RT_BOOST_UNPERMITTED };
enum rt_boost_end {
    RT_BOOST_NONE, RT_BOOST_DONE, RT_BOOST_FAILED, RT_BOOST_CANCELLED,
    RT_BOOST_CAPPED,
};

struct rt_boost_ops {
    /* Thread @tid: SCHED_FIFO RT_BOOST_PRIO (@rt; @inherit: without
     * SCHED_FLAG_RESET_ON_FORK), or SCHED_OTHER with a @slice_us slice
     * (0: default), nice kept. 0 or -errno. */
    int (*set)(void *opaque, pid_t tid, bool rt, bool inherit,
               unsigned int slice_us);
};

struct rt_boost {
    pthread_mutex_t lock;
    const struct rt_boost_ops *ops;
    void *opaque;
    bool enabled;
    bool inherit;               /* children inherit the boost */
    enum rt_boost_state state;
    enum rt_boost_end last_end;
    unsigned int cap_ms;
    unsigned int slice_us;      /* restored with SCHED_OTHER */
    uint64_t deadline_us;       /* clock_now_us() at which it must end */
    pid_t tids[RT_BOOST_MAX];
    unsigned int n;
    unsigned int boosts;        /* statistics: boosts that took effect */
};

/* Real ops: sched_setattr(2) on the thread (CAP_SYS_NICE or
 * RLIMIT_RTPRIO for SCHED_FIFO). */
extern const struct rt_boost_ops rt_boost_sys_ops;

/* @enabled false: on() never boosts. @cap_ms: the hard cap (0:
 * RT_BOOST_CAP_MS); @slice_us: the slice restored at the end. */
void rt_boost_init(struct rt_boost *b, const struct rt_boost_ops *ops,
                   void *opaque, bool enabled, unsigned int cap_ms,
                   unsigned int slice_us);
void rt_boost_fini(struct rt_boost *b);

/* Boost @tids[0..@n) (entries <= 0 skipped, at most RT_BOOST_MAX) from
 * @now_us (µs, clock_now_us) until off() or now_us + cap. A thread that
 * cannot be boosted (gone: -ESRCH) is skipped. Returns how many threads
 * were boosted: 0 when disabled, unpermitted (-EPERM on the first: the
 * state becomes UNPERMITTED) or already on (then @tids are added). */
int rt_boost_on(struct rt_boost *b, const pid_t *tids, unsigned int n,
                uint64_t now_us);
/* End the boost (@why: DONE, FAILED or CANCELLED). true if it was on. */
bool rt_boost_off(struct rt_boost *b, enum rt_boost_end why);
/* End it with CAPPED if @now_us is past its deadline. true if it ended
 * now. */
bool rt_boost_expire(struct rt_boost *b, uint64_t now_us);
/* Hand the boost on to the threads its threads create next: before the
 * cap, each boosted thread is set again without RESET_ON_FORK and the
 * object forgets them (they stay boosted until rt_boost_drop_inherited();
 * the caller makes that prompt). true if handed on; false if it was off
 * or past its cap (then ended, CAPPED). */
bool rt_boost_handover(struct rt_boost *b, uint64_t now_us);
/* µs left until the cap (0 when off). */
uint64_t rt_boost_left_us(struct rt_boost *b, uint64_t now_us);
enum rt_boost_state rt_boost_state(struct rt_boost *b);
enum rt_boost_end rt_boost_last_end(struct rt_boost *b);
/* "done", "failed", "cancelled", "capped" or "none". */
const char *rt_boost_end_name(enum rt_boost_end e);

/* Thread @tid (0: the caller): if it runs SCHED_FIFO at RT_BOOST_PRIO
 * (a boost inherited from its creator), back to SCHED_OTHER with a
 * default slice. true if it did. Anything else is left alone. */
bool rt_boost_drop_inherited(pid_t tid);

#endif
