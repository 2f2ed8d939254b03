/* SPDX-License-Identifier: BSD-3-Clause */
/* Building a thread kind's seccomp filter with libseccomp from the tables
 * of vmm/seccomp_policy.h. Used at build time only, by the generator
 * tools/gen/seccomp_bpf_gen.c that compiles every filter to classic BPF
 * (build/gen/seccomp_bpf.c, vmm/seccomp_bpf.h), and by the unit test that
 * checks the compiled programs are current. minivmm itself loads the
 * compiled programs (vmm/seccomp.c): no filter is built at start-up. */
#ifndef MINIVMM_SECCOMP_BUILD_H
#define MINIVMM_SECCOMP_BUILD_H

#include <seccomp.h>

#include "vmm/seccomp_policy.h"

/* A libseccomp context holding @t's allow-list; forbidden syscalls
 * SCMP_ACT_LOG when @log, else SCMP_ACT_KILL_PROCESS. 0 with *@out set
 * (seccomp_release() it), or -errno (-EINVAL: an unknown syscall name in
 * a table, or no such kind). */
int sc_build(enum sc_thread t, int log, scmp_filter_ctx *out);

#endif
