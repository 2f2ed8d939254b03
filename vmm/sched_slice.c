/* SPDX-License-Identifier: BSD-3-Clause */
/* EEVDF custom slices (see sched_slice.h; sched_setattr(2)). */
#include "vmm/sched_slice.h"

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

int sched_slice_set(pid_t tid, unsigned int us)
{
    struct vmm_sched_attr a;
    int nice;

    errno = 0;
    nice = getpriority(PRIO_PROCESS, (id_t)tid);   /* kept as it is */
    if (nice == -1 && errno)
        return -errno;
    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.sched_policy = SCHED_OTHER;
    a.sched_nice = nice;
    a.sched_runtime = (uint64_t)us * 1000;
    return syscall(SYS_sched_setattr, tid, &a, 0) < 0 ? -errno : 0;
}
