/* SPDX-License-Identifier: BSD-3-Clause */
/* An MSI-X model's table and PBA in a device's state node (vmm/state.h):
 * properties "msix-table" (the table's bytes, 16 per vector) and
 * "msix-pba" (the PBA's bytes, a multiple of 8). Used by virtio-pci and
 * vfio-user devices alike. 0 or -errno (-ENOMEM, state_* errors: a
 * missing or wrongly sized property). */
#ifndef MINIVMM_DEVICES_MSIX_STATE_H
#define MINIVMM_DEVICES_MSIX_STATE_H

#include "devices/msix.h"

int msix_state_save(struct msix *m, void *fdt, int node);
/* Reset @m, write the saved table back (owners' vector_changed follow:
 * routes are rewired) and raise the saved pending vectors (they stay
 * pending while masked). Message Control is the caller's to apply next
 * (from its restored config space). */
int msix_state_load(struct msix *m, const void *fdt, int node);

#endif
