/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests: virtio/iommu_req.c (request parser, PROBE) and
 * virtio/iommu_dom.c (domain/endpoint state machine, IOVA interval map,
 * what each endpoint sees, sink unwinding). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "virtio/iommu_dom.h"
#include "virtio/iommu_proto.h"
#include "virtio/iommu_req.h"
#include "vmm/endian.h"

/* A sink recording each endpoint's windows count; fails map when told. */
struct rec {
    int maps[4], unmaps[4], live[4];
    int fail_after; /* map calls left before one -ENOSPC; <0: never */
};

static int rec_map(void *opaque, unsigned int ep, const struct viommu_map *m)
{
    struct rec *r = opaque;

    (void)m;
    if (r->fail_after == 0) { /* fails once */
        r->fail_after = -1;
        return -ENOSPC;
    }
    if (r->fail_after > 0)
        r->fail_after--;
    r->maps[ep]++;
    r->live[ep]++;
    return 0;
}

static void rec_unmap(void *opaque, unsigned int ep,
                      const struct viommu_map *m)
{
    struct rec *r = opaque;

    (void)m;
    r->unmaps[ep]++;
    r->live[ep]--;
}

static const struct viommu_sink rec_sink = { rec_map, rec_unmap };

/* 2 RAM regions, endpoints 0x08 (unlimited) and 0x10 (max 2 mappings),
 * both start in bypass (identity: 2 windows each). */
static void setup(struct viommu_dom *s, struct rec *r)
{
    struct host_iommu_dev h = { .name = "dev" };

    memset(r, 0, sizeof(*r));
    r->fail_after = -1;
    viommu_dom_init(s, 4096, 48, &rec_sink, r);
    assert_int_equal(viommu_dom_add_ram(s, 0, 0x80000000), 0);
    assert_int_equal(viommu_dom_add_ram(s, 0x100000000ULL, 0x40000000), 0);
    host_iommu_caps_vmm(&h.caps);
    assert_int_equal(viommu_dom_add_ep(s, 0x08, &h), 0);
    h.caps.max_mappings = 2;
    assert_int_equal(viommu_dom_add_ep(s, 0x10, &h), 1);
    r->live[0] = r->live[1] = 2; /* the caller's initial identity maps */
}

static void test_parse(void **state)
{
    uint8_t b[80] = {0};
    struct viommu_req q;

    (void)state;
    assert_int_equal(viommu_req_parse(b, 3, &q), VIOMMU_S_INVAL);
    b[0] = 9;
    assert_int_equal(viommu_req_parse(b, sizeof(b), &q), VIOMMU_S_UNSUPP);
    b[0] = 0;
    assert_int_equal(viommu_req_parse(b, sizeof(b), &q), VIOMMU_S_UNSUPP);
    b[0] = VIOMMU_T_MAP;
    le32_store(b + 4, 7);
    le64_store(b + 8, 0x1000);
    le64_store(b + 16, 0x1fff);
    le64_store(b + 24, 0x5000);
    le32_store(b + 32, 3);
    assert_int_equal(viommu_req_parse(b, 35, &q), VIOMMU_S_INVAL);
    assert_int_equal(viommu_req_parse(b, 36, &q), VIOMMU_S_OK);
    assert_int_equal(q.domain, 7);
    assert_int_equal(q.map.start, 0x1000);
    assert_int_equal(q.map.last, 0x1fff);
    assert_int_equal(q.map.phys, 0x5000);
    assert_int_equal(q.map.flags, 3);
    b[0] = VIOMMU_T_UNMAP;
    assert_int_equal(viommu_req_parse(b, 27, &q), VIOMMU_S_INVAL);
    assert_int_equal(viommu_req_parse(b, 28, &q), VIOMMU_S_OK);
    assert_int_equal(q.map.last, 0x1fff);
    b[0] = VIOMMU_T_ATTACH;
    le32_store(b + 8, 0x10);
    le32_store(b + 12, 1);
    assert_int_equal(viommu_req_parse(b, 19, &q), VIOMMU_S_INVAL);
    assert_int_equal(viommu_req_parse(b, sizeof(b), &q), VIOMMU_S_OK);
    assert_int_equal(q.endpoint, 0x10);
    assert_int_equal(q.flags, 1);
    b[0] = VIOMMU_T_DETACH;
    assert_int_equal(viommu_req_parse(b, 20, &q), VIOMMU_S_OK);
    assert_int_equal(q.flags, 0);
    b[0] = VIOMMU_T_PROBE;
    le32_store(b + 4, 0x18);
    assert_int_equal(viommu_req_parse(b, 71, &q), VIOMMU_S_INVAL);
    assert_int_equal(viommu_req_parse(b, 72, &q), VIOMMU_S_OK);
    assert_int_equal(q.endpoint, 0x18);
    assert_int_equal(viommu_req_tail_offset(VIOMMU_T_PROBE, 512), 512);
    assert_int_equal(viommu_req_tail_offset(VIOMMU_T_MAP, 512), 0);
}

