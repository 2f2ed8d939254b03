/* SPDX-License-Identifier: BSD-3-Clause */
/* Outgoing migration phases (see migration_fsm.h). */
#include "minivmm/persist/migration_fsm.h"

#include <errno.h>

#define BIT(s) (1u << (s))
#define ACTIVE (BIT(MIG_S_SETUP) | BIT(MIG_S_PRECOPY) | \
                BIT(MIG_S_STOPPING) | BIT(MIG_S_COMPLETING))
#define FINAL (BIT(MIG_S_NONE) | BIT(MIG_S_COMPLETED) | BIT(MIG_S_FAILED) | \
               BIT(MIG_S_CANCELLED) | BIT(MIG_S_IN_DOUBT))

/* For each event: the states it is allowed in, and where it leads. */
static const struct {
    unsigned int from;
    enum mig_state to;
} table[MIG_E_COUNT] = {
    [MIG_E_START] = { FINAL, MIG_S_SETUP },
    [MIG_E_CONNECTED] = { BIT(MIG_S_SETUP), MIG_S_PRECOPY },
    [MIG_E_CONVERGED] = { BIT(MIG_S_PRECOPY), MIG_S_STOPPING },
    [MIG_E_STOPPED] = { BIT(MIG_S_STOPPING), MIG_S_COMPLETING },
    [MIG_E_ACKED] = { BIT(MIG_S_COMPLETING), MIG_S_COMPLETED },
    [MIG_E_ERROR] = { ACTIVE, MIG_S_FAILED },
    [MIG_E_CANCELLED] = { ACTIVE, MIG_S_CANCELLED },
    [MIG_E_NO_ANSWER] = { BIT(MIG_S_COMPLETING), MIG_S_IN_DOUBT },
};

static const char *const names[MIG_S_COUNT] = {
    [MIG_S_NONE] = "none",
    [MIG_S_SETUP] = "setup",
    [MIG_S_PRECOPY] = "precopy",
    [MIG_S_STOPPING] = "stopping",
    [MIG_S_COMPLETING] = "completing",
    [MIG_S_COMPLETED] = "completed",
    [MIG_S_FAILED] = "failed",
    [MIG_S_CANCELLED] = "cancelled",
    [MIG_S_IN_DOUBT] = "in-doubt",
};

static const char *const event_names[MIG_E_COUNT] = {
    [MIG_E_START] = "start",
    [MIG_E_CONNECTED] = "connected",
    [MIG_E_CONVERGED] = "converged",
    [MIG_E_STOPPED] = "stopped",
    [MIG_E_ACKED] = "acked",
    [MIG_E_ERROR] = "error",
    [MIG_E_CANCELLED] = "cancelled",
    [MIG_E_NO_ANSWER] = "no-answer",
};

int mig_fsm_next(enum mig_state s, enum mig_event ev, enum mig_state *next)
{
    if ((unsigned int)s >= MIG_S_COUNT || (unsigned int)ev >= MIG_E_COUNT ||
        !(table[ev].from & BIT(s)))
        return -EBUSY;
    *next = table[ev].to;
    return 0;
}

bool mig_fsm_active(enum mig_state s)
{
    return (unsigned int)s < MIG_S_COUNT && (ACTIVE & BIT(s));
}

bool mig_fsm_guest_stopped(enum mig_state s)
{
    return s == MIG_S_STOPPING || s == MIG_S_COMPLETING;
}

const char *mig_fsm_name(enum mig_state s)
{
    return (unsigned int)s < MIG_S_COUNT ? names[s] : "?";
}

const char *mig_fsm_event_name(enum mig_event ev)
{
    return (unsigned int)ev < MIG_E_COUNT ? event_names[ev] : "?";
}
