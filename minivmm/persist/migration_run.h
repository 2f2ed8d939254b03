/* SPDX-License-Identifier: BSD-3-Clause */
/* The outgoing migration's thread (migration_run.c): connect, pre-copy,
 * have the event loop stop the guest, complete, hand over. */
#ifndef MINIVMM_MIGRATION_RUN_H
#define MINIVMM_MIGRATION_RUN_H

/* pthread entry: @arg is the struct migration (migration_core.h) whose
 * phase is "setup". Posts MIG_REQ_END to the loop when done; returns NULL. */
void *mig_thread_main(void *arg);

#endif
