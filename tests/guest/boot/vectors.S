/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IDT entry stubs. Exceptions (0-31) save all registers and call
 * exc_handle() (cpu.c). Interrupts (32-255) only count: irq_counts[vec]++,
 * LAPIC EOI (not for the spurious vector 0xFF), iretq. Interrupt handlers
 * run at CPL0, which kvm_pvm emulates, so they stay a few instructions.
 */
#define LAPIC_EOI 0xFEE000B0

    .text
    .code64

    .balign 16
    .globl vector_stubs
vector_stubs:                       /* stub n at vector_stubs + 16 * n */
    .set n, 0
    .rept 256
    .balign 16
    .if n < 32
    /* These push an error code of their own. */
    .if n == 8 || (n >= 10 && n <= 14) || n == 17 || n == 21 || \
        n == 29 || n == 30
    .else
    pushq $0                        /* no error code: push a dummy */
    .endif
    pushq $n
    jmp exc_common
    .else
    pushq $n
    jmp irq_common
    .endif
    .set n, n + 1
    .endr

irq_common:
    pushq %rax
    movq 8(%rsp), %rax
    lock incq irq_counts(, %rax, 8)
    cmpl $0xFF, %eax
    je 1f
    movl $LAPIC_EOI, %eax
    movl $0, (%rax)
1:  popq %rax
    addq $8, %rsp
    iretq

exc_common:
    pushq %r15
    pushq %r14
    pushq %r13
    pushq %r12
    pushq %r11
    pushq %r10
    pushq %r9
    pushq %r8
    pushq %rbp
    pushq %rdi
    pushq %rsi
    pushq %rdx
    pushq %rcx
    pushq %rbx
    pushq %rax
    movq %rsp, %rdi
    andq $-16, %rsp
    call exc_handle
1:  cli
    hlt
    jmp 1b
