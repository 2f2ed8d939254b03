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

#include "minivmm/persist/migration_host.h"

struct json_object;
struct migration;

/* @env is copied. 0 or -errno. */
int migration_create(const struct migration_env *env,
                     struct migration **out);
/* Cancels and joins a running migration first. */
void migration_destroy(struct migration *m);

/* Start migrating to @uri (unix:PATH or tcp:HOST:PORT) with @p (NULL:
 * defaults: the env's downtime target, auto-converge on, uncapped).
 * Returns once the thread runs; the outcome comes as events and migrate-status. -EBUSY
 * when one is under way, -EINVAL for a bad URI or a device that cannot
 * migrate (reason in @err). Event-loop thread. */
int migration_start(struct migration *m, const char *uri,
                    const struct migration_params *p, char *err,
                    size_t errlen);
/* Ask a running migration to stop; the guest keeps running. -ENOENT when
 * none runs. */
int migration_cancel(struct migration *m, char *err, size_t errlen);
/* Add the status fields (state, iterations, bytes, ...) to @obj. */
void migration_status(struct migration *m, struct json_object *obj);

#endif
