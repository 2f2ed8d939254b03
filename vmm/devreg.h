/* SPDX-License-Identifier: BSD-3-Clause */
/* The VM's device registry: every device whose state goes into snapshots
 * and the migration stream joins it once, at creation. The VM walks it in
 * registration order (= construction order) to quiesce, save, load and
 * resume devices; each device owns one node /devices/<id> of the state
 * tree (vmm/state.h, docs/snapshot-format.md). The VM's own parts (its
 * vCPUs, its irqchip) join too, flagged DEVREG_F_ROOT: their node is
 * /<id>, and they come before the devices in the tree.
 *
 * Joining (docs/architecture.md, "Device state"):
 *
 *     struct devreg_entry e = {
 *         .id = "virtio-blk@01.0",           unique, a valid fdt node name
 *         .state = &virtio_blk_state_ops,    save/load (required)
 *         .opaque = blk,
 *         .quiesce = blk_quiesce,            optional: stop I/O, drain
 *         .resume = blk_resume,              optional: restart I/O
 *     };
 *     r = devreg_add(env->devs, &e);         at creation
 *     devreg_del(env->devs, "virtio-blk@01.0"); before freeing the device
 *
 * Calls happen on the event-loop thread with every vCPU stopped: quiesce,
 * then save (or load), then resume. quiesce must leave the device with no
 * in-flight work that could still change guest memory or device state;
 * resume restarts it. On restore, load runs on a device built from the
 * same configuration (the CLI given to --restore), before the first vCPU
 * runs; the load must refuse (-EINVAL) state it cannot accept.
 */
#ifndef MINIVMM_DEVREG_H
#define MINIVMM_DEVREG_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/state.h"

#define DEVREG_ID_MAX 48
#define DEVREG_MAX 64

/* Quiesce or resume the device; 0 or -errno. */
typedef int (*devreg_fn)(void *opaque);

/* Live migration (vmm/migration.h): a device whose DMA writes guest RAM
 * behind KVM's and the VMM's back (a vfio-user server) reports those
 * pages. start/stop: log or stop logging; sync: OR the pages written since
 * the last sync into @bits (vmm/dirty.h numbering, @npages bits), count
 * in *@count. Called from the migration thread; 0 or -errno. */
struct devreg_dirty_ops {
    int (*start)(void *opaque);
    int (*sync)(void *opaque, uint64_t *bits, uint64_t npages,
                uint64_t *count);
    int (*stop)(void *opaque);
};

/* devreg_entry .flags */
#define DEVREG_F_ROOT 1u      /* node /<id>, walked before /devices */
#define DEVREG_F_OPTIONAL 2u  /* a tree without its node loads (the entry
                               * keeps the state it was built with) */

struct devreg_entry {
    const char *id;               /* copied by devreg_add */
    const struct state_ops *state;
    void *opaque;
    devreg_fn quiesce;            /* may be NULL */
    devreg_fn resume;             /* may be NULL */
    const struct devreg_dirty_ops *dirty;   /* may be NULL */
    unsigned int flags;           /* DEVREG_F_*, 0 for a device */
};

struct devreg;

/* 0 or -ENOMEM. */
int devreg_create(struct devreg **out);
void devreg_destroy(struct devreg *r);

/* Register @e (copied). 0; -EINVAL (no id/ops, id too long or not a node
 * name: [A-Za-z0-9,._+@-]), -EEXIST (id taken), -ENOSPC (DEVREG_MAX).
 * Thread-safe against the other calls. */
int devreg_add(struct devreg *r, const struct devreg_entry *e);
/* Remove @id (and its blockers); 0 or -ENOENT. */
int devreg_del(struct devreg *r, const char *id);

/* Number of entries, and entry @i (0-based, registration order) copied
 * into @out with id pointing into @idbuf (DEVREG_ID_MAX bytes). 0 or
 * -ENOENT past the end. */
unsigned int devreg_count(struct devreg *r);
int devreg_get(struct devreg *r, unsigned int i, struct devreg_entry *out,
               char *idbuf);

/* A device whose state cannot be saved (yet) registers a blocker instead
 * of an entry: outgoing migration is refused with a message naming it.
 * @why is copied (truncated to 128 bytes). 0, -EINVAL (bad id), -ENOSPC. */
int devreg_add_blocker(struct devreg *r, const char *id, const char *why);
/* 0 when nothing blocks; else -EOPNOTSUPP with "device ID cannot be
 * migrated: WHY" (the first blocker) in @msg. */
int devreg_blocked(struct devreg *r, char *msg, size_t len);

/* Whether @id is a valid registry id (also used on snapshot node names). */
int devreg_valid_id(const char *id);

#endif
