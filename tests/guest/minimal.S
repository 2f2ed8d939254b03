/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * minimal.elf: the smallest PVH guest. Its entry writes 0 to the test-exit
 * port (0xF4) at once, for measuring VMM start-up time.
 */
    .section .note.Xen, "a"
    .balign 4
    .long 4, 4, 18                  /* "Xen", 4 bytes, PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_start32

    .section .text.boot, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    xorl %eax, %eax
    outb %al, $0xF4
1:  cli
    hlt
    jmp 1b
