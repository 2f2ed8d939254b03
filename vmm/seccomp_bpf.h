/* SPDX-License-Identifier: BSD-3-Clause */
/* The seccomp filters compiled to classic BPF at build time
 * (build/gen/seccomp_bpf.c, written by tools/gen/seccomp_bpf_gen.c from
 * vmm/seccomp_policy.c through vmm/seccomp_build.h): loading one is a
 * single seccomp(2) call, with no allocation on the thread (a filter
 * built with libseccomp at run time cost 0.3-4 ms per thread here, on
 * the start-up path before the first KVM_RUN). */
#ifndef MINIVMM_SECCOMP_BPF_H
#define MINIVMM_SECCOMP_BPF_H

#include <linux/filter.h>

#include "vmm/seccomp_policy.h"

struct sc_bpf {
    const struct sock_filter *insns;
    unsigned short len;     /* instructions */
};

/* [thread kind][0: forbidden kills the process, 1: forbidden is logged] */
extern const struct sc_bpf sc_bpf_progs[SC_T_COUNT][2];

#endif
