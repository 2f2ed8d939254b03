/* SPDX-License-Identifier: BSD-3-Clause */
/* The core of an outgoing migration: the object both sides share, with
 * the phase step and the thread -> event-loop requests (migration_core.c).
 * Used by migration.c (object, API, event-loop side) and migration_run.c
 * (the thread); it calls neither. */
#ifndef MINIVMM_MIGRATION_CORE_H
#define MINIVMM_MIGRATION_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "minivmm/persist/migration_host.h"
#include "minivmm/persist/migration_fsm.h"
#include "minivmm/persist/migration_net.h"

/* What the thread asks of the event loop. */
enum mig_req {
    MIG_REQ_NONE = 0,
    MIG_REQ_STOP,       /* stop the guest, build the state tree */
    MIG_REQ_END,        /* hand the VM back (or stop it) and join me */
};

struct mig_stats {
    unsigned int iterations;    /* RAM passes sent */
    uint64_t bytes;             /* stream bytes sent */
    uint64_t remaining;         /* dirty bytes at the last sync */
    uint64_t dirty_rate;        /* bytes dirtied per second, last pass */
    uint64_t bandwidth;         /* bytes per second, measured */
    uint64_t expected_downtime_ms;
    uint64_t total_ms;
    uint64_t downtime_us;       /* guest stopped → destination told GO */
    uint64_t stop_us;           /* of which: stopping, state tree */
    uint64_t final_us;          /* final pages, state, END sent */
    uint64_t dest_us;           /* the destination building its VM */
    unsigned int throttle_pct;  /* auto-converge: vCPU time held, % */
};

struct migration {
    struct migration_env env;
    struct migration_params par;    /* this migration's (start) */
    unsigned int throttle_set;      /* loop thread: pct given to host */
    struct dirty_log *dirty;
    int efd;                    /* eventfd: thread → loop */
    bool in_loop;
    pthread_t thread;
    bool thread_live;           /* loop thread only */

    pthread_mutex_t lock;       /* everything below */
    pthread_cond_t cond;
    enum mig_state state;
    struct mig_stats st;
    char error[384];
    char uri[MIG_URI_MAX];
    struct mig_uri u;
    int fd;                     /* stream socket or -1 */
    int cancel;                 /* atomic too */
    bool committed;             /* GO is being sent: too late to cancel */
    bool progress_pending;
    bool loop_gone;             /* being destroyed: no more loop service */
    enum mig_req req;
    bool req_done_flag;         /* MIG_REQ_END: the migration succeeded */
    bool req_finished;
    int req_ret;
    uint64_t t_stop_req;        /* µs: MIG_REQ_STOP posted (timeline) */
    uint64_t t_stop_loop;       /* µs: the loop began serving it */
    void *fdt;                  /* MIG_REQ_STOP's state tree */
    size_t fdt_len;
};

/* Apply phase event @ev (migration_fsm.h); m->lock held by the caller.
 * 0 or -EINVAL (not allowed in this phase). */
int mig_apply_locked(struct migration *m, enum mig_event ev);
/* Wake the event loop (m->efd): a request or progress to report. */
void mig_kick_loop(struct migration *m);
/* Post @req to the loop; for MIG_REQ_STOP wait for its result (0 or
 * -errno; -ECANCELED when the loop is gone). Migration thread only. */
int mig_ask_loop(struct migration *m, enum mig_req req, bool done);

#endif
