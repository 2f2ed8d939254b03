/* SPDX-License-Identifier: BSD-3-Clause */
/* Device state as a tree: every device saves into, and loads from, one node
 * of a flattened device tree (libfdt). The snapshot file and the migration
 * stream carry the same tree (docs/snapshot-format.md once it exists).
 *
 * Helpers return 0 or -errno: -ENOSPC when the tree buffer is full (the
 * caller grows it and retries), -ENOENT for a missing property, -EINVAL for
 * a property of the wrong size.
 */
#ifndef MINIVMM_STATE_H
#define MINIVMM_STATE_H

#include <stddef.h>
#include <stdint.h>

struct state_ops {
    /* Write the device's properties into node @node of @fdt. */
    int (*save)(void *opaque, void *fdt, int node);
    /* Restore from node @node; validate every value before use. */
    int (*load)(void *opaque, const void *fdt, int node);
};

int state_put_u32(void *fdt, int node, const char *name, uint32_t v);
int state_put_u64(void *fdt, int node, const char *name, uint64_t v);
int state_put_bytes(void *fdt, int node, const char *name, const void *buf,
                    size_t len);
int state_get_u32(const void *fdt, int node, const char *name, uint32_t *v);
int state_get_u64(const void *fdt, int node, const char *name, uint64_t *v);
/* Property must be exactly @len bytes. */
int state_get_bytes(const void *fdt, int node, const char *name, void *buf,
                    size_t len);

#endif
