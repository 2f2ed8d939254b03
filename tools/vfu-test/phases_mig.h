/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-test's migration phase (phases_mig.c). */
#ifndef VFU_TEST_PHASES_MIG_H
#define VFU_TEST_PHASES_MIG_H

#include "tools/vfu-test/vtest.h"

/* Dirty logging, then device @a with a queue in use and requests pending
 * migrated to a second vfu-blk, which goes on; prints its checks. */
void phase_migrate(struct env *e, struct dev *a);

#endif
