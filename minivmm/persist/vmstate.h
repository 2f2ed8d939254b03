/* SPDX-License-Identifier: BSD-3-Clause */
/* The whole-VM state tree (docs/snapshot-format.md), one walk shared by
 * snapshots and live migration:
 *
 *   / { compatible; config { cpus; memory; }; <id> {...}; ...
 *       devices { <id> {...}; ... }; }
 *
 * built and loaded by walking the device registry (vmm/devreg.h): entries
 * flagged DEVREG_F_ROOT (the program registers its vCPUs as "vcpus" and
 * its irqchip as "irqchip") own /<id> and come first, every other entry
 * owns /devices/<id>; both in registration order. The walk knows no
 * device, no KVM. Build: event-loop thread, vCPUs and devices stopped.
 * Load: before any vCPU runs. */
#ifndef MINIVMM_PERSIST_VMSTATE_H
#define MINIVMM_PERSIST_VMSTATE_H

#include <stddef.h>
#include <stdint.h>

struct devreg;

/* The root's "compatible" value of a state tree. */
#define VMSTATE_COMPATIBLE "minivmm,vm-state-v1"

/* Build the tree of a VM of @cpus vCPUs and @memory bytes of RAM from
 * every entry of @devs, malloc'd into *@out (@len bytes, packed), grown
 * until it fits (at most SNAP_STATE_MAX). 0 or -errno with the reason
 * (naming the entry) in @err. */
int vmstate_build(struct devreg *devs, unsigned int cpus, uint64_t memory,
                  void **out, size_t *len, char *err, size_t errlen);

/* Load every entry of @devs from @fdt (already checked with
 * fdt_check_full). Refuses (-EINVAL, reason in @err) a tree that is not
 * VMSTATE_COMPATIBLE, an entry without its node (unless
 * DEVREG_F_OPTIONAL), a node under /devices without an entry, and an
 * entry's refusal (its errno). */
int vmstate_load(struct devreg *devs, const void *fdt, char *err,
                 size_t errlen);

/* Whether @fdt's root is VMSTATE_COMPATIBLE: 0 or -EINVAL with the
 * reason. Pure. */
int vmstate_compatible(const void *fdt, char *err, size_t errlen);

/* The machine configuration recorded in a state tree: vCPUs (1-255) and
 * RAM bytes (non-zero, 4 KiB multiple). 0 or -EINVAL with the reason.
 * Pure. */
int vmstate_config(const void *fdt, unsigned int *cpus, uint64_t *memory,
                   char *err, size_t errlen);

#endif
