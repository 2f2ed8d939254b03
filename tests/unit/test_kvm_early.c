/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for minivmm/kvm_early.c (the KVM VM and memslots made on a
 * thread during a restore) with kvm_open, kvm_close and kvm_set_memslot
 * faked (-Wl,--wrap, test_kvm_early.ldflags): the memslots registered on
 * the thread, one per region with the regions' addresses, and the VM handed
 * over by the join; a join without kvm_early_map() leaves the memslots to
 * the caller; a refused memslot fails the join with its slot and reason and
 * closes the VM; a failing /dev/kvm is reported as before and never maps;
 * a cancel (before or after the map) closes the VM; the inline helpers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "minivmm/kvm_early.h"
#include "tests/unit/fake_kvm.h"
#include "vmm/kvm.h"

int __wrap_kvm_open(struct kvm *kvm);
void __wrap_kvm_close(struct kvm *kvm);

/* The fake's state: one per test, reached through the fds it hands out
 * (the VM fd is an index); the calls of the thread are ordered with the
 * test's by the join. */
struct fake {
    int open_fail;
    int slot_fail;              /* slot number refusing, -1 none */
    int slot_errno;
    unsigned int opens, closes, slots;
    uint32_t slot[4];
    uint64_t gpa[4], size[4];
    void *hva[4];
};

static struct fake *fakes[8];

int __wrap_kvm_open(struct kvm *kvm)
{
    struct fake *f = fakes[1];

    memset(kvm, 0, sizeof(*kvm));
    f->opens++;
    if (f->open_fail) {
        kvm->sys_fd = kvm->vm_fd = -1;
        return f->open_fail;
    }
    kvm->sys_fd = 100;
    kvm->vm_fd = 1;
    kvm->max_vcpus = 8;
    return 0;
}

void __wrap_kvm_close(struct kvm *kvm)
{
    if (kvm->vm_fd >= 0)
        fakes[kvm->vm_fd]->closes++;
    kvm->vm_fd = kvm->sys_fd = -1;
}

int __wrap_kvm_set_memslot(const struct kvm *kvm, uint32_t slot,
                           uint64_t gpa, uint64_t size, void *hva,
                           uint32_t flags)
{
    struct fake *f = fakes[kvm->vm_fd];

    assert_int_equal(flags, 0);
    if ((int)slot == f->slot_fail)
        return -f->slot_errno;
    assert_true(f->slots < 4);
    f->slot[f->slots] = slot;
    f->gpa[f->slots] = gpa;
    f->size[f->slots] = size;
    f->hva[f->slots++] = hva;
    return 0;
}

/* Two regions around a PCI hole, as an 8 GiB guest has. */
static void two_regions(struct guest_memory *m, uint8_t *base)
{
    memset(m, 0, sizeof(*m));
    m->fd = -1;
    m->nregions = 2;
    m->regions[0] = (struct guest_region){ .gpa = 0, .size = 3ULL << 30,
                                           .hva = base };
    m->regions[1] = (struct guest_region){ .gpa = 4ULL << 30,
                                           .size = 5ULL << 30,
                                           .hva = base + (3ULL << 30) };
}

static void test_thread_maps_and_hands_over(void **state)
{
    struct fake f = { .slot_fail = -1 };
    struct kvm_early *e;
    struct guest_memory m;
    struct kvm kvm = { .vm_fd = -1, .sys_fd = -1 };
    uint8_t *base = (uint8_t *)(uintptr_t)0x7f0000000000ULL;
    bool mapped = false;
    char err[256] = "";

    (void)state;
    fakes[1] = &f;
    assert_int_equal(kvm_early_start(&e), 0);
    two_regions(&m, base);
    kvm_early_map(e, &m);
    memset(&m, 0xff, sizeof(m)); /* copied: the caller may move it */
    assert_int_equal(kvm_early_join(e, &kvm, &mapped, err, sizeof(err)), 0);
    assert_true(mapped);
    assert_int_equal(kvm.vm_fd, 1);
    assert_int_equal(f.opens, 1);
    assert_int_equal(f.closes, 0);
    assert_int_equal(f.slots, 2);
    assert_int_equal(f.slot[0], 0);
    assert_int_equal(f.slot[1], 1);
    assert_int_equal(f.gpa[1], 4ULL << 30);
    assert_int_equal(f.size[1], 5ULL << 30);
    assert_ptr_equal(f.hva[1], base + (3ULL << 30));
}

