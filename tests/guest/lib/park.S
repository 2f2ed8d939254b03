/* SPDX-License-Identifier: BSD-3-Clause */
/* cpu_park(): see lib/smp.h. */
    .text
    .code64
    .globl cpu_park, cpu_park_hlt
cpu_park:
cpu_park_hlt:
    hlt
    jmp cpu_park
