/* SPDX-License-Identifier: BSD-3-Clause */
/* The VT-d backend of the vIOMMU (see viommu_vtd.h; docs/viommu.md). */
#include "minivmm/viommu_vtd.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/config_types.h"
#include "minivmm/platform.h"
#include "vmm/bus.h"
#include "vmm/devreg.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "vmm/stats.h"

#define VTD_STATE_ID "vtd@dmar0"

struct viommu_vtd {
    const struct platform_env *env;
    struct vtd *unit;
    unsigned int aw_bits;
    bool mmio_registered;
    bool joined;
    uint64_t msi_errors;        /* atomic: failed deliveries, logged once */
};

/* vtd_mem_ops over guest RAM: tables and queue reads, status writes
 * (marked dirty for live migration), the fault/invalidation events. */
static int mem_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    const struct viommu_vtd *x = opaque;

    return guest_memory_read(x->env->mem, gpa, buf, len);
}

static int mem_write(void *opaque, uint64_t gpa, const void *buf,
                     size_t len)
{
    const struct viommu_vtd *x = opaque;
    int r = guest_memory_write(x->env->mem, gpa, buf, len);

    if (r == 0)
        guest_memory_mark_dirty(x->env->mem, gpa, len);
    return r;
}

static void mem_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct viommu_vtd *x = opaque;
    const struct hv *hv = &x->env->hv;
    int r = hv->ops && hv->ops->msi_signal
                ? hv->ops->msi_signal(hv->opaque, addr, data) : -ENOSYS;

    if (r < 0 && __atomic_fetch_add(&x->msi_errors, 1, __ATOMIC_RELAXED) == 0)
        log_warn("minivmm: VT-d: cannot deliver the MSI (%#llx, %#x): %s",
                 (unsigned long long)addr, data, strerror(-r));
}

static const struct vtd_mem_ops vtd_mem = {
    .read = mem_read, .write = mem_write, .msi = mem_msi,
};

static void mmio_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
    vtd_mmio_read(((struct viommu_vtd *)opaque)->unit, off, data, len);
}

static void mmio_write(void *opaque, uint64_t off, const void *data,
                       uint32_t len)
{
    vtd_mmio_write(((struct viommu_vtd *)opaque)->unit, off, data, len);
}

static const struct bus_ops vtd_mmio = { mmio_read, mmio_write };

/* Guest RAM regions as the identity map, the registers on the bus, the
 * state in the registry (created before any endpoint, so on a load its
 * mappings are replayed before the endpoints' own state). */
static int setup(struct viommu_vtd *x, char *err, size_t errlen)
{
    const struct guest_memory *mem = x->env->mem;
    struct devreg_entry e = { .id = VTD_STATE_ID, .state = &vtd_state_ops,
                              .opaque = NULL };
    int r = 0;

    for (unsigned int i = 0; r == 0 && i < mem->nregions; i++)
        r = vtd_add_ram(x->unit, mem->regions[i].gpa, mem->regions[i].size);
    if (r < 0) {
        snprintf(err, errlen, "--viommu intel: guest RAM: %s", strerror(-r));
        return r;
    }
    r = bus_register(x->env->mmio, VTD_MMIO_BASE, VTD_MMIO_SIZE, &vtd_mmio,
                     x);
    x->mmio_registered = r == 0;
    if (r < 0) {
        snprintf(err, errlen, "--viommu intel: registers at %#llx: %s",
                 (unsigned long long)VTD_MMIO_BASE, strerror(-r));
        return r;
    }
    e.opaque = x->unit;
    r = x->env->devs ? devreg_add(x->env->devs, &e) : 0;
    x->joined = r == 0 && x->env->devs;
    if (r < 0)
        snprintf(err, errlen, "--viommu intel: device registry: %s",
                 strerror(-r));
    return r;
}

int viommu_vtd_create(const struct platform_env *env,
                      struct viommu_vtd **out, char *err, size_t errlen)
{
    struct viommu_vtd *x = calloc(1, sizeof(*x));
    struct vtd_params p;
    int r;

    *out = NULL;
    if (!x)
        return -ENOMEM;
    x->env = env;
    x->aw_bits = env->cfg->viommu.aw_bits;
    p = (struct vtd_params){ .aw_bits = x->aw_bits, .mem = &vtd_mem,
                             .mem_opaque = x };
    r = vtd_create(&p, &x->unit);
    if (r < 0) {
        snprintf(err, errlen, "--viommu intel,aw-bits=%u: %s", x->aw_bits,
                 strerror(-r));
        free(x);
        return r;
    }
    r = setup(x, err, errlen);
    if (r < 0) {
        viommu_vtd_destroy(x);
        return r;
    }
    *out = x;
    return 0;
}

void viommu_vtd_destroy(struct viommu_vtd *x)
{
    if (!x)
        return;
    if (x->joined)
        devreg_del(x->env->devs, VTD_STATE_ID);
    if (x->mmio_registered)
        bus_unregister(x->env->mmio, VTD_MMIO_BASE);
    vtd_destroy(x->unit);
    free(x);
}

int viommu_vtd_check(const struct viommu_vtd *x,
                     const struct host_iommu_dev *host, char *err,
                     size_t errlen)
{
    /* A mismatch is the user's options not fitting: exit 2 (main.c). */
    if (vtd_check(x->aw_bits, host, err, errlen))
        return -EINVAL;
    return vtd_check_ram(x->unit, host, err, errlen) ? -EINVAL : 0;
}

int viommu_vtd_attach(struct viommu_vtd *x, uint16_t bdf,
                      const struct host_iommu_dev *host,
                      const struct vtd_ep_ops *ops, void *opaque, char *err,
                      size_t errlen)
{
    int r = viommu_vtd_check(x, host, err, errlen);

    if (r)
        return r;
    r = vtd_add_ep(x->unit, bdf, host, ops, opaque);
    if (r >= 0)
        return 0;
    snprintf(err, errlen, "--viommu intel: %s: cannot attach: %s",
             host->name, r == -ENOSPC ? "too many endpoints" : strerror(-r));
    return r;
}

int viommu_vtd_translate(struct viommu_vtd *x, uint16_t bdf, uint64_t iova,
                         uint64_t len, uint32_t prot, uint64_t *gpa,
                         bool report)
{
    return vtd_translate(x->unit, bdf, iova, len, prot, gpa, report);
}

void viommu_vtd_report_fault(struct viommu_vtd *x, uint16_t bdf,
                             uint64_t iova, uint32_t prot)
{
    vtd_report_fault(x->unit, bdf, iova, prot);
}

void viommu_vtd_stats(struct viommu_vtd *x, struct json_object *arr)
{
    struct json_object *o = json_object_new_object();
    struct json_object *b = json_object_new_object();
    struct vtd_stats st;

    vtd_get_stats(x->unit, &st);
    json_object_object_add(o, "id", json_object_new_string("dmar0"));
    json_object_object_add(o, "kind", json_object_new_string("intel-iommu"));
    stats_put(b, "invalidations", st.invalidations);
    stats_put(b, "maps", st.maps);
    stats_put(b, "unmaps", st.unmaps);
    stats_put(b, "faults", st.faults);
    stats_put(b, "faults_dropped", st.faults_dropped);
    stats_put(b, "iq_errors", st.iq_errors);
    stats_put(b, "map_failures", st.map_failures);
    json_object_object_add(o, "iommu", b);
    json_object_array_add(arr, o);
}
