/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: snapshots and migration (see pci_dev.h, "snapshots
 * and migration"): the client-side state (config space, MSI-X, IOMMU
 * layout, server identity) plus the server's migration data stream, in the
 * device's node of the VM state tree, and the server's migration states
 * (v2, or v1 through pci_dev_mig_v1.c). Spec: vfio-user.rst
 * "VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE", "VFIO_USER_MIG_DATA_READ",
 * "VFIO_USER_MIG_DATA_WRITE". All 0 or -errno, failures logged. */
#ifndef MINIVMM_VFIO_PCI_DEV_STATE_H
#define MINIVMM_VFIO_PCI_DEV_STATE_H

#include <stdint.h>

#include "vfio/client/client.h"
#include "vfio/client/client_mig.h"
#include "vfio/pci/pci_dev_ctx.h"
#include "vfio/pci/pci_dev_irq.h"
#include "vfio/pci/pci_dev_mig.h"

struct vpd_state {
    struct vpd_ctx *ctx;
    struct vpd_irq *irq;           /* MSI-X/MSI: saved and restored */
    struct vpd_mig mig;            /* the server's migration data */
    /* The server's identity, taken at setup and reconnect while the
     * device runs (some servers refuse those queries in STOP). */
    struct vfio_client_identity ident;
};

void vpd_state_init(struct vpd_state *s, struct vpd_ctx *ctx,
                    struct vpd_irq *irq);
/* The server's VFIO_MIGRATION_* flags (probed once: v1, else v2), 0 if
 * it cannot migrate. */
int vpd_state_mig_flags(struct vpd_state *s, uint64_t *flags);
/* RUNNING -> STOP (PRE_COPY -> STOP_COPY); back to RUNNING. */
int vpd_state_quiesce(struct vpd_state *s);
int vpd_state_resume(struct vpd_state *s);
/* The device's node: save may run several times per quiesce (the stream
 * is read once); load checks identity, then config, interrupts and the
 * server's stream, and leaves the server RUNNING. The caller replays the
 * BAR registers to the server after a successful load. */
int vpd_state_save(struct vpd_state *s, void *fdt, int node);
int vpd_state_load(struct vpd_state *s, const void *fdt, int node);
/* Live migration's pre-copy phase (migration thread). start: RUNNING ->
 * PRE_COPY if the server offers it, and read what it has; more: read what
 * it has now; end: back to RUNNING if still in PRE_COPY, drop the data. */
int vpd_precopy_start(struct vpd_state *s);
int vpd_precopy_more(struct vpd_state *s);
void vpd_precopy_end(struct vpd_state *s);
/* The identity properties of a device node (tests use these too). */
int vpd_identity_save(void *fdt, int node,
                      const struct vfio_client_identity *id);
int vpd_identity_load(const void *fdt, int node,
                      struct vfio_client_identity *id);

#endif
