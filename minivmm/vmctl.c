/* SPDX-License-Identifier: BSD-3-Clause */
/* VM control: snapshot save and restore load over run control and the
 * state walk (see vmctl.h). */
#include "minivmm/vmctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/persist/snapshot_file.h"
#include "minivmm/persist/snapshot_outcome.h"
#include "minivmm/persist/vmstate.h"
#include "minivmm/vmctl_mig.h"
#include "vmm/clock.h"
#include "vmm/log.h"
#include "vmm/memory.h"

struct vmctl {
    struct vmctl_env env;
    struct vm_event_sink events;    /* set by the API, read by rc and mig */
    struct runctl rc;
    struct vmctl_mig *mig;          /* outgoing live migration */
};

/* Report a failed snapshot (API reply in @err, and the log). */
static int snapshot_failed(struct vmctl *c, struct snap_outcome *o,
                           int r, char *err, size_t errlen)
{
    o->vm_state = runctl_state_name(&c->rc);
    snap_outcome_text(o, err, errlen);
    log_err("minivmm: %s", err);
    return r;
}

/* Build the tree and write the file; the guest is stopped. */
static int snapshot_save(struct vmctl *c, const char *path,
                         struct snap_outcome *o, struct snap_write_stats *st,
                         char *why, size_t whylen)
{
    void *fdt = NULL;
    size_t len = 0;
    int r;

    o->step = SNAP_STEP_SAVE;
    r = vmstate_build(c->env.devs, c->env.nvcpus, c->env.mem->ram_size,
                      &fdt, &len, why, whylen);
    if (r == 0) {
        o->step = SNAP_STEP_WRITE;
        r = snap_write_file(path, fdt, len, c->env.mem, st, why, whylen);
    }
    free(fdt);
    o->file_written = r == 0;
    return r;
}

int vmctl_ram_ready(struct vmctl *c, char *err, size_t errlen)
{
    return c->env.ram_ready ? c->env.ram_ready(c->env.ram_opaque, err,
                                               errlen) : 0;
}

int vmctl_snapshot(struct vmctl *c, const char *path, char *err,
                   size_t errlen)
{
    bool was_running = c->rc.rs.state == VM_RS_RUNNING;
    struct snap_outcome o = { .path = path, .step = SNAP_STEP_STOP };
    struct snap_write_stats st;
    uint64_t t0 = clock_now_us();
    char why[512] = "", rwhy[256] = "";
    int r = 0, rr = 0;

    if (!runctl_allowed(&c->rc, VM_EV_SNAPSHOT)) {
        snprintf(err, errlen, "cannot snapshot while %s",
                 runctl_state_name(&c->rc));
        return -EBUSY;
    }
    o.why = why;
    if ((r = vmctl_ram_ready(c, why, sizeof(why))) < 0)
        return snapshot_failed(c, &o, r, err, errlen);
    if (was_running && (r = runctl_stop_guest(&c->rc, why, sizeof(why))) < 0)
        return snapshot_failed(c, &o, r, err, errlen);
    runctl_event(&c->rc, VM_EV_SNAPSHOT);
    r = snapshot_save(c, path, &o, &st, why, sizeof(why));
    runctl_event(&c->rc, VM_EV_SNAPSHOT_END);
    /* Devices, then vCPUs only if every device resumed: a device that
     * cannot resume leaves the VM paused. */
    if (was_running &&
        (rr = runctl_start_devices_first(&c->rc, rwhy, sizeof(rwhy))) < 0)
        runctl_event(&c->rc, VM_EV_PAUSE);
    if (r == 0 && rr < 0) {
        o.step = SNAP_STEP_RESUME;
        o.why = rwhy;
        r = -EIO;
    } else if (rr < 0) {
        o.resume_why = rwhy;
    }
    if (r < 0)
        return snapshot_failed(c, &o, r, err, errlen);
    log_info("minivmm: snapshot %s: %llu MiB, %llu pages, %llu zero pages "
             "skipped, %.1f ms", path, (unsigned long long)(st.bytes >> 20),
             (unsigned long long)st.pages, (unsigned long long)st.zero_pages,
             (double)(clock_now_us() - t0) / 1000.0);
    return 0;
}

int vmctl_load(struct vmctl *c, const void *fdt, char *err, size_t errlen)
{
    return vmstate_load(c->env.devs, fdt, err, errlen);
}

int vmctl_pause(struct vmctl *c, char *err, size_t errlen)
{
    return runctl_pause(&c->rc, err, errlen);
}

int vmctl_resume(struct vmctl *c, char *err, size_t errlen)
{
    return runctl_resume(&c->rc, err, errlen);
}

const char *vmctl_state_name(const struct vmctl *c)
{
    return runctl_state_name(&c->rc);
}

struct migration *vmctl_migration(struct vmctl *c)
{
    return vmctl_mig_migration(c->mig);
}

void vmctl_set_events(struct vmctl *c, const struct vm_event_sink *sink)
{
    c->events = *sink;
}

int vmctl_create(const struct vmctl_env *env, struct vmctl **out, char *err,
                 size_t errlen)
{
    struct vmctl *c = calloc(1, sizeof(*c));
    struct runctl_env re = {
        .vcpus = env->vcpus, .nvcpus = env->nvcpus, .sync = env->sync,
        .devs = env->devs,
    };
    struct vmctl_mig_env me = {
        .kvm = env->kvm, .mem = env->mem, .loop = env->loop,
        .devs = env->devs, .nvcpus = env->nvcpus, .stop = env->stop,
        .downtime_ms = env->migrate_downtime_ms,
        .timeout_ms = env->migrate_timeout_ms, .seccomp = env->seccomp,
    };
    int r;

    if (!c)
        return -ENOMEM;
    c->env = *env;
    re.events = &c->events;
    runctl_init(&c->rc, &re);
    me.rc = &c->rc;
    r = vmctl_mig_create(&me, &c->mig);
    if (r < 0) {
        snprintf(err, errlen, "migration: %s", strerror(-r));
        free(c);
        return r;
    }
    *out = c;
    return 0;
}

void vmctl_destroy(struct vmctl *c)
{
    if (!c)
        return;
    vmctl_mig_destroy(c->mig);
    free(c);
}

void vmctl_started(struct vmctl *c)
{
    if (c)
        runctl_started(&c->rc);
}

void vmctl_stopping(struct vmctl *c)
{
    if (c)
        runctl_stopping(&c->rc);
}
