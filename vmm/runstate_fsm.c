/* SPDX-License-Identifier: BSD-3-Clause */
/* VM run-state table (see runstate_fsm.h). */
#include "vmm/runstate_fsm.h"

#include <errno.h>
#include <stddef.h>

/* lookup() results besides a state: refused, or back to rs->prev. */
#define RS_INVALID (-1)
#define RS_PREV    (-2)

/* next[state][event]: TO(new state), BACK (to rs->prev), or nothing (0:
 * the event is refused in that state). */
#define TO(s) ((signed char)((s) + 1))
#define BACK  ((signed char)-1)
static const signed char next_state[VM_RS_COUNT][VM_EV_COUNT] = {
    [VM_RS_CREATED] = {
        [VM_EV_START] = TO(VM_RS_RUNNING),
        [VM_EV_START_PAUSED] = TO(VM_RS_PAUSED),
        [VM_EV_STOP] = TO(VM_RS_SHUTTING_DOWN),
    },
    [VM_RS_RUNNING] = {
        [VM_EV_PAUSE] = TO(VM_RS_PAUSED),
        [VM_EV_RESUME] = TO(VM_RS_RUNNING),
        [VM_EV_SNAPSHOT] = TO(VM_RS_SNAPSHOTTING),
        [VM_EV_MIGRATE] = TO(VM_RS_MIGRATING),
        [VM_EV_STOP] = TO(VM_RS_SHUTTING_DOWN),
    },
    [VM_RS_PAUSED] = {
        [VM_EV_PAUSE] = TO(VM_RS_PAUSED),
        [VM_EV_RESUME] = TO(VM_RS_RUNNING),
        [VM_EV_SNAPSHOT] = TO(VM_RS_SNAPSHOTTING),
        [VM_EV_MIGRATE] = TO(VM_RS_MIGRATING),
        [VM_EV_STOP] = TO(VM_RS_SHUTTING_DOWN),
    },
    [VM_RS_SNAPSHOTTING] = {
        [VM_EV_SNAPSHOT_END] = BACK,
        [VM_EV_STOP] = TO(VM_RS_SHUTTING_DOWN),
    },
    [VM_RS_MIGRATING] = {
        [VM_EV_MIGRATE_FAIL] = BACK,
        [VM_EV_MIGRATE_DONE] = TO(VM_RS_SHUTTING_DOWN),
        [VM_EV_MIGRATE_IN_DOUBT] = TO(VM_RS_PAUSED),
        [VM_EV_STOP] = TO(VM_RS_SHUTTING_DOWN),
    },
    [VM_RS_SHUTTING_DOWN] = {
        [VM_EV_STOP] = TO(VM_RS_SHUTTING_DOWN),
    },
};

static const char *const state_names[VM_RS_COUNT] = {
    [VM_RS_CREATED] = "created",
    [VM_RS_RUNNING] = "running",
    [VM_RS_PAUSED] = "paused",
    [VM_RS_SNAPSHOTTING] = "snapshotting",
    [VM_RS_MIGRATING] = "migrating",
    [VM_RS_SHUTTING_DOWN] = "shutting-down",
};

static const char *const event_names[VM_EV_COUNT] = {
    [VM_EV_START] = "start",
    [VM_EV_START_PAUSED] = "start-paused",
    [VM_EV_PAUSE] = "pause",
    [VM_EV_RESUME] = "resume",
    [VM_EV_SNAPSHOT] = "snapshot",
    [VM_EV_SNAPSHOT_END] = "snapshot-end",
    [VM_EV_MIGRATE] = "migrate",
    [VM_EV_MIGRATE_FAIL] = "migrate-fail",
    [VM_EV_MIGRATE_DONE] = "migrate-done",
    [VM_EV_MIGRATE_IN_DOUBT] = "migrate-in-doubt",
    [VM_EV_STOP] = "stop",
};

void runstate_init(struct vm_runstate *rs)
{
    rs->state = VM_RS_CREATED;
    rs->prev = VM_RS_CREATED;
}

static int lookup(enum vm_run_state s, enum vm_run_event ev)
{
    if ((unsigned int)s >= VM_RS_COUNT || (unsigned int)ev >= VM_EV_COUNT)
        return RS_INVALID;
    int v = next_state[s][ev];
    return v == 0 ? RS_INVALID : v == BACK ? RS_PREV : v - 1;
}

bool runstate_allowed(enum vm_run_state s, enum vm_run_event ev)
{
    return lookup(s, ev) != RS_INVALID;
}

int runstate_apply(struct vm_runstate *rs, enum vm_run_event ev)
{
    int n = lookup(rs->state, ev);

    if (n == RS_INVALID)
        return -EBUSY;
    if (n == RS_PREV) {
        rs->state = rs->prev;
        return 0;
    }
    if (n == VM_RS_SNAPSHOTTING || n == VM_RS_MIGRATING)
        rs->prev = rs->state;
    rs->state = (enum vm_run_state)n;
    return 0;
}

bool runstate_vcpus_run(enum vm_run_state s)
{
    return s == VM_RS_RUNNING;
}

const char *runstate_name(enum vm_run_state s)
{
    if ((unsigned int)s >= VM_RS_COUNT)
        return "?";
    return state_names[s];
}

const char *runstate_event_name(enum vm_run_event ev)
{
    if ((unsigned int)ev >= VM_EV_COUNT)
        return "?";
    return event_names[ev];
}
