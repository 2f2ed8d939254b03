/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vmm/dirty.c's KVM-bound half (dirty_log_*), with the four
 * KVM calls it makes replaced by a fake KVM (-Wl,--wrap, see
 * test_dirty_log.ldflags): memslot flags per slot, a dirty bitmap per slot
 * that "vCPUs" write, the manual-clear capability, and failure injection.
 * Guest memory is a hand-built struct guest_memory of two regions around a
 * hole (no RAM is mapped: dirty.c never touches the bytes). Checks what
 * docs/migration.md promises: logging on every RAM slot and VMM-side
 * writes published while on, KVM's pages reported at their memfd offsets
 * and merged with the VMM's, each page reported once, the manual clear
 * only where pages were dirty, and a failed start leaving logging off. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dirty.h"
#include "tests/unit/fake_kvm.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"

#define PG 4096ULL
#define NSLOT 2

/* The fake KVM: struct kvm first, so dirty.c's pointer leads back here. */
struct fake_kvm {
    struct kvm kvm;
    uint32_t flags[NSLOT];
    uint64_t gpa[NSLOT], size[NSLOT];
    uint64_t log[NSLOT][4];    /* pages "vCPUs" dirtied, per slot */
    int manual_ret;            /* what KVM_ENABLE_CAP returns */
    unsigned int manual_calls, memslot_calls, get_calls;
    unsigned int clear_calls[NSLOT];
    int fail_memslot;          /* slot whose next set fails, -1: none */
    int fail_get;              /* slot whose next get fails, -1: none */
};

static struct fake_kvm *fk(const struct kvm *kvm)
{
    return (struct fake_kvm *)(uintptr_t)kvm;
}

int __wrap_kvm_set_memslot(const struct kvm *kvm, uint32_t slot,
                           uint64_t gpa, uint64_t size, void *hva,
                           uint32_t flags)
{
    struct fake_kvm *f = fk(kvm);

    (void)hva;
    assert_true(slot < NSLOT);
    f->memslot_calls++;
    if (f->fail_memslot == (int)slot) {
        f->fail_memslot = -1;
        return -ENOMEM;
    }
    f->flags[slot] = flags;
    f->gpa[slot] = gpa;
    f->size[slot] = size;
    return 0;
}

int __wrap_kvm_enable_manual_dirty_log(const struct kvm *kvm)
{
    fk(kvm)->manual_calls++;
    return fk(kvm)->manual_ret;
}

int __wrap_kvm_get_dirty_log(const struct kvm *kvm, uint32_t slot,
                             void *bitmap)
{
    struct fake_kvm *f = fk(kvm);
    size_t words = dirty_words(f->size[slot] / PG);

    assert_true(slot < NSLOT);
    assert_true(f->flags[slot] & KVM_MEM_LOG_DIRTY_PAGES);
    f->get_calls++;
    if (f->fail_get == (int)slot) {
        f->fail_get = -1;
        return -EFAULT;
    }
    memcpy(bitmap, f->log[slot], words * 8);
    if (f->manual_ret != 0) /* without manual clear, GET clears */
        memset(f->log[slot], 0, sizeof(f->log[slot]));
    return 0;
}

int __wrap_kvm_clear_dirty_log(const struct kvm *kvm, uint32_t slot,
                               uint64_t first, uint32_t num, void *bitmap)
{
    struct fake_kvm *f = fk(kvm);

    assert_int_equal(f->manual_ret, 0); /* only with the capability */
    assert_int_equal(first, 0);
    assert_int_equal(num, f->size[slot] / PG);
    for (size_t w = 0; w < dirty_words(num); w++)
        f->log[slot][w] &= ~((const uint64_t *)bitmap)[w];
    f->clear_calls[slot]++;
    return 0;
}

/* Two regions: 64 pages at GPA 0 (memfd offset 0) and 128 pages at GPA
 * 1 GiB (memfd offset 64 pages). */
struct rig {
    struct fake_kvm f;
    struct guest_memory mem;
    struct dirty_log *d;
};

static int setup(void **state)
{
    struct rig *r = calloc(1, sizeof(*r));

    assert_non_null(r);
    r->f.fail_memslot = r->f.fail_get = -1;
    r->mem.fd = -1;
    r->mem.ram_size = 192 * PG;
    r->mem.nregions = 2;
    r->mem.regions[0] = (struct guest_region){ 0, 64 * PG,
                                               (uint8_t *)0x10000000, -1, 0 };
    r->mem.regions[1] = (struct guest_region){ 1ULL << 30, 128 * PG,
                                               (uint8_t *)0x20000000, -1,
                                               64 * PG };
    assert_int_equal(dirty_log_create(&r->f.kvm, &r->mem, &r->d), 0);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    struct rig *r = *state;

    dirty_log_destroy(r->d);
    /* Destroy stops logging: every slot's flags back to 0. */
    assert_int_equal(r->f.flags[0] | r->f.flags[1], 0);
    assert_null(r->mem.dirty);
    free(r);
    return 0;
}

static bool bit(const uint64_t *b, uint64_t p)
{
    return b[p / 64] >> (p % 64) & 1;
}

