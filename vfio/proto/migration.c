/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user migration state machines as data; see migration.h.
 * Spec: vfio-user.rst "VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE";
 * vfio-user-0.9.1.rst "VFIO Device Migration Info". */
#include "vfio/proto/migration.h"

#include <errno.h>

#include "vfio/proto/proto.h"

#define STOP_COPY_F VFIO_MIGRATION_STOP_COPY
#define P2P_F       VFIO_MIGRATION_P2P
#define PRE_COPY_F  VFIO_MIGRATION_PRE_COPY
#define KNOWN_F     (STOP_COPY_F | P2P_F | PRE_COPY_F)

enum {
    ERROR = VFIO_DEVICE_STATE_ERROR,
    STOP = VFIO_DEVICE_STATE_STOP,
    RUNNING = VFIO_DEVICE_STATE_RUNNING,
    STOP_COPY = VFIO_DEVICE_STATE_STOP_COPY,
    RESUMING = VFIO_DEVICE_STATE_RESUMING,
    RUNNING_P2P = VFIO_DEVICE_STATE_RUNNING_P2P,
    PRE_COPY = VFIO_DEVICE_STATE_PRE_COPY,
    PRE_COPY_P2P = VFIO_DEVICE_STATE_PRE_COPY_P2P,
};
_Static_assert(PRE_COPY_P2P + 1 == VFIO_USER_MIG_NUM_STATES, "state count");

static const char *const state_names[VFIO_USER_MIG_NUM_STATES] = {
    [ERROR] = "ERROR",         [STOP] = "STOP",
    [RUNNING] = "RUNNING",     [STOP_COPY] = "STOP_COPY",
    [RESUMING] = "RESUMING",   [RUNNING_P2P] = "RUNNING_P2P",
    [PRE_COPY] = "PRE_COPY",   [PRE_COPY_P2P] = "PRE_COPY_P2P",
};

/* Flags a device needs for a state to exist (ERROR: always). */
static const uint32_t state_needs[VFIO_USER_MIG_NUM_STATES] = {
    [ERROR] = 0,
    [STOP] = STOP_COPY_F,
    [RUNNING] = STOP_COPY_F,
    [STOP_COPY] = STOP_COPY_F,
    [RESUMING] = STOP_COPY_F,
    [RUNNING_P2P] = STOP_COPY_F | P2P_F,
    [PRE_COPY] = STOP_COPY_F | PRE_COPY_F,
    [PRE_COPY_P2P] = STOP_COPY_F | P2P_F | PRE_COPY_F,
};

/* Direct arcs: present when the device has all of @need and none of
 * @without (with P2P, RUNNING <-> STOP goes through RUNNING_P2P and
 * PRE_COPY -> STOP_COPY through PRE_COPY_P2P). */
struct arc {
    uint8_t from, to;
    uint32_t need, without;
};

static const struct arc arcs[] = {
    {RESUMING, STOP, STOP_COPY_F, 0},
    {STOP, RESUMING, STOP_COPY_F, 0},
    {STOP, STOP_COPY, STOP_COPY_F, 0},
    {STOP_COPY, STOP, STOP_COPY_F, 0},
    {RUNNING, STOP, STOP_COPY_F, P2P_F},
    {STOP, RUNNING, STOP_COPY_F, P2P_F},
    {RUNNING, RUNNING_P2P, P2P_F, 0},
    {RUNNING_P2P, RUNNING, P2P_F, 0},
    {RUNNING_P2P, STOP, P2P_F, 0},
    {STOP, RUNNING_P2P, P2P_F, 0},
    {RUNNING, PRE_COPY, PRE_COPY_F, 0},
    {PRE_COPY, RUNNING, PRE_COPY_F, 0},
    {PRE_COPY, STOP_COPY, PRE_COPY_F, P2P_F},
    {PRE_COPY, PRE_COPY_P2P, PRE_COPY_F | P2P_F, 0},
    {PRE_COPY_P2P, PRE_COPY, PRE_COPY_F | P2P_F, 0},
    {PRE_COPY_P2P, RUNNING_P2P, PRE_COPY_F | P2P_F, 0},
    {PRE_COPY_P2P, STOP_COPY, PRE_COPY_F | P2P_F, 0},
    {RUNNING_P2P, PRE_COPY_P2P, PRE_COPY_F | P2P_F, 0},
};

