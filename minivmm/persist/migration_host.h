/* SPDX-License-Identifier: BSD-3-Clause */
/* What an outgoing live migration (migration.h) is given: the VM's side of
 * it (host ops, run on the event loop by the program) and its environment.
 * Types only, shared by the object (migration.c), its core
 * (migration_core.c) and the thread (migration_run.c). */
#ifndef MINIVMM_MIGRATION_HOST_H
#define MINIVMM_MIGRATION_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/seccomp.h"

struct devreg;
struct evloop;
struct guest_memory;
struct json_object;
struct kvm;

/* What the VM (minivmm/vmctl_mig.c) does for a migration, on the event-loop thread.
 * Every int op returns 0 or -errno with the reason in @err. */
enum mig_end { MIG_END_DONE, MIG_END_FAILED, MIG_END_IN_DOUBT };

struct migration_host_ops {
    /* Check every device can migrate (the error names the one that
     * cannot) and enter the "migrating" run state. */
    int (*begin)(void *opaque, char *err, size_t errlen);
    /* On the migration thread, just before it asks for stop(): start
     * pausing the vCPUs (thread-safe; stop() completes the pause), so
     * the vCPUs' way out of KVM_RUN overlaps the event loop's wake-up.
     * May be NULL. */
    void (*stop_early)(void *opaque);
    /* On the migration thread, at the stop request (before stop_early):
     * a bounded real-time boost of the threads on the stop's path when
     * @want (the migrate parameter, MIG_RT_BOOST_*) allows it and the
     * process may (vmm/rt_boost.h); boost_off ends it after the final
     * pass and the hand-over, or on failure/cancel (@result: 0, or the
     * negative errno, -ECANCELED for a cancel), before end(). Both may be
     * NULL; boost_off is called whether or not a boost took effect. */
    void (*boost_on)(void *opaque, int want);
    void (*boost_off)(void *opaque, int result);
    /* Stop vCPUs and devices (if they ran) and build the state tree,
     * malloc'd into *@fdt (@len bytes). */
    int (*stop)(void *opaque, void **fdt, size_t *len, char *err,
                size_t errlen);
    /* The migration is over. MIG_END_DONE: the VM stops for good (the
     * destination runs it). MIG_END_FAILED: the guest goes back to the
     * state it was in before begin(). MIG_END_IN_DOUBT: GO was sent but the
     * destination never said whether it runs: the guest stays paused here,
     * whole, until the user resumes or quits it (docs/migration.md). */
    void (*end)(void *opaque, enum mig_end outcome);
    /* Hold each vCPU @pct percent of its time (0: not at all), for
     * auto-converge (docs/migration.md, "Convergence"). May be NULL. */
    void (*throttle)(void *opaque, unsigned int pct);
    /* Send an event object to API clients (reference borrowed). */
    void (*event)(void *opaque, struct json_object *ev);
};

struct migration_env {
    const struct kvm *kvm;
    struct guest_memory *mem;
    struct evloop *loop;
    struct devreg *devs;            /* devices with DMA dirty logging */
    unsigned int cpus;              /* vCPUs (the stream's CONFIG) */
    unsigned int downtime_ms;       /* target, 0: default (20) */
    unsigned int timeout_ms;        /* deadline of each wait on the peer,
                                     * 0: MIG_DEFAULT_TIMEOUT_MS */
    const struct migration_host_ops *host;
    void *host_opaque;
    enum sc_mode seccomp;           /* the thread's own filter */
};

#define MIGRATION_DEFAULT_DOWNTIME_MS 20

/* migration_params.rt_boost */
enum { MIG_RT_BOOST_DEFAULT = 0, MIG_RT_BOOST_ON = 1, MIG_RT_BOOST_OFF = 2 };

/* One migration's parameters (the API's migrate, docs/api.md). */
struct migration_params {
    int rt_boost;                   /* MIG_RT_BOOST_*: the stop window's
                                     * real-time boost (default: the
                                     * host's, --migrate-rt-boost) */
    unsigned int downtime_ms;       /* target; 0: migration_env's */
    bool no_auto_converge;          /* never throttle vCPUs: fail instead */
    uint64_t max_bandwidth;         /* bytes/s of pre-copy, 0: uncapped */
};

#endif