static void test_attach_detach(void **state)
{
    struct viommu_dom s;
    struct rec r;

    (void)state;
    setup(&s, &r);
    assert_int_equal(viommu_dom_attach(&s, 64, 0x08, 0), VIOMMU_S_RANGE);
    assert_int_equal(viommu_dom_attach(&s, 1, 0x99, 0), VIOMMU_S_NOENT);
    assert_int_equal(viommu_dom_attach(&s, 1, 0x08, 2), VIOMMU_S_INVAL);
    /* Attach to a mapping domain: identity goes away, nothing mapped. */
    assert_int_equal(viommu_dom_attach(&s, 1, 0x08, 0), VIOMMU_S_OK);
    assert_int_equal(r.live[0], 0);
    assert_true(s.dom[1].live);
    assert_int_equal(s.dom[1].nep, 1);
    /* Same domain again: nothing changes. */
    assert_int_equal(viommu_dom_attach(&s, 1, 0x08, 0), VIOMMU_S_OK);
    /* A bypass attach to a mapping domain is refused. */
    assert_int_equal(viommu_dom_attach(&s, 1, 0x10, VIOMMU_ATTACH_F_BYPASS),
                     VIOMMU_S_INVAL);
    /* Bypass domain: identity again. */
    assert_int_equal(viommu_dom_attach(&s, 2, 0x08, VIOMMU_ATTACH_F_BYPASS),
                     VIOMMU_S_OK);
    assert_int_equal(r.live[0], 2);
    assert_false(s.dom[1].live); /* last endpoint left: domain freed */
    assert_int_equal(viommu_dom_detach(&s, 1, 0x08), VIOMMU_S_INVAL);
    assert_int_equal(viommu_dom_detach(&s, 2, 0x99), VIOMMU_S_NOENT);
    assert_int_equal(viommu_dom_detach(&s, 99, 0x08), VIOMMU_S_RANGE);
    assert_int_equal(viommu_dom_detach(&s, 2, 0x08), VIOMMU_S_OK);
    assert_int_equal(s.ep[0].domain, -1);
    assert_int_equal(r.live[0], 2); /* unattached + config bypass */
    /* Config bypass off: unattached endpoints are blocked. */
    viommu_dom_set_bypass(&s, false);
    assert_int_equal(r.live[0], 0);
    assert_int_equal(r.live[1], 0);
    viommu_dom_set_bypass(&s, true);
    assert_int_equal(r.live[0], 2);
    viommu_dom_fini(&s);
}

static struct viommu_map mp(uint64_t start, uint64_t size, uint64_t phys)
{
    return (struct viommu_map){ .start = start, .last = start + size - 1,
                                .phys = phys, .flags = 3 };
}

