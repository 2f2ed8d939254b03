/* SPDX-License-Identifier: BSD-3-Clause */
/* devices/msix.c driven as a guest would (table writes, Message Control),
 * with an owner that turns its callbacks into hypervisor routes and irqfds
 * the way msix.h asks (vector_changed: update the MSI route, attach or
 * detach the irqfd; fire: deliver a pending vector), over the fake
 * hypervisor (tests/unit/fake_hv.h). Checks that the hypervisor always
 * holds what the table says: a route per programmed vector with the
 * table's message, an irqfd exactly while the vector is unmasked, pending
 * bits delivered once on unmask, nothing left after reset and release, and
 * no call KVM would refuse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/msix.h"
#include "tests/unit/fake_hv.h"

#define NVEC 4

struct owner {
    struct hv hv;
    bool have[NVEC];
    uint32_t gsi[NVEC];
    bool attached[NVEC];
    unsigned int fired[NVEC];
    unsigned int changed;
};

/* An eventfd number per vector (the fake never signals it). */
static int efd(unsigned int vec)
{
    return 100 + (int)vec;
}

static void vector_changed(void *opaque, unsigned int vec, uint64_t addr,
                           uint32_t data, bool masked)
{
    struct owner *o = opaque;
    const struct hv_ops *ops = o->hv.ops;

    o->changed++;
    if (!o->have[vec]) {
        if (masked)
            return;
        assert_int_equal(ops->msi_add(o->hv.opaque, addr, data,
                                      &o->gsi[vec]), 0);
        o->have[vec] = true;
    } else {
        assert_int_equal(ops->msi_update(o->hv.opaque, o->gsi[vec], addr,
                                         data), 0);
    }
    if (masked == o->attached[vec]) {
        assert_int_equal(ops->irqfd(o->hv.opaque, efd(vec), o->gsi[vec], -1,
                                    !masked), 0);
        o->attached[vec] = !masked;
    }
}

static void fire(void *opaque, unsigned int vec, uint64_t addr,
                 uint32_t data)
{
    struct owner *o = opaque;

    (void)addr, (void)data;
    o->fired[vec]++;
}

static const struct msix_ops owner_ops = { vector_changed, fire };

static void release(struct owner *o)
{
    for (unsigned int v = 0; v < NVEC; v++) {
        if (o->attached[v])
            assert_int_equal(o->hv.ops->irqfd(o->hv.opaque, efd(v),
                                              o->gsi[v], -1, false), 0);
        if (o->have[v])
            assert_int_equal(o->hv.ops->msi_del(o->hv.opaque, o->gsi[v]), 0);
        o->attached[v] = o->have[v] = false;
    }
}

struct rig {
    struct fake_hv h;
    struct owner o;
    struct msix m;
};

static int setup(void **state)
{
    struct rig *r = calloc(1, sizeof(*r));

    assert_non_null(r);
    fake_hv_init(&r->h, 24);
    r->o.hv = fake_hv(&r->h);
    assert_int_equal(msix_init(&r->m, NVEC, &owner_ops, &r->o), 0);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    struct rig *r = *state;

    msix_fini(&r->m);
    free(r);
    return 0;
}

static void write32(struct msix *m, unsigned int vec, unsigned int field,
                    uint32_t v)
{
    msix_table_write(m, vec * MSIX_ENTRY_SIZE + field, &v, 4);
}

/* Program vector @vec's message (addr in one 8-byte write, then data). */
static void program(struct msix *m, unsigned int vec, uint64_t addr,
                    uint32_t data)
{
    msix_table_write(m, vec * MSIX_ENTRY_SIZE, &addr, 8);
    write32(m, vec, 8, data);
}

/* The hypervisor holds @vec's table message, irqfd iff unmasked. */
static void assert_hv_matches(struct rig *r, unsigned int vec)
{
    uint64_t addr;
    uint32_t data;
    bool masked = msix_masked(&r->m, vec, &addr, &data);
    struct fake_hv_route *rt;

    if (!r->o.have[vec]) {
        assert_true(masked);
        return;
    }
    rt = fake_hv_route(&r->h, r->o.gsi[vec]);
    assert_non_null(rt);
    assert_int_equal(rt->addr, addr);
    assert_int_equal(rt->data, data);
    assert_int_equal(rt->irqfd, masked ? -1 : efd(vec));
}

static uint64_t pba(struct msix *m)
{
    uint64_t v;

    msix_pba_read(m, 0, &v, 8);
    return v;
}

