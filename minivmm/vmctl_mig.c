/* SPDX-License-Identifier: BSD-3-Clause */
/* Outgoing live migration, the VM's side (see vmctl_mig.h). */
#include "minivmm/vmctl_mig.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "minivmm/mig_boost.h"
#include "minivmm/persist/migration.h"
#include "minivmm/persist/vmstate.h"
#include "minivmm/runctl.h"
#include "minivmm/vcpu.h"
#include "minivmm/vcpu_throttle.h"
#include "vmm/clock.h"
#include "vmm/devreg.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "vmm/sched_slice.h"

struct vmctl_mig {
    struct vmctl_mig_env env;
    struct migration *mig;
    struct vcpu_throttle *throttle; /* auto-converge */
    struct mig_boost *boost;    /* the stop window's real-time boost */
    bool stopped;               /* the migration stopped the guest */
};

static int mig_begin(void *opaque, char *err, size_t errlen)
{
    struct vmctl_mig *vm = opaque;

    if (!runctl_allowed(vm->env.rc, VM_EV_MIGRATE)) {
        snprintf(err, errlen, "cannot migrate while %s",
                 runctl_state_name(vm->env.rc));
        return -EBUSY;
    }
    if (devreg_blocked(vm->env.devs, err, errlen) < 0)
        return -EOPNOTSUPP;
    vm->stopped = false;
    runctl_event(vm->env.rc, VM_EV_MIGRATE);
    /* A short slice: the stop's hand-offs wake this thread on a busy
     * core (docs/migration.md, "Downtime under load"). Undone at end. */
    sched_slice_set(0, SCHED_SLICE_SHORT_US);
    return 0;
}

/* Migration thread: the vCPUs start parking while the loop wakes up. */
static void mig_stop_early(void *opaque)
{
    struct vmctl_mig *vm = opaque;
    struct runctl *rc = vm->env.rc;

    if (rc->rs.prev != VM_RS_RUNNING || vm->stopped)
        return;
    /* Runnable on a busy core, a vCPU thread waits for its turn to see
     * the kick: the boost (boost_on, just before) or else a short slice
     * brings its turn forward (undone at end). The slice would undo the
     * boost: one or the other. */
    if (!mig_boost_active(vm->boost))
        vcpu_slice_all(rc->env.vcpus, rc->env.nvcpus, SCHED_SLICE_SHORT_US);
    vcpu_pause_begin(rc->env.vcpus, rc->env.nvcpus, rc->env.sync);
}

static void mig_boost_start(void *opaque, int want)
{
    struct vmctl_mig *vm = opaque;

    mig_boost_on(vm->boost, want);
}

static void mig_boost_end(void *opaque, int result)
{
    struct vmctl_mig *vm = opaque;

    mig_boost_off(vm->boost, result);
}

/* ms from the migration thread's kick to the last vCPU parking. */
static double park_ms(struct vmctl_mig *vm)
{
    struct vcpu_sync *s = vm->env.rc->env.sync;
    double ms;

    pthread_mutex_lock(&s->lock);
    ms = s->park_us > s->kick_us ? (double)(s->park_us - s->kick_us) / 1e3
                                 : 0;
    pthread_mutex_unlock(&s->lock);
    return ms;
}

static int mig_stop(void *opaque, void **fdt, size_t *len, char *err,
                    size_t errlen)
{
    struct vmctl_mig *vm = opaque;
    uint64_t t0 = clock_now_us(), t1;
    int r = 0;

    if (vm->env.rc->rs.prev == VM_RS_RUNNING && !vm->stopped) {
        r = runctl_stop_guest(vm->env.rc, err, errlen);
        vm->stopped = r == 0;
    }
    t1 = clock_now_us();
    if (r == 0)
        r = vmstate_build(vm->env.devs, vm->env.nvcpus,
                          vm->env.mem->ram_size, fdt, len, err, errlen);
    log_debug("migration: stop on the loop: vCPUs paused and devices "
              "quiesced in %.3f ms (pause %.3f; the last vCPU parked "
              "%.3f ms after the first kick), state tree %.3f ms",
              (double)(t1 - t0) / 1e3,
              (double)vm->env.rc->pause_us / 1e3, park_ms(vm),
              (double)(clock_now_us() - t1) / 1e3);
    return r;
}

