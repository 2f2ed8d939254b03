/* SPDX-License-Identifier: BSD-3-Clause */
/* Ending the VM through the test-exit port (docs/platform.md). */
#ifndef GUEST_LIB_EXIT_H
#define GUEST_LIB_EXIT_H

#define EXIT_PORT 0xF4

/* Write status to port 0xF4; the VMM exits with status & 0xFF. If the
 * write does not end the VM, spins forever. Works at CPL0 and CPL3. */
void guest_exit(int status) __attribute__((noreturn));

/* Print "PANIC: ..." and exit with EXIT_PANIC. */
void panic(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

#endif
