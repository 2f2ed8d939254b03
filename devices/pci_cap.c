/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI capability lists (see pci.h): conventional capabilities from 0x40
 * (PCI Local Bus 3.0 §6.7) and PCIe extended capabilities from 0x100 (PCIe
 * Base 4.0 §7.6). Walks are bounded, so a malformed list (e.g. one copied
 * from a remote server) cannot loop. */
#include "devices/pci_priv.h"

#include <errno.h>

#define PCI_CAP_MAX_WALK 48  /* (256 - 64) / 4 */
#define PCI_EXT_CAP_MAX_WALK 960 /* (4096 - 256) / 4 */

/* Offset of the "next" pointer to patch to append a capability. */
static uint32_t pci_cap_tail(const struct pci_dev *dev)
{
    uint32_t link = PCI_CAPABILITY_LIST;
    uint8_t next = dev->cfg[link] & ~3u;

    for (int n = 0; next >= PCI_CAP_FIRST && n < PCI_CAP_MAX_WALK; n++) {
        link = next + PCI_CAP_LIST_NEXT;
        next = dev->cfg[link] & ~3u;
    }
    return link;
}

int pci_add_capability(struct pci_dev *dev, uint8_t id, uint8_t size)
{
    uint32_t off = dev->cap_end ? dev->cap_end : PCI_CAP_FIRST;

    if (size < 2)
        return -EINVAL;
    if (off + size > PCI_CFG_SPACE_SIZE)
        return -ENOSPC;
    dev->cfg[pci_cap_tail(dev)] = (uint8_t)off;
    dev->cfg[off + PCI_CAP_LIST_ID] = id;
    dev->cfg[off + PCI_CAP_LIST_NEXT] = 0;
    pci_cfg_set(dev, PCI_STATUS, 2,
                pci_cfg_get(dev, PCI_STATUS, 2) | PCI_STATUS_CAP_LIST);
    dev->cap_end = (uint16_t)((off + size + 3) & ~3u);
    return (int)off;
}

int pci_find_capability(const struct pci_dev *dev, uint8_t id)
{
    uint8_t off;

    if (!(pci_cfg_get(dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
        return -ENOENT;
    off = dev->cfg[PCI_CAPABILITY_LIST] & ~3u;
    for (int n = 0; off >= PCI_CAP_FIRST && n < PCI_CAP_MAX_WALK; n++) {
        if (dev->cfg[off + PCI_CAP_LIST_ID] == id)
            return off;
        off = dev->cfg[off + PCI_CAP_LIST_NEXT] & ~3u;
    }
    return -ENOENT;
}

static uint32_t pci_ext_cap_header(uint16_t id, uint8_t ver, uint32_t next)
{
    return id | ((uint32_t)(ver & 0xF) << 16) | (next << 20);
}

int pci_add_ext_capability(struct pci_dev *dev, uint16_t id, uint8_t version,
                           uint16_t size)
{
    uint32_t off = dev->ext_cap_end ? dev->ext_cap_end : PCI_CFG_SPACE_SIZE;
    uint32_t at = PCI_CFG_SPACE_SIZE, hdr;

    if (dev->cfg_size != PCI_CFG_SPACE_EXP_SIZE || size < 4)
        return -EINVAL;
    if (off + size > PCI_CFG_SPACE_EXP_SIZE)
        return -ENOSPC;
    /* The first one lives at 0x100; later ones hang off the last. */
    if (off != PCI_CFG_SPACE_SIZE) {
        for (int n = 0; n < PCI_EXT_CAP_MAX_WALK; n++) {
            uint32_t next = PCI_EXT_CAP_NEXT(pci_cfg_get(dev, at, 4));

            if (next < PCI_CFG_SPACE_SIZE)
                break;
            at = next;
        }
        hdr = pci_cfg_get(dev, at, 4);
        pci_cfg_set(dev, at, 4, (hdr & 0xFFFFF) | (off << 20));
    }
    pci_cfg_set(dev, off, 4, pci_ext_cap_header(id, version, 0));
    dev->ext_cap_end = (uint16_t)((off + size + 3) & ~3u);
    return (int)off;
}

int pci_find_ext_capability(const struct pci_dev *dev, uint16_t id)
{
    uint32_t off = PCI_CFG_SPACE_SIZE;

    if (dev->cfg_size != PCI_CFG_SPACE_EXP_SIZE)
        return -ENOENT;
    for (int n = 0; n < PCI_EXT_CAP_MAX_WALK; n++) {
        uint32_t hdr = pci_cfg_get(dev, off, 4);

        if (hdr == 0 || hdr == 0xFFFFFFFF)
            return -ENOENT;
        if (PCI_EXT_CAP_ID(hdr) == id)
            return (int)off;
        off = PCI_EXT_CAP_NEXT(hdr);
        if (off < PCI_CFG_SPACE_SIZE)
            return -ENOENT;
    }
    return -ENOENT;
}
