/* SPDX-License-Identifier: BSD-3-Clause */
/* The one clock helper: monotonic time for deadlines, rates and timelines. */
#ifndef MINIVMM_VMM_CLOCK_H
#define MINIVMM_VMM_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds (never goes back; not wall time). */
static inline uint64_t clock_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* CLOCK_MONOTONIC in microseconds. */
static inline uint64_t clock_now_us(void)
{
    return clock_now_ns() / 1000ULL;
}

/* CLOCK_MONOTONIC in milliseconds. */
static inline uint64_t clock_now_ms(void)
{
    return clock_now_ns() / 1000000ULL;
}

#endif
