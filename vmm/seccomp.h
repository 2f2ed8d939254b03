/* SPDX-License-Identifier: BSD-3-Clause */
/* seccomp allow-lists per thread kind (docs/security.md, "seccomp").
 * Each thread installs its own filter on itself once its set-up is done
 * (no SECCOMP_FILTER_FLAG_TSYNC: a thread created later inherits its
 * creator's filter and may add a narrower one). The tables are in
 * vmm/seccomp_policy.c (seccomp_policy.h), below this file. */
#ifndef MINIVMM_SECCOMP_H
#define MINIVMM_SECCOMP_H

#include "vmm/seccomp_policy.h"

enum sc_mode {
    SC_ON = 0,      /* default: a forbidden syscall kills the process */
    SC_LOG,         /* allowed, but logged by the kernel (SCMP_ACT_LOG) */
    SC_OFF,         /* no filter */
};

/* "main", "vcpu", "migration", "vfu-blk", "restore". */
const char *sc_thread_name(enum sc_thread t);

/* Parse "on" | "log" | "off". 0 or -EINVAL. */
int sc_mode_parse(const char *s, enum sc_mode *out);

/* Install @t's filter on the calling thread (nothing when @mode is
 * SC_OFF). Forbidden syscalls: SC_ON kills the whole process with SIGSYS
 * (SCMP_ACT_KILL_PROCESS, visible as "Bad system call"), SC_LOG logs them
 * to the kernel log (audit type 1326) and lets them run. The filter is
 * the one compiled at build time (vmm/seccomp_bpf.h): no allocation, one
 * prctl and one seccomp(2) call. 0 or -errno (-EINVAL: no such kind). */
int sc_install(enum sc_thread t, enum sc_mode mode);

/* Test hook called by sc_install() after the filter is loaded: a no-op
 * (weak) in minivmm; tests/seccomp/probe.c overrides it in the test-only
 * binaries that make a forbidden syscall on demand. */
void sc_probe_hook(enum sc_thread t);

#endif