static void mig_end(void *opaque, enum mig_end outcome)
{
    struct vmctl_mig *vm = opaque;
    char err[256];

    /* Normally ended on the migration thread already (boost_off). */
    mig_boost_off(vm->boost, outcome == MIG_END_DONE ? 0 : -EIO);
    sched_slice_set(0, 0);
    vcpu_slice_all(vm->env.rc->env.vcpus, vm->env.rc->env.nvcpus, 0);
    if (outcome == MIG_END_DONE) {
        runctl_event(vm->env.rc, VM_EV_MIGRATE_DONE);
        vm->env.stop.request_stop(vm->env.stop.opaque, VM_STOP_POWEROFF, 0);
        return;
    }
    if (outcome == MIG_END_IN_DOUBT) {
        /* Not ours to decide: the destination may run it. Keep it paused
         * (vCPUs and devices stay stopped; `resume` starts them). */
        log_warn("minivmm: migration hand-over in doubt: GO was sent but "
                 "the destination never answered. The guest is kept here, "
                 "paused. If the destination runs it, quit this minivmm; "
                 "if not, resume it here (minivmm-ctl SOCKET resume).");
        vm->stopped = false; /* now an ordinary pause */
        runctl_event(vm->env.rc, VM_EV_MIGRATE_IN_DOUBT);
        return;
    }
    if (vm->stopped && runctl_start_guest(vm->env.rc, err, sizeof(err)) < 0)
        log_err("minivmm: after the migration: %s", err);
    vm->stopped = false;
    runctl_event(vm->env.rc, VM_EV_MIGRATE_FAIL);
}

static void mig_throttle(void *opaque, unsigned int pct)
{
    struct vmctl_mig *vm = opaque;

    if (vcpu_throttle_set(vm->throttle, pct) < 0)
        log_warn("minivmm: migration: cannot throttle the vCPUs");
    else if (pct)
        log_info("minivmm: migration: vCPUs throttled to %u%% "
                 "(auto-converge)", pct);
}

static void mig_event(void *opaque, struct json_object *ev)
{
    struct vmctl_mig *vm = opaque;
    const struct vm_event_sink *s = vm->env.rc->env.events;

    if (s && s->object)
        s->object(s->opaque, ev);
}

static const struct migration_host_ops mig_ops = {
    .begin = mig_begin,
    .stop_early = mig_stop_early,
    .boost_on = mig_boost_start,
    .boost_off = mig_boost_end,
    .stop = mig_stop,
    .end = mig_end,
    .throttle = mig_throttle,
    .event = mig_event,
};

int vmctl_mig_create(const struct vmctl_mig_env *env, struct vmctl_mig **out)
{
    struct vmctl_mig *vm = calloc(1, sizeof(*vm));
    struct migration_env me = {
        .kvm = env->kvm, .mem = env->mem, .loop = env->loop,
        .devs = env->devs, .cpus = env->nvcpus,
        .downtime_ms = env->downtime_ms, .timeout_ms = env->timeout_ms,
        .host = &mig_ops, .seccomp = env->seccomp,
    };
    int r;

    if (!vm)
        return -ENOMEM;
    vm->env = *env;
    me.host_opaque = vm;
    r = vcpu_throttle_create(env->loop, env->rc->env.vcpus,
                             env->rc->env.nvcpus, env->rc->env.sync,
                             &vm->throttle);
    if (r == 0 && (r = mig_boost_create(env->loop, env->rc->env.vcpus,
                                        env->rc->env.nvcpus,
                                        !env->no_rt_boost, &vm->boost)) < 0)
        vcpu_throttle_destroy(vm->throttle);
    if (r == 0 && (r = migration_create(&me, &vm->mig)) < 0) {
        mig_boost_destroy(vm->boost);
        vcpu_throttle_destroy(vm->throttle);
    }
    if (r < 0) {
        free(vm);
        return r;
    }
    *out = vm;
    return 0;
}

void vmctl_mig_destroy(struct vmctl_mig *vm)
{
    if (!vm)
        return;
    migration_destroy(vm->mig);
    mig_boost_destroy(vm->boost);
    vcpu_throttle_destroy(vm->throttle);
    free(vm);
}

struct migration *vmctl_mig_migration(struct vmctl_mig *vm)
{
    return vm->mig;
}
