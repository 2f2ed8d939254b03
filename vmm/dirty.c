/* SPDX-License-Identifier: BSD-3-Clause */
/* Dirty-page bookkeeping for live migration (see dirty.h). */
#include "vmm/dirty.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/kvm.h"
#include "vmm/memory.h"

#define PAGE_SHIFT 12

struct dirty_log {
    const struct kvm *kvm;
    struct guest_memory *mem;
    uint64_t npages;        /* memfd pages */
    uint64_t *vmm;          /* published as mem->dirty while on */
    uint64_t *scratch;      /* one slot's KVM bitmap */
    bool manual;            /* KVM_CLEAR_DIRTY_LOG in use */
    bool manual_tried;
    bool on;
};

uint64_t dirty_bits_or_at(uint64_t *dst, uint64_t first, const uint64_t *src,
                          uint64_t npages)
{
    uint64_t set = 0;

    if (first % 64 == 0) {
        size_t n = dirty_words(npages);

        for (size_t w = 0; w < n; w++) {
            uint64_t v = src[w];

            if (w == n - 1 && npages % 64)
                v &= (1ULL << (npages % 64)) - 1;
            dst[first / 64 + w] |= v;
            set += (uint64_t)__builtin_popcountll(v);
        }
        return set;
    }
    for (uint64_t i = 0; i < npages; i++) {
        uint64_t p = first + i;

        if (!(src[i / 64] >> (i % 64) & 1))
            continue;
        dst[p / 64] |= 1ULL << (p % 64);
        set++;
    }
    return set;
}

uint64_t dirty_bits_count(const uint64_t *bits, uint64_t npages)
{
    uint64_t n = 0;

    for (uint64_t w = 0; w < npages / 64; w++)
        n += (uint64_t)__builtin_popcountll(bits[w]);
    if (npages % 64)
        n += (uint64_t)__builtin_popcountll(bits[npages / 64] &
                                            ((1ULL << (npages % 64)) - 1));
    return n;
}

uint64_t dirty_bits_harvest(uint64_t *src, uint64_t *dst, size_t nwords)
{
    uint64_t n = 0;

    for (size_t w = 0; w < nwords; w++) {
        uint64_t v;

        if (!__atomic_load_n(&src[w], __ATOMIC_RELAXED))
            continue;
        v = __atomic_exchange_n(&src[w], 0, __ATOMIC_ACQ_REL);
        dst[w] |= v;
        n += (uint64_t)__builtin_popcountll(v);
    }
    return n;
}

bool dirty_bits_next_run(const uint64_t *bits, uint64_t npages, uint64_t *i,
                         uint64_t *n)
{
    uint64_t p = *i, e;

    while (p < npages) {
        uint64_t w = bits[p / 64] >> (p % 64);

        if (w) {
            p += (uint64_t)__builtin_ctzll(w);
            break;
        }
        p = (p / 64 + 1) * 64;
    }
    if (p >= npages)
        return false;
    e = p;
    while (e < npages) {
        uint64_t w = ~bits[e / 64] >> (e % 64);

        if (w) {
            e += (uint64_t)__builtin_ctzll(w);
            break;
        }
        e = (e / 64 + 1) * 64;
    }
    if (e > npages)
        e = npages;
    *i = p;
    *n = e - p;
    return true;
}

uint64_t dirty_bits_extract(const uint64_t *bits, uint64_t first, uint64_t n,
                            uint64_t *out)
{
    size_t nw = dirty_words(n);
    uint64_t set = 0;

    for (size_t w = 0; w < nw; w++) {
        uint64_t p = first + 64 * w, v = bits[p / 64] >> (p % 64);

        if (p % 64 && p / 64 + 1 < (first + n + 63) / 64)
            v |= bits[p / 64 + 1] << (64 - p % 64);
        if (w == nw - 1 && n % 64)
            v &= (1ULL << (n % 64)) - 1;
        out[w] = v;
        set += (uint64_t)__builtin_popcountll(v);
    }
    return set;
}

void dirty_bits_set_range(uint64_t *bits, uint64_t first, uint64_t n)
{
    for (uint64_t p = first; p < first + n; p++)
        bits[p / 64] |= 1ULL << (p % 64);
}

