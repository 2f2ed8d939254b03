/* SPDX-License-Identifier: BSD-3-Clause */
/* Run state, pause and resume of vCPUs and devices (see runctl.h). */
#include "minivmm/runctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "minivmm/vcpu.h"
#include "vmm/clock.h"
#include "vmm/devreg.h"

#define PAUSE_TIMEOUT_MS 5000

void runctl_init(struct runctl *rc, const struct runctl_env *env)
{
    memset(rc, 0, sizeof(*rc));
    rc->env = *env;
    runstate_init(&rc->rs);
}

void runctl_event(struct runctl *rc, enum vm_run_event ev)
{
    enum vm_run_state before = rc->rs.state;
    const struct vm_event_sink *s = rc->env.events;

    if (runstate_apply(&rc->rs, ev) == 0 && rc->rs.state != before &&
        s && s->state)
        s->state(s->opaque, runstate_name(rc->rs.state));
}

bool runctl_allowed(const struct runctl *rc, enum vm_run_event ev)
{
    return runstate_allowed(rc->rs.state, ev);
}

const char *runctl_state_name(const struct runctl *rc)
{
    return runstate_name(rc->rs.state);
}

/* Quiesce (@stop) or resume every registered device, in order (resume in
 * reverse). The first failure is reported; the walk goes on. */
static int walk_devices(struct runctl *rc, bool stop, char *err,
                        size_t errlen)
{
    unsigned int n = devreg_count(rc->env.devs);
    char id[DEVREG_ID_MAX];
    struct devreg_entry e;
    int ret = 0;

    for (unsigned int k = 0; k < n; k++) {
        unsigned int i = stop ? k : n - 1 - k;
        devreg_fn fn;
        int r;

        if (devreg_get(rc->env.devs, i, &e, id) < 0)
            continue;
        fn = stop ? e.quiesce : e.resume;
        r = fn ? fn(e.opaque) : 0;
        if (r < 0 && ret == 0) {
            snprintf(err, errlen, "%s device %s: %s",
                     stop ? "quiescing" : "resuming", id, strerror(-r));
            ret = r;
        }
    }
    rc->devices_quiesced = stop;
    return ret;
}

int runctl_stop_guest(struct runctl *rc, char *err, size_t errlen)
{
    uint64_t t = clock_now_us();
    int r = vcpu_pause_all(rc->env.vcpus, rc->env.nvcpus, rc->env.sync,
                           PAUSE_TIMEOUT_MS);

    rc->pause_us = clock_now_us() - t;

    if (r < 0) {
        snprintf(err, errlen, "vCPUs did not stop within %u ms",
                 PAUSE_TIMEOUT_MS);
        return r;
    }
    r = walk_devices(rc, true, err, errlen);
    if (r < 0) {
        walk_devices(rc, false, err, 0);
        vcpu_resume_all(rc->env.sync);
    }
    return r;
}

int runctl_start_guest(struct runctl *rc, char *err, size_t errlen)
{
    int r = walk_devices(rc, false, err, errlen);

    vcpu_resume_all(rc->env.sync);
    return r;
}

int runctl_start_devices_first(struct runctl *rc, char *err, size_t errlen)
{
    int r = walk_devices(rc, false, err, errlen);

    if (r == 0)
        vcpu_resume_all(rc->env.sync);
    return r;
}

int runctl_pause(struct runctl *rc, char *err, size_t errlen)
{
    int r;

    if (!runctl_allowed(rc, VM_EV_PAUSE)) {
        snprintf(err, errlen, "cannot pause while %s",
                 runctl_state_name(rc));
        return -EBUSY;
    }
    if (rc->rs.state == VM_RS_PAUSED)
        return 0;
    r = runctl_stop_guest(rc, err, errlen);
    if (r == 0)
        runctl_event(rc, VM_EV_PAUSE);
    return r;
}

int runctl_resume(struct runctl *rc, char *err, size_t errlen)
{
    int r;

    if (!runctl_allowed(rc, VM_EV_RESUME)) {
        snprintf(err, errlen, "cannot resume while %s",
                 runctl_state_name(rc));
        return -EBUSY;
    }
    if (rc->rs.state == VM_RS_RUNNING)
        return 0;
    r = runctl_start_guest(rc, err, errlen);
    runctl_event(rc, VM_EV_RESUME);
    return r;
}

void runctl_started(struct runctl *rc)
{
    runctl_event(rc, VM_EV_START);
}

void runctl_stopping(struct runctl *rc)
{
    runctl_event(rc, VM_EV_STOP);
    vcpu_resume_all(rc->env.sync);
}
