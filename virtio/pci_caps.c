/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci capabilities on the config-space model (see pci_caps.h);
 * virtio 1.x §4.1.4.1-4.1.4.9. */
#include "virtio/pci_caps.h"

#include <linux/virtio_pci.h>

#include "virtio/pci_model.h"

/* Append a vendor capability of @size bytes describing @len bytes at
 * @off of @bar. Returns its offset or -errno. */
static int add_vndr_cap(struct pcfg *cs, uint8_t type, uint8_t size,
                        uint8_t bar, uint32_t off, uint32_t len)
{
    int c = pcfg_add_cap(cs, PCI_CAP_ID_VNDR, size);

    if (c < 0)
        return c;
    pcfg_set(cs, (uint32_t)c + VIRTIO_PCI_CAP_LEN, 1, size);
    pcfg_set(cs, (uint32_t)c + VIRTIO_PCI_CAP_CFG_TYPE, 1, type);
    pcfg_set(cs, (uint32_t)c + VIRTIO_PCI_CAP_BAR, 1, bar);
    pcfg_set(cs, (uint32_t)c + VIRTIO_PCI_CAP_OFFSET, 4, off);
    pcfg_set(cs, (uint32_t)c + VIRTIO_PCI_CAP_LENGTH, 4, len);
    return c;
}

static int add_virtio_caps(struct pcfg *cs, const struct vpc_layout *l)
{
    const uint8_t bar = l->cfg_bar;
    int c;

    c = add_vndr_cap(cs, VIRTIO_PCI_CAP_COMMON_CFG, 16, bar,
                     VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_SIZE);
    if (c >= 0)
        c = add_vndr_cap(cs, VIRTIO_PCI_CAP_ISR_CFG, 16, bar,
                         VIRTIO_PCI_ISR_OFF, 1);
    if (c >= 0 && l->config_size)
        c = add_vndr_cap(cs, VIRTIO_PCI_CAP_DEVICE_CFG, 16, bar,
                         VIRTIO_PCI_DEVICE_OFF, l->config_size);
    if (c >= 0)
        c = add_vndr_cap(cs, VIRTIO_PCI_CAP_NOTIFY_CFG, 20, bar,
                         VIRTIO_PCI_NOTIFY_OFF,
                         l->num_queues * VIRTIO_PCI_NOTIFY_MULT);
    if (c >= 0)
        pcfg_set(cs, (uint32_t)c + VIRTIO_PCI_NOTIFY_CAP_MULT, 4,
                 VIRTIO_PCI_NOTIFY_MULT);
    if (c >= 0)
        c = add_vndr_cap(cs, VIRTIO_PCI_CAP_PCI_CFG, 20, 0, 0, 0);
    if (c < 0)
        return c;
    /* bar, offset, length and pci_cfg_data are the driver's to set. */
    pcfg_set_wmask(cs, (uint32_t)c + VIRTIO_PCI_CAP_BAR, 1, 0xFF);
    pcfg_set_wmask(cs, (uint32_t)c + VIRTIO_PCI_CAP_OFFSET, 4, ~0u);
    pcfg_set_wmask(cs, (uint32_t)c + VIRTIO_PCI_CAP_LENGTH, 4, ~0u);
    pcfg_set_wmask(cs, (uint32_t)c + VPC_CFG_DATA, 4, ~0u);
    return c;
}

int vpc_add_caps(struct pcfg *cs, const struct vpc_layout *l,
                 struct vpc_caps *out)
{
    int m = pcfg_add_msix(cs, l->nvec, l->msix_bar, 0, l->msix_bar,
                          l->pba_off);
    int c = m < 0 ? m : add_virtio_caps(cs, l);

    if (c < 0)
        return c;
    out->msix = (uint32_t)m;
    out->pci_cfg = (uint32_t)c;
    return 0;
}

bool vpc_cfg_window(const struct pcfg *cs, uint32_t cap, uint8_t cfg_bar,
                    uint32_t off, uint32_t len, uint64_t *boff,
                    uint32_t *blen)
{
    if (!pcfg_overlaps(off, len, cap + VPC_CFG_DATA, 4))
        return false;
    *boff = pcfg_get(cs, cap + VIRTIO_PCI_CAP_OFFSET, 4);
    *blen = pcfg_get(cs, cap + VIRTIO_PCI_CAP_LENGTH, 4);
    return pcfg_get(cs, cap + VIRTIO_PCI_CAP_BAR, 1) == cfg_bar &&
           (*blen == 1 || *blen == 2 || *blen == 4) && *boff % *blen == 0 &&
           *boff + *blen <= VIRTIO_PCI_CFG_BAR_SIZE;
}
