/* SPDX-License-Identifier: BSD-3-Clause */
/* timer: LAPIC timer periodic interrupts arrive and stop. */
#include "lib/irq.h"
#include "lib/lapic.h"
#include "lib/printf.h"
#include "lib/test.h"
#include "lib/time.h"
#include "tests/tests.h"

#define TICKS 10
#define PERIOD_US 1000

int test_timer(void)
{
    uint64_t c0 = irq_count(VEC_TIMER), t0 = time_us(), n, dt;
    /* Divide-by-16 ticks per period. */
    uint32_t count = (uint32_t)(LAPIC_TIMER_HZ / 16 / 1000000 * PERIOD_US);
    int r;

    lapic_timer_periodic(VEC_TIMER, count);
    r = irq_wait(VEC_TIMER, c0 + TICKS, 1000000);
    dt = time_us() - t0;
    lapic_timer_stop();
    n = irq_count(VEC_TIMER) - c0;
    if (r < 0)
        return test_fail("%lu interrupts in 1 s, wanted %d", n, TICKS);
    printf("timer: %lu interrupts in %lu us (period %d us)\n", n, dt,
           PERIOD_US);
    delay_us(5000);
    c0 = irq_count(VEC_TIMER);
    delay_us(20000);
    if (irq_count(VEC_TIMER) != c0)
        return test_fail("interrupts continue after the timer stopped");
    return 0;
}
