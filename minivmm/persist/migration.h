/* SPDX-License-Identifier: BSD-3-Clause */
/* Outgoing live migration (docs/migration.md): the API's migrate,
 * migrate-status and migrate-cancel. migration_start() connects to the
 * destination and runs the transfer on a migration thread:
 *
 *   setup → precopy (RAM pass 1, then dirty passes until what is left fits
 *   the downtime target at the measured bandwidth) → stopping (the event
 *   loop stops vCPUs and devices and builds the state tree) → completing
 *   (final dirty pages, state, END; wait for the destination's reply) →
 *   completed (GO sent; the source VM stops) or failed / cancelled (dirty
 *   logging off, the guest runs again as before).
 *
 * The phases are a table (migration_fsm.h). Everything touching the VM's
 * run state happens on the event loop through @host; the thread only reads
 * guest RAM and the dirty log and writes the socket.
 */
#ifndef MINIVMM_MIGRATION_H
#define MINIVMM_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>
#include "vmm/seccomp.h"

struct devreg;
struct evloop;
struct guest_memory;
struct json_object;
struct kvm;
struct migration;

/* What the VM (vmctl.c) does for a migration, on the event-loop thread.
 * Every int op returns 0 or -errno with the reason in @err. */
enum mig_end { MIG_END_DONE, MIG_END_FAILED, MIG_END_IN_DOUBT };

struct migration_host_ops {
    /* Check every device can migrate (the error names the one that
     * cannot) and enter the "migrating" run state. */
    int (*begin)(void *opaque, char *err, size_t errlen);
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

/* @env is copied. 0 or -errno. */
int migration_create(const struct migration_env *env,
                     struct migration **out);
/* Cancels and joins a running migration first. */
void migration_destroy(struct migration *m);

/* Start migrating to @uri (unix:PATH or tcp:HOST:PORT). Returns once the
 * thread runs; the outcome comes as events and migrate-status. -EBUSY
 * when one is under way, -EINVAL for a bad URI or a device that cannot
 * migrate (reason in @err). Event-loop thread. */
int migration_start(struct migration *m, const char *uri, char *err,
                    size_t errlen);
/* Ask a running migration to stop; the guest keeps running. -ENOENT when
 * none runs. */
int migration_cancel(struct migration *m, char *err, size_t errlen);
/* Add the status fields (state, iterations, bytes, ...) to @obj. */
void migration_status(struct migration *m, struct json_object *obj);

#endif