static void test_unmask_routes(void **state)
{
    struct rig *r = *state;

    program(&r->m, 0, 0xfee00000, 0x41);
    program(&r->m, 1, 0xfee01000, 0x42);
    assert_int_equal(fake_hv_live_routes(&r->h), 0); /* still masked */
    msix_set_control(&r->m, MSIX_CTRL_ENABLE);
    assert_int_equal(fake_hv_live_routes(&r->h), 0); /* entries masked */
    write32(&r->m, 0, 12, 0);                        /* unmask vector 0 */
    assert_int_equal(fake_hv_live_routes(&r->h), 1);
    assert_int_equal(fake_hv_live_irqfds(&r->h), 1);
    assert_int_equal(r->o.gsi[0], 24);
    assert_hv_matches(r, 0);
    write32(&r->m, 1, 12, 0);
    assert_int_equal(fake_hv_live_irqfds(&r->h), 2);
    assert_hv_matches(r, 1);

    /* A new message for a live vector updates its route in place. */
    write32(&r->m, 0, 8, 0x51);
    assert_int_equal(fake_hv_live_routes(&r->h), 2);
    assert_hv_matches(r, 0);
    assert_int_equal(fake_hv_route(&r->h, r->o.gsi[0])->data, 0x51);
    /* The same bytes again: nothing to tell the owner. */
    unsigned int before = r->o.changed, upd = r->h.calls[FAKE_HV_MSI_UPDATE];
    write32(&r->m, 0, 8, 0x51);
    assert_int_equal(r->o.changed, before);
    assert_int_equal(r->h.calls[FAKE_HV_MSI_UPDATE], upd);
    /* Reserved control bits do not change anything either. */
    write32(&r->m, 0, 12, 0xfffffffe);
    assert_int_equal(r->o.changed, before);
    assert_int_equal(r->h.errors, 0);
}

