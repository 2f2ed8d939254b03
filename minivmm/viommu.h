/* SPDX-License-Identifier: BSD-3-Clause */
/* The VM's virtual IOMMU (--viommu; docs/viommu.md): the virtio-iommu PCI
 * function (virtio) or the VT-d remapping unit (intel,
 * minivmm/viommu_vtd.c), the endpoints behind it and their host IOMMU
 * devices. One API for both: the device builders need not know which.
 *
 * Every PCI function behind the vIOMMU is attached at creation with its
 * host IOMMU device (devices/host_iommu.h); viommu_attach() checks it
 * against what the vIOMMU promises the guest (page granule, input range,
 * the identity map of RAM for bypass) and refuses a device that cannot
 * honour it, before the guest starts. Endpoints with ops get every change
 * of their windows (guest MAP/UNMAP, ATTACH/DETACH, bypass) as map/unmap
 * calls before the guest's request completes; endpoints without ops (in-VMM
 * devices) translate through viommu_translate().
 *
 * Threads: attach at creation (main thread); requests on the event loop;
 * translate from any thread (an internal lock). 0 or -errno.
 */
#ifndef MINIVMM_VIOMMU_H
#define MINIVMM_VIOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/host_iommu.h"

struct json_object;
struct viommu;
struct platform_env;
struct virtio_iommu;
struct virtio_iommu_params;

/* What an endpoint's DMA backend does when its windows change: [iova,
 * last] (inclusive) now reaches guest-physical @gpa with @prot
 * (1 read, 2 write). map: 0 or -errno (-ENOSPC: out of mappings). */
struct viommu_ep_ops {
    int (*map)(void *opaque, uint64_t iova, uint64_t last, uint64_t gpa,
               uint32_t prot);
    void (*unmap)(void *opaque, uint64_t iova, uint64_t last);
};

/* Create the vIOMMU for env->cfg->viommu (NULL *@out when it is off):
 * its promise to the guest; the device comes with virtio_devs.c. 0 or
 * -errno with the reason in @err. */
int viommu_create(const struct platform_env *env, struct viommu **out,
                  char *err, size_t errlen);
void viommu_destroy(struct viommu *v);

/* Whether virtio_devs.c must build the virtio-iommu function (model
 * virtio; the VT-d unit has no PCI function). false for NULL. */
bool viommu_has_device(const struct viommu *v);

/* The API's "stats": append the VT-d unit's entry to the devices array
 * @arr (the virtio-iommu's comes with the virtio devices). NULL: none. */
void viommu_stats(struct viommu *v, struct json_object *arr);

/* For virtio_devs.c, which registers the virtio-iommu function first:
 * the model's parameters (granule, input range, the endpoint sink), then
 * the model and its BDF once it is on the bus (guest RAM becomes its
 * identity map). 0 or -errno. */
void viommu_model_params(const struct viommu *v,
                         struct virtio_iommu_params *p);
int viommu_set_device(struct viommu *v, struct virtio_iommu *model,
                      uint16_t bdf);

/* The VIOT topology: the virtio-iommu's BDF and up to @max endpoint BDFs
 * (returns how many; 0 with the VT-d unit, whose DMAR covers every PCI
 * device). */
unsigned int viommu_topology(const struct viommu *v, uint16_t *iommu_bdf,
                             uint16_t *eps, unsigned int max);

/* A DMA fault of endpoint @bdf at @iova (@prot: 1 read, 2 write), e.g. a
 * vfio-user server's DMA_READ/WRITE outside its windows: reported to the
 * guest on the event queue (VT-d: a fault record and its event). */
void viommu_report_fault(struct viommu *v, uint16_t bdf, uint64_t iova,
                         uint32_t prot);

/* Check @host against the vIOMMU's promise (host_iommu_check(); VT-d:
 * vtd_check(), the aw-bits against the device's IOVA width): 0, or
 * -EINVAL with one line in @err naming the device, the capability, both
 * values and the option that would fit. */
int viommu_check(const struct viommu *v, const struct host_iommu_dev *host,
                 char *err, size_t errlen);

/* Attach PCI function @bdf with host IOMMU device @host; @ops (may be
 * NULL) and @opaque stay referenced. The device starts in bypass (its
 * windows are the identity map of guest RAM, which its creator has
 * already mapped). -EINVAL with one line in @err when @host does not fit
 * (host_iommu_check()), -ENOSPC when too many endpoints. */
int viommu_attach(struct viommu *v, uint16_t bdf,
                  const struct host_iommu_dev *host,
                  const struct viommu_ep_ops *ops, void *opaque, char *err,
                  size_t errlen);

/* Translate [@iova, @iova + @len) of endpoint @bdf for access @prot
 * (1 read, 2 write): 0 and *@gpa, -EFAULT (not mapped; with @report also
 * reported on the event queue), -EPERM, -ENOENT (not an endpoint). */
int viommu_translate(struct viommu *v, uint16_t bdf, uint64_t iova,
                     uint64_t len, uint32_t prot, uint64_t *gpa, bool report);

#endif
