/* SPDX-License-Identifier: BSD-3-Clause */
/* Host IOMMU devices and the vIOMMU's attach check (see host_iommu.h). */
#include "devices/host_iommu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void host_iommu_caps_vmm(struct host_iommu_caps *caps)
{
    memset(caps, 0, sizeof(*caps));
    caps->pgsizes = ~(uint64_t)0xfff;
    caps->iova_bits = 64;
}

const char *host_iommu_size_str(uint64_t bytes, char *buf, size_t len)
{
    static const char unit[] = "KMGTPE";
    unsigned int u = 0;
    uint64_t v = bytes;

    if (!bytes || (bytes & (bytes - 1)) || bytes < 1024) {
        snprintf(buf, len, "%llu", (unsigned long long)bytes);
        return buf;
    }
    v >>= 10;
    while (v >= 1024 && u + 1 < sizeof(unit) - 1) {
        v >>= 10;
        u++;
    }
    snprintf(buf, len, "%llu%c", (unsigned long long)v, unit[u]);
    return buf;
}

int host_iommu_size_parse(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    unsigned int shift = 0;

    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -EINVAL;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift)
        end++;
    if (*end || v == 0 || v > (1ULL << 30) >> shift)
        return -EINVAL;
    v <<= shift;
    if ((v & (v - 1)) || v < 4096 || v > (1ULL << 30))
        return -EINVAL;
    *out = v;
    return 0;
}

static uint64_t lowest_bit(uint64_t x)
{
    return x & -x;
}

static int check_granule(const struct viommu_promise *v,
                         const struct host_iommu_dev *d, char *err,
                         size_t errlen)
{
    uint64_t dmin = lowest_bit(d->caps.pgsizes);
    char a[16], b[16];

    if (dmin <= v->page_size)
        return 0;
    snprintf(err, errlen, "%s: smallest DMA page size %s (page sizes "
             "%#llx) is larger than the vIOMMU's %s pages (--viommu "
             "virtio,page-size=%s); use page-size=%s",
             d->name, host_iommu_size_str(dmin, a, sizeof(a)),
             (unsigned long long)d->caps.pgsizes,
             host_iommu_size_str(v->page_size, b, sizeof(b)), b, a);
    return -ENOTSUP;
}

static int check_width(const struct viommu_promise *v,
                       const struct host_iommu_dev *d, char *err,
                       size_t errlen)
{
    if (v->input_bits <= d->caps.iova_bits)
        return 0;
    snprintf(err, errlen, "%s: IOVA width %u bits is below the vIOMMU's "
             "input range of %u bits (--viommu virtio,input-bits=%u); use "
             "input-bits=%u", d->name, d->caps.iova_bits, v->input_bits,
             v->input_bits, d->caps.iova_bits);
    return -ENOTSUP;
}

static int check_maps(const struct viommu_promise *v,
                      const struct host_iommu_dev *d, char *err,
                      size_t errlen)
{
    if (!d->caps.max_mappings || d->caps.max_mappings >= v->bypass_windows)
        return 0;
    snprintf(err, errlen, "%s: at most %llu DMA mappings, the vIOMMU's "
             "bypass (identity) map of guest RAM needs %llu; use a device "
             "allowing %llu (vfu-blk --max-dma-maps %llu) or a --memory "
             "below the PCI hole (one RAM region)", d->name,
             (unsigned long long)d->caps.max_mappings,
             (unsigned long long)v->bypass_windows,
             (unsigned long long)v->bypass_windows,
             (unsigned long long)v->bypass_windows);
    return -ENOTSUP;
}

static int check_resv(const struct viommu_promise *v,
                      const struct host_iommu_dev *d, char *err,
                      size_t errlen)
{
    for (unsigned int i = 0; i < d->caps.nresv; i++) {
        const struct host_iommu_range *r = &d->caps.resv[i];

        if (r->start > v->ram_last)
            continue;
        snprintf(err, errlen, "%s: reserves IOVAs [%#llx, %#llx], inside "
                 "the vIOMMU's bypass (identity) map of guest RAM [0, "
                 "%#llx]; use a --memory of at most %#llx bytes", d->name,
                 (unsigned long long)r->start, (unsigned long long)r->last,
                 (unsigned long long)v->ram_last,
                 (unsigned long long)r->start);
        return -ENOTSUP;
    }
    return 0;
}

int host_iommu_check(const struct viommu_promise *v,
                     const struct host_iommu_dev *dev, char *err,
                     size_t errlen)
{
    int r;

    if (!dev->caps.pgsizes || dev->caps.iova_bits < 12 ||
        dev->caps.iova_bits > 64 || dev->caps.nresv > HOST_IOMMU_MAX_RESV) {
        snprintf(err, errlen, "%s: malformed host IOMMU capabilities "
                 "(page sizes %#llx, %u IOVA bits, %u reserved ranges)",
                 dev->name, (unsigned long long)dev->caps.pgsizes,
                 dev->caps.iova_bits, dev->caps.nresv);
        return -EINVAL;
    }
    r = check_granule(v, dev, err, errlen);
    if (r == 0)
        r = check_width(v, dev, err, errlen);
    if (r == 0)
        r = check_maps(v, dev, err, errlen);
    if (r == 0)
        r = check_resv(v, dev, err, errlen);
    return r;
}
