/* SPDX-License-Identifier: BSD-3-Clause */
/* IOVA-translating guest memory for in-VMM virtio devices behind the
 * vIOMMU (see virtio_viommu.h). */
#include "minivmm/virtio_viommu.h"

#include <errno.h>

#include "minivmm/viommu.h"

#define PG 4096u

static int xlate(struct virtio_viommu_mem *m, uint64_t iova, uint64_t len,
                 bool write, uint64_t *gpa, bool report)
{
    if (!m->attached) {
        *gpa = iova;
        return 0;
    }
    return viommu_translate(m->viommu, m->bdf, iova, len, write ? 2 : 1, gpa,
                            report);
}

static void *vv_translate(void *opaque, uint64_t iova, uint64_t len,
                          bool write)
{
    struct virtio_viommu_mem *m = opaque;
    uint64_t gpa;

    if (xlate(m, iova, len, write, &gpa, false))
        return NULL;
    return virtio_mem_translate(&m->inner, gpa, len, write);
}

/* Copy page by page: a buffer may span several mappings. */
static int copy(struct virtio_viommu_mem *m, uint64_t iova, uint8_t *buf,
                uint64_t len, bool to_guest)
{
    while (len) {
        uint64_t n = PG - (iova & (PG - 1)), gpa;
        int r;

        if (n > len)
            n = len;
        r = xlate(m, iova, n, to_guest, &gpa, true);
        if (r)
            return -EFAULT;
        r = to_guest ? virtio_mem_write(&m->inner, gpa, buf, n)
                     : virtio_mem_read(&m->inner, gpa, buf, n);
        if (r)
            return r;
        iova += n;
        buf += n;
        len -= n;
    }
    return 0;
}

static int vv_read(void *opaque, uint64_t iova, void *buf, uint64_t len)
{
    return copy(opaque, iova, buf, len, false);
}

static int vv_write(void *opaque, uint64_t iova, const void *buf,
                    uint64_t len)
{
    return copy(opaque, iova, (uint8_t *)(uintptr_t)buf, len, true);
}

static void vv_mark_dirty(void *opaque, uint64_t iova, uint64_t len)
{
    struct virtio_viommu_mem *m = opaque;

    while (len) {
        uint64_t n = PG - (iova & (PG - 1)), gpa;

        if (n > len)
            n = len;
        if (!xlate(m, iova, n, true, &gpa, false))
            virtio_mem_mark_dirty(&m->inner, gpa, n);
        iova += n;
        len -= n;
    }
}

static const struct virtio_mem_ops vv_ops = {
    .translate = vv_translate, .read = vv_read, .write = vv_write,
    .mark_dirty = vv_mark_dirty,
};

void virtio_viommu_mem_init(struct virtio_viommu_mem *m,
                            const struct virtio_mem *inner, struct viommu *v,
                            struct virtio_mem *out)
{
    m->inner = *inner;
    m->viommu = v;
    m->attached = false;
    *out = (struct virtio_mem){ &vv_ops, m };
}

void virtio_viommu_mem_attach(struct virtio_viommu_mem *m, uint16_t bdf)
{
    m->bdf = bdf;
    m->attached = true;
}
