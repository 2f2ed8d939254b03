/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test=counter (only when named): count in RAM at CPL3 and print progress,
 * for snapshot/restore and migration tests. Every tick_ms (default 100)
 * it prints "counter: tick T value V"; after ticks=N ticks (default 0:
 * never) it prints "counter: done" and passes. fill_mb=N first fills N MiB
 * from 16 MiB up with pseudo-random data (benchmarks: incompressible,
 * no zero pages) and prints "counter: filled N MiB"; with check_fill=1
 * every tick then recomputes the fill and prints "counter: fill ok" or
 * "counter: fill BAD at OFFSET" (restore tests: the data survived).
 * dirty_mb=N makes the loop a writer too: after each 4096 increments it
 * writes one word of the next page of N MiB above the fill (cycling), so
 * the guest dirties pages as fast as its vCPU runs (migration convergence
 * tests). The counter, the tick and
 * the deadline all live in guest RAM or registers, so a restored VM goes
 * on from where it was saved: its first line shows the next tick, not 1.
 */
#include <stdint.h>

#include "lib/bootinfo.h"
#include "lib/printf.h"
#include "lib/time.h"
#include "tests/tests.h"

#define FILL_BASE (16ULL << 20)

static volatile uint64_t counter;

/* xorshift64 over [FILL_BASE, FILL_BASE + mb MiB): mapped, free RAM. */
static void fill(uint64_t mb)
{
    uint64_t *p = (uint64_t *)(uintptr_t)FILL_BASE;
    uint64_t x = 0x9E3779B97F4A7C15ULL;

    for (uint64_t i = 0; i < (mb << 20) / 8; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = x;
    }
    printf("counter: filled %lu MiB\n", mb);
}
static volatile uint64_t tick;

/* Compare [FILL_BASE, + mb MiB) with what fill() wrote. */
static void check(uint64_t mb)
{
    const uint64_t *p = (const uint64_t *)(uintptr_t)FILL_BASE;
    uint64_t x = 0x9E3779B97F4A7C15ULL;

    for (uint64_t i = 0; i < (mb << 20) / 8; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (p[i] != x) {
            printf("counter: fill BAD at 0x%lx\n",
                   (uint64_t)(FILL_BASE + i * 8));
            return;
        }
    }
    printf("counter: fill ok\n");
}

int test_counter(void)
{
    uint64_t period_ms = 100, limit = 0, mb = 0, verify = 0, next;
    uint64_t dmb = 0, page = 0;
    volatile uint64_t *dirty;

    cmdline_get_u64("fill_mb", &mb);
    cmdline_get_u64("check_fill", &verify);
    if (tick == 0 && mb)
        fill(mb);
    cmdline_get_u64("dirty_mb", &dmb);
    dirty = (volatile uint64_t *)(uintptr_t)(FILL_BASE + (mb << 20));
    cmdline_get_u64("tick_ms", &period_ms);
    cmdline_get_u64("ticks", &limit);
    if (period_ms == 0)
        period_ms = 1;
    printf("counter: start at tick %lu value %lu\n", tick, counter);
    next = time_us() + period_ms * 1000;
    for (;;) {
        for (unsigned int i = 0; i < 4096; i++)
            counter = counter + 1;
        if (dmb) {
            dirty[page * 512] = counter;
            page = page + 1 < dmb * 256 ? page + 1 : 0;
        }
        if (time_us() < next)
            continue;
        tick = tick + 1;
        printf("counter: tick %lu value %lu\n", tick, counter);
        if (verify && mb)
            check(mb);
        /* From now, not from the old deadline: no burst after a pause. */
        next = time_us() + period_ms * 1000;
        if (limit && tick >= limit)
            break;
    }
    printf("counter: done\n");
    return 0;
}