static void test_off(void **state)
{
    struct rig *r = *state;
    uint64_t out[3] = { 0 }, count = 7;

    assert_int_equal(dirty_log_pages(r->d), 192);
    assert_int_equal(dirty_log_sync(r->d, out, &count), -EINVAL);
    assert_int_equal(count, 0);
    dirty_log_stop(r->d); /* off: nothing to undo */
    assert_int_equal(r->f.memslot_calls, 0);
    assert_null(r->mem.dirty);
    /* A VMM-side write while off is not recorded anywhere. */
    guest_memory_mark_dirty(&r->mem, 5 * PG, 1);
}

static void test_start_sync(void **state)
{
    struct rig *r = *state;
    uint64_t out[3] = { 0 }, count = 0;

    assert_int_equal(dirty_log_start(r->d), 0);
    assert_true(dirty_log_manual(r->d));
    for (int s = 0; s < NSLOT; s++) {
        assert_int_equal(r->f.flags[s], KVM_MEM_LOG_DIRTY_PAGES);
        assert_int_equal(r->f.gpa[s], r->mem.regions[s].gpa);
        assert_int_equal(r->f.size[s], r->mem.regions[s].size);
    }
    assert_non_null(r->mem.dirty);
    assert_int_equal(dirty_log_start(r->d), 0); /* already on */
    assert_int_equal(r->f.memslot_calls, 2);

    /* vCPUs dirty page 3 of slot 0 and page 70 of slot 1; the VMM writes
     * 2 pages at GPA 1 GiB + 10 pages and page 3 again. */
    r->f.log[0][0] = 1ULL << 3;
    r->f.log[1][1] = 1ULL << (70 - 64);
    guest_memory_mark_dirty(&r->mem, (1ULL << 30) + 10 * PG, 2 * PG);
    guest_memory_mark_dirty(&r->mem, 3 * PG, 1);
    assert_int_equal(dirty_log_sync(r->d, out, &count), 0);
    assert_true(bit(out, 3));
    assert_true(bit(out, 64 + 70));       /* memfd offset of slot 1 */
    assert_true(bit(out, 64 + 10));
    assert_true(bit(out, 64 + 11));
    assert_int_equal(dirty_bits_count(out, 192), 4);
    assert_int_equal(count, 5);           /* new bits from each source */
    assert_int_equal(r->f.clear_calls[0], 1);
    assert_int_equal(r->f.clear_calls[1], 1);
    assert_int_equal(r->f.log[0][0] | r->f.log[1][1], 0); /* cleared */

    /* Nothing new: nothing reported, nothing cleared. */
    memset(out, 0, sizeof(out));
    assert_int_equal(dirty_log_sync(r->d, out, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(dirty_bits_count(out, 192), 0);
    assert_int_equal(r->f.clear_calls[0] + r->f.clear_calls[1], 2);

    dirty_log_stop(r->d);
    assert_int_equal(r->f.flags[0] | r->f.flags[1], 0);
    assert_null(r->mem.dirty);
    assert_int_equal(dirty_log_sync(r->d, out, &count), -EINVAL);
    /* Started again: the capability is not asked twice. */
    assert_int_equal(dirty_log_start(r->d), 0);
    assert_int_equal(r->f.manual_calls, 1);
}

static void test_no_manual(void **state)
{
    struct rig *r = *state;
    uint64_t out[3] = { 0 }, count = 0;

    r->f.manual_ret = -EINVAL;
    assert_int_equal(dirty_log_start(r->d), 0);
    assert_false(dirty_log_manual(r->d));
    r->f.log[1][0] = 0x3;
    assert_int_equal(dirty_log_sync(r->d, out, &count), 0);
    assert_int_equal(count, 2);
    assert_true(bit(out, 64) && bit(out, 65));
    assert_int_equal(r->f.clear_calls[1], 0); /* GET cleared it */
}

static void test_start_fails(void **state)
{
    struct rig *r = *state;
    uint64_t out[3] = { 0 }, count = 0;

    r->f.fail_memslot = 1;
    assert_int_equal(dirty_log_start(r->d), -ENOMEM);
    /* Rolled back: slot 0 logs no more, VMM writes are not published. */
    assert_int_equal(r->f.flags[0], 0);
    assert_null(r->mem.dirty);
    assert_int_equal(dirty_log_sync(r->d, out, &count), -EINVAL);
    /* It can be started again afterwards. */
    assert_int_equal(dirty_log_start(r->d), 0);
    assert_int_equal(r->f.flags[1], KVM_MEM_LOG_DIRTY_PAGES);
}

static void test_sync_fails(void **state)
{
    struct rig *r = *state;
    uint64_t out[3] = { 0 }, count = 0;

    assert_int_equal(dirty_log_start(r->d), 0);
    r->f.fail_get = 1;
    assert_int_equal(dirty_log_sync(r->d, out, &count), -EFAULT);
    /* The VMM's pages are not lost: the next sync reports them. */
    guest_memory_mark_dirty(&r->mem, 7 * PG, 1);
    assert_int_equal(dirty_log_sync(r->d, out, &count), 0);
    assert_true(bit(out, 7));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_manual, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_fails, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
