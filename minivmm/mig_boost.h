/* SPDX-License-Identifier: BSD-3-Clause */
/* The source's real-time boost for a live migration's stop-and-copy
 * window (vmm/rt_boost.h; docs/migration.md, "Real-time boost"): at the
 * stop request the migration thread, the event loop and the vCPU threads
 * get SCHED_FIFO (with SCHED_FLAG_RESET_ON_FORK); it ends after the final
 * pass and the hand-over, on failure or cancel before the guest resumes,
 * or at the hard cap (a timerfd on the event loop, RT_BOOST_CAP_MS),
 * whichever comes first. Then SCHED_OTHER with the short slice the stop
 * path keeps until the migration ends (vmm/sched_slice.h). Unprivileged:
 * nothing changes but a debug line. */
#ifndef MINIVMM_MIG_BOOST_H
#define MINIVMM_MIG_BOOST_H

#include <stdbool.h>

struct evloop;
struct mig_boost;
struct vcpu;

/* Event-loop thread (its thread id is taken as the loop's). @default_on:
 * boost when a migration does not say (--migrate-rt-boost). 0 or
 * -errno. */
int mig_boost_create(struct evloop *loop, struct vcpu *vcpus, unsigned int n,
                     bool default_on, struct mig_boost **out);
/* Ends a boost still on. NULL is a no-op. */
void mig_boost_destroy(struct mig_boost *mb);

/* Migration thread, at the stop request: boost unless @want is
 * MIG_RT_BOOST_OFF (MIG_RT_BOOST_DEFAULT: the default given at create). */
void mig_boost_on(struct mig_boost *mb, int want);
/* Whether a boost is on now. */
bool mig_boost_active(struct mig_boost *mb);
/* Any thread: end the boost (@result: 0 done, -ECANCELED cancelled,
 * other -errno failed). Idempotent. */
void mig_boost_off(struct mig_boost *mb, int result);

#endif