int dirty_log_create(const struct kvm *kvm, struct guest_memory *mem,
                     struct dirty_log **out)
{
    struct dirty_log *d = calloc(1, sizeof(*d));
    uint64_t max = 0;

    if (!d)
        return -ENOMEM;
    d->kvm = kvm;
    d->mem = mem;
    d->npages = mem->ram_size >> PAGE_SHIFT;
    for (unsigned int i = 0; i < mem->nregions; i++)
        if (mem->regions[i].size >> PAGE_SHIFT > max)
            max = mem->regions[i].size >> PAGE_SHIFT;
    d->vmm = calloc(dirty_words(d->npages) + 1, 8);
    d->scratch = calloc(dirty_words(max) + 1, 8);
    if (!d->vmm || !d->scratch) {
        dirty_log_destroy(d);
        return -ENOMEM;
    }
    *out = d;
    return 0;
}

void dirty_log_destroy(struct dirty_log *d)
{
    if (!d)
        return;
    dirty_log_stop(d);
    free(d->vmm);
    free(d->scratch);
    free(d);
}

uint64_t dirty_log_pages(const struct dirty_log *d)
{
    return d->npages;
}

bool dirty_log_manual(const struct dirty_log *d)
{
    return d->manual;
}

static int set_slots(struct dirty_log *d, unsigned int n, uint32_t flags)
{
    for (unsigned int i = 0; i < n; i++) {
        const struct guest_region *g = &d->mem->regions[i];
        int r = kvm_set_memslot(d->kvm, i, g->gpa, g->size, g->hva, flags);

        if (r < 0)
            return r;
    }
    return 0;
}

int dirty_log_start(struct dirty_log *d)
{
    int r;

    if (d->on)
        return 0;
    if (!d->manual_tried) {
        /* Once per VM: the capability cannot be turned off again. */
        d->manual = kvm_enable_manual_dirty_log(d->kvm) == 0;
        d->manual_tried = true;
    }
    memset(d->vmm, 0, dirty_words(d->npages) * 8);
    __atomic_store_n(&d->mem->dirty, d->vmm, __ATOMIC_RELEASE);
    r = set_slots(d, d->mem->nregions, KVM_MEM_LOG_DIRTY_PAGES);
    if (r < 0) {
        set_slots(d, d->mem->nregions, 0);
        __atomic_store_n(&d->mem->dirty, NULL, __ATOMIC_RELEASE);
        return r;
    }
    d->on = true;
    return 0;
}

void dirty_log_stop(struct dirty_log *d)
{
    if (!d->on)
        return;
    set_slots(d, d->mem->nregions, 0);
    __atomic_store_n(&d->mem->dirty, NULL, __ATOMIC_RELEASE);
    d->on = false;
}

/* KVM's log of region @i, ORed into @out. */
static int sync_slot(struct dirty_log *d, unsigned int i, uint64_t *out,
                     uint64_t *count)
{
    const struct guest_region *g = &d->mem->regions[i];
    uint64_t pages = g->size >> PAGE_SHIFT;
    int r;

    memset(d->scratch, 0, dirty_words(pages) * 8);
    r = kvm_get_dirty_log(d->kvm, i, d->scratch);
    if (r < 0)
        return r;
    if (dirty_bits_count(d->scratch, pages) == 0)
        return 0;
    if (d->manual) {
        r = kvm_clear_dirty_log(d->kvm, i, 0, (uint32_t)pages, d->scratch);
        if (r < 0)
            return r;
    }
    *count += dirty_bits_or_at(out, g->fd_offset >> PAGE_SHIFT, d->scratch,
                               pages);
    return 0;
}

int dirty_log_sync(struct dirty_log *d, uint64_t *out, uint64_t *count)
{
    *count = 0;
    if (!d->on)
        return -EINVAL;
    for (unsigned int i = 0; i < d->mem->nregions; i++) {
        int r = sync_slot(d, i, out, count);

        if (r < 0)
            return r;
    }
    *count += dirty_bits_harvest(d->vmm, out, dirty_words(d->npages));
    return 0;
}
