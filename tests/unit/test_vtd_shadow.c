/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests: devices/vtd_shadow.c (the unmap/map diff, coalescing,
 * partial invalidation of a big run, the mapping limit, lookups) and the
 * unit's endpoint views (devices/vtd.c: identity with translation off,
 * tables with it on, pass-through, the limit counted). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/vtd.h"
#include "devices/vtd_regs.h"
#include "devices/vtd_shadow.h"
#include "tests/unit/vtd_fake.h"

#define R  VTD_PERM_R
#define RW (VTD_PERM_R | VTD_PERM_W)

static struct vtd_sink sink(struct rec *r, uint64_t *maps, uint64_t *unmaps)
{
    return (struct vtd_sink){ .ops = rec_ops(), .opaque = r,
                              .max = (uint64_t)r->max, .maps = maps,
                              .unmaps = unmaps };
}

static void assert_call(const struct rec *r, unsigned int i, bool map,
                        uint64_t iova, uint64_t last, uint64_t gpa)
{
    assert_true(i < r->n);
    assert_int_equal(r->c[i].map, map);
    assert_true(r->c[i].iova == iova);
    assert_true(r->c[i].last == last);
    if (map)
        assert_true(r->c[i].gpa == gpa);
}

static void test_diff(void **state)
{
    struct vtd_shadow sh = {0};
    struct rec r = {0};
    uint64_t maps = 0, unmaps = 0;
    struct vtd_sink k = sink(&r, &maps, &unmaps);
    const struct vtd_run a[] = {
        { 0x1000, 0x2fff, 0x10000, RW }, { 0x5000, 0x5fff, 0x20000, R },
    };
    const struct vtd_run b[] = {
        { 0x1000, 0x2fff, 0x10000, RW }, { 0x5000, 0x5fff, 0x30000, R },
        { 0x6000, 0x6fff, 0x31000, R },
    };

    (void)state;
    assert_int_equal(vtd_shadow_apply(&sh, 0, 0xffff, a, 2, &k), 0);
    assert_int_equal(r.n, 2);
    assert_call(&r, 0, true, 0x1000, 0x2fff, 0x10000);
    assert_call(&r, 1, true, 0x5000, 0x5fff, 0x20000);
    /* again: nothing changes, no call */
    assert_int_equal(vtd_shadow_apply(&sh, 0, 0xffff, a, 2, &k), 0);
    assert_int_equal(r.n, 2);
    /* the second run moves and grows: unmap it, map the coalesced one */
    assert_int_equal(vtd_shadow_apply(&sh, 0, 0xffff, b, 3, &k), 0);
    assert_int_equal(r.n, 4);
    assert_call(&r, 2, false, 0x5000, 0x5fff, 0);
    assert_call(&r, 3, true, 0x5000, 0x6fff, 0x30000);
    assert_int_equal(sh.n, 2);
    assert_true(maps == 3 && unmaps == 1 && r.live == 2);
    /* an empty view of part of the range drops what overlaps it */
    assert_int_equal(vtd_shadow_apply(&sh, 0x5000, 0x5fff, NULL, 0, &k), 0);
    assert_call(&r, 4, false, 0x5000, 0x6fff, 0);
    assert_call(&r, 5, true, 0x6000, 0x6fff, 0x31000);
    assert_int_equal(r.live, 2);
    vtd_shadow_fini(&sh);
}

