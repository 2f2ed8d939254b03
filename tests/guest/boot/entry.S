/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PVH entry (32-bit protected mode, paging off, EBX = hvm_start_info) and
 * the shared 32 -> 64-bit switch used by the BSP and by the APs coming out
 * of the real-mode trampoline (trampoline.S).
 */
#include "boot/layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

    .section .note.Xen, "a"
    .balign 4
    .long 4                         /* namesz: "Xen\0" */
    .long 4                         /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .long pvh_start32

    .section .text.boot, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
    movl %ebx, boot_start_info
    xorl %edi, %edi                 /* 0: BSP */
    jmp enter_long_mode

    /* AP: from the trampoline, CS = SEL_KCODE32, our GDT loaded. */
    .globl ap_start32
ap_start32:
    movl $SEL_KDATA, %eax           /* DS still has its real-mode limit */
    movl %eax, %ds
    movl $1, %edi                   /* 1: AP */

    /* EDI selects BSP/AP; kept across the switch. */
enter_long_mode:
    lgdt gdt_ptr
    movl $SEL_KDATA, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    movl %cr4, %eax
    orl $0x20, %eax                 /* PAE */
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx          /* EFER */
    rdmsr
    orl $0x100, %eax                /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80010001, %eax           /* PG | WP | PE */
    andl $0x9FFFFFFF, %eax          /* caches on: clear CD, NW */
    movl %eax, %cr0
    ljmp $SEL_KCODE64, $start64

    .code64
start64:
    xorl %eax, %eax
    movl %eax, %fs
    movl %eax, %gs
    testl %edi, %edi
    jnz 1f
    movq $bsp_kstack_top, %rsp
    xorl %edi, %edi                 /* CPU index 0 */
    call cpu_boot_bsp
    jmp .
1:
    movl $1, %eax
    lock xaddl %eax, ap_next_index
    movl %eax, %edi                 /* CPU index */
    cmpl $MAX_CPUS, %eax
    jae 2f
    incl %eax
    imull $KSTACK_SIZE, %eax
    leaq kstacks(%rax), %rsp
    call cpu_boot_ap
2:  cli
    hlt
    jmp 2b

    .data
    .balign 4
    .globl boot_start_info
boot_start_info:
    .long 0
    .globl ap_next_index
ap_next_index:
    .long 1
gdt_ptr:                            /* lgdt in 32-bit mode: limit, base */
    .word GDT_ENTRIES * 8 - 1
    .long gdt

    .bss
    .balign 16
    .globl kstacks
kstacks:                            /* CPU n's stack tops at (n+1)*SIZE */
    .skip KSTACK_SIZE * MAX_CPUS
bsp_kstack_top = kstacks + KSTACK_SIZE