static void test_map_unmap(void **state)
{
    struct viommu_dom s;
    struct viommu_map m;
    struct rec r;

    (void)state;
    setup(&s, &r);
    m = mp(0x10000, 0x2000, 0x200000);
    assert_int_equal(viommu_dom_map(&s, 1, &m), VIOMMU_S_NOENT);
    assert_int_equal(viommu_dom_attach(&s, 1, 0x08, 0), VIOMMU_S_OK);
    assert_int_equal(viommu_dom_map(&s, 1, &m), VIOMMU_S_OK);
    assert_int_equal(r.live[0], 1);
    /* Overlap, misalignment, bad flags, outside the 48-bit input range. */
    m = mp(0x11000, 0x1000, 0);
    assert_int_equal(viommu_dom_map(&s, 1, &m), VIOMMU_S_INVAL);
    m = mp(0x20800, 0x1000, 0);
    assert_int_equal(viommu_dom_map(&s, 1, &m), VIOMMU_S_INVAL);
    m = mp(0x20000, 0x1000, 0x800);
    assert_int_equal(viommu_dom_map(&s, 1, &m), VIOMMU_S_INVAL);
    m = mp(0x20000, 0x1000, 0);
    m.flags = VIOMMU_MAP_F_MMIO;
    assert_int_equal(viommu_dom_map(&s, 1, &m), VIOMMU_S_INVAL);
    m = mp(1ULL << 48, 0x1000, 0);
    assert_int_equal(viommu_dom_map(&s, 1, &m), VIOMMU_S_RANGE);
    m = mp(0, 0x1000, 0);
    m.last = UINT64_MAX;
    assert_int_equal(viommu_dom_map(&s, 1, &m), VIOMMU_S_RANGE);
    /* Adjacent maps are fine; kept sorted. */
    m = mp(0x12000, 0x1000, 0x300000);
    assert_int_equal(viommu_dom_map(&s, 1, &m), VIOMMU_S_OK);
    m = mp(0x1000, 0x1000, 0x400000);
    assert_int_equal(viommu_dom_map(&s, 1, &m), VIOMMU_S_OK);
    assert_int_equal(s.dom[1].n, 3);
    assert_true(s.dom[1].m[0].start < s.dom[1].m[1].start &&
                s.dom[1].m[1].start < s.dom[1].m[2].start);
    /* A partially covered mapping: RANGE, nothing unmapped. */
    assert_int_equal(viommu_dom_unmap(&s, 1, 0x0, 0x10fff), VIOMMU_S_RANGE);
    assert_int_equal(s.dom[1].n, 3);
    /* Covering two wholly: both go, the endpoint is told first. */
    assert_int_equal(viommu_dom_unmap(&s, 1, 0x10000, 0x12fff),
                     VIOMMU_S_OK);
    assert_int_equal(s.dom[1].n, 1);
    assert_int_equal(s.total, 1);
    assert_int_equal(r.live[0], 1);
    /* Nothing in range: OK. */
    assert_int_equal(viommu_dom_unmap(&s, 1, 0x50000, 0x5ffff),
                     VIOMMU_S_OK);
    assert_int_equal(viommu_dom_unmap(&s, 1, 0x5000, 0x4000),
                     VIOMMU_S_INVAL);
    assert_int_equal(viommu_dom_unmap(&s, 9, 0, 0xfff), VIOMMU_S_NOENT);
    viommu_dom_fini(&s);
}

static void test_translate(void **state)
{
    struct viommu_dom s;
    struct viommu_map m;
    struct rec r;
    uint64_t gpa;

    (void)state;
    setup(&s, &r);
    /* Bypass: identity over RAM only. */
    assert_int_equal(viommu_dom_translate(&s, 0, 0x1234, 16, 3, &gpa), 0);
    assert_int_equal(gpa, 0x1234);
    assert_int_equal(viommu_dom_translate(&s, 0, 0x90000000, 16, 1, &gpa),
                     -EFAULT);
    assert_int_equal(viommu_dom_attach(&s, 3, 0x08, 0), VIOMMU_S_OK);
    assert_int_equal(viommu_dom_translate(&s, 0, 0x1234, 16, 1, &gpa),
                     -EFAULT);
    m = mp(0x7f0000000000ULL, 0x2000, 0x300000);
    m.flags = VIOMMU_MAP_F_READ;
    assert_int_equal(viommu_dom_map(&s, 3, &m), VIOMMU_S_OK);
    assert_int_equal(viommu_dom_translate(&s, 0, 0x7f0000001ff0ULL, 16,
                                          VIOMMU_MAP_F_READ, &gpa), 0);
    assert_int_equal(gpa, 0x301ff0);
    assert_int_equal(viommu_dom_translate(&s, 0, 0x7f0000001ff0ULL, 32,
                                          VIOMMU_MAP_F_READ, &gpa), -EFAULT);
    assert_int_equal(viommu_dom_translate(&s, 0, 0x7f0000000000ULL, 8,
                                          VIOMMU_MAP_F_WRITE, &gpa), -EPERM);
    assert_int_equal(viommu_dom_translate(&s, 0, UINT64_MAX, 2, 1, &gpa),
                     -EFAULT);
    assert_int_equal(viommu_dom_translate(&s, 7, 0, 2, 1, &gpa), -EFAULT);
    viommu_dom_fini(&s);
}

