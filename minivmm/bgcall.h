/* SPDX-License-Identifier: BSD-3-Clause */
/* One call on a thread of its own, joined later: a KVM ioctl that sleeps
 * in the kernel (an SRCU grace period of KVM_SET_GSI_ROUTING) overlapping
 * the main thread's work while the VM is built (vm.c). The thread blocks
 * every signal (they are the main thread's). */
#ifndef MINIVMM_BGCALL_H
#define MINIVMM_BGCALL_H

struct bgcall;

/* Start @fn(@arg) on a new thread. 0 with *@out, or -errno (no thread:
 * the caller calls @fn itself). */
int bgcall_start(int (*fn)(void *arg), void *arg, struct bgcall **out);

/* Wait for the call and free @b: its result (0 or -errno). NULL: 0. */
int bgcall_join(struct bgcall *b);

#endif