/* Next hop [cur][target] with every optional state supported; hops into
 * states the device lacks are skipped by looking up [hop][target] again.
 * Linux drivers/vfio/vfio_main.c vfio_from_fsm_table, same rules. */
static const uint8_t next_hop[VFIO_USER_MIG_NUM_STATES]
                             [VFIO_USER_MIG_NUM_STATES] = {
    [STOP] = {
        [STOP] = STOP, [RUNNING] = RUNNING_P2P,
        [PRE_COPY] = RUNNING_P2P, [PRE_COPY_P2P] = RUNNING_P2P,
        [STOP_COPY] = STOP_COPY, [RESUMING] = RESUMING,
        [RUNNING_P2P] = RUNNING_P2P, [ERROR] = ERROR,
    },
    [RUNNING] = {
        [STOP] = RUNNING_P2P, [RUNNING] = RUNNING,
        [PRE_COPY] = PRE_COPY, [PRE_COPY_P2P] = RUNNING_P2P,
        [STOP_COPY] = RUNNING_P2P, [RESUMING] = RUNNING_P2P,
        [RUNNING_P2P] = RUNNING_P2P, [ERROR] = ERROR,
    },
    [PRE_COPY] = {
        [STOP] = RUNNING, [RUNNING] = RUNNING,
        [PRE_COPY] = PRE_COPY, [PRE_COPY_P2P] = PRE_COPY_P2P,
        [STOP_COPY] = PRE_COPY_P2P, [RESUMING] = RUNNING,
        [RUNNING_P2P] = RUNNING, [ERROR] = ERROR,
    },
    [PRE_COPY_P2P] = {
        [STOP] = RUNNING_P2P, [RUNNING] = RUNNING_P2P,
        [PRE_COPY] = PRE_COPY, [PRE_COPY_P2P] = PRE_COPY_P2P,
        [STOP_COPY] = STOP_COPY, [RESUMING] = RUNNING_P2P,
        [RUNNING_P2P] = RUNNING_P2P, [ERROR] = ERROR,
    },
    [STOP_COPY] = {
        [STOP] = STOP, [RUNNING] = STOP,
        [PRE_COPY] = ERROR, [PRE_COPY_P2P] = ERROR,
        [STOP_COPY] = STOP_COPY, [RESUMING] = STOP,
        [RUNNING_P2P] = STOP, [ERROR] = ERROR,
    },
    [RESUMING] = {
        [STOP] = STOP, [RUNNING] = STOP,
        [PRE_COPY] = STOP, [PRE_COPY_P2P] = STOP,
        [STOP_COPY] = STOP, [RESUMING] = RESUMING,
        [RUNNING_P2P] = STOP, [ERROR] = ERROR,
    },
    [RUNNING_P2P] = {
        [STOP] = STOP, [RUNNING] = RUNNING,
        [PRE_COPY] = RUNNING, [PRE_COPY_P2P] = PRE_COPY_P2P,
        [STOP_COPY] = STOP, [RESUMING] = STOP,
        [RUNNING_P2P] = RUNNING_P2P, [ERROR] = ERROR,
    },
    [ERROR] = {0}, /* every target: ERROR */
};

int vfio_user_mig_flags_check(uint64_t flags)
{
    return (flags & STOP_COPY_F) ? 0 : -EINVAL;
}

const char *vfio_user_mig_state_name(uint32_t state)
{
    return state < VFIO_USER_MIG_NUM_STATES ? state_names[state] : "INVALID";
}

bool vfio_user_mig_state_supported(uint64_t flags, uint32_t state)
{
    if (state >= VFIO_USER_MIG_NUM_STATES)
        return false;
    if (state == ERROR)
        return true;
    return (flags & state_needs[state]) == state_needs[state];
}

bool vfio_user_mig_arc_valid(uint64_t flags, uint32_t from, uint32_t to)
{
    size_t i;

    if (vfio_user_mig_flags_check(flags))
        return false;
    for (i = 0; i < sizeof(arcs) / sizeof(arcs[0]); i++) {
        if (arcs[i].from == from && arcs[i].to == to)
            return (flags & arcs[i].need) == arcs[i].need &&
                   !(flags & arcs[i].without);
    }
    return false;
}

