/* SPDX-License-Identifier: BSD-3-Clause */
/* Constants shared by the payload's assembly and C boot code. */
#ifndef GUEST_BOOT_LAYOUT_H
#define GUEST_BOOT_LAYOUT_H

#define MAX_CPUS        16
#define KSTACK_SIZE     8192    /* per-CPU CPL0 stack (interrupts) */
#define USTACK_SIZE     32768   /* per-CPU CPL3 stack (test code) */

/* GDT selectors. */
#define SEL_KCODE64     0x08
#define SEL_KDATA       0x10
#define SEL_UDATA       0x18    /* used with RPL 3 */
#define SEL_UCODE64     0x20    /* used with RPL 3 */
#define SEL_KCODE32     0x28    /* AP trampoline: 16 -> 32 bit */
#define SEL_TSS0        0x30    /* CPU n: SEL_TSS0 + 16 * n */
#define GDT_ENTRIES     (6 + 2 * MAX_CPUS)

/* Real-mode AP trampoline: copied here, SIPI vector = address >> 12. */
#define TRAMPOLINE_ADDR 0x8000

/* Exit status when something crashes (see README.md). */
#define EXIT_EXCEPTION  0x10    /* + vector, for CPU exceptions 0-31 */
#define EXIT_PANIC      0x30
#define EXIT_BADBOOT    0x31

#endif
