/* SPDX-License-Identifier: BSD-3-Clause */
/* Convergence of a live migration (docs/migration.md, "Convergence"):
 * the send-rate estimate (EWMA of the pre-copy passes), the decision after
 * each dirty-log sync (stop now, go on, raise the vCPU throttle, give up)
 * and the bandwidth cap's pacing. Pure: no I/O, no clock; the migration
 * thread (migration_run.c) feeds it measurements. Unit-tested
 * (tests/unit/test_migration_conv.c). */
#ifndef MINIVMM_MIGRATION_CONV_H
#define MINIVMM_MIGRATION_CONV_H

#include <stdbool.h>
#include <stdint.h>

#define MIG_CONV_MAX_PASSES 30      /* dirty passes before giving up */
#define MIG_CONV_MIN_SAMPLE (1u << 20) /* bytes: smaller passes say little
                                        * (the socket buffer absorbs them) */
#define MIG_CONV_MIN_RATE (16ULL << 20) /* bytes/s assumed before a sample */
#define MIG_CONV_STUCK_LIMIT 5      /* passes without shrinking, no throttle */
#define MIG_CONV_AT_MAX_LIMIT 4     /* passes at the top throttle */
#define MIG_CONV_THROTTLE_MAX 99    /* percent */

/* What the caller sets per migration. */
struct mig_conv_params {
    unsigned int downtime_ms;       /* target, > 0 */
    bool auto_converge;             /* may throttle vCPUs */
    unsigned int max_passes;        /* 0: MIG_CONV_MAX_PASSES */
};

struct mig_conv {
    struct mig_conv_params p;
    uint64_t rate;                  /* bytes/s, EWMA; 0 before a sample */
    uint64_t prev_dirty;            /* bytes dirty at the previous sync */
    unsigned int passes;            /* syncs decided so far */
    unsigned int stuck;             /* consecutive syncs not shrinking */
    unsigned int at_max;            /* syncs at the top throttle */
    unsigned int throttle_pct;      /* 0 or 20..99 */
};

enum mig_conv_verdict {
    MIG_CONV_GO_ON,                 /* send the dirty pages, sync again */
    MIG_CONV_STOP,                  /* the rest fits: stop-and-copy */
    MIG_CONV_GIVE_UP,               /* will not converge: fail */
};

void mig_conv_init(struct mig_conv *c, const struct mig_conv_params *p);

/* A pass sent @bytes in @us microseconds: fold it into the rate (EWMA,
 * weight 1/2 for the new sample; the first sample is taken whole).
 * Samples under MIG_CONV_MIN_SAMPLE bytes or of 0 us are ignored. */
void mig_conv_sample(struct mig_conv *c, uint64_t bytes, uint64_t us);

/* The rate to plan with, bytes/s (MIG_CONV_MIN_RATE before a sample). */
uint64_t mig_conv_rate(const struct mig_conv *c);

/* Microseconds to send @bytes at the planning rate. */
uint64_t mig_conv_expected_us(const struct mig_conv *c, uint64_t bytes);

/* After a sync found @dirty bytes to send: stop when they go out within
 * the downtime target at the measured rate; otherwise count the pass,
 * raise the throttle (c->throttle_pct: 20, 40, 60, 80, 90, 95, 99) when
 * the dirty set did not shrink by a quarter twice in a row, and give up
 * after max_passes, after MIG_CONV_STUCK_LIMIT passes not shrinking
 * without auto-converge, or after MIG_CONV_AT_MAX_LIMIT passes at 99%. */
enum mig_conv_verdict mig_conv_decide(struct mig_conv *c, uint64_t dirty);

/* Bandwidth cap: microseconds to wait before sending more when @bytes
 * went out in @us since the cap's start and the cap is @cap bytes/s
 * (0: no cap, never waits). */
uint64_t mig_conv_pace_us(uint64_t bytes, uint64_t us, uint64_t cap);

#endif
