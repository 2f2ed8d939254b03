/* SPDX-License-Identifier: BSD-3-Clause */
/* seccomp allow-lists per thread kind (docs/security.md, "seccomp").
 * Each thread installs its own filter on itself once its set-up is done
 * (no SECCOMP_FILTER_FLAG_TSYNC: a thread created later inherits its
 * creator's filter and may add a narrower one). The tables are in
 * vmm/seccomp_policy.c. */
#ifndef MINIVMM_SECCOMP_H
#define MINIVMM_SECCOMP_H

enum sc_mode {
    SC_ON = 0,      /* default: a forbidden syscall kills the process */
    SC_LOG,         /* allowed, but logged by the kernel (SCMP_ACT_LOG) */
    SC_OFF,         /* no filter */
};

enum sc_thread {
    SC_T_MAIN,      /* event loop: API, devices' fds, snapshot writers */
    SC_T_VCPU,      /* KVM_RUN and the device exits it handles */
    SC_T_MIGRATION, /* outgoing migration */
    SC_T_VFU_BLK,   /* tools/vfu-blk (single-threaded) */
    SC_T_RESTORE,   /* on-demand restore: fault and loader threads */
    SC_T_COUNT,
};

/* One allow-list entry: a syscall by name, any arguments when @nvals is 0;
 * else only when (argument @arg & @mask) is one of @vals (e.g. ioctl's
 * request number, openat's access mode). */
struct sc_rule {
    const char *name;
    unsigned int arg;
    unsigned long mask;
    const unsigned long *vals;
    unsigned int nvals;
};

struct sc_policy {
    const struct sc_rule *const *lists; /* NULL-terminated list of tables */
    const unsigned int *counts;
};

/* The allow-list of @t (vmm/seccomp_policy.c). */
const struct sc_policy *sc_policy(enum sc_thread t);

/* "main", "vcpu", "migration", "vfu-blk", "restore". */
const char *sc_thread_name(enum sc_thread t);

/* Parse "on" | "log" | "off". 0 or -EINVAL. */
int sc_mode_parse(const char *s, enum sc_mode *out);

/* Install @t's filter on the calling thread (nothing when @mode is
 * SC_OFF). Forbidden syscalls: SC_ON kills the whole process with SIGSYS
 * (SCMP_ACT_KILL_PROCESS, visible as "Bad system call"), SC_LOG logs them
 * to the kernel log (audit type 1326) and lets them run. 0 or -errno
 * (an unknown syscall name in a table is -EINVAL). */
int sc_install(enum sc_thread t, enum sc_mode mode);

/* Test hook called by sc_install() after the filter is loaded: a no-op
 * (weak) in minivmm; tests/seccomp/probe.c overrides it in the test-only
 * binaries that make a forbidden syscall on demand. */
void sc_probe_hook(enum sc_thread t);

#endif
