/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for arch/x86/msrs.c (batched KVM_SET_MSRS) against a fake
 * KVM_SET_MSRS (-Wl,--wrap=kvm_vcpu_ioctl, test_msrs.ldflags) that, like
 * KVM, sets entries in order and stops at the first one it refuses: all
 * taken in one call; a refused MSR reported and skipped with those after
 * it still set, in order; several refused, the last one refused; more
 * entries than one batch; a failing ioctl passed on; nothing to set. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/msrs.h"
#include "vmm/kvm.h"

#define MAXSET 512

/* The fake vCPU, found from the fd (an index into one array per test). */
struct fake_vcpu {
    uint32_t refuse[8];      /* indexes KVM refuses */
    unsigned int nrefuse;
    int fail;                /* next ioctl returns this when < 0 */
    unsigned int calls;
    uint32_t max_batch;      /* largest nmsrs seen */
    uint32_t set[MAXSET];    /* indexes set, in order */
    uint64_t data[MAXSET];
    unsigned int nset;
    uint32_t reported[MAXSET];
    unsigned int nreported;
};

static struct fake_vcpu *vcpus[4];

int __wrap_kvm_vcpu_ioctl(int vcpu_fd, unsigned long req, void *arg);

static int refused_by(const struct fake_vcpu *v, uint32_t index)
{
    for (unsigned int i = 0; i < v->nrefuse; i++)
        if (v->refuse[i] == index)
            return 1;
    return 0;
}

int __wrap_kvm_vcpu_ioctl(int vcpu_fd, unsigned long req, void *arg)
{
    struct fake_vcpu *v = vcpus[vcpu_fd];
    struct kvm_msrs *m = arg;
    uint32_t i;

    assert_int_equal(req, KVM_SET_MSRS);
    v->calls++;
    if (v->fail < 0)
        return v->fail;
    if (m->nmsrs > v->max_batch)
        v->max_batch = m->nmsrs;
    for (i = 0; i < m->nmsrs; i++) {
        if (refused_by(v, m->entries[i].index))
            break;
        assert_true(v->nset < MAXSET);
        v->set[v->nset] = m->entries[i].index;
        v->data[v->nset++] = m->entries[i].data;
    }
    return (int)i;
}

static void on_refused(void *opaque, uint32_t index)
{
    struct fake_vcpu *v = opaque;

    v->reported[v->nreported++] = index;
}

static void fill(struct kvm_msr_entry *e, uint32_t n)
{
    memset(e, 0, n * sizeof(*e));
    for (uint32_t i = 0; i < n; i++) {
        e[i].index = 0x100 + i;
        e[i].data = 0xabc0000ULL + i;
    }
}

static int run(struct fake_vcpu *v, const struct kvm_msr_entry *e,
               uint32_t n)
{
    vcpus[1] = v;
    return x86_set_msrs(1, e, n, on_refused, v);
}

static void test_all_in_one_call(void **state)
{
    struct fake_vcpu v = { 0 };
    struct kvm_msr_entry e[12];

    (void)state;
    fill(e, 12);
    assert_int_equal(run(&v, e, 12), 12);
    assert_int_equal(v.calls, 1);
    assert_int_equal(v.nset, 12);
    for (unsigned int i = 0; i < 12; i++) {
        assert_int_equal(v.set[i], 0x100 + i);
        assert_int_equal(v.data[i], 0xabc0000ULL + i);
    }
    assert_int_equal(v.nreported, 0);
}

static void test_refused_skipped_in_order(void **state)
{
    struct fake_vcpu v = { .refuse = { 0x103, 0x104, 0x10b },
                           .nrefuse = 3 };
    struct kvm_msr_entry e[12];
    static const uint32_t want[] = { 0x100, 0x101, 0x102, 0x105, 0x106,
                                     0x107, 0x108, 0x109, 0x10a };

    (void)state;
    fill(e, 12);
    assert_int_equal(run(&v, e, 12), 9);
    assert_int_equal(v.nset, 9);
    for (unsigned int i = 0; i < 9; i++)
        assert_int_equal(v.set[i], want[i]);
    assert_int_equal(v.nreported, 3);
    assert_int_equal(v.reported[0], 0x103);
    assert_int_equal(v.reported[1], 0x104);
    assert_int_equal(v.reported[2], 0x10b); /* the last one */
    assert_int_equal(v.calls, 3); /* 0-2 (3 refused), 4 refused, 5-10 */
}

static void test_only_one_refused(void **state)
{
    struct fake_vcpu v = { .refuse = { 0x100 }, .nrefuse = 1 };
    struct kvm_msr_entry e[1];

    (void)state;
    fill(e, 1);
    assert_int_equal(run(&v, e, 1), 0);
    assert_int_equal(v.nreported, 1);
    assert_int_equal(v.calls, 1);
}

static void test_more_than_a_batch(void **state)
{
    enum { N = X86_MSRS_BATCH * 2 + 5 };
    struct fake_vcpu v = { .refuse = { 0x100 + X86_MSRS_BATCH },
                           .nrefuse = 1 };
    struct kvm_msr_entry *e = calloc(N, sizeof(*e));

    (void)state;
    assert_non_null(e);
    fill(e, N);
    assert_int_equal(run(&v, e, N), N - 1);
    assert_true(v.max_batch <= X86_MSRS_BATCH);
    assert_int_equal(v.nset, N - 1);
    assert_int_equal(v.set[X86_MSRS_BATCH - 1], 0x100 + X86_MSRS_BATCH - 1);
    assert_int_equal(v.set[X86_MSRS_BATCH], 0x100 + X86_MSRS_BATCH + 1);
    assert_int_equal(v.set[N - 2], 0x100 + N - 1);
    assert_int_equal(v.nreported, 1);
    free(e);
}

static void test_ioctl_error_passed_on(void **state)
{
    struct fake_vcpu v = { .fail = -EFAULT };
    struct kvm_msr_entry e[3];

    (void)state;
    fill(e, 3);
    assert_int_equal(run(&v, e, 3), -EFAULT);
    assert_int_equal(v.nreported, 0);
}

static void test_nothing_to_set(void **state)
{
    struct fake_vcpu v = { 0 };

    (void)state;
    assert_int_equal(run(&v, NULL, 0), 0);
    assert_int_equal(v.calls, 0);
    vcpus[1] = &v;
    assert_int_equal(x86_set_msrs(1, NULL, 0, NULL, NULL), 0);
}

static void test_no_callback(void **state)
{
    struct fake_vcpu v = { .refuse = { 0x101 }, .nrefuse = 1 };
    struct kvm_msr_entry e[3];

    (void)state;
    fill(e, 3);
    vcpus[1] = &v;
    assert_int_equal(x86_set_msrs(1, e, 3, NULL, NULL), 2);
    assert_int_equal(v.set[1], 0x102);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_in_one_call),
        cmocka_unit_test(test_refused_skipped_in_order),
        cmocka_unit_test(test_only_one_refused),
        cmocka_unit_test(test_more_than_a_batch),
        cmocka_unit_test(test_ioctl_error_passed_on),
        cmocka_unit_test(test_nothing_to_set),
        cmocka_unit_test(test_no_callback),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
