/* SPDX-License-Identifier: BSD-3-Clause */
/* One thread per vCPU: KVM_RUN, decode the exit, hand PIO/MMIO to the
 * buses. No device knowledge here. Stop: vcpu_kick() makes KVM_RUN return
 * (immediate_exit + a signal), the thread sees the VM's stop flag and ends.
 */
#ifndef MINIVMM_VCPU_H
#define MINIVMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

#include "vmm/stats.h"
#include "vmm/runstate.h"
#include "vmm/seccomp.h"

struct bus;
struct guest_memory;
struct kvm;

/* Pause rendezvous of one VM's vCPU threads (owned by the VM): a paused
 * vCPU is out of KVM_RUN with its last exit completed (KVM_RUN re-entered
 * with immediate_exit), so its registers can be read and written. */
struct vcpu_sync {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int pause;              /* atomic; written under lock */
    unsigned int running;   /* threads started and not ended (lock) */
    unsigned int parked;    /* threads waiting while paused (lock) */
    uint64_t kick_us;       /* the last vcpu_pause_begin() (lock;
                             * clock_now_us), for the stop's timeline */
    uint64_t park_us;       /* the last thread parked then (lock) */
    unsigned int throttle_pct; /* atomic; written under lock: each kick
                                * holds a vCPU that ran its slice for
                                * VCPU_THROTTLE_SLICE_MS * pct / (100 -
                                * pct) (minivmm/vcpu_throttle.h) */
};

#define VCPU_THROTTLE_SLICE_MS 10   /* run time between holds */

/* What a vCPU thread needs from the VM; owned by the VM, shared. */
struct vcpu_env {
    struct kvm *kvm;
    struct bus *pio;
    struct bus *mmio;
    struct guest_memory *mem;
    struct vm_stop_ctl stop;
    int *stopping;              /* atomic: nonzero once a stop began */
    struct vcpu_sync *sync;     /* pause/resume of all vCPUs */
    enum sc_mode seccomp;       /* each vCPU thread filters itself */
    uint64_t start_ns;          /* start-up timeline's zero (startup.h) */
    bool rt_handover;           /* an incoming migration may hand its
                                 * boost to the threads (vmm/rt_boost.h):
                                 * each drops it before its first KVM_RUN */
};

struct vcpu {
    int id;
    int fd;
    struct kvm_run *run;
    pthread_t thread;
    bool started;
    const struct vcpu_env *env;
    unsigned long exits;        /* statistics: KVM_RUN returns */
    uint64_t exit_count[STATS_EXIT_COUNT]; /* by reason, vmm/stats.h */
    uint64_t throttle_end_us;   /* the thread's last throttle hold ended */
    int tid;                    /* atomic: the thread's id once it runs */
};

/* Give every started vCPU thread of @vcpus[0..@n) a @us µs scheduler
 * slice (0: the default; vmm/sched_slice.h). Best effort. */
void vcpu_slice_all(struct vcpu *vcpus, unsigned int n, unsigned int us);

/* Install the (no-op) kick signal handler; once per process, before any
 * vCPU thread starts. 0 or -errno. */
int vcpu_signals_init(void);

/* KVM_CREATE_VCPU @id. 0 or -errno. */
int vcpu_create(struct vcpu *v, int id, const struct vcpu_env *env);
void vcpu_destroy(struct vcpu *v);

/* Start the thread that runs @v until the VM stops. 0 or -errno. */
int vcpu_start(struct vcpu *v);

/* Make @v leave KVM_RUN soon; safe from any thread. */
void vcpu_kick(struct vcpu *v);

/* Add {"id":N,"exits":{"io":N,...,"total":N}} for each of @v[0..@n) to
 * JSON array @arr and the sums into @totals[STATS_EXIT_COUNT]. */
void vcpu_stats(const struct vcpu *v, unsigned int n, struct json_object *arr,
                uint64_t *totals);

/* Wait for the thread to end. */
void vcpu_join(struct vcpu *v);

void vcpu_sync_init(struct vcpu_sync *s);
void vcpu_sync_destroy(struct vcpu_sync *s);

/* Stop every started vCPU of @vcpus[0..@n) at a safe point and return
 * once all are parked (threads not started yet count as parked). 0, or
 * -ETIMEDOUT after @timeout_ms (then nothing stays paused). Event-loop
 * thread only; not while a stop is under way. */
int vcpu_pause_all(struct vcpu *vcpus, unsigned int n,
                   struct vcpu_sync *s, unsigned int timeout_ms);
/* Ask every started vCPU of @vcpus[0..@n) to park and kick them, without
 * waiting: a later vcpu_pause_all() (which must follow) then finds them
 * parked or on their way. Any thread. */
void vcpu_pause_begin(struct vcpu *vcpus, unsigned int n,
                      struct vcpu_sync *s);
/* Let parked vCPUs run again (also used to release them for a stop). */
void vcpu_resume_all(struct vcpu_sync *s);

#endif
