/* SPDX-License-Identifier: BSD-3-Clause */
/* Start-up timeline (see startup.h). */
#include "minivmm/startup.h"

#include "vmm/clock.h"
#include "vmm/log.h"

void startup_mark(uint64_t t0_ns, const char *step)
{
    if (t0_ns == 0 || !log_enabled(LOG_DEBUG))
        return;
    log_debug("minivmm: start-up +%7llu us: %s",
              (unsigned long long)((clock_now_ns() - t0_ns) / 1000), step);
}

void startup_origin(uint64_t t0_ns)
{
    if (t0_ns == 0 || !log_enabled(LOG_DEBUG))
        return;
    log_debug("minivmm: start-up: main() entered at CLOCK_MONOTONIC %llu ns",
              (unsigned long long)t0_ns);
}
