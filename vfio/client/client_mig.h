/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user client: migration (v2) and device identity.
 *
 * Spec: shared/spec/vfio-user.rst "VFIO_USER_DEVICE_FEATURE" (features
 * VFIO_DEVICE_FEATURE_MIGRATION, _MIG_DEVICE_STATE, _DMA_LOGGING_START/
 * STOP/REPORT), "VFIO_USER_MIG_DATA_READ", "VFIO_USER_MIG_DATA_WRITE".
 * The state machine itself is the server's: one SET of MIG_DEVICE_STATE
 * walks the whole path (vfio/migration.h has the same rules for checks).
 *
 * Same error convention as client.h: 0 or -errno; -ENODEV (device
 * failed), -EPROTO (the server broke the protocol: the device fails),
 * -(server errno) for an error reply. A server without the feature
 * answers with an error reply (typically -ENOTSUP).
 *
 * Typical use (vfio/pci_dev_state.c; live migration the same way):
 *
 *   source:      set_state(STOP_COPY) -> read_all() -> set_state(STOP)
 *                ... and set_state(RUNNING) to continue after a snapshot
 *   destination: set_state(RESUMING) -> write() -> set_state(RUNNING)
 *   pre-copy:    dma_log_start() / dma_log_report() / dma_log_stop() while
 *                the device runs (RUNNING or PRE_COPY)
 */
#ifndef MINIVMM_VFIO_CLIENT_MIG_H
#define MINIVMM_VFIO_CLIENT_MIG_H

#include <stddef.h>
#include <stdint.h>

#include "vfio/client/client.h"

/* Largest migration stream we accept from (or send to) one server. */
#define VFIO_CLIENT_MIG_DATA_MAX (32u << 20)

/* VFIO_DEVICE_FEATURE_MIGRATION GET: the VFIO_MIGRATION_* flags. A server
 * without migration support answers with an error (returned). -EPROTO if
 * the flags lack VFIO_MIGRATION_STOP_COPY (the spec requires it). */
int vfio_client_mig_flags(struct vfio_client *c, uint64_t *flags);

/* VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE GET / SET (enum
 * vfio_device_mig_state). SET completes the whole path before replying. */
int vfio_client_mig_get_state(struct vfio_client *c, uint32_t *state);
int vfio_client_mig_set_state(struct vfio_client *c, uint32_t state);

/* MIG_DATA_READ until the server returns less than asked (the stream is
 * drained), chunked at max_data_xfer_size. *@buf (malloc'd, NULL when
 * *@len is 0) holds the data. -EFBIG beyond @max bytes. */
int vfio_client_mig_read_all(struct vfio_client *c, size_t max, void **buf,
                             size_t *len);

/* MIG_DATA_WRITE @len bytes, chunked at max_data_xfer_size. */
int vfio_client_mig_write(struct vfio_client *c, const void *buf,
                          size_t len);

/* DMA logging (DEVICE_FEATURE_DMA_LOGGING_*). Start logging writes to
 * @n ranges (n == 0: everything) at @page_size (a hint; the page size the
 * server chose comes back in *@chosen, may be NULL). */
struct vfio_client_log_range {
    uint64_t iova, length;
};
int vfio_client_dma_log_start(struct vfio_client *c, uint64_t page_size,
                              const struct vfio_client_log_range *r,
                              unsigned int n, uint64_t *chosen);
/* Read-and-clear the pages the server wrote in [@iova, @iova + @length):
 * bit i of @bitmap (u64 words, (length / page_size + 63) / 64 of them,
 * zeroed first) = page @iova + i * @page_size. Split into requests whose
 * replies fit max_data_xfer_size. @page_size: a power of two >= 4096,
 * @iova and @length multiples of it. */
int vfio_client_dma_log_report(struct vfio_client *c, uint64_t iova,
                               uint64_t length, uint64_t page_size,
                               uint64_t *bitmap);
int vfio_client_dma_log_stop(struct vfio_client *c);

/* The DMA windows mapped now (sorted by iova): up to @max into @out, the
 * total count in *@n. For the snapshot's IOMMU summary. */
struct vfio_client_window {
    uint64_t iova, size;
    uint32_t prot;      /* IOMMU_PROT_* */
    uint32_t fd_backed; /* 1: mapped with an fd (dma=fd) */
    uint64_t fd_offset; /* offset of iova in the backing (guest RAM) */
};
void vfio_client_dma_windows(struct vfio_client *c,
                             struct vfio_client_window *out, size_t max,
                             size_t *n);

/* ---- identity: what a snapshot and the server restoring it must share */

struct vfio_client_identity {
    uint32_t flags;       /* DEVICE_GET_INFO */
    uint32_t num_regions;
    uint32_t num_irqs;
    struct {
        uint64_t size;
        uint32_t flags;   /* READ | WRITE | MMAP only */
    } region[VFIO_CLIENT_MAX_REGIONS];
    struct {
        uint32_t count;
        uint32_t flags;   /* VFIO_IRQ_INFO_* */
    } irq[VFIO_CLIENT_MAX_IRQS];
};

/* Ask the server (DEVICE_GET_INFO, GET_REGION_INFO and GET_IRQ_INFO of
 * every region and IRQ index). Unused entries are zero. */
int vfio_client_identity(struct vfio_client *c,
                         struct vfio_client_identity *out);

/* 0 if @now matches @saved; else -EINVAL and the first difference, named
 * (e.g. "region 2 size 0x4000, the snapshot has 0x8000"), in @why. */
int vfio_client_identity_diff(const struct vfio_client_identity *saved,
                              const struct vfio_client_identity *now,
                              char *why, size_t len);

#endif
