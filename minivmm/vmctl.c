/* SPDX-License-Identifier: BSD-3-Clause */
/* VM control: snapshot save and restore load over run control and the
 * state walk (see vmctl.h). */
#include "minivmm/vmctl.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/event_log.h"
#include "minivmm/persist/snapshot_file.h"
#include "minivmm/persist/snapshot_outcome.h"
#include "minivmm/persist/vmstate.h"
#include "minivmm/vmctl_mig.h"
#include "vmm/clock.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "minivmm/vcpu.h"

#define HOLD_TIMEOUT_MS 5000

struct vmctl {
    struct vmctl_env env;
    struct vm_event_sink events;    /* set by the API */
    struct vm_event_sink inner;     /* read by rc and mig: vmctl_event() */
    FILE *event_log;                /* --event-log, or NULL */
    struct runctl rc;
    struct vmctl_mig *mig;          /* outgoing live migration */
};

void vmctl_event(struct vmctl *c, struct json_object *ev)
{
    if (!c)
        return;
    event_stamp(ev);
    event_log_write(c->event_log, ev);
    if (c->events.object)
        c->events.object(c->events.opaque, ev);
}

/* The inner sink's: {"event":"state","state":S}. */
static void on_state(void *opaque, const char *state)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "event", json_object_new_string("state"));
    json_object_object_add(o, "state", json_object_new_string(state));
    vmctl_event(opaque, o);
    json_object_put(o);
}

static void on_object(void *opaque, struct json_object *ev)
{
    vmctl_event(opaque, ev);
}

/* {"event":"snapshot","file","state"} (+ "bytes", "ms" or "error"). */
static void snapshot_event(struct vmctl *c, const char *path,
                           const char *state, uint64_t bytes, double ms,
                           const char *error)
{
    struct json_object *o = json_object_new_object();
    char txt[32];

    json_object_object_add(o, "event", json_object_new_string("snapshot"));
    json_object_object_add(o, "file", json_object_new_string(path));
    json_object_object_add(o, "state", json_object_new_string(state));
    if (!strcmp(state, "completed")) {
        json_object_object_add(o, "bytes",
                               json_object_new_int64((int64_t)bytes));
        snprintf(txt, sizeof(txt), "%.3f", ms);
        json_object_object_add(o, "ms", json_object_new_double_s(ms, txt));
    }
    if (error)
        json_object_object_add(o, "error", json_object_new_string(error));
    vmctl_event(c, o);
    json_object_put(o);
}

/* Report a failed snapshot (API reply in @err, event, and the log). */
static int snapshot_failed(struct vmctl *c, struct snap_outcome *o,
                           int r, char *err, size_t errlen)
{
    o->vm_state = runctl_state_name(&c->rc);
    snap_outcome_text(o, err, errlen);
    log_err("minivmm: %s", err);
    snapshot_event(c, o->path, "failed", 0, 0, err);
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
    snapshot_event(c, path, "started", 0, 0, NULL);
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
    snapshot_event(c, path, "completed", st.bytes,
                   (double)(clock_now_us() - t0) / 1000.0, NULL);
    return 0;
}

int vmctl_vcpus_hold(struct vmctl *c)
{
    int r;

    if (c->rc.rs.state == VM_RS_PAUSED)
        return 0;
    if (c->rc.rs.state != VM_RS_RUNNING)
        return -EBUSY;
    r = vcpu_pause_all(c->env.vcpus, c->env.nvcpus, c->env.sync,
                       HOLD_TIMEOUT_MS);
    return r < 0 ? r : 1;
}

void vmctl_vcpus_release(struct vmctl *c, int held)
{
    if (held == 1)
        vcpu_resume_all(c->env.sync);
}

/* Devices may be added or removed while the VM runs. */
static int hotplug_allowed(const struct vmctl *c, bool have, const char *cmd,
                           char *err, size_t errlen)
{
    if (c->rc.rs.state != VM_RS_RUNNING) {
        snprintf(err, errlen, "cannot change devices while %s",
                 runctl_state_name(&c->rc));
        return -EBUSY;
    }
    if (!have) {
        snprintf(err, errlen, "%s: not available", cmd);
        return -ENOSYS;
    }
    return 0;
}

int vmctl_device_add(struct vmctl *c, const char *type, const char *args,
                     struct json_object *reply, char *err, size_t errlen)
{
    int r = hotplug_allowed(c, c->env.hotplug && c->env.hotplug->add,
                            "device-add", err, errlen);

    return r ? r : c->env.hotplug->add(c->env.hotplug_opaque, type, args,
                                       reply, err, errlen);
}

int vmctl_device_remove(struct vmctl *c, const char *id,
                        unsigned int timeout_ms, char *err, size_t errlen)
{
    int r = hotplug_allowed(c, c->env.hotplug && c->env.hotplug->remove,
                            "device-remove", err, errlen);

    return r ? r : c->env.hotplug->remove(c->env.hotplug_opaque, id,
                                          timeout_ms, err, errlen);
}

int vmctl_powerdown(struct vmctl *c, char *err, size_t errlen)
{
    if (!runstate_vcpus_run(c->rc.rs.state)) {
        snprintf(err, errlen, "cannot press the power button while %s",
                 runctl_state_name(&c->rc));
        return -EBUSY;
    }
    if (!c->env.hotplug || !c->env.hotplug->powerdown) {
        snprintf(err, errlen, "powerdown: not available");
        return -ENOSYS;
    }
    c->env.hotplug->powerdown(c->env.hotplug_opaque);
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
        .no_rt_boost = env->migrate_no_rt_boost,
    };
    int r;

    if (!c)
        return -ENOMEM;
    c->env = *env;
    c->inner = (struct vm_event_sink){ on_state, on_object, c };
    re.events = &c->inner;
    runctl_init(&c->rc, &re);
    me.rc = &c->rc;
    if (env->event_log &&
        !(c->event_log = event_log_open(env->event_log, err, errlen))) {
        free(c);
        return -EINVAL;
    }
    r = vmctl_mig_create(&me, &c->mig);
    if (r < 0) {
        snprintf(err, errlen, "migration: %s", strerror(-r));
        if (c->event_log)
            fclose(c->event_log);
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
    if (c->event_log)
        fclose(c->event_log);
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
