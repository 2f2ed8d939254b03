/* SPDX-License-Identifier: BSD-3-Clause */
/* TSC calibration and delays. */
#include "lib/time.h"

#include "lib/errno.h"
#include "lib/io.h"
#include "lib/lapic.h"

#define CAL_TICKS 10000000U /* LAPIC ticks: 10 ms at 1 GHz */

static uint64_t hz;
static uint64_t tsc0;

int time_init(void)
{
    uint32_t c0, c;
    uint64_t t0, t1;

    lapic_timer_stop();
    lapic_write(LAPIC_TDCR, LAPIC_TDCR_DIV1);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_TICR, 0xFFFFFFFF);
    c0 = lapic_read(LAPIC_TCCR);
    t0 = rdtsc();
    do {
        c = lapic_read(LAPIC_TCCR);
    } while (c0 - c < CAL_TICKS && c != 0);
    t1 = rdtsc();
    lapic_timer_stop();
    if (c == 0 || t1 <= t0)
        return -EIO;
    hz = (t1 - t0) * (LAPIC_TIMER_HZ / 1000) / ((c0 - c) / 1000);
    tsc0 = t1;
    return 0;
}

uint64_t tsc_hz(void)
{
    return hz;
}

uint64_t time_us(void)
{
    uint64_t d = rdtsc() - tsc0;

    return hz ? d / (hz / 1000000) : 0;
}

void delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + us * (hz / 1000000);

    while (rdtsc() < end)
        cpu_relax();
}