static void test_partial_big_run(void **state)
{
    struct vtd_shadow sh = {0};
    struct rec r = {0};
    struct vtd_sink k = sink(&r, NULL, NULL);
    const struct vtd_run big = { 0x200000, 0x3fffff, 0x600000, RW };
    const struct vtd_run same = { 0x300000, 0x300fff, 0x700000, RW };
    const struct vtd_run moved = { 0x300000, 0x300fff, 0x900000, R };
    uint64_t gpa;

    (void)state;
    assert_int_equal(vtd_shadow_apply(&sh, 0x200000, 0x3fffff, &big, 1, &k),
                     0);
    /* a page invalidation inside it, nothing changed: no call */
    assert_int_equal(vtd_shadow_apply(&sh, 0x300000, 0x300fff, &same, 1,
                                      &k), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(sh.n, 1);
    /* the page changed: the big run goes whole, head/new/tail come */
    assert_int_equal(vtd_shadow_apply(&sh, 0x300000, 0x300fff, &moved, 1,
                                      &k), 0);
    assert_int_equal(r.n, 5);
    assert_call(&r, 1, false, 0x200000, 0x3fffff, 0);
    assert_call(&r, 2, true, 0x200000, 0x2fffff, 0x600000);
    assert_call(&r, 3, true, 0x300000, 0x300fff, 0x900000);
    assert_call(&r, 4, true, 0x301000, 0x3fffff, 0x701000);
    assert_int_equal(sh.n, 3);
    assert_int_equal(r.live, 3);
    /* lookups */
    assert_int_equal(vtd_shadow_lookup(&sh, 0x300010, 16, R, &gpa), 0);
    assert_true(gpa == 0x900010);
    assert_int_equal(vtd_shadow_lookup(&sh, 0x300010, 16, RW, &gpa), -EPERM);
    assert_int_equal(vtd_shadow_lookup(&sh, 0x2ffff0, 32, R, &gpa),
                     -EFAULT); /* crosses two runs, GPAs apart */
    assert_int_equal(vtd_shadow_lookup(&sh, 0x300ff0, 32, R, &gpa),
                     -EFAULT);
    assert_int_equal(vtd_shadow_lookup(&sh, 0x100000, 1, R, &gpa), -EFAULT);
    assert_int_equal(vtd_shadow_lookup(&sh, 0x200000, 0, R, &gpa), -EFAULT);
    /* changed back: only that page changes (runs outside the range are
     * not merged with it: that would unmap live neighbours) */
    assert_int_equal(vtd_shadow_apply(&sh, 0x300000, 0x300fff, &same, 1,
                                      &k), 0);
    assert_int_equal(sh.n, 3);
    assert_int_equal(r.live, 3);
    assert_int_equal(r.n, 7);
    /* three runs, one contiguous mapping: a DMA across them translates */
    assert_int_equal(vtd_shadow_lookup(&sh, 0x2ff000, 0x3000, RW, &gpa),
                     0);
    assert_true(gpa == 0x6ff000);
    assert_call(&r, 5, false, 0x300000, 0x300fff, 0);
    assert_call(&r, 6, true, 0x300000, 0x300fff, 0x700000);
    vtd_shadow_fini(&sh);
}

static void test_limit(void **state)
{
    struct vtd_shadow sh = {0};
    struct rec r = { .max = 2 };
    struct vtd_sink k = sink(&r, NULL, NULL);
    const struct vtd_run one = { 0x100000, 0x100fff, 0x1000, RW };
    const struct vtd_run three[] = {
        { 0x1000, 0x1fff, 0x10000, RW }, { 0x3000, 0x3fff, 0x20000, RW },
        { 0x5000, 0x5fff, 0x30000, RW },
    };

    (void)state;
    assert_int_equal(vtd_shadow_apply(&sh, 0x100000, 0x100fff, &one, 1, &k),
                     0);
    /* 1 + 3 > 2: refused before any call; nothing in the range */
    assert_int_equal(vtd_shadow_apply(&sh, 0, 0xffff, three, 3, &k),
                     -ENOSPC);
    assert_int_equal(r.n, 1);
    assert_int_equal(sh.n, 1);
    /* the backend's own limit (max unknown to the sink): undone */
    k.max = 0;
    assert_int_equal(vtd_shadow_apply(&sh, 0, 0xffff, three, 3, &k),
                     -ENOSPC);
    assert_int_equal(r.live, 1); /* the one outside the range */
    assert_int_equal(sh.n, 1);
    /* a failing map with old runs in the span: all of them go */
    r.max = 0;
    assert_int_equal(vtd_shadow_apply(&sh, 0, 0xffff, three, 2, &k), 0);
    assert_int_equal(r.live, 3);
    r.fail_at = (int)r.maps + 1; /* the one map this needs */
    assert_int_equal(vtd_shadow_apply(&sh, 0, 0xffff, &three[1], 2, &k),
                     -ENOSPC);
    assert_int_equal(r.live, 1);
    assert_int_equal(sh.n, 1);
    vtd_shadow_fini(&sh);
}

/* --- through the unit ------------------------------------------------- */

#define ROOT 0x100000ull
#define CTP  0x101000ull

static void mmio_w64(struct vtd *u, uint64_t off, uint64_t v)
{
    vtd_mmio_write(u, off, &v, 8);
}

static void mmio_w32(struct vtd *u, uint64_t off, uint32_t v)
{
    vtd_mmio_write(u, off, &v, 4);
}

static uint32_t gsts(struct vtd *u)
{
    uint32_t v;

    vtd_mmio_read(u, VTD_GSTS, &v, 4);
    return v;
}

/* A 48-bit unit with RAM [0, 16M) + [20M, 32M) and endpoint 00:03.0 on
 * @r (which holds the identity map, as the caller mapped it). */
static struct vtd *unit(struct fake *f, struct rec *r)
{
    struct vtd_params p = { .aw_bits = 48, .mem = fake_mem_ops(),
                            .mem_opaque = f };
    struct host_iommu_dev h = { .name = "vfu" };
    struct vtd *u;

    h.caps.pgsizes = 0x1000;
    h.caps.iova_bits = 48;
    assert_int_equal(vtd_create(&p, &u), 0);
    assert_int_equal(vtd_add_ram(u, 0, 16 << 20), 0);
    assert_int_equal(vtd_add_ram(u, 20 << 20, 12 << 20), 0);
    assert_int_equal(vtd_add_ep(u, 0x18, &h, rec_ops(), r), 0);
    assert_int_equal(vtd_add_ep(u, 0x18, &h, NULL, NULL), -EEXIST);
    assert_int_equal(vtd_add_ram(u, 64 << 20, 4096), -EBUSY);
    assert_int_equal(r->n, 0); /* the identity map: the caller's */
    r->live = 2;
    return u;
}

static void test_unit_views(void **state)
{
    struct fake f;
    struct rec r = {0};
    struct vtd *u;
    uint64_t slpt, gpa;

    (void)state;
    fake_init(&f);
    u = unit(&f, &r);
    assert_int_equal(vtd_translate(u, 0x18, 0x123456, 8, RW, &gpa, false),
                     0);
    assert_true(gpa == 0x123456);
    /* tables: one page at iova 0x10000000 */
    slpt = fake_table(&f);
    fake_root(&f, ROOT, 0, CTP);
    fake_ctx(&f, CTP, 0x18, 0, 2, 5, slpt);
    fake_map(&f, slpt, 4, 0x10000000, 0x4000, 1, 3);
    mmio_w64(u, VTD_RTADDR, ROOT);
    mmio_w32(u, VTD_GCMD, VTD_GCMD_SRTP);
    mmio_w32(u, VTD_GCMD, VTD_GCMD_TE);
    assert_int_equal(gsts(u), VTD_GCMD_TE | VTD_GCMD_SRTP);
    assert_int_equal(r.n, 3); /* two identity runs go, the page comes */
    assert_call(&r, 0, false, 0, (16 << 20) - 1, 0);
    assert_call(&r, 1, false, 20 << 20, (32 << 20) - 1, 0);
    assert_call(&r, 2, true, 0x10000000, 0x10000fff, 0x4000);
    assert_int_equal(vtd_translate(u, 0x18, 0x123456, 8, RW, &gpa, false),
                     -EFAULT);
    assert_int_equal(vtd_translate(u, 0x18, 0x10000010, 8, RW, &gpa, false),
                     0);
    assert_true(gpa == 0x4010);
    assert_int_equal(vtd_translate(u, 0x19, 0x10000010, 8, RW, &gpa, false),
                     -ENOENT);
    /* pass-through: identity again after a context invalidation */
    fake_ctx(&f, CTP, 0x18, 2, 2, 5, 0);
    mmio_w64(u, VTD_CCMD, VTD_CCMD_ICC | 1ull << VTD_CCMD_CIRG_SH);
    assert_int_equal(r.live, 2);
    vtd_destroy(u);
    fake_fini(&f);
}

static void test_unit_off_limit_reset(void **state)
{
    struct fake f;
    struct rec r = {0};
    struct vtd *u;
    struct vtd_stats st;
    uint64_t slpt;

    (void)state;
    fake_init(&f);
    u = unit(&f, &r);
    slpt = fake_table(&f);
    fake_root(&f, ROOT, 0, CTP);
    fake_ctx(&f, CTP, 0x18, 0, 2, 5, slpt);
    fake_map(&f, slpt, 4, 0x10000000, 0x4000, 1, 3);
    mmio_w64(u, VTD_RTADDR, ROOT);
    mmio_w32(u, VTD_GCMD, VTD_GCMD_SRTP | VTD_GCMD_TE);
    assert_int_equal(r.live, 1);
    /* translation off: identity */
    mmio_w32(u, VTD_GCMD, 0);
    assert_int_equal(r.live, 2);
    assert_call(&r, r.n - 1, true, 20 << 20, (32 << 20) - 1, 20 << 20);
    /* the limit: 2 pages on a 1-mapping device */
    r.max = 1;
    fake_map(&f, slpt, 4, 0x20000000, 0x8000, 1, 3);
    mmio_w32(u, VTD_GCMD, VTD_GCMD_TE);
    assert_int_equal(r.live, 0);
    vtd_get_stats(u, &st);
    assert_true(st.map_failures == 1);
    /* reset: translation off, identity */
    r.max = 0;
    vtd_reset(u);
    assert_int_equal(r.live, 2);
    assert_int_equal(gsts(u), 0);
    vtd_destroy(u);
    fake_fini(&f);
}

static void test_check(void **state)
{
    struct host_iommu_dev h = { .name = "vfio-user device 'vfio0'" };
    struct fake f;
    struct vtd *u;
    struct vtd_params p = { .aw_bits = 39 };
    char err[256] = "";

    (void)state;
    h.caps.pgsizes = 0x1000 | 0x200000;
    h.caps.iova_bits = 39;
    assert_int_equal(vtd_check(39, &h, err, sizeof(err)), 0);
    assert_int_equal(vtd_check(48, &h, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "aw-bits 48 > host aw-bits 39"));
    assert_non_null(strstr(err, "vfio0"));
    assert_non_null(strstr(err, "aw-bits=39"));
    h.caps.iova_bits = 32;
    assert_int_equal(vtd_check(39, &h, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "aw-bits 39 > host aw-bits 32"));
    h.caps.iova_bits = 64;
    h.caps.pgsizes = 0x10000;
    assert_int_equal(vtd_check(39, &h, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "4K"));
    h.caps.pgsizes = 0;
    assert_int_equal(vtd_check(39, &h, err, sizeof(err)), -EINVAL);
    /* reserved ranges against guest RAM */
    fake_init(&f);
    p.mem = fake_mem_ops();
    p.mem_opaque = &f;
    assert_int_equal(vtd_create(&p, &u), 0);
    assert_int_equal(vtd_add_ram(u, 0, 1 << 20), 0);
    h.caps.pgsizes = 0x1000;
    h.caps.nresv = 1;
    h.caps.resv[0] = (struct host_iommu_range){ 0x200000, 0x2fffff };
    assert_int_equal(vtd_check_ram(u, &h, err, sizeof(err)), 0);
    h.caps.resv[0] = (struct host_iommu_range){ 0xf0000, 0x1fffff };
    assert_int_equal(vtd_check_ram(u, &h, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "reserves IOVAs"));
    vtd_destroy(u);
    fake_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_partial_big_run),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_unit_views),
        cmocka_unit_test(test_unit_off_limit_reset),
        cmocka_unit_test(test_check),
    };

    return cmocka_run_group_tests_name("vtd_shadow", tests, NULL, NULL);
}
