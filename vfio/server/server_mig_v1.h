/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user server core: migration v1, the 0.9.1 migration region and
 * DIRTY_PAGES (server_mig_v1.c). Spec: vfio-user-0.9.1.rst "Migration",
 * "VFIO_USER_DIRTY_PAGES". Errors: 0 or a negative errno. */
#ifndef MINIVMM_VFIO_SERVER_MIG_V1_H
#define MINIVMM_VFIO_SERVER_MIG_V1_H

#include "vfio/server/server_core.h"

/* server_mig_v1.c: migration v1 (spec 0.9.1). */
int srv_mig_v1_init(struct vfio_srv *s);
void srv_mig_v1_free(struct vfio_srv *s);
bool srv_mig_v1_region(const struct vfio_srv *s, uint32_t region);
int srv_mig_v1_access(struct vfio_srv *s, uint64_t off, void *buf,
                      uint32_t len, bool write);
int srv_cmd_dirty_pages(struct vfio_srv *s, struct vfio_user_msg *m);

#endif