static void test_fmask_pending(void **state)
{
    struct rig *r = *state;

    program(&r->m, 2, 0xfee00000, 0x61);
    write32(&r->m, 2, 12, 0);
    msix_set_control(&r->m, MSIX_CTRL_ENABLE);
    assert_hv_matches(r, 2);
    assert_int_equal(msix_notify(&r->m, 2), 0);
    assert_int_equal(r->o.fired[2], 1);

    /* Function mask: the irqfd goes, raises wait in the PBA. */
    msix_set_control(&r->m, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
    assert_int_equal(fake_hv_live_irqfds(&r->h), 0);
    assert_hv_matches(r, 2);
    assert_int_equal(msix_notify(&r->m, 2), 0);
    assert_int_equal(msix_notify(&r->m, 2), 0);
    assert_int_equal(r->o.fired[2], 1);
    assert_int_equal(pba(&r->m), 1u << 2);
    assert_int_equal(msix_control(&r->m),
                     (NVEC - 1) | MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);

    /* Unmasked: delivered once, PBA clear, irqfd back. */
    msix_set_control(&r->m, MSIX_CTRL_ENABLE);
    assert_int_equal(r->o.fired[2], 2);
    assert_int_equal(pba(&r->m), 0);
    assert_int_equal(fake_hv_live_irqfds(&r->h), 1);
    assert_hv_matches(r, 2);

    /* MSI-X disabled masks too; an entry mask then unmask delivers. */
    msix_set_control(&r->m, 0);
    assert_int_equal(fake_hv_live_irqfds(&r->h), 0);
    assert_int_equal(msix_notify(&r->m, 2), 0);
    assert_int_equal(pba(&r->m), 1u << 2);
    write32(&r->m, 2, 12, MSIX_ENTRY_MASKED);
    msix_set_control(&r->m, MSIX_CTRL_ENABLE);
    assert_int_equal(r->o.fired[2], 2);              /* still masked */
    write32(&r->m, 2, 12, 0);
    assert_int_equal(r->o.fired[2], 3);
    assert_int_equal(pba(&r->m), 0);
    assert_hv_matches(r, 2);
    assert_int_equal(msix_notify(&r->m, NVEC), -EINVAL);
    assert_int_equal(r->h.errors, 0);
}

static void test_reset_release(void **state)
{
    struct rig *r = *state;

    for (unsigned int v = 0; v < NVEC; v++) {
        program(&r->m, v, 0xfee00000 + 0x1000 * v, 0x70 + v);
        write32(&r->m, v, 12, 0);
    }
    msix_set_control(&r->m, MSIX_CTRL_ENABLE);
    assert_int_equal(fake_hv_live_irqfds(&r->h), NVEC);
    msix_reset(&r->m);
    /* Every vector masked again with a zero message; routes stay for the
     * owner to reuse or free, no irqfd stays attached. */
    assert_int_equal(fake_hv_live_irqfds(&r->h), 0);
    for (unsigned int v = 0; v < NVEC; v++) {
        assert_true(msix_masked(&r->m, v, NULL, NULL));
        assert_hv_matches(r, v);
    }
    assert_int_equal(msix_control(&r->m), NVEC - 1);
    release(&r->o);
    assert_int_equal(fake_hv_live_routes(&r->h), 0);
    assert_int_equal(r->h.errors, 0);
}

static void test_bad_writes_no_calls(void **state)
{
    struct rig *r = *state;
    uint16_t small = 0;
    uint32_t v = 0;
    unsigned int before;

    msix_set_control(&r->m, MSIX_CTRL_ENABLE);
    before = r->o.changed;
    msix_table_write(&r->m, 2, &v, 4);                       /* unaligned */
    msix_table_write(&r->m, 12, &small, 2);                  /* 2 bytes */
    msix_table_write(&r->m, NVEC * MSIX_ENTRY_SIZE, &v, 4);  /* past end */
    msix_table_write(&r->m, NVEC * MSIX_ENTRY_SIZE - 4, &v, 8);
    assert_int_equal(r->o.changed, before);
    assert_int_equal(fake_hv_live_routes(&r->h), 0);
    v = 0xdead;
    msix_pba_read(&r->m, 8, &v, 4);                          /* past end */
    assert_int_equal(v, 0);
}

/* The fake itself refuses what KVM would: so the checks above mean
 * something. */
static void test_fake_rules(void **state)
{
    struct fake_hv h;
    struct hv hv;
    uint32_t gsi, slot, slot2;
    static char page[8192] __attribute__((aligned(4096)));

    (void)state;
    fake_hv_init(&h, 24);
    hv = fake_hv(&h);
    assert_int_equal(hv.ops->irqfd(hv.opaque, 5, 24, -1, true), -EINVAL);
    assert_int_equal(hv.ops->msi_update(hv.opaque, 30, 0, 0), -EINVAL);
    assert_int_equal(hv.ops->msi_add(hv.opaque, 0xfee00000, 1, &gsi), 0);
    assert_int_equal(gsi, 24);
    assert_int_equal(hv.ops->irqfd(hv.opaque, 5, gsi, -1, true), 0);
    assert_int_equal(hv.ops->irqfd(hv.opaque, 5, gsi, -1, true), -EBUSY);
    assert_int_equal(hv.ops->msi_del(hv.opaque, gsi), -EBUSY);
    assert_int_equal(hv.ops->irqfd(hv.opaque, 6, gsi, -1, false), -ENOENT);
    assert_int_equal(hv.ops->irqfd(hv.opaque, 5, gsi, -1, false), 0);
    assert_int_equal(hv.ops->msi_del(hv.opaque, gsi), 0);
    assert_int_equal(hv.ops->msi_del(hv.opaque, gsi), -EINVAL);

    assert_int_equal(hv.ops->ioeventfd(hv.opaque, 7, 0x1000, 2, false, false,
                                       0, true), 0);
    assert_int_equal(hv.ops->ioeventfd(hv.opaque, 8, 0x1000, 2, false, false,
                                       0, true), -EEXIST);
    assert_int_equal(hv.ops->ioeventfd(hv.opaque, 8, 0x1000, 3, false, false,
                                       0, true), -EINVAL);
    assert_int_equal(hv.ops->ioeventfd(hv.opaque, 8, 0x1000, 2, false, false,
                                       0, false), -ENOENT);
    assert_int_equal(hv.ops->ioeventfd(hv.opaque, 7, 0x1000, 2, false, false,
                                       0, false), 0);
    assert_int_equal(h.nioev, 0);

    assert_int_equal(hv.ops->memslot_add(hv.opaque, 0x100000, 8192, page,
                                         false, &slot), 0);
    assert_int_equal(hv.ops->memslot_add(hv.opaque, 0x101000, 4096, page,
                                         false, &slot2), -EEXIST);
    assert_int_equal(hv.ops->memslot_add(hv.opaque, 0x102800, 4096, page,
                                         false, &slot2), -EINVAL);
    assert_int_equal(hv.ops->memslot_add(hv.opaque, 0x102000, 4096, page,
                                         true, &slot2), 0);
    assert_int_equal(fake_hv_live_slots(&h), 2);
    assert_int_equal(hv.ops->memslot_del(hv.opaque, slot), 0);
    assert_int_equal(hv.ops->memslot_del(hv.opaque, slot), -EINVAL);
    assert_int_equal(h.errors, 12); /* each refusal above */

    /* Injected failure: once, changing nothing. */
    h.fail_op = FAKE_HV_MSI_ADD;
    h.fail_err = -ENOSPC;
    assert_int_equal(hv.ops->msi_add(hv.opaque, 0, 0, &gsi), -ENOSPC);
    assert_int_equal(fake_hv_live_routes(&h), 0);
    assert_int_equal(hv.ops->msi_add(hv.opaque, 0, 0, &gsi), 0);
    assert_int_equal(h.calls[FAKE_HV_MSI_ADD], 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unmask_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fmask_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_writes_no_calls, setup,
                                        teardown),
        cmocka_unit_test(test_fake_rules),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
