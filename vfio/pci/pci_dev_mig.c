/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: the server's migration data (see pci_dev_mig.h). */
#include "vfio/pci/pci_dev_mig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfio/client/client_mig.h"
#include "vmm/dirty.h"

#define PG          4096ull
#define MAX_WINDOWS 64u

void vpd_mig_free_saved(struct vpd_mig *m)
{
    free(m->data);
    m->data = NULL;
    m->len = 0;
    m->saved = false;
}

void vpd_mig_free_pre(struct vpd_mig *m)
{
    free(m->pre_data);
    m->pre_data = NULL;
    m->pre_len = 0;
    m->pre_in_stream = false;
}

int vpd_mig_pre_append(struct vpd_mig *m, void *buf, size_t len)
{
    uint8_t *nb;

    if (!len) {
        free(buf);
        return 0;
    }
    nb = realloc(m->pre_data, m->pre_len + len);
    if (!nb) {
        free(buf);
        return -ENOMEM;
    }
    memcpy(nb + m->pre_len, buf, len);
    m->pre_data = nb;
    m->pre_len += len;
    free(buf);
    return 0;
}

int vpd_mig_join(struct vpd_mig *m, const char *tag)
{
    size_t n = m->pre_len + m->len;
    uint8_t *buf;

    vpd_say(m->ctx, LOG_INFO, "migration stream: %zu bytes in pre-copy, "
            "%zu bytes at stop-copy%s", m->pre_len, m->len, tag);
    if (!m->pre_len)
        return 0;
    if (n > VFIO_CLIENT_MIG_DATA_MAX)
        return -EFBIG;
    buf = malloc(n);
    if (!buf)
        return -ENOMEM;
    memcpy(buf, m->pre_data, m->pre_len);
    if (m->len)
        memcpy(buf + m->pre_len, m->data, m->len);
    free(m->data);
    m->data = buf;
    m->len = n;
    return 0;
}

/* The pages the server wrote in window @w, ORed into @bits. */
static int sync_window(struct vpd_ctx *ctx, const struct vfio_client_window *w,
                       vpd_report_fn report, uint64_t *bits, uint64_t npages,
                       uint64_t *count)
{
    uint64_t first = w->fd_offset / PG, pages = w->size / PG;
    uint64_t *bm;
    int r;

    if ((w->iova | w->size | w->fd_offset) % PG || first >= npages)
        return -EINVAL;
    bm = calloc(dirty_words(pages), sizeof(uint64_t));
    if (!bm)
        return -ENOMEM;
    r = report(ctx->client, w->iova, w->size, PG, bm);
    if (r == 0)
        *count += dirty_bits_or_at(bits, first, bm,
                                   pages < npages - first ? pages
                                                          : npages - first);
    free(bm);
    return r;
}

int vpd_mig_sync_windows(struct vpd_ctx *ctx, vpd_report_fn report,
                         bool forgive_unbacked, uint64_t *bits,
                         uint64_t npages, uint64_t *count)
{
    struct vfio_client_window w[MAX_WINDOWS];
    size_t n;
    int r = 0;

    *count = 0;
    vfio_client_dma_windows(ctx->client, w, MAX_WINDOWS, &n);
    if (n > MAX_WINDOWS)
        return -E2BIG;
    for (size_t i = 0; i < n && r == 0; i++) {
        r = sync_window(ctx, &w[i], report, bits, npages, count);
        /* A window without an fd: the server writes it through DMA_WRITE
         * messages (client_dma.c serves them); libvfio-user cannot report
         * such windows (EINVAL), ours can. Only its errno is forgiven,
         * never a broken reply. */
        if (forgive_unbacked && r < 0 && !w[i].fd_backed &&
            !vfio_client_failed(ctx->client) && r != -ENOMEM)
            r = 0;
    }
    return r;
}
