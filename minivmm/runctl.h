/* SPDX-License-Identifier: BSD-3-Clause */
/* Run control: the VM's run state (vmm/runstate_fsm.h) and stopping or
 * starting the guest as a whole: vCPUs (vcpu.h pause/resume) and every
 * registered device (vmm/devreg.h quiesce/resume). Every change of run
 * state is reported to the event sink (the API's "state" events). All
 * calls on the event-loop thread. */
#ifndef MINIVMM_RUNCTL_H
#define MINIVMM_RUNCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "vmm/runstate_fsm.h"

struct devreg;
struct json_object;
struct vcpu;
struct vcpu_sync;

/* Where VM events go (filled in by the control API once it exists; a
 * NULL function drops the event). */
struct vm_event_sink {
    /* The run state became @state ("running", "paused", ...). */
    void (*state)(void *opaque, const char *state);
    /* Any other event object (with its "event" member; borrowed). */
    void (*object)(void *opaque, struct json_object *ev);
    void *opaque;
};

struct runctl_env {
    struct vcpu *vcpus;
    unsigned int nvcpus;
    struct vcpu_sync *sync;
    struct devreg *devs;
    const struct vm_event_sink *events; /* outlives the runctl */
};

struct runctl {
    struct runctl_env env;
    struct vm_runstate rs;      /* read freely; changed by runctl_event */
    bool devices_quiesced;
    uint64_t pause_us;          /* the last runctl_stop_guest's vCPU pause
                                 * took this long (µs; debug timelines) */
};

/* State "created". @env is copied. */
void runctl_init(struct runctl *rc, const struct runctl_env *env);

/* Apply @ev to the run state (runstate_fsm.h) and report a change. */
void runctl_event(struct runctl *rc, enum vm_run_event ev);

/* Whether @ev is allowed now. */
bool runctl_allowed(const struct runctl *rc, enum vm_run_event ev);

/* "running", "paused", ... */
const char *runctl_state_name(const struct runctl *rc);

/* Stop vCPUs (within 5 s), then quiesce every device in registration
 * order; on a device failure everything is started again. 0 or -errno
 * with the reason in @err. */
int runctl_stop_guest(struct runctl *rc, char *err, size_t errlen);

/* Resume every device (reverse order), then the vCPUs. The first device
 * failure is returned (+ @err); the vCPUs run anyway. */
int runctl_start_guest(struct runctl *rc, char *err, size_t errlen);

/* Resume every device; the vCPUs only when all did (else they stay
 * parked: a guest must not run against a stopped device). 0 or -errno. */
int runctl_start_devices_first(struct runctl *rc, char *err, size_t errlen);

/* The API's pause and resume: -EBUSY (+ @err) when the state refuses;
 * 0 without doing anything when already there. */
int runctl_pause(struct runctl *rc, char *err, size_t errlen);
int runctl_resume(struct runctl *rc, char *err, size_t errlen);

/* The vCPUs started (state "running"). */
void runctl_started(struct runctl *rc);
/* The VM stops for good: state "shutting-down", parked vCPUs released. */
void runctl_stopping(struct runctl *rc);

#endif
