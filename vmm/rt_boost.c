/* SPDX-License-Identifier: BSD-3-Clause */
/* A bounded real-time boost (see rt_boost.h; sched_setattr(2)). */
#include "vmm/rt_boost.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm/sched_slice.h"

#ifndef SCHED_FLAG_RESET_ON_FORK
#define SCHED_FLAG_RESET_ON_FORK 0x01
#endif

static int sys_set(void *opaque, pid_t tid, bool rt, bool inherit,
                   unsigned int slice_us)
{
    struct vmm_sched_attr a;

    (void)opaque;
    if (!rt)
        return sched_slice_set(tid, slice_us);
    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.sched_policy = SCHED_FIFO;
    a.sched_priority = RT_BOOST_PRIO;
    a.sched_flags = inherit ? 0 : SCHED_FLAG_RESET_ON_FORK;
    return syscall(SYS_sched_setattr, tid, &a, 0) < 0 ? -errno : 0;
}

const struct rt_boost_ops rt_boost_sys_ops = { .set = sys_set };

void rt_boost_init(struct rt_boost *b, const struct rt_boost_ops *ops,
                   void *opaque, bool enabled, unsigned int cap_ms,
                   unsigned int slice_us)
{
    memset(b, 0, sizeof(*b));
    pthread_mutex_init(&b->lock, NULL);
    b->ops = ops;
    b->opaque = opaque;
    b->enabled = enabled;
    b->cap_ms = cap_ms ? cap_ms : RT_BOOST_CAP_MS;
    b->slice_us = slice_us;
}

void rt_boost_fini(struct rt_boost *b)
{
    rt_boost_off(b, RT_BOOST_DONE);
    pthread_mutex_destroy(&b->lock);
}

static bool known(const struct rt_boost *b, pid_t tid)
{
    for (unsigned int i = 0; i < b->n; i++)
        if (b->tids[i] == tid)
            return true;
    return false;
}

int rt_boost_on(struct rt_boost *b, const pid_t *tids, unsigned int n,
                uint64_t now_us)
{
    int done = 0;

    pthread_mutex_lock(&b->lock);
    for (unsigned int i = 0; b->enabled && i < n; i++) {
        int r;

        if (b->state == RT_BOOST_UNPERMITTED || b->n >= RT_BOOST_MAX)
            break;
        if (tids[i] <= 0 || known(b, tids[i]))
            continue;
        r = b->ops->set(b->opaque, tids[i], true, b->inherit, 0);
        if (r == -EPERM && b->n == 0) {
            b->state = RT_BOOST_UNPERMITTED;
            break;
        }
        if (r < 0)
            continue;
        if (b->state == RT_BOOST_OFF) {
            b->state = RT_BOOST_ON;
            b->deadline_us = now_us + (uint64_t)b->cap_ms * 1000;
            b->last_end = RT_BOOST_NONE;
            b->boosts++;
        }
        b->tids[b->n++] = tids[i];
        done++;
    }
    pthread_mutex_unlock(&b->lock);
    return done;
}

/* Under the lock. */
static bool end_locked(struct rt_boost *b, enum rt_boost_end why)
{
    if (b->state != RT_BOOST_ON)
        return false;
    for (unsigned int i = 0; i < b->n; i++)
        b->ops->set(b->opaque, b->tids[i], false, false, b->slice_us);
    b->n = 0;
    b->state = RT_BOOST_OFF;
    b->last_end = why;
    return true;
}

bool rt_boost_off(struct rt_boost *b, enum rt_boost_end why)
{
    bool r;

    pthread_mutex_lock(&b->lock);
    r = end_locked(b, why);
    pthread_mutex_unlock(&b->lock);
    return r;
}

bool rt_boost_expire(struct rt_boost *b, uint64_t now_us)
{
    bool r = false;

    pthread_mutex_lock(&b->lock);
    if (b->state == RT_BOOST_ON && now_us >= b->deadline_us)
        r = end_locked(b, RT_BOOST_CAPPED);
    pthread_mutex_unlock(&b->lock);
    return r;
}

bool rt_boost_handover(struct rt_boost *b, uint64_t now_us)
{
    bool r = false;

    pthread_mutex_lock(&b->lock);
    if (b->state == RT_BOOST_ON && now_us >= b->deadline_us) {
        end_locked(b, RT_BOOST_CAPPED);
    } else if (b->state == RT_BOOST_ON) {
        for (unsigned int i = 0; i < b->n; i++)
            b->ops->set(b->opaque, b->tids[i], true, true, 0);
        b->n = 0;
        b->state = RT_BOOST_OFF;
        b->last_end = RT_BOOST_DONE;
        r = true;
    }
    pthread_mutex_unlock(&b->lock);
    return r;
}

uint64_t rt_boost_left_us(struct rt_boost *b, uint64_t now_us)
{
    uint64_t left = 0;

    pthread_mutex_lock(&b->lock);
    if (b->state == RT_BOOST_ON)
        left = now_us < b->deadline_us ? b->deadline_us - now_us : 0;
    pthread_mutex_unlock(&b->lock);
    return left;
}

enum rt_boost_state rt_boost_state(struct rt_boost *b)
{
    enum rt_boost_state s;

    pthread_mutex_lock(&b->lock);
    s = b->state;
    pthread_mutex_unlock(&b->lock);
    return s;
}

enum rt_boost_end rt_boost_last_end(struct rt_boost *b)
{
    enum rt_boost_end e;

    pthread_mutex_lock(&b->lock);
    e = b->last_end;
    pthread_mutex_unlock(&b->lock);
    return e;
}

const char *rt_boost_end_name(enum rt_boost_end e)
{
    static const char *const names[] = {
        [RT_BOOST_NONE] = "none", [RT_BOOST_DONE] = "done",
        [RT_BOOST_FAILED] = "failed", [RT_BOOST_CANCELLED] = "cancelled",
        [RT_BOOST_CAPPED] = "capped",
    };

    return (unsigned int)e <= RT_BOOST_CAPPED ? names[e] : "none";
}

bool rt_boost_drop_inherited(pid_t tid)
{
    struct vmm_sched_attr a;

    memset(&a, 0, sizeof(a));
    if (syscall(SYS_sched_getattr, tid, &a, sizeof(a), 0) < 0)
        return false;
    if (a.sched_policy != SCHED_FIFO || a.sched_priority != RT_BOOST_PRIO)
        return false;
    return sched_slice_set(tid, 0) == 0;
}
