/* SPDX-License-Identifier: BSD-3-Clause */
/* vCPU threads and exit decoding (see vcpu.h). */
#include "minivmm/vcpu.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/cpu.h"
#include "arch/x86/pvm_quirks.h"
#include "vmm/bus.h"
#include "vmm/clock.h"
#include "vmm/rt_boost.h"
#include "vmm/sched_slice.h"
#include "minivmm/startup.h"
#include "vmm/kvm.h"
#include "vmm/log.h"

#define VCPU_KICK_SIGNAL SIGUSR1

static void kick_handler(int sig)
{
    (void)sig;
}

int vcpu_signals_init(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN gets EINTR */
    sigemptyset(&sa.sa_mask);
    return sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

int vcpu_create(struct vcpu *v, int id, const struct vcpu_env *env)
{
    memset(v, 0, sizeof(*v));
    v->id = id;
    v->env = env;
    v->fd = -1;
    return kvm_create_vcpu(env->kvm, id, &v->fd, &v->run);
}

void vcpu_destroy(struct vcpu *v)
{
    if (v->fd >= 0)
        kvm_destroy_vcpu(v->env->kvm, v->fd, v->run);
    v->fd = -1;
    v->run = NULL;
}

static void crash(struct vcpu *v, const char *what)
{
    log_err("minivmm: vCPU %d: %s", v->id, what);
    if (v->env->kvm->pvm) /* one line naming the instruction and the fix */
        x86_pvm_crash_hint(v->fd, v->env->mem);
    x86_vcpu_dump(v->fd, v->env->mem); /* through the log, line by line */
    v->env->stop.request_stop(v->env->stop.opaque, VM_STOP_CRASH, 0);
}

static void handle_io(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;

    for (uint32_t i = 0; i < run->io.count; i++) {
        bus_dispatch(v->env->pio, run->io.port, data, run->io.size,
                     run->io.direction == KVM_EXIT_IO_OUT);
        data += run->io.size;
    }
}

static void handle_system_event(struct vcpu *v)
{
    const struct vm_stop_ctl *s = &v->env->stop;

    switch (v->run->system_event.type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN:
        s->request_stop(s->opaque, VM_STOP_POWEROFF, 0);
        break;
    case KVM_SYSTEM_EVENT_RESET:
        s->request_stop(s->opaque, VM_STOP_RESET, 0);
        break;
    default:
        crash(v, "guest reported a crash (KVM system event)");
        break;
    }
}

static void handle_internal_error(struct vcpu *v)
{
    char what[96];
    int r;

    if (v->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
        r = x86_complete_emulation(v->fd, v->env->mem);
        if (r == 1)
            return;
    }
    snprintf(what, sizeof(what), "KVM internal error, suberror %u%s",
             v->run->internal.suberror,
             v->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                 ? " (instruction emulation failed)"
                 : "");
    crash(v, what);
}

/* One exit. Returns false when the vCPU must stop. */
static bool handle_exit(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    char what[64];

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        stats_inc(&v->exit_count[STATS_EXIT_IO]);
        handle_io(v);
        return true;
    case KVM_EXIT_MMIO:
        stats_inc(&v->exit_count[STATS_EXIT_MMIO]);
        bus_dispatch(v->env->mmio, run->mmio.phys_addr, run->mmio.data,
                     run->mmio.len, run->mmio.is_write);
        return true;
    case KVM_EXIT_INTR:
    case KVM_EXIT_HLT:
        stats_inc(&v->exit_count[run->exit_reason == KVM_EXIT_HLT ?
                                 STATS_EXIT_HLT : STATS_EXIT_INTR]);
        return true;
    case KVM_EXIT_SHUTDOWN:
        stats_inc(&v->exit_count[STATS_EXIT_OTHER]);
        crash(v, "triple fault (KVM_EXIT_SHUTDOWN)");
        return false;
    case KVM_EXIT_SYSTEM_EVENT:
        stats_inc(&v->exit_count[STATS_EXIT_OTHER]);
        handle_system_event(v);
        return false;
    case KVM_EXIT_INTERNAL_ERROR:
        stats_inc(&v->exit_count[STATS_EXIT_OTHER]);
        handle_internal_error(v);
        return !__atomic_load_n(v->env->stopping, __ATOMIC_ACQUIRE);
    case KVM_EXIT_FAIL_ENTRY:
        snprintf(what, sizeof(what), "VM entry failed, reason %#llx",
                 (unsigned long long)
                     run->fail_entry.hardware_entry_failure_reason);
        crash(v, what);
        return false;
    default:
        snprintf(what, sizeof(what), "unhandled KVM exit %u",
                 run->exit_reason);
        crash(v, what);
        return false;
    }
}

