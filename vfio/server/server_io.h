/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user server core: device info, regions, IRQs, region access and
 * reset (server_io.c). Spec: vfio-user.rst "VFIO_USER_DEVICE_GET_INFO"
 * through "VFIO_USER_DEVICE_RESET". Errors: 0 or a negative errno; a
 * srv_cmd_* returns 0 when it has replied, or -errno for the error reply
 * server.c sends. */
#ifndef MINIVMM_VFIO_SERVER_IO_H
#define MINIVMM_VFIO_SERVER_IO_H

#include "vfio/server/server_core.h"

/* Signal vector @vec of IRQ index @index to the client (eventfd write).
 * A masked vector is left pending until unmasked. 0, -EINVAL (bad index
 * or vector), -ENOENT (client set no eventfd for it). */
int vfio_srv_irq_trigger(struct vfio_srv *s, uint32_t index, uint32_t vec);

/* True if the client has given an eventfd for @index/@vec. */
bool vfio_srv_irq_has_fd(const struct vfio_srv *s, uint32_t index,
                         uint32_t vec);

/* server_io.c: device info, regions, IRQs, region access, reset. */
int srv_cmd_device_info(struct vfio_srv *s, struct vfio_user_msg *m);
int srv_cmd_region_info(struct vfio_srv *s, struct vfio_user_msg *m);
int srv_cmd_region_io_fds(struct vfio_srv *s, struct vfio_user_msg *m);
int srv_cmd_irq_info(struct vfio_srv *s, struct vfio_user_msg *m);
int srv_cmd_set_irqs(struct vfio_srv *s, struct vfio_user_msg *m);
int srv_cmd_region_read(struct vfio_srv *s, struct vfio_user_msg *m);
int srv_cmd_region_write(struct vfio_srv *s, struct vfio_user_msg *m);
int srv_cmd_write_multi(struct vfio_srv *s, struct vfio_user_msg *m);
int srv_cmd_reset(struct vfio_srv *s, struct vfio_user_msg *m);
int srv_irqs_init(struct vfio_srv *s);
void srv_irqs_close(struct vfio_srv *s);
void srv_irqs_free(struct vfio_srv *s);

#endif
