/* SPDX-License-Identifier: BSD-3-Clause */
/* minivmm --restore FILE: validate the snapshot completely (headers, state
 * tree, every RAM section's checksum) while loading guest RAM, before any
 * KVM object exists; then build the VM it describes (vm_restore()). */
#ifndef MINIVMM_RESTORE_H
#define MINIVMM_RESTORE_H

#include <stddef.h>

struct vm;
struct vm_config;

/* Fills @cfg's vCPU count and RAM size from the snapshot @cfg->restore.
 * 0 with *@out; -EINVAL (corrupt, truncated, foreign or too-new file, or
 * one that does not fit the devices given) or -ENOENT/-EACCES (cannot
 * open it): the user's error, nothing was created; other -errno: host
 * failure, *@out may hold a partly built VM for vm_destroy(). The reason
 * is in @err either way. */
int restore_vm(struct vm_config *cfg, struct vm **out, char *err,
               size_t errlen);

#endif