/* Called after KVM_RUN returned -EINTR: the previous exit is complete,
 * so this is a safe point to park while a pause is requested. */
static void maybe_park(struct vcpu *v)
{
    struct vcpu_sync *s = v->env->sync;

    if (!s || !__atomic_load_n(&s->pause, __ATOMIC_SEQ_CST))
        return;
    pthread_mutex_lock(&s->lock);
    s->parked++;
    s->park_us = clock_now_us();
    pthread_cond_broadcast(&s->cond);
    while (__atomic_load_n(&s->pause, __ATOMIC_SEQ_CST) &&
           !__atomic_load_n(v->env->stopping, __ATOMIC_ACQUIRE))
        pthread_cond_wait(&s->cond, &s->lock);
    s->parked--;
    pthread_mutex_unlock(&s->lock);
}

/* Auto-converge (vcpu_throttle.h): after a kick, a vCPU that ran at
 * least its slice since its last hold waits out its share, unless a
 * pause, a stop or a throttle change comes first. */
static void maybe_throttle(struct vcpu *v)
{
    struct vcpu_sync *s = v->env->sync;
    unsigned int pct = s ? __atomic_load_n(&s->throttle_pct,
                                           __ATOMIC_ACQUIRE) : 0;
    uint64_t now = clock_now_us(), end;
    struct timespec ts;

    if (!pct || pct >= 100 ||
        now - v->throttle_end_us < VCPU_THROTTLE_SLICE_MS * 900ULL)
        return;
    end = VCPU_THROTTLE_SLICE_MS * 1000ULL * pct / (100 - pct);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(end / 1000000);
    ts.tv_nsec += (long)(end % 1000000) * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    while (!__atomic_load_n(&s->pause, __ATOMIC_SEQ_CST) &&
           !__atomic_load_n(v->env->stopping, __ATOMIC_ACQUIRE) &&
           __atomic_load_n(&s->throttle_pct, __ATOMIC_ACQUIRE) == pct &&
           pthread_cond_timedwait(&s->cond, &s->lock, &ts) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&s->lock);
    v->throttle_end_us = clock_now_us();
}

