/* SPDX-License-Identifier: BSD-3-Clause */
/* minivmm --incoming URI: the destination of a live migration
 * (docs/migration.md). Listens on URI, accepts one source, receives guest
 * RAM and the state tree (migration_fmt.h, every section checked as it
 * arrives), builds the VM from them (vm_restore()), tells the source it is
 * ready and waits for its GO before the guest may run. */
#ifndef MINIVMM_MIGRATION_IN_H
#define MINIVMM_MIGRATION_IN_H

#include <stddef.h>

struct vm;
struct vm_config;

/* Fills @cfg's vCPU count and RAM size from the stream. 0 with *@out, a
 * VM ready to run (vm_run()); -errno with the reason in @err otherwise
 * (the source was told, if it could be); *@out may then hold a partly
 * built VM for vm_destroy(). */
int migration_incoming(struct vm_config *cfg, struct vm **out, char *err,
                       size_t errlen);

#endif
