/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for minivmm/hv_kvm.c, the vmm/hv.h services over KVM, with
 * the KVM calls replaced by a fake KVM (-Wl,--wrap, see
 * test_hv_kvm.ldflags): MSI routes through arch/x86/irqchip.c into the GSI
 * routing table, irqfds and ioeventfds passed through with assign turned
 * into KVM's deassign flag, device memslots numbered after guest RAM's,
 * read-only when asked, released with a size-0 slot, and never marked
 * used when KVM refused them; msi_signal as one KVM_SIGNAL_MSI. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/irqchip.h"
#include "minivmm/hv_kvm.h"
#include "tests/unit/fake_kvm.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"

struct fake_kvm {
    struct kvm kvm;
    uint32_t nroutes;
    struct kvm_irq_routing_entry last_msi;
    struct { int fd; uint32_t gsi; int rfd; bool deassign; } irqfd;
    struct {
        int fd; uint64_t addr; uint32_t len; bool pio, dm; uint64_t data;
        bool deassign;
    } ioev;
    struct {
        uint32_t slot; uint64_t gpa, size; void *hva; uint32_t flags;
    } mslot;
    unsigned int memslot_calls;
    int fail_memslot;     /* next kvm_set_memslot returns this */
    struct kvm_msi msi;   /* the last KVM_SIGNAL_MSI */
    unsigned int msi_calls;
    int fail_msi;         /* next KVM_SIGNAL_MSI returns this */
};

static struct fake_kvm *fk(const struct kvm *kvm)
{
    return (struct fake_kvm *)(uintptr_t)kvm;
}

int __wrap_kvm_create_platform(const struct kvm *kvm, uint64_t tss_gpa)
{
    (void)kvm, (void)tss_gpa;
    return 0;
}

int __wrap_kvm_set_gsi_routing(const struct kvm *kvm,
                               const struct kvm_irq_routing_entry *entries,
                               uint32_t nr)
{
    struct fake_kvm *f = fk(kvm);

    f->nroutes = nr;
    for (uint32_t i = 0; i < nr; i++)
        if (entries[i].type == KVM_IRQ_ROUTING_MSI)
            f->last_msi = entries[i];
    return 0;
}

int __wrap_kvm_irqfd(const struct kvm *kvm, int fd, uint32_t gsi,
                     int resample_fd, bool deassign)
{
    struct fake_kvm *f = fk(kvm);

    f->irqfd.fd = fd;
    f->irqfd.gsi = gsi;
    f->irqfd.rfd = resample_fd;
    f->irqfd.deassign = deassign;
    return 0;
}

int __wrap_kvm_ioeventfd(const struct kvm *kvm, int fd, uint64_t addr,
                         uint32_t len, bool pio, bool datamatch,
                         uint64_t data, bool deassign)
{
    struct fake_kvm *f = fk(kvm);

    f->ioev.fd = fd;
    f->ioev.addr = addr;
    f->ioev.len = len;
    f->ioev.pio = pio;
    f->ioev.dm = datamatch;
    f->ioev.data = data;
    f->ioev.deassign = deassign;
    return 0;
}

int __wrap_kvm_set_memslot(const struct kvm *kvm, uint32_t slot,
                           uint64_t gpa, uint64_t size, void *hva,
                           uint32_t flags)
{
    struct fake_kvm *f = fk(kvm);
    int r = f->fail_memslot;

    f->memslot_calls++;
    f->fail_memslot = 0;
    if (r)
        return r;
    f->mslot.slot = slot;
    f->mslot.gpa = gpa;
    f->mslot.size = size;
    f->mslot.hva = hva;
    f->mslot.flags = flags;
    return 0;
}

int __real_kvm_vm_ioctl(const struct kvm *kvm, unsigned long req, void *arg);
int __wrap_kvm_vm_ioctl(const struct kvm *kvm, unsigned long req, void *arg);

/* KVM_SIGNAL_MSI recorded; KVM returns >0 when delivered, 0 when the
 * guest blocked it. Other requests go to the real call. */
