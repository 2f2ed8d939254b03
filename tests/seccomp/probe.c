/* SPDX-License-Identifier: BSD-3-Clause */
/* Test-only override of sc_probe_hook() (vmm/seccomp.h), linked into
 * build/minivmm-sctest and build/vfu-blk-sctest, never into build/minivmm
 * or build/vfu-blk: when MINIVMM_SECCOMP_PROBE names the thread kind that
 * just installed its filter ("main", "vcpu", "migration", "vfu-blk", "restore"), that
 * thread calls reboot(2) with a bad magic number, a syscall no allow-list
 * has and that does nothing even when allowed (EINVAL, or EPERM without
 * CAP_SYS_BOOT). tests/integration/payload_seccomp.sh checks that it kills
 * the process (--seccomp=on) or is only logged (--seccomp=log). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm/seccomp.h"

void sc_probe_hook(enum sc_thread t)
{
    const char *want = getenv("MINIVMM_SECCOMP_PROBE");
    long r;

    if (!want || strcmp(want, sc_thread_name(t)))
        return;
    fprintf(stderr, "seccomp-probe: %s: calling reboot(2)\n",
            sc_thread_name(t));
    r = syscall(SYS_reboot, 0L, 0L, 0L, NULL);
    fprintf(stderr, "seccomp-probe: %s: survived reboot(2) = %ld\n",
            sc_thread_name(t), r);
}
