/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user server core: the client's DMA maps, message-based DMA
 * (DMA_READ/WRITE through the endpoint) and DMA dirty logging
 * (server_dma.c). Spec: vfio-user.rst "VFIO_USER_DMA_MAP",
 * "VFIO_USER_DMA_UNMAP", "VFIO_USER_DMA_READ", "VFIO_USER_DMA_WRITE",
 * "VFIO_DEVICE_FEATURE_DMA_LOGGING_*". Errors: 0 or a negative errno. */
#ifndef MINIVMM_VFIO_SERVER_DMA_H
#define MINIVMM_VFIO_SERVER_DMA_H

#include "vfio/server/server_core.h"

/* Host pointer for client DMA range [@iova, @iova + @len) if it lies in
 * one fd-backed DMA map with the needed permission (@write: the device will
 * write; the pages are then marked dirty when logging), else NULL. */
void *vfio_srv_dma_translate(struct vfio_srv *s, uint64_t iova,
                             uint64_t len, bool write);

/* Copy @len bytes from/to client DMA memory: memcpy for fd-backed maps,
 * else VFIO_USER_DMA_READ/WRITE messages of at most the negotiated
 * max_data_xfer_size each (on the twin socket when negotiated). Writes
 * are dirty-logged. 0, -EFAULT (not mapped / no permission), -ENOTCONN,
 * or the peer's error. */
int vfio_srv_dma_read(struct vfio_srv *s, uint64_t iova, void *buf,
                      uint64_t len);
int vfio_srv_dma_write(struct vfio_srv *s, uint64_t iova, const void *buf,
                       uint64_t len);

/* Posted DMA write: as vfio_srv_dma_write(), but message-based writes
 * return once their DMA_WRITE messages are in the socket (@buf may be
 * reused then) without waiting for the replies: several are in flight at
 * once (spec "Command Concurrency"; replies matched by msg_id), at most
 * SRV_DMA_POSTED messages (more wait for the oldest). Fd-backed maps are
 * written at once. 0 or -errno for what fails before sending (-EFAULT,
 * -ENOTCONN); a failed reply shows in vfio_srv_dma_flush(). */
int vfio_srv_dma_write_posted(struct vfio_srv *s, uint64_t iova,
                              const void *buf, uint64_t len);
/* Posted DMA read: the DMA_READs are sent and the data lands in @buf
 * (which must stay valid) by vfio_srv_dma_flush() at the latest; before
 * a 0 from the flush its contents are undefined. Fd-backed: copied now. */
int vfio_srv_dma_read_posted(struct vfio_srv *s, uint64_t iova, void *buf,
                             uint64_t len);
/* Wait for the replies of every posted write: 0, or the first error
 * (-errno: the peer's error, -EPROTO for a malformed reply, -ENODEV when
 * the connection failed). */
int vfio_srv_dma_flush(struct vfio_srv *s);

/* Mark [@iova, @iova + @len) dirty (device wrote through a pointer from
 * vfio_srv_dma_translate() after the fact). No-op unless logging. */
void vfio_srv_dma_mark_dirty(struct vfio_srv *s, uint64_t iova,
                             uint64_t len);

/* server_dma.c: DMA maps, message-based DMA, dirty logging. */
int srv_cmd_dma_map(struct vfio_srv *s, struct vfio_user_msg *m);
int srv_cmd_dma_unmap(struct vfio_srv *s, struct vfio_user_msg *m);
void srv_dma_unmap_all(struct vfio_srv *s);
int srv_log_start(struct vfio_srv *s, struct vfio_user_msg *m);
int srv_log_stop(struct vfio_srv *s, struct vfio_user_msg *m);
int srv_log_report(struct vfio_srv *s, struct vfio_user_msg *m);

/* server_dma.c, for DIRTY_PAGES: log every mapped window / stop;
 * read-and-clear [iova, +len) at @ps into @bm (zeroed by the caller). */
int srv_log_enable(struct vfio_srv *s);
void srv_log_disable(struct vfio_srv *s);
void srv_log_harvest_all(struct vfio_srv *s, uint64_t iova, uint64_t len,
                         uint64_t ps, uint64_t *bm);

#endif