int __wrap_kvm_vm_ioctl(const struct kvm *kvm, unsigned long req, void *arg)
{
    struct fake_kvm *f = fk(kvm);
    int r = f->fail_msi;

    if (req != KVM_SIGNAL_MSI)
        return __real_kvm_vm_ioctl(kvm, req, arg);
    f->msi_calls++;
    f->fail_msi = 0;
    memcpy(&f->msi, arg, sizeof(f->msi));
    return r ? r : 1;
}

struct rig {
    struct fake_kvm f;
    struct irqchip *ic;
    struct vmm_hv *h;
    struct hv hv;
};

static int setup(void **state)
{
    struct rig *r = calloc(1, sizeof(*r));

    assert_non_null(r);
    assert_int_equal(irqchip_create(&r->f.kvm, &r->ic), 0);
    assert_int_equal(vmm_hv_create(&r->f.kvm, r->ic, &r->h), 0);
    r->hv = vmm_hv_services(r->h);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    struct rig *r = *state;

    vmm_hv_destroy(r->h);
    irqchip_destroy(r->ic);
    free(r);
    return 0;
}

static void test_msi_and_fds(void **state)
{
    struct rig *r = *state;
    const struct hv_ops *o = r->hv.ops;
    uint32_t base = r->f.nroutes, gsi = 0;

    assert_int_equal(o->msi_add(r->hv.opaque, 0xfee01000, 0x41, &gsi), 0);
    assert_int_equal(gsi, IRQCHIP_MSI_GSI_BASE);
    assert_int_equal(r->f.nroutes, base + 1);
    assert_int_equal(r->f.last_msi.gsi, gsi);
    assert_int_equal(r->f.last_msi.u.msi.data, 0x41);
    assert_int_equal(o->msi_update(r->hv.opaque, gsi, 0xfee02000, 0x42), 0);
    assert_int_equal(r->f.last_msi.u.msi.address_lo, 0xfee02000);
    assert_int_equal(o->msi_update(r->hv.opaque, gsi + 1, 0, 0), -ENOENT);

    assert_int_equal(o->irqfd(r->hv.opaque, 9, gsi, -1, true), 0);
    assert_int_equal(r->f.irqfd.fd, 9);
    assert_int_equal(r->f.irqfd.gsi, gsi);
    assert_int_equal(r->f.irqfd.rfd, -1);
    assert_false(r->f.irqfd.deassign);
    assert_int_equal(o->irqfd(r->hv.opaque, 9, 5, 10, false), 0);
    assert_int_equal(r->f.irqfd.rfd, 10);
    assert_true(r->f.irqfd.deassign);

    assert_int_equal(o->ioeventfd(r->hv.opaque, 11, 0xc000, 2, true, true,
                                  7, true), 0);
    assert_int_equal(r->f.ioev.fd, 11);
    assert_int_equal(r->f.ioev.addr, 0xc000);
    assert_int_equal(r->f.ioev.len, 2);
    assert_true(r->f.ioev.pio && r->f.ioev.dm);
    assert_int_equal(r->f.ioev.data, 7);
    assert_false(r->f.ioev.deassign);
    assert_int_equal(o->ioeventfd(r->hv.opaque, 11, 0xc000, 2, true, true,
                                  7, false), 0);
    assert_true(r->f.ioev.deassign);

    assert_int_equal(o->msi_del(r->hv.opaque, gsi), 0);
    assert_int_equal(r->f.nroutes, base);
    assert_int_equal(o->msi_del(r->hv.opaque, gsi), -ENOENT);
}

/* msi_signal (the VT-d unit's events): one KVM_SIGNAL_MSI with the
 * address split in halves; KVM's "delivered" count becomes 0. */
