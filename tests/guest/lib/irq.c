/* SPDX-License-Identifier: BSD-3-Clause */
/* Interrupt counters. */
#include "lib/irq.h"

#include "lib/errno.h"
#include "lib/io.h"
#include "lib/time.h"

volatile uint64_t irq_counts[256];

int irq_wait(uint8_t vector, uint64_t target, uint64_t timeout_us)
{
    uint64_t start = time_us();

    while (irq_counts[vector] < target) {
        if (time_us() - start > timeout_us)
            return -ETIMEDOUT;
        cpu_relax();
    }
    return 0;
}
