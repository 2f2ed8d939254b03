/* SPDX-License-Identifier: BSD-3-Clause */
/* The report of a failed snapshot (vmm/snapshot_outcome.c, issue 9 item
 * 7): each step named, the file's fate and the VM's state said. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "minivmm/persist/snapshot_outcome.h"

static void has(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("'%s' does not say '%s'", text, needle);
}

static void test_resume_failed(void **state)
{
    struct snap_outcome o = {
        .path = "/v/s", .step = SNAP_STEP_RESUME,
        .why = "resuming device vfio-user@x: Operation not permitted",
        .file_written = true, .vm_state = "paused",
    };
    char t[1024];

    (void)state;
    snap_outcome_text(&o, t, sizeof(t));
    has(t, "snapshot /v/s: the file was written completely");
    has(t, "can be restored with --restore");
    has(t, "resuming the VM afterwards failed: resuming device vfio-user@x");
    has(t, "the VM is paused ('resume' retries");
}

static void test_before_the_file(void **state)
{
    static const struct { enum snap_step step; const char *says; } c[] = {
        { SNAP_STEP_STOP, "failed while stopping the VM: boom" },
        { SNAP_STEP_SAVE, "failed while saving the vCPU and device state" },
        { SNAP_STEP_WRITE, "failed while writing the file: boom" },
    };
    char t[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct snap_outcome o = { .path = "/v/s", .step = c[i].step,
                                  .why = "boom", .vm_state = "running" };

        snap_outcome_text(&o, t, sizeof(t));
        has(t, c[i].says);
        has(t, "no snapshot file was written (/v/s is unchanged)");
        has(t, "the VM is running");
        assert_null(strstr(t, "'resume'"));
    }
}

/* The file failed and so did the resume: both said, VM paused. */
static void test_both_failed(void **state)
{
    struct snap_outcome o = {
        .path = "/v/s", .step = SNAP_STEP_WRITE, .why = "No space left",
        .resume_why = "resuming device d: Broken pipe", .vm_state = "paused",
    };
    char t[1024], small[40];

    (void)state;
    snap_outcome_text(&o, t, sizeof(t));
    has(t, "failed while writing the file: No space left");
    has(t, "resuming the VM afterwards failed too: resuming device d");
    has(t, "the VM is paused");
    snap_outcome_text(&o, small, sizeof(small));
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_failed),
        cmocka_unit_test(test_before_the_file),
        cmocka_unit_test(test_both_failed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
