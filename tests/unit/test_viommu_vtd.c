/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests: --viommu intel through the vIOMMU facade (minivmm/viommu.c
 * over minivmm/viommu_vtd.c and devices/vtd.c) on a real guest memory,
 * MMIO bus and device registry, with a fake hv recording msi_signal: the
 * unit answers at VTD_MMIO_BASE, joins the registry as vtd@dmar0, has no
 * PCI function and no VIOT; the aw-bits check refuses naming both widths;
 * endpoints start on the identity map; enabling translation over an empty
 * root table unmaps a vfio-user-like endpoint's identity map through the
 * facade's glue, and an in-VMM endpoint's DMA then faults, recorded and
 * signalled with the guest's fault-event MSI; stats list the unit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "devices/vtd.h"
#include "devices/vtd_regs.h"
#include "minivmm/config_types.h"
#include "minivmm/platform.h"
#include "minivmm/viommu.h"
#include "vmm/bus.h"
#include "vmm/devreg.h"
#include "vmm/memory.h"

#define RAM (16ull << 20)
#define ROOT_GPA 0x200000ull

struct rig {
    struct vm_config cfg;
    struct guest_memory mem;
    struct platform_env env;
    struct viommu *v;
    uint64_t msi_addr;
    uint32_t msi_data;
    unsigned int msis;
    unsigned int maps, unmaps;
    uint64_t unmapped;          /* bytes */
};

static int fake_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct rig *r = opaque;

    r->msi_addr = addr;
    r->msi_data = data;
    r->msis++;
    return 0;
}

static const struct hv_ops fake_hv = { .msi_signal = fake_msi };

static int ep_map(void *opaque, uint64_t iova, uint64_t last, uint64_t gpa,
                  uint32_t prot)
{
    struct rig *r = opaque;

    (void)iova, (void)last, (void)gpa, (void)prot;
    r->maps++;
    return 0;
}

static void ep_unmap(void *opaque, uint64_t iova, uint64_t last)
{
    struct rig *r = opaque;

    r->unmaps++;
    r->unmapped += last - iova + 1;
}

static const struct viommu_ep_ops ep_ops = { ep_map, ep_unmap };

static int setup(void **state)
{
    struct rig *r = calloc(1, sizeof(*r));
    char err[256];

    assert_non_null(r);
    assert_int_equal(guest_memory_create(RAM, &r->mem), 0);
    r->cfg.cpus = 1;
    r->cfg.viommu = (struct config_viommu){
        .on = true, .model = CONFIG_VIOMMU_INTEL, .aw_bits = 48 };
    r->env = (struct platform_env){ .cfg = &r->cfg, .mem = &r->mem,
                                    .hv = { &fake_hv, r } };
    assert_int_equal(bus_create("mmio", &r->env.mmio), 0);
    assert_int_equal(devreg_create(&r->env.devs), 0);
    assert_int_equal(viommu_create(&r->env, &r->v, err, sizeof(err)), 0);
    assert_non_null(r->v);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    struct rig *r = *state;

    viommu_destroy(r->v);
    assert_int_equal(devreg_count(r->env.devs), 0);
    devreg_destroy(r->env.devs);
    bus_destroy(r->env.mmio);
    guest_memory_destroy(&r->mem);
    free(r);
    return 0;
}

static uint32_t rd32(struct rig *r, uint64_t off)
{
    uint32_t v = 0;

    assert_int_equal(bus_dispatch(r->env.mmio, VTD_MMIO_BASE + off, &v, 4,
                                  false), 0);
    return v;
}

static void wr32(struct rig *r, uint64_t off, uint32_t v)
{
    assert_int_equal(bus_dispatch(r->env.mmio, VTD_MMIO_BASE + off, &v, 4,
                                  true), 0);
}

static void wr64(struct rig *r, uint64_t off, uint64_t v)
{
    assert_int_equal(bus_dispatch(r->env.mmio, VTD_MMIO_BASE + off, &v, 8,
                                  true), 0);
}

static struct host_iommu_dev host(const char *name, unsigned int bits)
{
    struct host_iommu_dev h;

    memset(&h, 0, sizeof(h));
    snprintf(h.name, sizeof(h.name), "%s", name);
    h.caps.pgsizes = ~0xfffull;
    h.caps.iova_bits = bits;
    return h;
}

