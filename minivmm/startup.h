/* SPDX-License-Identifier: BSD-3-Clause */
/* The start-up timeline (--log-level debug; docs/platform.md "Start-up
 * timeline"): one line per step from main() to the first KVM_RUN, in
 * microseconds since main() was entered (CLOCK_MONOTONIC). */
#ifndef MINIVMM_STARTUP_H
#define MINIVMM_STARTUP_H

#include <stdint.h>

/* Print "minivmm: start-up +N us: @step" at LOG_DEBUG; @t0_ns is
 * vm_config.start_ns (0: no timeline, nothing printed). Any thread. */
void startup_mark(uint64_t t0_ns, const char *step);

/* Print "minivmm: start-up: main() entered at CLOCK_MONOTONIC N ns" at
 * LOG_DEBUG (a bench that noted the clock before exec subtracts: the exec
 * and dynamic loader time before main(); bench/timeline.py). */
void startup_origin(uint64_t t0_ns);

#endif