static void thread_ends(struct vcpu *v)
{
    struct vcpu_sync *s = v->env->sync;

    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->running--;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

void vcpu_stats(const struct vcpu *v, unsigned int n, struct json_object *arr,
                uint64_t *totals)
{
    for (unsigned int i = 0; i < n; i++) {
        struct json_object *o = json_object_new_object();
        struct json_object *e = json_object_new_object();
        uint64_t sum = 0;

        for (unsigned int k = 0; k < STATS_EXIT_COUNT; k++) {
            uint64_t x = stats_get(&v[i].exit_count[k]);

            stats_put(e, stats_exit_names[k], x);
            totals[k] += x;
            sum += x;
        }
        stats_put(e, "total", sum);
        json_object_object_add(o, "id", json_object_new_int(v[i].id));
        json_object_object_add(o, "exits", e);
        json_object_array_add(arr, o);
    }
}

static void *vcpu_thread(void *arg)
{
    struct vcpu *v = arg;
    char name[16];

    snprintf(name, sizeof(name), "vcpu%d", v->id);
    pthread_setname_np(pthread_self(), name);
    __atomic_store_n(&v->tid, (int)gettid(), __ATOMIC_RELEASE);
    /* Started boosted by an incoming migration's thread: that got it
     * here promptly; guest code runs unboosted (vmm/rt_boost.h). A VM
     * run under chrt by its user is left as it is. */
    if (v->env->rt_handover)
        rt_boost_drop_inherited(0);
    if (sc_install(SC_T_VCPU, v->env->seccomp) < 0) {
        log_err("minivmm: vCPU %d: seccomp filter failed", v->id);
        v->env->stop.request_stop(v->env->stop.opaque, VM_STOP_ERROR, 0);
        thread_ends(v);
        return NULL;
    }
    if (v->id == 0)
        startup_mark(v->env->start_ns, "first KVM_RUN (vCPU 0)");
    while (!__atomic_load_n(v->env->stopping, __ATOMIC_ACQUIRE)) {
        int r = kvm_vcpu_ioctl(v->fd, KVM_RUN, NULL);

        v->exits++;
        if (r == -EINTR || r == -EAGAIN) {
            stats_inc(&v->exit_count[STATS_EXIT_KICK]);
            /* seq_cst: orders this store before the pause flag's load
             * (a kick racing with it is then seen by one of the two). */
            __atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
            maybe_throttle(v);
            maybe_park(v);
            continue;
        }
        if (r < 0) {
            log_err("minivmm: vCPU %d: KVM_RUN: %s", v->id, strerror(-r));
            v->env->stop.request_stop(v->env->stop.opaque, VM_STOP_ERROR, 0);
            break;
        }
        if (!handle_exit(v))
            break;
    }
    thread_ends(v);
    return NULL;
}

int vcpu_start(struct vcpu *v)
{
    struct vcpu_sync *s = v->env->sync;
    int r;

    if (s) {
        pthread_mutex_lock(&s->lock);
        s->running++;
        pthread_mutex_unlock(&s->lock);
    }
    r = pthread_create(&v->thread, NULL, vcpu_thread, v);
    if (r) {
        if (s)
            thread_ends(v);
        return -r;
    }
    v->started = true;
    return 0;
}

void vcpu_kick(struct vcpu *v)
{
    if (!v->started)
        return;
    __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
    pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
    if (v->started)
        pthread_join(v->thread, NULL);
    v->started = false;
}

void vcpu_sync_init(struct vcpu_sync *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
}

void vcpu_sync_destroy(struct vcpu_sync *s)
{
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
}

#define PAUSE_REKICK_MS 10

int vcpu_pause_all(struct vcpu *vcpus, unsigned int n,
                   struct vcpu_sync *s, unsigned int timeout_ms)
{
    unsigned int waited = 0;
    int r = 0;

    pthread_mutex_lock(&s->lock);
    __atomic_store_n(&s->pause, 1, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&s->cond); /* wakes throttle holds */
    while (s->parked < s->running) {
        struct timespec ts;

        if (waited >= timeout_ms) {
            r = -ETIMEDOUT;
            break;
        }
        /* Re-kick every few ms: a vCPU busy in a device handler parks
         * when it next returns to KVM_RUN. */
        for (unsigned int i = 0; i < n; i++)
            vcpu_kick(&vcpus[i]);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += PAUSE_REKICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
        waited += PAUSE_REKICK_MS;
    }
    pthread_mutex_unlock(&s->lock);
    if (r < 0)
        vcpu_resume_all(s);
    return r;
}

void vcpu_slice_all(struct vcpu *vcpus, unsigned int n, unsigned int us)
{
    for (unsigned int i = 0; i < n; i++) {
        int tid = __atomic_load_n(&vcpus[i].tid, __ATOMIC_ACQUIRE);

        if (vcpus[i].started && tid > 0)
            sched_slice_set(tid, us);
    }
}

void vcpu_pause_begin(struct vcpu *vcpus, unsigned int n,
                      struct vcpu_sync *s)
{
    pthread_mutex_lock(&s->lock);
    __atomic_store_n(&s->pause, 1, __ATOMIC_SEQ_CST);
    s->kick_us = clock_now_us();
    pthread_cond_broadcast(&s->cond); /* wakes throttle holds */
    pthread_mutex_unlock(&s->lock);
    for (unsigned int i = 0; i < n; i++)
        vcpu_kick(&vcpus[i]);
}

void vcpu_resume_all(struct vcpu_sync *s)
{
    pthread_mutex_lock(&s->lock);
    __atomic_store_n(&s->pause, 0, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}
