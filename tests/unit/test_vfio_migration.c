/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vfio/migration.c: the v2 FSM (arcs, next-state table,
 * multi-step paths for every feature combination) and the 0.9.1 v1
 * device_state transitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "vfio/proto/migration.h"
#include "vfio/proto/proto.h"

#define N VFIO_USER_MIG_NUM_STATES
#define SC VFIO_MIGRATION_STOP_COPY
#define P2P VFIO_MIGRATION_P2P
#define PRE VFIO_MIGRATION_PRE_COPY

enum {
    ERR = VFIO_DEVICE_STATE_ERROR,
    STOP = VFIO_DEVICE_STATE_STOP,
    RUN = VFIO_DEVICE_STATE_RUNNING,
    SCOPY = VFIO_DEVICE_STATE_STOP_COPY,
    RES = VFIO_DEVICE_STATE_RESUMING,
    RP2P = VFIO_DEVICE_STATE_RUNNING_P2P,
    PCOPY = VFIO_DEVICE_STATE_PRE_COPY,
    PP2P = VFIO_DEVICE_STATE_PRE_COPY_P2P,
};

static const uint64_t all_flags[] = {SC, SC | P2P, SC | PRE, SC | P2P | PRE};

static int supported(uint64_t f, int s)
{
    switch (s) {
    case RP2P:
        return !!(f & P2P);
    case PCOPY:
        return !!(f & PRE);
    case PP2P:
        return (f & P2P) && (f & PRE);
    default:
        return 1;
    }
}

static int saving(int s)
{
    return s == SCOPY || s == PCOPY || s == PP2P;
}

/* Expected direct arcs, written out from the spec ("Direct State
 * Transitions") and the kernel's list for P2P. */
static int expected_arc(uint64_t f, int a, int b)
{
    int p2p = !!(f & P2P), pre = !!(f & PRE);
    static const int base[][2] = {
        {RES, STOP}, {STOP, RES}, {STOP, SCOPY}, {SCOPY, STOP}};
    size_t i;

    for (i = 0; i < sizeof(base) / sizeof(base[0]); i++)
        if (base[i][0] == a && base[i][1] == b)
            return 1;
    if (!p2p && ((a == RUN && b == STOP) || (a == STOP && b == RUN)))
        return 1;
    if (p2p && ((a == RUN && b == RP2P) || (a == RP2P && b == RUN) ||
                (a == RP2P && b == STOP) || (a == STOP && b == RP2P)))
        return 1;
    if (pre && ((a == RUN && b == PCOPY) || (a == PCOPY && b == RUN)))
        return 1;
    if (pre && !p2p && a == PCOPY && b == SCOPY)
        return 1;
    if (pre && p2p &&
        ((a == PCOPY && b == PP2P) || (a == PP2P && b == PCOPY) ||
         (a == PP2P && b == RP2P) || (a == PP2P && b == SCOPY) ||
         (a == RP2P && b == PP2P)))
        return 1;
    return 0;
}

static void test_arcs_every_pair(void **state)
{
    size_t i;
    int a, b;

    (void)state;
    for (i = 0; i < 4; i++)
        for (a = 0; a < N + 2; a++)
            for (b = 0; b < N + 2; b++)
                assert_int_equal(
                    vfio_user_mig_arc_valid(all_flags[i], a, b),
                    a < N && b < N && expected_arc(all_flags[i], a, b));
    /* Without STOP_COPY a device has no migration arcs at all. */
    assert_false(vfio_user_mig_arc_valid(P2P | PRE, STOP, RUN));
}

/* The spec's vfio-user arc list (no P2P, PRE_COPY supported), verbatim. */
static void test_spec_arc_list(void **state)
{
    static const int spec[][2] = {
        {RUN, STOP}, {SCOPY, STOP}, {RES, STOP}, {PCOPY, RUN},
        {STOP, RUN}, {RUN, PCOPY}, {STOP, SCOPY}, {PCOPY, SCOPY},
        {STOP, RES}};
    int a, b, n = 0;

    (void)state;
    for (a = 0; a < N; a++)
        for (b = 0; b < N; b++)
            n += vfio_user_mig_arc_valid(SC | PRE, a, b);
    assert_int_equal(n, 9);
    for (a = 0; a < 9; a++)
        assert_true(vfio_user_mig_arc_valid(SC | PRE, spec[a][0], spec[a][1]));
    assert_false(vfio_user_mig_arc_valid(SC | PRE, SCOPY, PCOPY));
    /* "If PRE_COPY is not supported, arcs touching it are removed." */
    assert_false(vfio_user_mig_arc_valid(SC, RUN, PCOPY));
    assert_false(vfio_user_mig_arc_valid(SC, PCOPY, SCOPY));
}

