/* SPDX-License-Identifier: BSD-3-Clause */
/* Counters for the API's "stats" command (docs/api.md, "stats"). Each
 * counter lives in the object that counts it (a vCPU, a virtio transport,
 * a vfio-user client), is bumped with a relaxed atomic add on the hot path
 * (no lock, no shared cache line between vCPUs) and read with a relaxed
 * load by the event loop when the API asks: a snapshot of monotonic
 * totals, not a consistent cut. */
#ifndef MINIVMM_STATS_H
#define MINIVMM_STATS_H

#include <stdint.h>

struct json_object;

/* vCPU exits by reason (vmm/vcpu.c). "kick" is KVM_RUN returning EINTR or
 * EAGAIN (a signal, a pause), "intr" is KVM_EXIT_INTR. */
enum stats_exit {
    STATS_EXIT_IO,
    STATS_EXIT_MMIO,
    STATS_EXIT_HLT,
    STATS_EXIT_INTR,
    STATS_EXIT_KICK,
    STATS_EXIT_OTHER,
    STATS_EXIT_COUNT,
};

/* Wire names ("io", "mmio", ...), indexed by enum stats_exit. */
extern const char *const stats_exit_names[STATS_EXIT_COUNT];

static inline void stats_add(uint64_t *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static inline void stats_inc(uint64_t *c)
{
    stats_add(c, 1);
}

static inline uint64_t stats_get(const uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Add @key: @v (an unsigned counter) to JSON object @o. */
void stats_put(struct json_object *o, const char *key, uint64_t v);

#endif
