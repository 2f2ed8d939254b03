/* SPDX-License-Identifier: BSD-3-Clause */
/* How a device asks the VM to stop, and why. Exit codes of minivmm for each
 * reason are in docs/platform.md. */
#ifndef MINIVMM_RUNSTATE_H
#define MINIVMM_RUNSTATE_H

enum vm_stop_reason {
    VM_STOP_NONE = 0,
    VM_STOP_POWEROFF,   /* ACPI S5: exit 0 */
    VM_STOP_RESET,      /* i8042, 0xCF9, ACPI reset register: exit 3 */
    VM_STOP_TEST_EXIT,  /* guest wrote to the test-exit port: exit status */
    VM_STOP_CRASH,      /* triple fault, KVM internal error: exit 4 */
    VM_STOP_ERROR,      /* host-side failure: exit 1, or the status when
                         * non-zero (2: a snapshot found corrupt late) */
};

struct vm_stop_ctl {
    /* Request that every vCPU stops; @status is used for TEST_EXIT. Safe to
     * call from any thread, any number of times: the first request wins. */
    void (*request_stop)(void *opaque, enum vm_stop_reason reason,
                         int status);
    void *opaque;
};

#endif