/* Shortest legal path length by BFS over the arcs. A saving-group state
 * may be interior only while the path has not left the saving group it
 * started in (no new data session mid-path). -1: unreachable. */
static int bfs_len(uint64_t f, int cur, int target)
{
    int dist[N][2], q[2 * N][2], head = 0, tail = 0, s, run, t;

    memset(dist, -1, sizeof(dist));
    run = saving(cur);
    dist[cur][run] = 0;
    q[tail][0] = cur;
    q[tail++][1] = run;
    while (head < tail) {
        s = q[head][0];
        run = q[head++][1];
        for (t = 0; t < N; t++) {
            if (!vfio_user_mig_arc_valid(f, s, t))
                continue;
            if (t == target)
                return dist[s][run] + 1;
            if (saving(t) && !run)
                continue;
            if (dist[t][saving(t)] >= 0)
                continue;
            dist[t][saving(t)] = dist[s][run] + 1;
            q[tail][0] = t;
            q[tail++][1] = saving(t);
        }
    }
    return -1;
}

static void check_path(uint64_t f, int cur, int target)
{
    uint32_t path[VFIO_USER_MIG_PATH_MAX];
    size_t n, i;
    int r, prev = cur, run = saving(cur), expect;

    r = vfio_user_mig_path(f, cur, target, path, VFIO_USER_MIG_PATH_MAX, &n);
    expect = cur == target ? 0 : bfs_len(f, cur, target);
    /* Blocked by the spec although STOP_COPY, STOP, RUNNING, PRE_COPY
     * would be a path: the saving session would restart. */
    if (cur == SCOPY && (target == PCOPY || target == PP2P))
        expect = -1;
    if (expect < 0) {
        assert_int_equal(r, -EINVAL);
        return;
    }
    assert_int_equal(r, 0);
    assert_int_equal(n, expect);
    for (i = 0; i < n; i++) {
        assert_true(vfio_user_mig_arc_valid(f, prev, path[i]));
        if (i + 1 < n) {
            assert_false(saving(path[i]) && !run);
            run = run && saving(path[i]);
        }
        prev = path[i];
    }
    assert_int_equal(prev, target);
}

static void test_paths_every_pair(void **state)
{
    size_t i;
    int cur, target;
    uint32_t next;

    (void)state;
    for (i = 0; i < 4; i++) {
        uint64_t f = all_flags[i];

        for (cur = 0; cur < N; cur++)
            for (target = 0; target < N; target++) {
                if (cur == ERR || target == ERR || !supported(f, cur) ||
                    !supported(f, target)) {
                    assert_int_equal(
                        vfio_user_mig_next_state(f, cur, target, &next),
                        -EINVAL);
                    continue;
                }
                check_path(f, cur, target);
            }
    }
}

static void expect_path(uint64_t f, int cur, int target, const int *want,
                        size_t nwant)
{
    uint32_t path[VFIO_USER_MIG_PATH_MAX];
    size_t n, i;

    assert_int_equal(
        vfio_user_mig_path(f, cur, target, path, VFIO_USER_MIG_PATH_MAX, &n),
        0);
    assert_int_equal(n, nwant);
    for (i = 0; i < n; i++)
        assert_int_equal(path[i], want[i]);
}

/* Paths named in the kernel's comment and the vfio-user spec. */
static void test_known_paths(void **state)
{
    (void)state;
    expect_path(SC | P2P | PRE, RES, PCOPY,
                (const int[]){STOP, RP2P, RUN, PCOPY}, 4);
    expect_path(SC | PRE, RES, PCOPY, (const int[]){STOP, RUN, PCOPY}, 3);
    expect_path(SC | PRE, PCOPY, RES, (const int[]){RUN, STOP, RES}, 3);
    expect_path(SC | P2P | PRE, PCOPY, SCOPY, (const int[]){PP2P, SCOPY}, 2);
    expect_path(SC | PRE, PCOPY, SCOPY, (const int[]){SCOPY}, 1);
    expect_path(SC, RUN, SCOPY, (const int[]){STOP, SCOPY}, 2);
    expect_path(SC | P2P, RUN, SCOPY, (const int[]){RP2P, STOP, SCOPY}, 3);
    expect_path(SC, SCOPY, RUN, (const int[]){STOP, RUN}, 2);
    expect_path(SC, RES, RUN, (const int[]){STOP, RUN}, 2);
    expect_path(SC, RUN, RUN, NULL, 0);
}