static void test_limits_and_unwind(void **state)
{
    struct viommu_dom s;
    struct viommu_map m;
    struct rec r;

    (void)state;
    setup(&s, &r);
    /* Endpoint 0x10 allows 2 mappings: the third MAP is NOMEM. */
    assert_int_equal(viommu_dom_attach(&s, 5, 0x10, 0), VIOMMU_S_OK);
    for (int i = 0; i < 2; i++) {
        m = mp(0x1000 * (uint64_t)(i + 1), 0x1000, 0);
        assert_int_equal(viommu_dom_map(&s, 5, &m), VIOMMU_S_OK);
    }
    m = mp(0x10000, 0x1000, 0);
    assert_int_equal(viommu_dom_map(&s, 5, &m), VIOMMU_S_NOMEM);
    assert_int_equal(s.dom[5].n, 2);
    /* Two endpoints in one domain; the second's map fails: the first is
     * unmapped again, nothing half-mapped. */
    assert_int_equal(viommu_dom_detach(&s, 5, 0x10), VIOMMU_S_OK);
    assert_int_equal(viommu_dom_attach(&s, 6, 0x08, 0), VIOMMU_S_OK);
    assert_int_equal(viommu_dom_attach(&s, 6, 0x10, 0), VIOMMU_S_OK);
    r.fail_after = 1;
    m = mp(0x1000, 0x1000, 0);
    assert_int_equal(viommu_dom_map(&s, 6, &m), VIOMMU_S_NOMEM);
    assert_int_equal(r.live[0], 0);
    assert_int_equal(r.live[1], 0);
    assert_int_equal(s.dom[6].n, 0);
    /* An attach whose replay fails leaves the old view in place. */
    r.fail_after = -1;
    assert_int_equal(viommu_dom_map(&s, 6, &m), VIOMMU_S_OK);
    assert_int_equal(viommu_dom_detach(&s, 6, 0x10), VIOMMU_S_OK);
    assert_int_equal(r.live[1], 2); /* back to identity */
    r.fail_after = 0;
    assert_int_equal(viommu_dom_attach(&s, 6, 0x10, 0), VIOMMU_S_NOMEM);
    assert_int_equal(s.ep[1].domain, -1);
    assert_int_equal(r.live[1], 2); /* identity restored */
    /* Reset: everything detached, identity everywhere, domains gone. */
    viommu_dom_reset(&s);
    assert_int_equal(r.live[0], 2);
    assert_int_equal(r.live[1], 2);
    assert_false(s.dom[6].live);
    viommu_dom_fini(&s);
}

static void test_bypass_rollback_and_blocked(void **state)
{
    struct viommu_dom s;
    struct rec r;
    const struct viommu_map *ws;
    size_t n;

    (void)state;
    setup(&s, &r);
    assert_int_equal(viommu_dom_set_bypass(&s, false), 0);
    assert_int_equal(r.live[0] + r.live[1], 0);
    /* Bypass back on; the second endpoint's first map fails: all or
     * nothing, the field stays 0. */
    r.fail_after = 2;
    assert_int_equal(viommu_dom_set_bypass(&s, true), -ENOSPC);
    assert_false(s.bypass);
    assert_int_equal(r.live[0] + r.live[1], 0);
    assert_int_equal(viommu_dom_set_bypass(&s, true), 0);
    assert_int_equal(r.live[0], 2);
    /* A reset whose identity map fails leaves that endpoint blocked
     * (sees nothing), consistently. */
    assert_int_equal(viommu_dom_attach(&s, 1, 0x08, 0), VIOMMU_S_OK);
    r.fail_after = 0;
    viommu_dom_reset(&s);
    assert_true(s.ep[0].blocked);
    viommu_dom_ep_windows(&s, 0, &ws, &n);
    assert_int_equal(n, 0);
    assert_int_equal(r.live[0], 0);
    assert_int_equal(r.live[1], 2);
    /* The next successful switch unblocks it. */
    assert_int_equal(viommu_dom_attach(&s, 2, 0x08, VIOMMU_ATTACH_F_BYPASS),
                     VIOMMU_S_OK);
    assert_false(s.ep[0].blocked);
    assert_int_equal(r.live[0], 2);
    viommu_dom_fini(&s);
}