int vfio_user_mig_next_state(uint64_t flags, uint32_t cur, uint32_t target,
                             uint32_t *next)
{
    uint32_t hop;
    int i;

    flags &= KNOWN_F;
    if (vfio_user_mig_flags_check(flags) || cur == ERROR ||
        target == ERROR || !vfio_user_mig_state_supported(flags, cur) ||
        !vfio_user_mig_state_supported(flags, target))
        return -EINVAL;
    hop = next_hop[cur][target];
    /* Skip optional states the device lacks; bounded, the table has no
     * cycles towards a fixed target. */
    for (i = 0; i < VFIO_USER_MIG_NUM_STATES &&
                !vfio_user_mig_state_supported(flags, hop);
         i++)
        hop = next_hop[hop][target];
    if (hop == ERROR || !vfio_user_mig_state_supported(flags, hop))
        return -EINVAL;
    *next = hop;
    return 0;
}

int vfio_user_mig_path(uint64_t flags, uint32_t cur, uint32_t target,
                       uint32_t *path, size_t max, size_t *n)
{
    uint32_t s = cur;
    int r;

    *n = 0;
    while (s != target) {
        r = vfio_user_mig_next_state(flags, s, target, &s);
        if (r)
            return r;
        if (*n >= max || *n >= VFIO_USER_MIG_PATH_MAX)
            return -ENOSPC;
        path[(*n)++] = s;
    }
    /* Validate the endpoints even for the empty path. */
    return vfio_user_mig_next_state(flags, cur, target, &s);
}

/* ---- v1 ---------------------------------------------------------------- */

#define V1_STOP      VFIO_USER_MIG_V1_STATE_STOP
#define V1_RUNNING   VFIO_USER_MIG_V1_STATE_RUNNING
#define V1_STOP_COPY VFIO_USER_MIG_V1_STATE_STOP_COPY
#define V1_PRE_COPY  VFIO_USER_MIG_V1_STATE_PRE_COPY
#define V1_RESUMING  VFIO_USER_MIG_V1_STATE_RESUMING
#define V1_ERROR     VFIO_USER_MIG_V1_STATE_ERROR
#define V1_NUM       (VFIO_USER_MIG_V1_STATE_MASK + 1)

static const char *const v1_names[V1_NUM] = {
    [V1_STOP] = "STOP",         [V1_RUNNING] = "RUNNING",
    [V1_STOP_COPY] = "STOP_COPY", [V1_PRE_COPY] = "PRE_COPY",
    [V1_RESUMING] = "RESUMING", [V1_ERROR] = "ERROR",
};

#define B(s) (1u << (s))

/* Spec 0.9.1 "Valid state transitions": bit @to set in [from]. */
static const uint8_t v1_arcs[V1_NUM] = {
    [V1_STOP] = B(V1_RUNNING),
    [V1_RUNNING] = B(V1_STOP) | B(V1_STOP_COPY) | B(V1_PRE_COPY) |
                   B(V1_RESUMING),
    [V1_STOP_COPY] = B(V1_STOP) | B(V1_RUNNING),
    [V1_PRE_COPY] = B(V1_STOP_COPY),
    [V1_RESUMING] = B(V1_RUNNING),
    [V1_ERROR] = 0,
};

bool vfio_user_mig_v1_state_valid(uint32_t state)
{
    return state < V1_NUM && v1_names[state] != NULL;
}

const char *vfio_user_mig_v1_state_name(uint32_t state)
{
    return vfio_user_mig_v1_state_valid(state) ? v1_names[state] : "INVALID";
}

int vfio_user_mig_v1_transition(uint32_t from, uint32_t to)
{
    if (!vfio_user_mig_v1_state_valid(from) ||
        !vfio_user_mig_v1_state_valid(to) || from == V1_ERROR ||
        to == V1_ERROR)
        return -EINVAL;
    if (from == to)
        return 0;
    return (v1_arcs[from] & B(to)) ? 0 : -EINVAL;
}
