/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Real-mode AP trampoline. Copied to TRAMPOLINE_ADDR; an AP receiving
 * SIPI vector TRAMPOLINE_ADDR >> 12 starts here with CS = vector << 8,
 * IP = 0. It loads our GDT and jumps to ap_start32 (entry.S).
 */
#include "boot/layout.h"

    .section .rodata.trampoline, "a"
    .code16
    .globl trampoline_start, trampoline_end
trampoline_start:
    cli
    lgdtl %cs:(tramp_gdt_ptr - trampoline_start)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $SEL_KCODE32, $ap_start32

    .balign 8
tramp_gdt_ptr:
    .word GDT_ENTRIES * 8 - 1
    .long gdt
trampoline_end:
    .code64
