/* SPDX-License-Identifier: BSD-3-Clause */
/* How a snapshot that failed is reported: one sentence naming the step
 * that failed, what became of the file and what state the VM is in
 * (issue 9 item 7). Used by vmctl_snapshot() for the API reply and the
 * log; pure, unit-tested (tests/unit/test_snapshot_outcome.c). */
#ifndef MINIVMM_SNAPSHOT_OUTCOME_H
#define MINIVMM_SNAPSHOT_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>

/* The steps of vmctl_snapshot(), in order. */
enum snap_step {
    SNAP_STEP_STOP,     /* pausing vCPUs, quiescing devices */
    SNAP_STEP_SAVE,     /* building the state tree (vCPUs, devices) */
    SNAP_STEP_WRITE,    /* writing and renaming the file */
    SNAP_STEP_RESUME,   /* resuming devices and vCPUs afterwards */
};

struct snap_outcome {
    const char *path;       /* the snapshot file asked for */
    enum snap_step step;    /* the first step that failed */
    const char *why;        /* its error */
    bool file_written;      /* @path holds the complete snapshot */
    const char *resume_why; /* a later resume failure too, or NULL */
    const char *vm_state;   /* run state now ("running", "paused") */
};

/* The sentence for @o into @out (always NUL-terminated), e.g.
 * "snapshot F: the file was written completely and can be restored with
 * --restore, but resuming the VM afterwards failed: resuming device X:
 * Operation not permitted; the VM is paused ('resume' retries, 'quit'
 * ends it)". */
void snap_outcome_text(const struct snap_outcome *o, char *out,
                       size_t outlen);

#endif
