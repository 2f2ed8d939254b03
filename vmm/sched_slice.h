/* SPDX-License-Identifier: BSD-3-Clause */
/* Latency-sensitive threads under CPU contention: ask the kernel's EEVDF
 * scheduler (Linux >= 6.12, "custom slice": struct sched_attr's
 * sched_runtime for SCHED_OTHER) for a short time slice, so a thread
 * woken on a busy core preempts the running task instead of waiting for
 * its turn. Used around a live migration's stop (docs/migration.md,
 * "Downtime under load"). Older kernels ignore or refuse it: best effort,
 * the caller goes on either way. */
#ifndef MINIVMM_SCHED_SLICE_H
#define MINIVMM_SCHED_SLICE_H

#include <stdint.h>
#include <sys/types.h>

/* sched_setattr(2)/sched_getattr(2)'s argument, as the kernel defines it
 * (include/uapi/linux/sched/types.h, SCHED_ATTR_SIZE_VER0: 48 bytes);
 * glibc does not declare it. Shared by this file and vmm/rt_boost.c. */
struct vmm_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
};

#define SCHED_SLICE_SHORT_US 100    /* the kernel's minimum is 100 µs */

/* Thread @tid (0: the caller) gets a @us µs slice (0: the default).
 * 0 or -errno (-ENOSYS, -EINVAL on kernels without custom slices). */
int sched_slice_set(pid_t tid, unsigned int us);

#endif
