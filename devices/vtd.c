/* SPDX-License-Identifier: BSD-3-Clause */
/* Intel VT-d remapping unit (see vtd.h). Skeleton: the interface builds;
 * the model follows. */
#include "devices/vtd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/state.h"

struct vtd {
    struct vtd_params p;
};

int vtd_create(const struct vtd_params *p, struct vtd **out)
{
    struct vtd *u;

    if (!p || !p->mem || !p->mem->read || !p->mem->write || !p->mem->msi ||
        (p->aw_bits != 39 && p->aw_bits != 48))
        return -EINVAL;
    u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    u->p = *p;
    *out = u;
    return 0;
}

void vtd_destroy(struct vtd *u) { free(u); }
int vtd_add_ram(struct vtd *u, uint64_t gpa, uint64_t size)
{ (void)u; (void)gpa; (void)size; return 0; }
int vtd_add_ep(struct vtd *u, uint16_t bdf, const struct host_iommu_dev *host,
               const struct vtd_ep_ops *ops, void *opaque)
{ (void)u; (void)bdf; (void)host; (void)ops; (void)opaque; return 0; }
int vtd_check(unsigned int aw_bits, const struct host_iommu_dev *host,
              char *err, size_t errlen)
{
    if (aw_bits <= host->caps.iova_bits)
        return 0;
    snprintf(err, errlen, "%s: aw-bits %u > host aw-bits %u", host->name,
             aw_bits, host->caps.iova_bits);
    return -EINVAL;
}
void vtd_mmio_read(struct vtd *u, uint64_t off, void *data, uint32_t len)
{ (void)u; (void)off; memset(data, 0xff, len); }
void vtd_mmio_write(struct vtd *u, uint64_t off, const void *data,
                    uint32_t len)
{ (void)u; (void)off; (void)data; (void)len; }
int vtd_translate(struct vtd *u, uint16_t bdf, uint64_t iova, uint64_t len,
                  uint32_t perm, uint64_t *gpa, bool report)
{ (void)u; (void)bdf; (void)len; (void)perm; (void)report; *gpa = iova;
  return 0; }
void vtd_report_fault(struct vtd *u, uint16_t bdf, uint64_t iova,
                      uint32_t perm)
{ (void)u; (void)bdf; (void)iova; (void)perm; }
void vtd_reset(struct vtd *u) { (void)u; }
void vtd_get_stats(struct vtd *u, struct vtd_stats *st)
{ (void)u; memset(st, 0, sizeof(*st)); }
static int vtd_save(void *o, void *fdt, int node)
{ (void)o; (void)fdt; (void)node; return 0; }
static int vtd_load(void *o, const void *fdt, int node)
{ (void)o; (void)fdt; (void)node; return 0; }
const struct state_ops vtd_state_ops = { .save = vtd_save, .load = vtd_load };