static void test_msi_signal(void **state)
{
    struct rig *r = *state;
    const struct hv_ops *o = r->hv.ops;

    assert_non_null(o->msi_signal);
    assert_int_equal(o->msi_signal(r->hv.opaque, 0xfee0100cull, 0x4031),
                     0);
    assert_int_equal(r->f.msi_calls, 1);
    assert_int_equal(r->f.msi.address_lo, 0xfee0100c);
    assert_int_equal(r->f.msi.address_hi, 0);
    assert_int_equal(r->f.msi.data, 0x4031);
    assert_int_equal(r->f.msi.flags, 0);
    r->f.fail_msi = -EINVAL;
    assert_int_equal(o->msi_signal(r->hv.opaque, 0x1fee00000ull, 1),
                     -EINVAL);
    assert_int_equal(r->f.msi.address_hi, 1);
    assert_int_equal(r->f.msi_calls, 2);
}

static void test_memslots(void **state)
{
    struct rig *r = *state;
    const struct hv_ops *o = r->hv.ops;
    uint32_t s1 = 0, s2 = 0, s3 = 0;
    char *hva = (char *)0x7f0000000000;

    assert_int_equal(o->memslot_add(r->hv.opaque, 0xe0000000, 0x10000, hva,
                                    false, &s1), 0);
    assert_int_equal(s1, GUEST_MEM_MAX_REGIONS); /* after RAM's slots */
    assert_int_equal(r->f.mslot.slot, s1);
    assert_int_equal(r->f.mslot.gpa, 0xe0000000);
    assert_int_equal(r->f.mslot.size, 0x10000);
    assert_ptr_equal(r->f.mslot.hva, hva);
    assert_int_equal(r->f.mslot.flags, 0);
    assert_int_equal(o->memslot_add(r->hv.opaque, 0xe0010000, 0x1000, hva,
                                    true, &s2), 0);
    assert_int_equal(s2, s1 + 1);
    assert_int_equal(r->f.mslot.flags, KVM_MEM_READONLY);

    /* Refused by KVM: the number stays free for the next one. */
    r->f.fail_memslot = -EEXIST;
    assert_int_equal(o->memslot_add(r->hv.opaque, 0xe0020000, 0x1000, hva,
                                    false, &s3), -EEXIST);
    assert_int_equal(o->memslot_add(r->hv.opaque, 0xe0020000, 0x1000, hva,
                                    false, &s3), 0);
    assert_int_equal(s3, s2 + 1);

    /* Deleted: a slot of size 0; a refused delete keeps it. */
    assert_int_equal(o->memslot_del(r->hv.opaque, s1), 0);
    assert_int_equal(r->f.mslot.slot, s1);
    assert_int_equal(r->f.mslot.size, 0);
    assert_int_equal(o->memslot_del(r->hv.opaque, s1), -ENOENT);
    r->f.fail_memslot = -EINVAL;
    assert_int_equal(o->memslot_del(r->hv.opaque, s2), -EINVAL);
    assert_int_equal(o->memslot_del(r->hv.opaque, s2), 0);
    /* Not ours: RAM's slots, beyond the table. */
    unsigned int calls = r->f.memslot_calls;
    assert_int_equal(o->memslot_del(r->hv.opaque, 0), -ENOENT);
    assert_int_equal(o->memslot_del(r->hv.opaque, s1 + 100000), -ENOENT);
    assert_int_equal(r->f.memslot_calls, calls);
    /* Freed numbers are reused, lowest first. */
    assert_int_equal(o->memslot_add(r->hv.opaque, 0xe0000000, 0x1000, hva,
                                    false, &s2), 0);
    assert_int_equal(s2, s1);
}

static void test_memslots_full(void **state)
{
    struct rig *r = *state;
    const struct hv_ops *o = r->hv.ops;
    uint32_t s = 0, n = 0;
    int ret;

    while ((ret = o->memslot_add(r->hv.opaque, 0x1000ULL * n, 0x1000, NULL,
                                 false, &s)) == 0)
        n++;
    assert_int_equal(ret, -ENOSPC);
    assert_int_equal(n, 256);
    assert_int_equal(s, GUEST_MEM_MAX_REGIONS + 255);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_msi_and_fds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msi_signal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memslots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memslots_full, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
