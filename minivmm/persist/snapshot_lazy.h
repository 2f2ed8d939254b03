/* SPDX-License-Identifier: BSD-3-Clause */
/* On-demand restore (--restore FILE, the default; docs/snapshot-format.md
 * "On-demand restore"): guest RAM is registered with userfaultfd (MISSING
 * mode on the VMM's shared mapping of the memfd) and the vCPUs start
 * before it is loaded. Two threads:
 *
 * - the fault thread serves every first touch of a page through the VMM's
 *   mapping (vCPUs via KVM, device models, DMA served by message): a
 *   present page with UFFDIO_COPY of up to 16 pages read from the file, a
 *   zero page with UFFDIO_ZEROPAGE;
 * - the loader threads copy every present page in file order
 *   (UFFDIO_COPY, pages a fault already brought in are skipped on
 *   EEXIST), checks each RAM section's XXH3-64 checksum over the bytes it
 *   read, then unregisters the range: pages never touched stay holes of
 *   the memfd, i.e. zero, as in the eager path.
 *
 * Pages reached through another mapping of the memfd (a vfio-user server
 * with fd-backed DMA) are NOT served: such a server would allocate a
 * zero page where data belongs. restore.c therefore waits for the load
 * (snap_lazy_wait) before it builds a VM with such a device.
 */
#ifndef MINIVMM_SNAPSHOT_LAZY_H
#define MINIVMM_SNAPSHOT_LAZY_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/seccomp.h"

struct guest_memory;
struct snap_lazy;
struct snap_reader;

#define SNAP_LAZY_MAX_LOADERS 2

struct snap_lazy_stats {
    uint64_t faults;        /* page faults served by the fault thread */
    uint64_t fault_pages;   /* pages it copied or zeroed */
    uint64_t load_pages;    /* present pages the loader copied */
    double load_ms;         /* start to the end of loading, 0 until then */
};

/* Start loading @r's RAM into @mem (fresh, all zero, not hugetlb) on demand,
 * with @loaders loader threads (1 to SNAP_LAZY_MAX_LOADERS; more when the
 * caller waits for the load than while the guest runs); @r and its fd are
 * taken over (closed by snap_lazy_destroy, also on failure, except
 * -EOPNOTSUPP: then @r stays the caller's, who loads eagerly: hugetlb RAM,
 * or no userfaultfd for shmem on this host). Both threads install seccomp
 * filter SC_T_RESTORE with @sc. 0 or -errno with a sentence in @err. */
int snap_lazy_start(struct snap_reader *r, struct guest_memory *mem,
                    unsigned int loaders, enum sc_mode sc,
                    struct snap_lazy **out, char *err, size_t errlen);

/* An eventfd that becomes readable once loading ended (done or failed). */
int snap_lazy_done_fd(const struct snap_lazy *l);

/* Block until loading ended. 0, or -errno (-EBADMSG: a section's checksum
 * did not match; -EIO etc.: reading the file) with the reason, naming the
 * section, in @err. */
int snap_lazy_wait(struct snap_lazy *l, char *err, size_t errlen);

/* Counters so far (any thread). */
void snap_lazy_stats(const struct snap_lazy *l, struct snap_lazy_stats *st);

/* Stop both threads and close everything (NULL: no-op). Pages not loaded
 * yet read as zero afterwards: only at the VM's end. */
void snap_lazy_destroy(struct snap_lazy *l);

#endif