static void test_join_without_map(void **state)
{
    struct fake f = { .slot_fail = -1 };
    struct kvm_early *e;
    struct kvm kvm;
    bool mapped = true;
    char err[256] = "";

    (void)state;
    fakes[1] = &f;
    assert_int_equal(kvm_early_start(&e), 0);
    assert_int_equal(kvm_early_join(e, &kvm, &mapped, err, sizeof(err)), 0);
    assert_false(mapped);
    assert_int_equal(f.slots, 0);
    assert_int_equal(kvm.vm_fd, 1);
}

static void test_refused_memslot_fails_join(void **state)
{
    struct fake f = { .slot_fail = 1, .slot_errno = EEXIST };
    struct kvm_early *e;
    struct guest_memory m;
    struct kvm kvm;
    bool mapped;
    char err[256] = "";

    (void)state;
    fakes[1] = &f;
    assert_int_equal(kvm_early_start(&e), 0);
    two_regions(&m, (uint8_t *)(uintptr_t)0x7f0000000000ULL);
    kvm_early_map(e, &m);
    assert_int_equal(kvm_early_join(e, &kvm, &mapped, err, sizeof(err)),
                     -EEXIST);
    assert_string_equal(err, "KVM_SET_USER_MEMORY_REGION 1: File exists");
    assert_int_equal(f.closes, 1);
}

static void test_no_kvm(void **state)
{
    struct fake f = { .open_fail = -ENOENT, .slot_fail = -1 };
    struct kvm_early *e;
    struct guest_memory m;
    struct kvm kvm;
    bool mapped;
    char err[256] = "";

    (void)state;
    fakes[1] = &f;
    assert_int_equal(kvm_early_start(&e), 0);
    two_regions(&m, (uint8_t *)(uintptr_t)0x7f0000000000ULL);
    kvm_early_map(e, &m);
    assert_int_equal(kvm_early_join(e, &kvm, &mapped, err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "cannot use /dev/kvm: No such file"));
    assert_non_null(strstr(err, "is the kvm module loaded?"));
    assert_int_equal(f.slots, 0);
}

static void test_cancel(void **state)
{
    struct fake f = { .slot_fail = -1 };
    struct kvm_early *e;
    struct guest_memory m;

    (void)state;
    fakes[1] = &f;
    assert_int_equal(kvm_early_start(&e), 0);
    kvm_early_cancel(e); /* before the map: no memslots */
    assert_int_equal(f.opens, 1);
    assert_int_equal(f.closes, 1);
    assert_int_equal(f.slots, 0);
    assert_int_equal(kvm_early_start(&e), 0);
    two_regions(&m, (uint8_t *)(uintptr_t)0x7f0000000000ULL);
    kvm_early_map(e, &m);
    kvm_early_cancel(e); /* after: joined, VM closed */
    assert_int_equal(f.closes, 2);
    kvm_early_cancel(NULL);
}

static void test_inline_helpers(void **state)
{
    struct fake f = { .slot_fail = 0, .slot_errno = EINVAL };
    struct guest_memory m;
    struct kvm kvm;
    char err[256] = "";

    (void)state;
    fakes[1] = &f;
    assert_int_equal(vm_kvm_open(&kvm, err, sizeof(err)), 0);
    two_regions(&m, (uint8_t *)(uintptr_t)0x7f0000000000ULL);
    assert_int_equal(vm_kvm_memslots(&kvm, &m, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "KVM_SET_USER_MEMORY_REGION 0: Invalid "
                             "argument");
    f.slot_fail = -1;
    assert_int_equal(vm_kvm_memslots(&kvm, &m, err, sizeof(err)), 0);
    assert_int_equal(f.slots, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thread_maps_and_hands_over),
        cmocka_unit_test(test_join_without_map),
        cmocka_unit_test(test_refused_memslot_fails_join),
        cmocka_unit_test(test_no_kvm),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_inline_helpers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
