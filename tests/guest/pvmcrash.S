/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pvmcrash.elf: runs `popcnt` at CPL0 (PVH entry, 32-bit, paging off),
 * then writes 0 to the test-exit port. Hardware KVM executes it: exit 0.
 * kvm_pvm's CPL0 emulator cannot: KVM reports an emulation failure and
 * minivmm must print its hint line naming popcnt above the crash dump
 * (tests/integration/payload_pvm_hint.sh).
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
    movl $0x5, %ecx
    popcntl %ecx, %eax              /* f3 0f b8 c1 */
    xorl %eax, %eax
    outb %al, $0xF4
1:  cli
    hlt
    jmp 1b
