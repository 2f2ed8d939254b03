/* SPDX-License-Identifier: BSD-3-Clause */
/* Convergence of a live migration: rate estimate, pass decision, throttle
 * steps, bandwidth pacing (see migration_conv.h). */
#include "minivmm/persist/migration_conv.h"

#include <string.h>

/* The throttle's steps, percent of each vCPU's time held. */
static const unsigned int steps[] = { 20, 40, 60, 80, 90, 95, 99 };

void mig_conv_init(struct mig_conv *c, const struct mig_conv_params *p)
{
    memset(c, 0, sizeof(*c));
    c->p = *p;
    if (!c->p.max_passes)
        c->p.max_passes = MIG_CONV_MAX_PASSES;
}

void mig_conv_sample(struct mig_conv *c, uint64_t bytes, uint64_t us)
{
    uint64_t r;

    if (bytes < MIG_CONV_MIN_SAMPLE || us == 0)
        return;
    r = bytes > UINT64_MAX / 1000000 ? bytes / us * 1000000
                                     : bytes * 1000000 / us;
    c->rate = c->rate ? c->rate / 2 + r / 2 : r;
}

uint64_t mig_conv_rate(const struct mig_conv *c)
{
    return c->rate ? c->rate : MIG_CONV_MIN_RATE;
}

uint64_t mig_conv_expected_us(const struct mig_conv *c, uint64_t bytes)
{
    uint64_t r = mig_conv_rate(c);

    if (bytes > UINT64_MAX / 1000000)
        return bytes / r * 1000000;
    return bytes * 1000000 / r;
}

static void raise_throttle(struct mig_conv *c)
{
    for (unsigned int i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if (steps[i] > c->throttle_pct) {
            c->throttle_pct = steps[i];
            return;
        }
    }
}

enum mig_conv_verdict mig_conv_decide(struct mig_conv *c, uint64_t dirty)
{
    bool shrank;

    if (mig_conv_expected_us(c, dirty) <=
        (uint64_t)c->p.downtime_ms * 1000)
        return MIG_CONV_STOP;
    c->passes++;
    /* The first sync has nothing to compare with. */
    shrank = c->passes == 1 || dirty < c->prev_dirty - c->prev_dirty / 4;
    c->prev_dirty = dirty;
    c->stuck = shrank ? 0 : c->stuck + 1;
    if (c->passes >= c->p.max_passes)
        return MIG_CONV_GIVE_UP;
    if (!c->p.auto_converge)
        return c->stuck >= MIG_CONV_STUCK_LIMIT ? MIG_CONV_GIVE_UP
                                                : MIG_CONV_GO_ON;
    if (c->throttle_pct >= MIG_CONV_THROTTLE_MAX) {
        if (!shrank && ++c->at_max >= MIG_CONV_AT_MAX_LIMIT)
            return MIG_CONV_GIVE_UP;
        return MIG_CONV_GO_ON;
    }
    if (c->stuck >= 2)
        raise_throttle(c);
    return MIG_CONV_GO_ON;
}

uint64_t mig_conv_pace_us(uint64_t bytes, uint64_t us, uint64_t cap)
{
    uint64_t due;

    if (!cap)
        return 0;
    due = bytes > UINT64_MAX / 1000000 ? bytes / cap * 1000000
                                       : bytes * 1000000 / cap;
    return due > us ? due - us : 0;
}
