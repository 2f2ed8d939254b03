/* SPDX-License-Identifier: BSD-3-Clause */
/* Dirty-page bookkeeping for live migration (docs/migration.md).
 *
 * Guest RAM is one memfd (vmm/memory.h); a "RAM page" here is a 4 KiB page
 * of that memfd, numbered by its offset / 4096, so one bitmap covers every
 * region. Bitmaps are arrays of uint64_t: bit i of word w is page 64w + i.
 *
 * Pages reach the migration's bitmap from three sources, merged by
 * dirty_log_sync() each pre-copy iteration:
 *   - vCPU writes: KVM dirty logging on the RAM memslots (slot i = region
 *     i), KVM_GET_DIRTY_LOG, plus KVM_CLEAR_DIRTY_LOG when the host has
 *     KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2;
 *   - VMM-side writes (in-VMM virtio devices, virtio/guest_mem.h, and
 *     vfio-user DMA_WRITE messages the client serves, vfio/client_dma.c):
 *     set atomically in mem->dirty by guest_memory_mark_dirty(), after the
 *     bytes landed;
 *   - vfio-user servers' DMA writes through the mapped memfd: their DMA
 *     logging reports, merged by the caller with dirty_bits_or_at().
 * docs/migration.md "Guest-RAM writers" lists every writer.
 *
 * The dirty_bits_* helpers are pure (unit-tested); dirty_log_* talk to KVM
 * through vmm/kvm.c and are called from the migration thread only.
 */
#ifndef MINIVMM_DIRTY_H
#define MINIVMM_DIRTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_memory;
struct kvm;
struct dirty_log;

/* Words for @npages pages. */
static inline size_t dirty_words(uint64_t npages)
{
    return (size_t)((npages + 63) / 64);
}

/* OR @npages bits of @src (starting at its bit 0) into @dst starting at
 * bit @first. Returns how many bits of @src were set. */
uint64_t dirty_bits_or_at(uint64_t *dst, uint64_t first, const uint64_t *src,
                          uint64_t npages);

/* Set bits among the first @npages of @bits. */
uint64_t dirty_bits_count(const uint64_t *bits, uint64_t npages);

/* Move @nwords words of @src (written concurrently with atomic ORs) into
 * @dst (ORed), leaving @src zero; each word is taken atomically. Returns
 * the number of bits moved. */
uint64_t dirty_bits_harvest(uint64_t *src, uint64_t *dst, size_t nwords);

/* The next run of set bits at or after *@i among @npages: its first page
 * in *@i and its length in *@n. false when there is none. */
bool dirty_bits_next_run(const uint64_t *bits, uint64_t npages, uint64_t *i,
                         uint64_t *n);

/* Copy bits [@first, @first + @n) of @bits into @out (zeroed first,
 * dirty_words(@n) words). Returns how many were set. */
uint64_t dirty_bits_extract(const uint64_t *bits, uint64_t first, uint64_t n,
                            uint64_t *out);

/* Set bits [@first, @first + @n). */
void dirty_bits_set_range(uint64_t *bits, uint64_t first, uint64_t n);

/* A migration's view of @mem's dirty pages. 0 or -ENOMEM. */
int dirty_log_create(const struct kvm *kvm, struct guest_memory *mem,
                     struct dirty_log **out);
/* Stops logging if on; frees. Call only once no thread may still mark
 * pages (the VM is being destroyed). */
void dirty_log_destroy(struct dirty_log *d);

/* RAM pages covered (memfd size / 4096). */
uint64_t dirty_log_pages(const struct dirty_log *d);

/* Turn logging on: KVM_MEM_LOG_DIRTY_PAGES on every RAM memslot (manual
 * clearing enabled first when the host supports it) and mem->dirty
 * published for VMM-side writes. Everything written from now on is
 * reported by dirty_log_sync(). 0 or -errno (then logging stays off). */
int dirty_log_start(struct dirty_log *d);
/* Turn logging off again (memslot flags restored, mem->dirty cleared).
 * Safe to call when off. */
void dirty_log_stop(struct dirty_log *d);
bool dirty_log_manual(const struct dirty_log *d);

/* OR every page dirtied since the last sync (or the start) into @out
 * (dirty_words(dirty_log_pages()) words) and reset the sources. 0 with
 * the number of new bits in *@count, or -errno from KVM. */
int dirty_log_sync(struct dirty_log *d, uint64_t *out, uint64_t *count);

#endif
