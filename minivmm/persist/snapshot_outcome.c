/* SPDX-License-Identifier: BSD-3-Clause */
/* The report of a failed snapshot (see snapshot_outcome.h). */
#include "minivmm/persist/snapshot_outcome.h"

#include <stdio.h>
#include <string.h>

static const char *const step_text[] = {
    [SNAP_STEP_STOP] = "stopping the VM",
    [SNAP_STEP_SAVE] = "saving the vCPU and device state",
    [SNAP_STEP_WRITE] = "writing the file",
    [SNAP_STEP_RESUME] = "resuming the VM afterwards",
};

/* What the VM's state means for the user. */
static const char *state_hint(const char *vm_state)
{
    if (!strcmp(vm_state, "paused"))
        return " ('resume' retries the devices and runs the guest, 'quit' "
               "ends it)";
    return "";
}

void snap_outcome_text(const struct snap_outcome *o, char *out,
                       size_t outlen)
{
    const char *step = (unsigned int)o->step <
                               sizeof(step_text) / sizeof(step_text[0])
                           ? step_text[o->step] : "an unknown step";
    char also[320] = "";

    if (o->resume_why && o->step != SNAP_STEP_RESUME)
        snprintf(also, sizeof(also), "; resuming the VM afterwards failed "
                 "too: %s", o->resume_why);
    if (o->file_written)
        snprintf(out, outlen, "snapshot %s: the file was written completely "
                 "and can be restored with --restore, but %s failed: %s%s; "
                 "the VM is %s%s", o->path, step, o->why, also, o->vm_state,
                 state_hint(o->vm_state));
    else
        snprintf(out, outlen, "snapshot %s failed while %s: %s; no snapshot "
                 "file was written (%s is unchanged)%s; the VM is %s%s",
                 o->path, step, o->why, o->path, also, o->vm_state,
                 state_hint(o->vm_state));
}
