/* SPDX-License-Identifier: BSD-3-Clause */
/* vCPU throttling for migration auto-converge (docs/migration.md,
 * "Convergence"): a timerfd on the event loop kicks every vCPU out of
 * KVM_RUN once per period of VCPU_THROTTLE_SLICE_MS * 100 / (100 - pct)
 * ms, and each kicked vCPU holds for the pct share of it (vcpu.c,
 * maybe_throttle), so the guest runs (100 - pct)% of the time. A pause
 * or a stop ends a hold at once. Event-loop thread. */
#ifndef MINIVMM_VCPU_THROTTLE_H
#define MINIVMM_VCPU_THROTTLE_H

struct evloop;
struct vcpu;
struct vcpu_sync;
struct vcpu_throttle;

/* For @vcpus[0..@n) paused through @sync. 0 or -errno. */
int vcpu_throttle_create(struct evloop *loop, struct vcpu *vcpus,
                         unsigned int n, struct vcpu_sync *sync,
                         struct vcpu_throttle **out);
/* Turns the throttle off first. NULL is a no-op. */
void vcpu_throttle_destroy(struct vcpu_throttle *t);

/* Hold each vCPU @pct percent (1-99) of its time; 0 turns it off (holds
 * end at once). 0 or -errno (-EINVAL for @pct > 99). */
int vcpu_throttle_set(struct vcpu_throttle *t, unsigned int pct);

#endif
