/* SPDX-License-Identifier: BSD-3-Clause */
/* Address-space bus: PIO or MMIO ranges mapped to device callbacks.
 *
 * One bus per address space (port I/O, MMIO). Ranges never overlap; a lookup
 * is a binary search over a sorted array. Dispatch runs on vCPU threads
 * concurrently; a range may be unregistered (a BAR moving) while another
 * vCPU is inside its handler: the handler's entry stays alive until that
 * call returns (refcount), following kvmtool's mmio.c. Handlers get the
 * offset into their range, never the absolute address (Firecracker's Bus).
 */
#ifndef MINIVMM_BUS_H
#define MINIVMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct bus_ops {
    /* Fill @data (@len bytes, 1..8 for vCPU accesses) from @offset. */
    void (*read)(void *opaque, uint64_t offset, void *data, uint32_t len);
    /* Store @len bytes of @data at @offset. */
    void (*write)(void *opaque, uint64_t offset, const void *data,
                  uint32_t len);
};

struct bus;

/* Create an empty bus named @name (for messages). 0 or -errno. */
int bus_create(const char *name, struct bus **out);
void bus_destroy(struct bus *bus);

/* Map [@base, @base + @len) to @ops/@opaque. @ops must outlive the range.
 * Returns 0, -EINVAL for @len == 0 or a range that wraps past 2^64,
 * -EEXIST if it overlaps a registered range, -ENOMEM. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
                 const struct bus_ops *ops, void *opaque);

/* Remove the range that starts at @base. 0 or -ENOENT. Handlers already
 * running on other threads finish; no new call starts after return. */
int bus_unregister(struct bus *bus, uint64_t base);

/* Route an access of @len bytes at absolute @addr to its device. Returns 0,
 * or -ENOENT when no range contains all of [@addr, @addr + @len): reads of
 * unclaimed space are then filled with all-ones by this function. */
int bus_dispatch(struct bus *bus, uint64_t addr, void *data, uint32_t len,
                 bool is_write);

#endif
