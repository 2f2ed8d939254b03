/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: migration v1 (spec 0.9.1, region-based), used by
 * pci_dev_state.c and pci_dev_dirty.c when the probe chose it
 * (docs/migration.md, "v1 or v2"). @to and states are v2 numbers (enum
 * vfio_device_mig_state), mapped to the v1 bit sets. All on struct
 * vpd_mig (pci_dev_mig.h); 0 or -errno, failures logged. */
#ifndef MINIVMM_VFIO_PCI_DEV_MIG_V1_H
#define MINIVMM_VFIO_PCI_DEV_MIG_V1_H

#include <stddef.h>
#include <stdint.h>

#include "vfio/pci/pci_dev_mig.h"

/* Look for the migration region: m->v1, m->flags, m->probed set when the
 * server has one; 0 without (v2 is probed next). */
int vpd_v1_probe(struct vpd_mig *m);
int vpd_v1_set(struct vpd_mig *m, uint32_t to);
/* Pause: RUNNING (or PRE_COPY) -> STOP_COPY. */
int vpd_v1_quiesce(struct vpd_mig *m);
/* Save: read the device state (after the pre-copy data), then STOP. */
int vpd_v1_save_prepare(struct vpd_mig *m);
/* Load: RESUMING and the @n bytes of @data; @why gets a sentence. */
int vpd_v1_load_server(struct vpd_mig *m, const void *data, size_t n,
                       char *why, size_t len);
/* Live migration: DIRTY_PAGES start (and pre-copy), sync, stop. */
int vpd_v1_dirty_start(struct vpd_mig *m);
int vpd_v1_dirty_sync(struct vpd_mig *m, uint64_t *bits, uint64_t npages,
                      uint64_t *count);
int vpd_v1_dirty_stop(struct vpd_mig *m);
/* Leave pre-copy if still there (back to RUNNING), drop its data. */
void vpd_v1_precopy_end(struct vpd_mig *m);

#endif
