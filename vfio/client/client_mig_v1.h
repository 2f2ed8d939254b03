/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user client: region-based migration "v1" and DIRTY_PAGES, as in
 * the older protocol revision (shared/spec/vfio-user-0.9.1.rst, "VFIO
 * Device Migration Info", "VFIO_USER_DIRTY_PAGES"). Servers built on it
 * exist (libvfio-user as shipped in Debian's QEMU 7.2 source, older SPDK).
 *
 * The device's migration region (found by its VFIO_REGION_INFO_CAP_TYPE
 * VFIO_USER_REGION_TYPE_MIGRATION / _SUBTYPE_MIGRATION) begins with struct
 * vfio_user_migration_info; every register is read and written with
 * REGION_READ/WRITE of exactly its size at its offset (libvfio-user
 * refuses other accesses). The data section is read and written with
 * REGION_READ/WRITE too (never mmap'd: the spec allows mmap, but nothing
 * needs it). device_state values are VFIO_USER_MIG_V1_STATE_*; the legal
 * transitions are vfio/migration.h vfio_user_mig_v1_transition().
 *
 * The saved stream: the spec wants the destination written "in the same
 * order and transaction size as read", so the client keeps the chunk
 * boundaries: the stream is a sequence of records, each a little-endian
 * u64 byte count followed by that many bytes (one record per data_size
 * read). This framing is minivmm's, inside the snapshot's server-state.
 *
 * Same error convention as client.h: 0 or -errno; -EPROTO (and the device
 * fails) for a server that breaks the protocol (a register out of range,
 * a data window outside the region, a bitmap reply of the wrong shape),
 * -(server errno) for an error reply.
 */
#ifndef MINIVMM_VFIO_CLIENT_MIG_V1_H
#define MINIVMM_VFIO_CLIENT_MIG_V1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/client/client.h"

/* Zero-size data chunks tolerated in a row before the server is refused
 * (pending_bytes != 0 but nothing offered: a server that never ends). */
#define VFIO_CLIENT_MIG_V1_IDLE_MAX 16u

/* Where the migration region is. */
struct vfio_client_mig_v1 {
    uint32_t region;  /* region index */
    uint64_t size;    /* region bytes (> 32) */
};

/* Look among regions [0, @num_regions) for the migration region (region
 * info with the migration type capability). 0 and *@out when found;
 * -ENOENT when there is none; other -errno from the client. */
int vfio_client_mig_v1_find(struct vfio_client *c, uint32_t num_regions,
                            struct vfio_client_mig_v1 *out);

/* device_state: read (validated: one of the v1 states) / write. A write
 * the server refuses returns its errno; the state is then re-read into
 * *@now when @now is not NULL (spec: "the client must re-read"). */
int vfio_client_mig_v1_get_state(struct vfio_client *c,
                                 const struct vfio_client_mig_v1 *m,
                                 uint32_t *state);
int vfio_client_mig_v1_set_state(struct vfio_client *c,
                                 const struct vfio_client_mig_v1 *m,
                                 uint32_t state, uint32_t *now);

/* Save (device in STOP_COPY or PRE_COPY): the spec's iteration
 * (pending_bytes, data_offset, data_size, data) until pending_bytes is 0,
 * appending one record per chunk to *@buf (malloc'd; NULL when *@len is
 * 0). -EFBIG beyond @max bytes of stream. */
int vfio_client_mig_v1_save(struct vfio_client *c,
                            const struct vfio_client_mig_v1 *m, size_t max,
                            void **buf, size_t *len);

/* Load (device in RESUMING): for each record, read data_offset, write the
 * record there, write data_size. -EINVAL for a malformed stream. */
int vfio_client_mig_v1_load(struct vfio_client *c,
                            const struct vfio_client_mig_v1 *m,
                            const void *buf, size_t len);

/* Stream framing (pure). Append a record of @n bytes at @data to the
 * stream *@buf of *@len bytes (capacity *@cap, grown by realloc). */
int vfio_mig_v1_stream_put(uint8_t **buf, size_t *len, size_t *cap,
                           const void *data, uint64_t n);
/* Next record at *@pos of the @len-byte stream: its bytes in *@rec and
 * count in *@n, *@pos advanced. 1 for a record, 0 at the end, -EINVAL for
 * a truncated record or one above @max bytes. */
int vfio_mig_v1_stream_next(const uint8_t *buf, size_t len, size_t *pos,
                            uint64_t max, const uint8_t **rec, uint64_t *n);

/* VFIO_USER_DIRTY_PAGES START / STOP (VFIO_IOMMU_DIRTY_PAGES_FLAG_*). */
int vfio_client_dirty_pages(struct vfio_client *c, uint32_t flag);

/* VFIO_USER_DIRTY_PAGES GET_BITMAP for [@iova, @iova + @size) at
 * @pgsize (the negotiated migration pgsize): bit i of @bitmap (u64 words,
 * (size / pgsize + 63) / 64 of them) = page @iova + i * @pgsize, read and
 * cleared by the server. One request (libvfio-user only answers ranges
 * that are exactly one DMA map): -E2BIG when the reply would not fit
 * max_data_xfer_size or the bitmap exceeds the server's stated
 * "max_bitmap_size". The reply must echo the range and carry exactly the
 * bitmap asked for, else -EPROTO. */
int vfio_client_dirty_bitmap(struct vfio_client *c, uint64_t iova,
                             uint64_t size, uint64_t pgsize,
                             uint64_t *bitmap);

#endif
