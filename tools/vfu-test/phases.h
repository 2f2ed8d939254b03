/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-test's test phases (phases.c); each prints its checks. */
#ifndef VFU_TEST_PHASES_H
#define VFU_TEST_PHASES_H

#include <stdbool.h>

#include "tools/vfu-test/vtest.h"

/* Fd-backed DMA: info, config space, a pattern through the queue. */
void phase_fd(struct env *e, struct dev *a);
/* Message-based DMA (DMA_READ/WRITE) on a new vfu-blk @name, twin socket
 * on or off. */
void phase_msg(struct env *e, const char *name, bool twin);
/* Malformed and refused commands. */
void phase_negative(struct env *e);
/* Every phase, in order (phases_mig.h's included). */
void run_all(struct env *e);

#endif
