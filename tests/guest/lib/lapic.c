/* SPDX-License-Identifier: BSD-3-Clause */
/* Local APIC helpers. */
#include "lib/lapic.h"

#include "lib/errno.h"
#include "lib/io.h"

void lapic_init(void)
{
    lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | SPURIOUS_VECTOR);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT1, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_LVT_ERROR, LAPIC_LVT_MASKED);
}

unsigned int lapic_id(void)
{
    return lapic_read(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

void lapic_timer_periodic(uint8_t vector, uint32_t count)
{
    lapic_write(LAPIC_TDCR, LAPIC_TDCR_DIV16);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC | vector);
    lapic_write(LAPIC_TICR, count);
}

void lapic_timer_stop(void)
{
    lapic_write(LAPIC_TICR, 0);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
}

int lapic_send_ipi(unsigned int dest, uint32_t lo)
{
    lapic_write(LAPIC_ICR_HI, dest << 24);
    lapic_write(LAPIC_ICR_LO, lo);
    for (unsigned int i = 0; i < 100000; i++) {
        if (!(lapic_read(LAPIC_ICR_LO) & LAPIC_ICR_PENDING))
            return 0;
        cpu_relax();
    }
    return -ETIMEDOUT;
}