static void test_illegal(void **state)
{
    uint32_t next = 99, path[2];
    size_t n;

    (void)state;
    /* "The STOP_COPY -> PRE_COPY transition is explicitly not allowed". */
    assert_int_equal(vfio_user_mig_next_state(SC | PRE, SCOPY, PCOPY, &next),
                     -EINVAL);
    assert_int_equal(
        vfio_user_mig_next_state(SC | PRE | P2P, SCOPY, PP2P, &next), -EINVAL);
    /* ERROR can be neither requested nor left by SET. */
    assert_int_equal(vfio_user_mig_next_state(SC, RUN, ERR, &next), -EINVAL);
    assert_int_equal(vfio_user_mig_next_state(SC, ERR, RUN, &next), -EINVAL);
    /* Out of range, unsupported, no STOP_COPY. */
    assert_int_equal(vfio_user_mig_next_state(SC, RUN, N, &next), -EINVAL);
    assert_int_equal(vfio_user_mig_next_state(SC, 1000, RUN, &next), -EINVAL);
    assert_int_equal(vfio_user_mig_next_state(SC, RUN, PCOPY, &next), -EINVAL);
    assert_int_equal(vfio_user_mig_next_state(SC, RUN, RP2P, &next), -EINVAL);
    assert_int_equal(vfio_user_mig_next_state(PRE, RUN, STOP, &next),
                     -EINVAL);
    assert_int_equal(vfio_user_mig_flags_check(0), -EINVAL);
    assert_int_equal(vfio_user_mig_flags_check(SC | 0x100), 0);
    assert_int_equal(next, 99);
    /* Path buffer too small. */
    assert_int_equal(vfio_user_mig_path(SC, RES, RUN, path, 1, &n), -ENOSPC);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(vfio_user_mig_state_name(PCOPY), "PRE_COPY");
    assert_string_equal(vfio_user_mig_state_name(ERR), "ERROR");
    assert_string_equal(vfio_user_mig_state_name(8), "INVALID");
    assert_true(vfio_user_mig_state_supported(SC, ERR));
    assert_false(vfio_user_mig_state_supported(SC, PP2P));
    assert_true(vfio_user_mig_state_supported(SC | P2P | PRE, PP2P));
}

/* ---- v1 ---- */

#define V1_STOP VFIO_USER_MIG_V1_STATE_STOP
#define V1_RUN VFIO_USER_MIG_V1_STATE_RUNNING
#define V1_SC VFIO_USER_MIG_V1_STATE_STOP_COPY
#define V1_PC VFIO_USER_MIG_V1_STATE_PRE_COPY
#define V1_RES VFIO_USER_MIG_V1_STATE_RESUMING
#define V1_ERR VFIO_USER_MIG_V1_STATE_ERROR

static void test_v1_states(void **state)
{
    uint32_t s;

    (void)state;
    for (s = 0; s < 16; s++)
        assert_int_equal(vfio_user_mig_v1_state_valid(s),
                         s == V1_STOP || s == V1_RUN || s == V1_SC ||
                             s == V1_PC || s == V1_RES || s == V1_ERR);
    assert_false(vfio_user_mig_v1_state_valid(V1_RES | V1_RUN));
    assert_false(vfio_user_mig_v1_state_valid(0x7));
    assert_false(vfio_user_mig_v1_state_valid(0x100 | V1_RUN));
    assert_string_equal(vfio_user_mig_v1_state_name(V1_PC), "PRE_COPY");
    assert_string_equal(vfio_user_mig_v1_state_name(5), "INVALID");
}

static void test_v1_transitions(void **state)
{
    /* Spec 0.9.1 table: rows from, columns to (STOP, RUN, SC, PC, RES). */
    static const uint32_t st[5] = {V1_STOP, V1_RUN, V1_SC, V1_PC, V1_RES};
    static const int ok[5][5] = {
        {1, 1, 0, 0, 0}, /* Stopped (self: no-op) */
        {1, 1, 1, 1, 1}, /* Running */
        {1, 1, 1, 0, 0}, /* Stop-and-copy */
        {0, 0, 1, 1, 0}, /* Pre-copy */
        {0, 1, 0, 0, 1}, /* Resuming */
    };
    uint32_t a, b;

    (void)state;
    for (a = 0; a < 5; a++)
        for (b = 0; b < 5; b++)
            assert_int_equal(vfio_user_mig_v1_transition(st[a], st[b]),
                             ok[a][b] ? 0 : -EINVAL);
    for (a = 0; a < 8; a++) {
        assert_int_equal(vfio_user_mig_v1_transition(V1_ERR, a), -EINVAL);
        assert_int_equal(vfio_user_mig_v1_transition(a, V1_ERR), -EINVAL);
        assert_int_equal(vfio_user_mig_v1_transition(a, 5), -EINVAL);
        assert_int_equal(vfio_user_mig_v1_transition(7, a), -EINVAL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arcs_every_pair),
        cmocka_unit_test(test_spec_arc_list),
        cmocka_unit_test(test_paths_every_pair),
        cmocka_unit_test(test_known_paths),
        cmocka_unit_test(test_illegal),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_v1_states),
        cmocka_unit_test(test_v1_transitions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
