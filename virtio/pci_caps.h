/* SPDX-License-Identifier: BSD-3-Clause */
/* The config-space side of a virtio-pci modern function (virtio 1.x
 * §4.1.4 "Virtio Structure PCI Capabilities"), on the PCI config-space
 * model (devices/pci_cfg.h): the MSI-X capability and the virtio vendor
 * capabilities describing the structures BAR (layout of virtio/pci_model.h),
 * and the VIRTIO_PCI_CAP_PCI_CFG access window (§4.1.4.9). Shared by the
 * in-VMM transport (virtio/pci.c) and vfu-blk (tools/vfu-blk/regions.c).
 * Pure: no bus, no locking. */
#ifndef MINIVMM_VIRTIO_PCI_CAPS_H
#define MINIVMM_VIRTIO_PCI_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pci_cfg.h"

struct vpc_layout {
    uint16_t num_queues;   /* doorbells in the notify area */
    uint32_t config_size;  /* device config bytes; 0: no DEVICE_CFG cap */
    unsigned int nvec;     /* MSI-X vectors */
    uint8_t msix_bar;      /* MSI-X table at offset 0 of this BAR, */
    uint32_t pba_off;      /*   the PBA at this offset (8-byte aligned) */
    uint8_t cfg_bar;       /* the structures BAR (16 KiB) */
};

/* Config offsets of what vpc_add_caps() added. */
struct vpc_caps {
    uint32_t msix;         /* MSI-X capability */
    uint32_t pci_cfg;      /* VIRTIO_PCI_CAP_PCI_CFG capability */
};

/* Append, in this order, MSI-X (pcfg_add_msix), common, ISR, device (if
 * config_size), notify (multiplier VIRTIO_PCI_NOTIFY_MULT) and PCI_CFG
 * capabilities; the PCI_CFG capability's bar, offset, length and
 * pci_cfg_data are guest-writable. 0 or -errno (-ENOSPC, -EINVAL). */
int vpc_add_caps(struct pcfg *cs, const struct vpc_layout *l,
                 struct vpc_caps *out);

/* Whether a config access of @len bytes at @off touches pci_cfg_data of
 * the PCI_CFG capability at @cap, and the capability selects a valid
 * access (1, 2 or 4 bytes, aligned, inside the 16 KiB structures BAR, the
 * BAR being @cfg_bar): then *@boff and *@blen get its offset and width in
 * that BAR. The caller moves the data between pci_cfg_data (cap + 16,
 * little-endian) and the BAR. */
bool vpc_cfg_window(const struct pcfg *cs, uint32_t cap, uint8_t cfg_bar,
                    uint32_t off, uint32_t len, uint64_t *boff,
                    uint32_t *blen);

#define VPC_CFG_DATA 16u   /* pci_cfg_data's offset in the capability */

#endif
