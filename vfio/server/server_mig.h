/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user server core: DEVICE_FEATURE and the migration data stream
 * (server_mig.c). Spec: vfio-user.rst "VFIO_USER_DEVICE_FEATURE",
 * "VFIO_USER_MIG_DATA_READ/WRITE". Errors: 0 or a negative errno. */
#ifndef MINIVMM_VFIO_SERVER_MIG_H
#define MINIVMM_VFIO_SERVER_MIG_H

#include "vfio/server/server_core.h"

/* server_mig.c: DEVICE_FEATURE and the migration data stream. */
int srv_cmd_feature(struct vfio_srv *s, struct vfio_user_msg *m);
int srv_cmd_mig_read(struct vfio_srv *s, struct vfio_user_msg *m);
int srv_cmd_mig_write(struct vfio_srv *s, struct vfio_user_msg *m);
void srv_mig_free(struct vfio_srv *s);

/* server_mig.c: walk the v2 state machine to @target (the device's
 * arcs, the stream buffer). */
int srv_mig_set_state(struct vfio_srv *s, uint32_t target);

/* Append @n bytes at @data to the load stream (s->mig_buf; the caller
 * bounds the total by VFIO_SRV_MIG_DATA_MAX). 0 or -ENOMEM. */
int srv_mig_append(struct vfio_srv *s, const void *data, size_t n);

#endif
