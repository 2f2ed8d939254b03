/* SPDX-License-Identifier: BSD-3-Clause */
/* The VT-d backend of the VM's vIOMMU (--viommu intel; docs/viommu.md):
 * the remapping unit (devices/vtd.h) on the MMIO bus at VTD_MMIO_BASE,
 * over guest RAM (vmm/memory.h) and the VM's MSI path (vmm/hv.h
 * msi_signal), in the device registry before every endpoint. Called by
 * the facade (minivmm/viommu.c) only; same threads and conventions as
 * minivmm/viommu.h. 0 or -errno. */
#ifndef MINIVMM_VIOMMU_VTD_H
#define MINIVMM_VIOMMU_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/host_iommu.h"
#include "devices/vtd.h"

struct json_object;
struct platform_env;
struct viommu_vtd;

/* The unit for env->cfg->viommu (model intel): guest RAM as its identity
 * map, registers on env->mmio, state joined as "vtd@dmar0". -errno with
 * the reason in @err. */
int viommu_vtd_create(const struct platform_env *env,
                      struct viommu_vtd **out, char *err, size_t errlen);
void viommu_vtd_destroy(struct viommu_vtd *x);

/* vtd_check() against the unit's aw-bits, then vtd_check_ram() against
 * its guest RAM: -EINVAL with one line in @err ("... aw-bits %d > host
 * aw-bits %d ..."). */
int viommu_vtd_check(const struct viommu_vtd *x,
                     const struct host_iommu_dev *host, char *err,
                     size_t errlen);

/* Check, then register PCI function @bdf (@ops may be NULL: an in-VMM
 * device). -EINVAL/-ENOSPC/-EEXIST with one line in @err. */
int viommu_vtd_attach(struct viommu_vtd *x, uint16_t bdf,
                      const struct host_iommu_dev *host,
                      const struct vtd_ep_ops *ops, void *opaque, char *err,
                      size_t errlen);

/* vtd_translate() and vtd_report_fault() (@prot 1 read, 2 write). */
int viommu_vtd_translate(struct viommu_vtd *x, uint16_t bdf, uint64_t iova,
                         uint64_t len, uint32_t prot, uint64_t *gpa,
                         bool report);
void viommu_vtd_report_fault(struct viommu_vtd *x, uint16_t bdf,
                             uint64_t iova, uint32_t prot);

/* Append the unit's entry to the API's "stats" devices array @arr:
 * {"id":"dmar0","kind":"intel-iommu","iommu":{...vtd_stats}}. */
void viommu_vtd_stats(struct viommu_vtd *x, struct json_object *arr);

#endif
