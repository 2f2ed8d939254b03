/* SPDX-License-Identifier: BSD-3-Clause */
/* Software IOMMU (see iommu.h). */
#include "vfio/client/iommu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void iommu_init(struct iommu *m, size_t max_windows)
{
    memset(m, 0, sizeof(*m));
    m->max_windows = max_windows;
}

void iommu_fini(struct iommu *m)
{
    free(m->w);
    memset(m, 0, sizeof(*m));
}

static uint64_t last_byte(const struct iommu_window *w)
{
    return w->iova + (w->size - 1);
}

/* Index of the first window whose last byte is >= @iova. */
static size_t lower_bound(const struct iommu *m, uint64_t iova)
{
    size_t lo = 0, hi = m->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (last_byte(&m->w[mid]) < iova)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int iommu_map(struct iommu *m, const struct iommu_window *w)
{
    size_t i;

    if (w->size == 0 || last_byte(w) < w->iova ||
        !(w->prot & (IOMMU_PROT_READ | IOMMU_PROT_WRITE)))
        return -EINVAL;
    if (m->max_windows && m->n >= m->max_windows)
        return -ENOSPC;
    i = lower_bound(m, w->iova);
    if (i < m->n && m->w[i].iova <= last_byte(w))
        return -EEXIST;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        struct iommu_window *n = realloc(m->w, cap * sizeof(*n));

        if (!n)
            return -ENOMEM;
        m->w = n;
        m->cap = cap;
    }
    memmove(&m->w[i + 1], &m->w[i], (m->n - i) * sizeof(*m->w));
    m->w[i] = *w;
    m->n++;
    return 0;
}

int iommu_unmap(struct iommu *m, uint64_t iova, uint64_t size)
{
    size_t i = lower_bound(m, iova);

    if (i >= m->n || m->w[i].iova != iova || m->w[i].size != size)
        return -ENOENT;
    memmove(&m->w[i], &m->w[i + 1], (m->n - i - 1) * sizeof(*m->w));
    m->n--;
    return 0;
}

static const struct iommu_window *find(const struct iommu *m, uint64_t iova)
{
    size_t i = lower_bound(m, iova);

    if (i < m->n && m->w[i].iova <= iova)
        return &m->w[i];
    return NULL;
}

void *iommu_translate(const struct iommu *m, uint64_t iova, uint64_t len,
                      uint32_t prot)
{
    const struct iommu_window *w = find(m, iova);
    uint64_t off;

    if (!w || !w->hva || (w->prot & prot) != prot)
        return NULL;
    off = iova - w->iova;
    if (len > w->size - off)
        return NULL;
    return (uint8_t *)w->hva + off;
}

/* Walk [iova, iova+len) window by window; checks everything before
 * copying anything. */
static int dma_copy(const struct iommu *m, uint64_t iova, uint8_t *buf,
                    uint64_t len, uint32_t prot, bool to_guest)
{
    for (int pass = 0; pass < 2; pass++) {
        uint64_t a = iova, left = len;
        uint8_t *b = buf;

        while (left) {
            const struct iommu_window *w = find(m, a);
            uint64_t off, n;

            if (!w || !w->hva)
                return -EFAULT;
            if ((w->prot & prot) != prot)
                return -EPERM;
            off = a - w->iova;
            n = w->size - off < left ? w->size - off : left;
            if (pass == 1 && to_guest)
                memcpy((uint8_t *)w->hva + off, b, n);
            else if (pass == 1)
                memcpy(b, (uint8_t *)w->hva + off, n);
            a += n;
            b += n;
            left -= n;
            if (left && a == 0)
                return -EFAULT; /* wrapped */
        }
    }
    return 0;
}

int iommu_dma_read(const struct iommu *m, uint64_t iova, void *buf,
                   uint64_t len)
{
    return dma_copy(m, iova, buf, len, IOMMU_PROT_READ, false);
}

int iommu_dma_write(const struct iommu *m, uint64_t iova, const void *buf,
                    uint64_t len)
{
    return dma_copy(m, iova, (uint8_t *)(uintptr_t)buf, len,
                    IOMMU_PROT_WRITE, true);
}

int iommu_caps_check(const struct iommu_caps *caps,
                     const struct iommu_needs *needs, char *err,
                     size_t errlen)
{
    if (!(caps->pgsizes & needs->page_size)) {
        snprintf(err, errlen, "server page sizes %#llx do not include the "
                 "VM's %llu-byte pages",
                 (unsigned long long)caps->pgsizes,
                 (unsigned long long)needs->page_size);
        return -ENOTSUP;
    }
    if (caps->max_dma_maps && caps->max_dma_maps < needs->nwindows) {
        snprintf(err, errlen, "server allows %llu DMA maps; the VM needs "
                 "%llu", (unsigned long long)caps->max_dma_maps,
                 (unsigned long long)needs->nwindows);
        return -ENOTSUP;
    }
    if (caps->iova_bits < 64 && needs->max_iova >> caps->iova_bits) {
        snprintf(err, errlen, "server IOVA width %u bits cannot reach guest "
                 "address %#llx", caps->iova_bits,
                 (unsigned long long)needs->max_iova);
        return -ENOTSUP;
    }
    if (caps->max_data_xfer_size < needs->min_xfer) {
        snprintf(err, errlen, "server max_data_xfer_size %llu is below the "
                 "%llu bytes the client needs",
                 (unsigned long long)caps->max_data_xfer_size,
                 (unsigned long long)needs->min_xfer);
        return -ENOTSUP;
    }
    return 0;
}
