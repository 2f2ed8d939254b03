/* SPDX-License-Identifier: BSD-3-Clause */
/* VM run-state table (vmm/runstate_fsm.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/runstate_fsm.h"

static void test_lifecycle(void **state)
{
    struct vm_runstate rs;

    (void)state;
    runstate_init(&rs);
    assert_int_equal(rs.state, VM_RS_CREATED);
    assert_int_equal(runstate_apply(&rs, VM_EV_PAUSE), -EBUSY);
    assert_int_equal(runstate_apply(&rs, VM_EV_START), 0);
    assert_int_equal(rs.state, VM_RS_RUNNING);
    assert_true(runstate_vcpus_run(rs.state));
    assert_int_equal(runstate_apply(&rs, VM_EV_PAUSE), 0);
    assert_int_equal(rs.state, VM_RS_PAUSED);
    assert_false(runstate_vcpus_run(rs.state));
    assert_int_equal(runstate_apply(&rs, VM_EV_PAUSE), 0); /* no-op */
    assert_int_equal(runstate_apply(&rs, VM_EV_RESUME), 0);
    assert_int_equal(rs.state, VM_RS_RUNNING);
    assert_int_equal(runstate_apply(&rs, VM_EV_STOP), 0);
    assert_int_equal(rs.state, VM_RS_SHUTTING_DOWN);
    for (int ev = 0; ev < VM_EV_COUNT; ev++)
        assert_int_equal(runstate_apply(&rs, (enum vm_run_event)ev),
                         ev == VM_EV_STOP ? 0 : -EBUSY);
}

static void test_snapshot_returns(void **state)
{
    struct vm_runstate rs;

    (void)state;
    runstate_init(&rs);
    runstate_apply(&rs, VM_EV_START);
    assert_int_equal(runstate_apply(&rs, VM_EV_SNAPSHOT), 0);
    assert_int_equal(rs.state, VM_RS_SNAPSHOTTING);
    assert_int_equal(runstate_apply(&rs, VM_EV_PAUSE), -EBUSY);
    assert_int_equal(runstate_apply(&rs, VM_EV_SNAPSHOT), -EBUSY);
    assert_int_equal(runstate_apply(&rs, VM_EV_SNAPSHOT_END), 0);
    assert_int_equal(rs.state, VM_RS_RUNNING);
    runstate_apply(&rs, VM_EV_PAUSE);
    assert_int_equal(runstate_apply(&rs, VM_EV_SNAPSHOT), 0);
    assert_int_equal(runstate_apply(&rs, VM_EV_SNAPSHOT_END), 0);
    assert_int_equal(rs.state, VM_RS_PAUSED);
}

static void test_migration(void **state)
{
    struct vm_runstate rs;

    (void)state;
    runstate_init(&rs);
    runstate_apply(&rs, VM_EV_START);
    assert_int_equal(runstate_apply(&rs, VM_EV_MIGRATE), 0);
    assert_int_equal(runstate_apply(&rs, VM_EV_SNAPSHOT), -EBUSY);
    assert_int_equal(runstate_apply(&rs, VM_EV_MIGRATE_FAIL), 0);
    assert_int_equal(rs.state, VM_RS_RUNNING);
    /* In doubt: paused, and from there resumable by hand. */
    assert_int_equal(runstate_apply(&rs, VM_EV_MIGRATE), 0);
    assert_int_equal(runstate_apply(&rs, VM_EV_MIGRATE_IN_DOUBT), 0);
    assert_int_equal(rs.state, VM_RS_PAUSED);
    assert_int_equal(runstate_apply(&rs, VM_EV_MIGRATE_IN_DOUBT), -EBUSY);
    assert_int_equal(runstate_apply(&rs, VM_EV_RESUME), 0);
    assert_int_equal(runstate_apply(&rs, VM_EV_MIGRATE), 0);
    assert_int_equal(runstate_apply(&rs, VM_EV_MIGRATE_DONE), 0);
    assert_int_equal(rs.state, VM_RS_SHUTTING_DOWN);
}

/* Every (state, event) pair is defined and names are distinct. */
static void test_table_complete(void **state)
{
    (void)state;
    for (int s = 0; s < VM_RS_COUNT; s++) {
        assert_string_not_equal(runstate_name((enum vm_run_state)s), "?");
        assert_true(runstate_allowed((enum vm_run_state)s, VM_EV_STOP));
        for (int t = s + 1; t < VM_RS_COUNT; t++)
            assert_string_not_equal(runstate_name((enum vm_run_state)s),
                                    runstate_name((enum vm_run_state)t));
    }
    for (int e = 0; e < VM_EV_COUNT; e++)
        assert_string_not_equal(runstate_event_name((enum vm_run_event)e),
                                "?");
    assert_string_equal(runstate_name(VM_RS_COUNT), "?");
    assert_false(runstate_allowed(VM_RS_COUNT, VM_EV_STOP));
    assert_false(runstate_allowed(VM_RS_RUNNING, VM_EV_COUNT));
    assert_false(runstate_allowed(VM_RS_CREATED, VM_EV_SNAPSHOT_END));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_snapshot_returns),
        cmocka_unit_test(test_migration),
        cmocka_unit_test(test_table_complete),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
