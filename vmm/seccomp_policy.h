/* SPDX-License-Identifier: BSD-3-Clause */
/* The seccomp allow-list tables (vmm/seccomp_policy.c): pure data, one
 * policy per thread kind. vmm/seccomp.c builds and loads filters from
 * them; this header knows nothing of libseccomp. */
#ifndef MINIVMM_SECCOMP_POLICY_H
#define MINIVMM_SECCOMP_POLICY_H

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

#endif
