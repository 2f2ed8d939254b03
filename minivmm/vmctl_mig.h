/* SPDX-License-Identifier: BSD-3-Clause */
/* The VM's side of an outgoing live migration: the host ops of
 * minivmm/persist/migration.h over run control (runctl.h) and the state
 * walk (minivmm/persist/vmstate.h), and the migration object they drive.
 * Event-loop thread. */
#ifndef MINIVMM_VMCTL_MIG_H
#define MINIVMM_VMCTL_MIG_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/runstate.h"
#include "vmm/seccomp.h"

struct devreg;
struct evloop;
struct guest_memory;
struct kvm;
struct migration;
struct runctl;
struct vmctl_mig;

struct vmctl_mig_env {
    const struct kvm *kvm;
    struct guest_memory *mem;
    struct evloop *loop;
    struct devreg *devs;
    struct runctl *rc;
    unsigned int nvcpus;
    struct vm_stop_ctl stop;    /* a completed migration stops the VM */
    unsigned int downtime_ms;   /* 0: default */
    bool no_rt_boost;           /* --migrate-rt-boost off (mig_boost.h) */
    unsigned int timeout_ms;    /* 0: default */
    enum sc_mode seccomp;       /* the migration thread's filter */
};

/* @env is copied. 0 or -errno. */
int vmctl_mig_create(const struct vmctl_mig_env *env, struct vmctl_mig **out);
/* Cancels and joins a running migration. NULL is a no-op. */
void vmctl_mig_destroy(struct vmctl_mig *vm);

/* The migration object (the API's migrate, migrate-status,
 * migrate-cancel). */
struct migration *vmctl_mig_migration(struct vmctl_mig *vm);

#endif