static void test_probe_and_exec(void **state)
{
    struct viommu_dom s;
    struct rec r;
    struct viommu_req q = { .type = VIOMMU_T_PROBE, .endpoint = 0x10 };
    uint8_t props[VIOMMU_PROBE_SIZE];

    (void)state;
    setup(&s, &r);
    s.ep[1].host.caps.nresv = 1;
    s.ep[1].host.caps.resv[0] = (struct host_iommu_range){ 0x1000000000ULL,
                                                           0x1fffffffffULL };
    assert_int_equal(viommu_req_exec(&s, &q, props, sizeof(props)),
                     VIOMMU_S_OK);
    assert_int_equal(le16_load(props), VIOMMU_PROBE_T_RESV_MEM);
    assert_int_equal(le16_load(props + 2), 20);
    assert_int_equal(props[4], VIOMMU_RESV_MEM_T_MSI);
    assert_int_equal(le64_load(props + 8), 0xfee00000);
    assert_int_equal(le64_load(props + 16), 0xfeefffff);
    assert_int_equal(props[24 + 4], VIOMMU_RESV_MEM_T_RESERVED);
    assert_int_equal(le64_load(props + 24 + 8), 0x1000000000ULL);
    assert_int_equal(le16_load(props + 48), VIOMMU_PROBE_T_NONE);
    assert_int_equal(viommu_probe_fill(&s, 1, props, 30), -ENOSPC);
    q.endpoint = 0x77;
    assert_int_equal(viommu_req_exec(&s, &q, props, sizeof(props)),
                     VIOMMU_S_NOENT);
    q = (struct viommu_req){ .type = VIOMMU_T_ATTACH, .domain = 1,
                             .endpoint = 0x08 };
    assert_int_equal(viommu_req_exec(&s, &q, NULL, 0), VIOMMU_S_OK);
    q = (struct viommu_req){ .type = VIOMMU_T_MAP, .domain = 1,
                             .map = mp(0x1000, 0x1000, 0) };
    assert_int_equal(viommu_req_exec(&s, &q, NULL, 0), VIOMMU_S_OK);
    q.type = VIOMMU_T_UNMAP;
    assert_int_equal(viommu_req_exec(&s, &q, NULL, 0), VIOMMU_S_OK);
    q.type = VIOMMU_T_DETACH;
    q.endpoint = 0x08;
    assert_int_equal(viommu_req_exec(&s, &q, NULL, 0), VIOMMU_S_OK);
    q.type = 42;
    assert_int_equal(viommu_req_exec(&s, &q, NULL, 0), VIOMMU_S_UNSUPP);
    /* Endpoint registry. */
    assert_int_equal(viommu_dom_add_ep(&s, 0x08, &s.ep[0].host), -EEXIST);
    assert_int_equal(viommu_dom_add_ram(&s, 0x1000, 0x1000), -EINVAL);
    assert_int_equal(viommu_dom_add_ram(&s, 0x1000, 0), -EINVAL);
    viommu_dom_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_attach_detach),
        cmocka_unit_test(test_map_unmap),
        cmocka_unit_test(test_translate),
        cmocka_unit_test(test_limits_and_unwind),
        cmocka_unit_test(test_bypass_rollback_and_blocked),
        cmocka_unit_test(test_probe_and_exec),
    };

    return cmocka_run_group_tests_name("viommu", tests, NULL, NULL);
}
