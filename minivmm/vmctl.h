/* SPDX-License-Identifier: BSD-3-Clause */
/* VM control: the object that ties run control (runctl.h), snapshots and
 * restore (the whole-VM state walk, minivmm/persist/vmstate.h, and the
 * snapshot file) and outgoing live migration (vmctl_mig.h) to one VM.
 * vm.c owns it; the control API drives it through vmctl_api.h. Every
 * call is made on the event-loop thread, except vmctl_load (before the
 * vCPUs start). */
#ifndef MINIVMM_VMCTL_H
#define MINIVMM_VMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minivmm/runctl.h"
#include "vmm/runstate.h"
#include "vmm/seccomp.h"

struct devreg;
struct evloop;
struct guest_memory;
struct kvm;
struct migration;
struct vcpu;
struct vcpu_sync;
struct vmctl;

/* Run-time device changes (minivmm/hotplug_ctl.h), driven by the API's
 * device-add, device-remove and powerdown; NULL members: refused. */
struct vmctl_hotplug_ops {
    /* @type "disk" | "vfio-user", @args its option text ("k=v,..."); add
     * "slot" etc. to @reply. 0 or -errno with the reason in @err. */
    int (*add)(void *opaque, const char *type, const char *args,
               struct json_object *reply, char *err, size_t errlen);
    /* Ask the guest to release device @id; it goes when the guest
     * ejects it (event "device-removed") or stays after @timeout_ms
     * (0: default; event "device-remove-failed"). */
    int (*remove)(void *opaque, const char *id, unsigned int timeout_ms,
                  char *err, size_t errlen);
    /* Press the ACPI power button. */
    void (*powerdown)(void *opaque);
};

struct vmctl_env {
    struct kvm *kvm;
    struct guest_memory *mem;
    struct vcpu *vcpus;
    unsigned int nvcpus;
    struct vcpu_sync *sync;
    struct evloop *loop;
    struct devreg *devs;        /* devices, and the vCPU/irqchip entries */
    struct vm_stop_ctl stop;
    unsigned int migrate_downtime_ms; /* outgoing migrations, 0: default */
    unsigned int migrate_timeout_ms;  /* peer deadline, 0: default */
    bool migrate_no_rt_boost;         /* --migrate-rt-boost off */
    enum sc_mode seccomp;       /* the migration thread's filter */
    /* Block until all of guest RAM is in place (on-demand restore still
     * loading); 0 or -errno with the reason. NULL: always in place. Called
     * before a snapshot or migration reads RAM. */
    int (*ram_ready)(void *opaque, char *err, size_t errlen);
    void *ram_opaque;
    const char *event_log;      /* --event-log FILE, NULL: none */
    const struct vmctl_hotplug_ops *hotplug; /* NULL: no hotplug */
    void *hotplug_opaque;
};

/* @env is copied. 0 or -errno (reason in @err). */
int vmctl_create(const struct vmctl_env *env, struct vmctl **out, char *err,
                 size_t errlen);
void vmctl_destroy(struct vmctl *c);

/* Where run-state, migration and other events go from now on (@sink
 * copied; its state member is not used: a state change arrives as the
 * object {"event":"state","state":S}). Every event also gets its
 * "timestamp" and goes to the --event-log file. */
void vmctl_set_events(struct vmctl *c, const struct vm_event_sink *sink);

/* Restore: load every registry entry (vCPUs, irqchip, devices) from the
 * state tree @fdt (already checked with fdt_check_full) into a VM built
 * from the config the tree records, before any vCPU runs. 0 or -EINVAL
 * with the reason (a device missing on one side, a refused value). */
int vmctl_load(struct vmctl *c, const void *fdt, char *err, size_t errlen);

/* The vCPU threads are running. */
void vmctl_started(struct vmctl *c);
/* The VM is stopping for good: releases parked vCPUs. */
void vmctl_stopping(struct vmctl *c);

int vmctl_pause(struct vmctl *c, char *err, size_t errlen);
int vmctl_resume(struct vmctl *c, char *err, size_t errlen);
/* Save the whole VM to @path (vCPUs and devices stopped meanwhile, then
 * put back as they were). 0 or -errno, reason in @err. */
int vmctl_snapshot(struct vmctl *c, const char *path, char *err,
                   size_t errlen);

/* For a device change at run time: stop the vCPUs if they run (devices
 * keep running). 1: stopped by this call (give it to
 * vmctl_vcpus_release()); 0: they were not running (a paused VM);
 * -EBUSY while a snapshot or migration is under way or the VM stops;
 * -ETIMEDOUT. Event-loop thread. */
int vmctl_vcpus_hold(struct vmctl *c);
void vmctl_vcpus_release(struct vmctl *c, int held);
/* The API's device-add, device-remove and powerdown through
 * env.hotplug: refused (-EBUSY, reason in @err) unless the VM runs,
 * -ENOSYS without hotplug. */
int vmctl_device_add(struct vmctl *c, const char *type, const char *args,
                     struct json_object *reply, char *err, size_t errlen);
int vmctl_device_remove(struct vmctl *c, const char *id,
                        unsigned int timeout_ms, char *err, size_t errlen);
int vmctl_powerdown(struct vmctl *c, char *err, size_t errlen);
/* Send event @ev (its "event" member set; reference borrowed): stamped,
 * to the API clients and the event log. NULL @c: nothing. */
void vmctl_event(struct vmctl *c, struct json_object *ev);

/* "running", "paused", ... */
const char *vmctl_state_name(const struct vmctl *c);

/* The outgoing-migration object (minivmm/persist/migration.h). */
struct migration *vmctl_migration(struct vmctl *c);

/* env.ram_ready: block until all guest RAM is in place (an on-demand
 * restore still loading). 0 or -errno with the reason in @err. */
int vmctl_ram_ready(struct vmctl *c, char *err, size_t errlen);

#endif
