/* SPDX-License-Identifier: BSD-3-Clause */
/* Outgoing migration phases as a table (see migration.h). Pure: no locks,
 * no I/O; the owner (migration.c) serialises calls under its lock.
 *
 *   none ─start─▶ setup ─connected─▶ precopy ─converged─▶ stopping
 *     ▲                                                      │ stopped
 *     │ start (again)                                        ▼
 *   completed ◀──acked── completing ◀────────────────────────┘
 *   failed ◀──error── setup, precopy, stopping, completing
 *   cancelled ◀──cancelled── the same (the thread ended on a cancel)
 *
 * completed, failed and cancelled are final for one migration; start
 * begins another.
 */
#ifndef MINIVMM_MIGRATION_FSM_H
#define MINIVMM_MIGRATION_FSM_H

#include <stdbool.h>

enum mig_state {
    MIG_S_NONE = 0,
    MIG_S_SETUP,            /* connecting, header, dirty logging on */
    MIG_S_PRECOPY,          /* RAM passes while the guest runs */
    MIG_S_STOPPING,         /* the event loop stops the guest */
    MIG_S_COMPLETING,       /* final pages + state; waiting for the reply */
    MIG_S_COMPLETED,
    MIG_S_FAILED,
    MIG_S_CANCELLED,
    MIG_S_IN_DOUBT,         /* GO sent, no answer: paused, kept whole */
    MIG_S_COUNT,
};

enum mig_event {
    MIG_E_START = 0,
    MIG_E_CONNECTED,
    MIG_E_CONVERGED,
    MIG_E_STOPPED,
    MIG_E_ACKED,
    MIG_E_ERROR,
    MIG_E_CANCELLED,
    MIG_E_NO_ANSWER,        /* after GO: the destination said nothing */
    MIG_E_COUNT,
};

/* The state after @ev in @s, or -EBUSY (not allowed; nothing changes). */
int mig_fsm_next(enum mig_state s, enum mig_event ev, enum mig_state *next);

/* Whether a migration is under way in @s (setup .. completing). */
bool mig_fsm_active(enum mig_state s);

/* Whether the guest is stopped by the migration in @s (stopping,
 * completing). */
bool mig_fsm_guest_stopped(enum mig_state s);

/* "none", "setup", "precopy", ...; "?" when out of range. */
const char *mig_fsm_name(enum mig_state s);
const char *mig_fsm_event_name(enum mig_event ev);

#endif
