/* SPDX-License-Identifier: BSD-3-Clause */
/* The VM's run state as a table-driven state machine (docs/api.md lists
 * the states a client sees). Pure: no locks, no I/O; the owner (vmctl.c)
 * serialises calls on the event-loop thread.
 *
 *   created ──start──▶ running ◀──resume── paused
 *                        │  ▲                ▲ │
 *                 pause  │  └── snapshot-end ┘ │ snapshot / migrate
 *                        ▼                     ▼
 *                  snapshotting, migrating ... shutting-down (final)
 *
 * snapshotting and migrating remember the state they were entered from and
 * return to it on *_END / *_FAIL; MIGRATE_DONE ends in shutting-down (the
 * destination runs the guest now).
 */
#ifndef MINIVMM_RUNSTATE_FSM_H
#define MINIVMM_RUNSTATE_FSM_H

#include <stdbool.h>

enum vm_run_state {
    VM_RS_CREATED = 0,
    VM_RS_RUNNING,
    VM_RS_PAUSED,
    VM_RS_SNAPSHOTTING,
    VM_RS_MIGRATING,
    VM_RS_SHUTTING_DOWN,
    VM_RS_COUNT,
};

enum vm_run_event {
    VM_EV_START = 0,      /* vCPU threads started (or restored and resumed) */
    VM_EV_START_PAUSED,   /* built, but left paused (restore --paused) */
    VM_EV_PAUSE,
    VM_EV_RESUME,
    VM_EV_SNAPSHOT,       /* begin saving */
    VM_EV_SNAPSHOT_END,   /* saved or failed: back where it was */
    VM_EV_MIGRATE,        /* begin outgoing migration */
    VM_EV_MIGRATE_FAIL,   /* cancelled or failed: back where it was */
    VM_EV_MIGRATE_DONE,   /* destination took over */
    VM_EV_MIGRATE_IN_DOUBT, /* GO sent, no answer: paused, kept whole */
    VM_EV_STOP,           /* quit, guest power-off/reset/crash, signal */
    VM_EV_COUNT,
};

struct vm_runstate {
    enum vm_run_state state;
    enum vm_run_state prev;   /* where SNAPSHOT/MIGRATE were entered from */
};

void runstate_init(struct vm_runstate *rs);

/* Apply @ev. 0 and the new state in rs->state; -EBUSY when @ev is not
 * allowed in the current state (rs unchanged). A no-op transition (pause
 * while paused) is allowed and returns 0. */
int runstate_apply(struct vm_runstate *rs, enum vm_run_event ev);

/* Whether @ev is allowed in @s (no side effects). */
bool runstate_allowed(enum vm_run_state s, enum vm_run_event ev);

/* Whether the vCPUs run in @s (running only). */
bool runstate_vcpus_run(enum vm_run_state s);

/* "running", "paused", ...; "?" for an out-of-range value. */
const char *runstate_name(enum vm_run_state s);
const char *runstate_event_name(enum vm_run_event ev);

#endif
