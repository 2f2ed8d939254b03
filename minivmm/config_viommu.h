/* SPDX-License-Identifier: BSD-3-Clause */
/* --viommu virtio[,input-bits=N][,page-size=SIZE] and
 * --viommu intel[,aw-bits=39|48][,caching-mode=on]
 * (minivmm/config_viommu.c, docs/viommu.md). Pure. */
#ifndef MINIVMM_CONFIG_VIOMMU_H
#define MINIVMM_CONFIG_VIOMMU_H

#include <stddef.h>

#include "minivmm/config_types.h"

/* --viommu TEXT into cfg->viommu: "virtio", then input-bits=12..64 and
 * page-size=4K..1G (a power of 2); or "intel", then aw-bits=39|48
 * (default 48) and caching-mode=on (off is refused: caching mode is
 * always on). 0 or -EINVAL with the reason in @err. */
int config_parse_viommu(const char *arg, struct vm_config *cfg, char *err,
                        size_t errlen);

/* After every option: what --viommu intel does not combine with (--cpus
 * above 255: no interrupt remapping, so xAPIC; iommu=off on a device:
 * the DMAR's INCLUDE_PCI_ALL covers it). 0 or -EINVAL with @err. */
int config_viommu_check(const struct vm_config *cfg, char *err,
                        size_t errlen);

/* The --viommu text for @v (config_to_json) into @buf (@len bytes). */
void config_viommu_str(const struct config_viommu *v, char *buf, size_t len);

#endif