static void test_unit(void **state)
{
    struct rig *r = *state;
    struct devreg_entry e;
    char id[DEVREG_ID_MAX], err[256];
    uint16_t ib = 7, eps[4];

    assert_false(viommu_has_device(r->v));
    assert_false(viommu_has_device(NULL));
    assert_int_equal(rd32(r, VTD_VER), VTD_VERSION);
    assert_int_equal(devreg_count(r->env.devs), 1);
    assert_int_equal(devreg_get(r->env.devs, 0, &e, id), 0);
    assert_string_equal(id, "vtd@dmar0");
    struct host_iommu_dev narrow = host("vfio-user device 'blk0'", 39);
    assert_int_equal(viommu_check(r->v, &narrow, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "vfio-user device 'blk0'"));
    assert_non_null(strstr(err, "aw-bits 48 > host aw-bits 39"));
    struct host_iommu_dev wide = host("vfio-user device 'blk1'", 64);
    assert_int_equal(viommu_attach(r->v, 0x10, &wide, &ep_ops, r, err,
                                   sizeof(err)), 0);
    struct host_iommu_dev vmm = host("virtio-blk disk 'd'", 64);
    assert_int_equal(viommu_attach(r->v, 0x18, &vmm, NULL, NULL, err,
                                   sizeof(err)), 0);
    assert_int_equal(viommu_attach(r->v, 0x20, &narrow, NULL, NULL, err,
                                   sizeof(err)), -EINVAL);
    assert_int_equal(viommu_topology(r->v, &ib, eps, 4), 0); /* no VIOT */
}

static void test_translate_and_fault(void **state)
{
    struct rig *r = *state;
    struct host_iommu_dev vf = host("vfio-user device 'v'", 64);
    struct host_iommu_dev vmm = host("virtio-blk disk 'd'", 64);
    char err[256];
    uint64_t gpa = 0;

    assert_int_equal(viommu_attach(r->v, 0x10, &vf, &ep_ops, r, err,
                                   sizeof(err)), 0);
    assert_int_equal(viommu_attach(r->v, 0x18, &vmm, NULL, NULL, err,
                                   sizeof(err)), 0);
    /* Translation off: the identity map of guest RAM. */
    assert_int_equal(viommu_translate(r->v, 0x18, 0x3000, 512, 2, &gpa,
                                      false), 0);
    assert_int_equal(gpa, 0x3000);
    assert_int_equal(viommu_translate(r->v, 0x28, 0x3000, 512, 2, &gpa,
                                      false), -ENOENT);
    /* Fault events unmasked to our message; root table all zero. */
    wr32(r, VTD_FEDATA, 0x4031);
    wr32(r, VTD_FEADDR, 0xfee0100c);
    wr32(r, VTD_FECTL, 0);
    wr64(r, VTD_RTADDR, ROOT_GPA);
    wr32(r, VTD_GCMD, VTD_GCMD_SRTP);
    assert_true(rd32(r, VTD_GSTS) & VTD_GCMD_SRTP);
    wr32(r, VTD_GCMD, VTD_GCMD_TE);
    assert_true(rd32(r, VTD_GSTS) & VTD_GCMD_TE);
    /* The vfio-user endpoint lost its identity map through the glue. */
    assert_true(r->unmaps >= 1);
    assert_int_equal(r->unmapped, RAM);
    /* The in-VMM endpoint's DMA faults: recorded, signalled. */
    assert_int_equal(viommu_translate(r->v, 0x18, 0x3000, 512, 2, &gpa,
                                      true), -EFAULT);
    assert_true(rd32(r, VTD_FSTS) & VTD_FSTS_PPF);
    assert_int_equal(r->msis, 1);
    assert_int_equal(r->msi_addr, 0xfee0100c);
    assert_int_equal(r->msi_data, 0x4031);
    /* A vfio-user server's stray DMA: recorded too (then pending). */
    viommu_report_fault(r->v, 0x10, 0x5000, 1);
}

static void test_stats(void **state)
{
    struct rig *r = *state;
    struct json_object *arr = json_object_new_array(), *o, *io, *k;

    viommu_stats(r->v, arr);
    viommu_stats(NULL, arr);
    assert_int_equal(json_object_array_length(arr), 1);
    o = json_object_array_get_idx(arr, 0);
    assert_true(json_object_object_get_ex(o, "kind", &k));
    assert_string_equal(json_object_get_string(k), "intel-iommu");
    assert_true(json_object_object_get_ex(o, "iommu", &io));
    assert_true(json_object_object_get_ex(io, "invalidations", &k));
    assert_true(json_object_object_get_ex(io, "map_failures", &k));
    json_object_put(arr);
}

/* aw-bits=39 accepts the 39-bit device; the MMIO window is taken (a
 * second unit on the same bus fails cleanly, leaving nothing behind). */
static void test_aw39(void **state)
{
    struct rig *r = *state;
    struct viommu *v2 = NULL;
    char err[256];

    r->cfg.viommu.aw_bits = 39;
    assert_int_equal(viommu_create(&r->env, &v2, err, sizeof(err)), -EEXIST);
    assert_null(v2);
    assert_non_null(strstr(err, "registers at 0xfed90000"));
    assert_int_equal(devreg_count(r->env.devs), 1);
    viommu_destroy(r->v);
    r->v = NULL;
    assert_int_equal(viommu_create(&r->env, &r->v, err, sizeof(err)), 0);
    struct host_iommu_dev narrow = host("vfio-user device 'blk0'", 39);
    assert_int_equal(viommu_check(r->v, &narrow, err, sizeof(err)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translate_and_fault, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aw39, setup, teardown),
    };

    return cmocka_run_group_tests_name("viommu_vtd", tests, NULL, NULL);
}
