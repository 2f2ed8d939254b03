/* SPDX-License-Identifier: BSD-3-Clause */
/* VM control: the run state (runstate_fsm.h), pause/resume of vCPUs and
 * devices, whole-VM state save to a snapshot file and load on restore, and
 * the control API socket (api.h) that drives them. Lives beside the VM
 * (vm.c owns it); every call is made on the event-loop thread, except
 * vmctl_load (before the vCPUs start) and the config helpers (pure).
 *
 * State tree (docs/snapshot-format.md): / { compatible; config { cpus;
 * memory; }; vcpus { cpu@N {...}; }; irqchip {...}; devices { <id> {...};
 * }; }
 */
#ifndef MINIVMM_VMCTL_H
#define MINIVMM_VMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include "vmm/seccomp.h"
#include <stdint.h>

#include "vmm/runstate.h"

struct vm_config;
struct json_object;

struct devreg;
struct evloop;
struct guest_memory;
struct kvm;
struct vcpu;
struct vcpu_sync;
struct vmctl;

struct vmctl_env {
    struct kvm *kvm;
    struct guest_memory *mem;
    struct vcpu *vcpus;
    unsigned int nvcpus;
    struct vcpu_sync *sync;
    struct evloop *loop;
    struct devreg *devs;
    struct vm_stop_ctl stop;
    const char *api_socket;     /* NULL: no control socket */
    const struct vm_config *cfg; /* the "config" reply; NULL: none */
    /* Fill the "stats" reply object (NULL: the command is refused). */
    void (*stats)(void *opaque, struct json_object *out);
    void *stats_opaque;
    unsigned int migrate_downtime_ms; /* outgoing migrations, 0: default */
    unsigned int migrate_timeout_ms;  /* peer deadline, 0: default */
    enum sc_mode seccomp;       /* the migration thread's filter */
    /* Block until all of guest RAM is in place (on-demand restore still
     * loading); 0 or -errno with the reason. NULL: always in place. Called
     * before a snapshot or migration reads RAM. */
    int (*ram_ready)(void *opaque, char *err, size_t errlen);
    void *ram_opaque;
};

/* @env is copied. Opens the API socket if asked. 0 or -errno (reason in
 * @err: e.g. the socket path is in use). */
int vmctl_create(const struct vmctl_env *env, struct vmctl **out, char *err,
                 size_t errlen);
void vmctl_destroy(struct vmctl *c);

/* Restore: load vCPUs, irqchip and devices from the state tree @fdt
 * (already checked with fdt_check_full) into a VM built from the config
 * the tree records, before any vCPU runs. 0 or -EINVAL with the reason
 * (a device missing on one side, a refused value). */
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

/* "running", "paused", ... */
const char *vmctl_state_name(const struct vmctl *c);

/* The root's "compatible" value of a state tree (docs/snapshot-format.md). */
#define VMCTL_STATE_COMPATIBLE "minivmm,vm-state-v1"

/* Whether @fdt's root is VMCTL_STATE_COMPATIBLE: 0 or -EINVAL with the
 * reason. Pure (vmctl_config.c). */
int vmctl_state_compatible(const void *fdt, char *err, size_t errlen);

/* The machine configuration recorded in a state tree: vCPUs and RAM
 * bytes. 0 or -EINVAL with the reason. Pure. */
int vmctl_state_config(const void *fdt, unsigned int *cpus,
                       uint64_t *memory, char *err, size_t errlen);

#endif
