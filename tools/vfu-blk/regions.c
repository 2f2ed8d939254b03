/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-blk's regions on the shared PCI, MSI-X and virtio-pci models; see
 * regions.h. Spec: virtio 1.x 4.1.4 "Virtio Structure PCI Capabilities";
 * PCI Local Bus 3.0, 6.1 / 6.8.2 (MSI-X). */
#include "regions.h"

#include <errno.h>
#include <string.h>

#include <linux/virtio_pci.h>

#include "vmm/endian.h"
#include "vmm/state.h"

static void regs_notify(void *opaque, uint16_t qidx)
{
    struct vfr *p = opaque;

    if (p->ops->doorbell)
        p->ops->doorbell(p->opaque, qidx);
}

static const struct vpm_ops regs_ops = {
    .notify = regs_notify,
};

static int setup_cfg(struct vfr *p, uint32_t class_code,
                     uint32_t devcfg_size)
{
    const struct pci_dev_info info = {
        .vendor_id = 0x1af4,
        .device_id = (uint16_t)(0x1040 + p->vdev->device_id),
        .subsys_vendor_id = 0x1af4,
        .subsys_id = 0x1100,
        .class_code = class_code,
        .revision = 1,
        .irq_pin = 1,
    };
    const struct vpc_layout l = {
        .num_queues = p->vdev->num_queues,
        .config_size = devcfg_size,
        .nvec = p->nvec,
        .msix_bar = VFR_MSIX_BAR,
        .pba_off = VFR_MSIX_PBA_OFF,
        .cfg_bar = VFR_BAR,
    };
    int r = pcfg_init(&p->cs, &info);

    if (r == 0)
        r = pcfg_set_bar(&p->cs, VFR_MSIX_BAR, PCI_BAR_MEM32,
                         VFR_MSIX_BAR_SIZE);
    if (r == 0)
        r = pcfg_set_bar(&p->cs, VFR_BAR, PCI_BAR_MEM64,
                         VIRTIO_PCI_CFG_BAR_SIZE);
    return r ? r : vpc_add_caps(&p->cs, &l, &p->caps);
}

int vfr_init(struct vfr *p, struct virtio_dev *vdev, uint32_t class_code,
             uint32_t devcfg_size, const struct vfr_ops *ops, void *opaque)
{
    struct vpm_params rp = {
        .num_queues = vdev->num_queues,
        .nvec = (uint16_t)(vdev->num_queues + 1),
        .config_size = devcfg_size,
        .ops = &regs_ops,
        .opaque = p,
    };
    int r;

    memset(p, 0, sizeof(*p));
    if (!vdev->num_queues || vdev->num_queues > VIRTIO_DEV_MAX_QUEUES)
        return -EINVAL;
    p->vdev = vdev;
    p->ops = ops;
    p->opaque = opaque;
    p->nvec = rp.nvec;
    r = vpm_init(&p->regs, &rp);
    if (r == 0)
        r = vpm_attach(&p->regs, vdev);
    if (r == 0)
        r = setup_cfg(p, class_code, devcfg_size);
    if (r == 0)
        r = msix_init(&p->msix, p->nvec, NULL, NULL);
    return r;
}

void vfr_fini(struct vfr *p)
{
    msix_fini(&p->msix);
}

void vfr_reset(struct vfr *p)
{
    vpm_reset(&p->regs);
}

/* ---- configuration space ------------------------------------------------ */

/* The VIRTIO_PCI_CAP_PCI_CFG window (virtio/pci_caps.h) for an access
 * touching pci_cfg_data: before a read, BAR 2 into pci_cfg_data; after a
 * write, pci_cfg_data into BAR 2. */
static void cfg_window(struct vfr *p, uint32_t off, uint32_t len, bool write)
{
    uint32_t data = p->caps.pci_cfg + VPC_CFG_DATA, blen;
    uint8_t buf[4] = {0};
    uint64_t boff;

    if (!vpc_cfg_window(&p->cs, p->caps.pci_cfg, VFR_BAR, off, len, &boff,
                        &blen))
        return;
    if (write) {
        le_store(buf, 4, pcfg_get(&p->cs, data, 4));
        vpm_write(&p->regs, boff, buf, blen);
    } else if (vpm_read(&p->regs, boff, buf, blen) == 0) {
        pcfg_set(&p->cs, data, 4, (uint32_t)le_load(buf, 4));
    }
}

/* A write of any length: the model takes it in pieces of up to 4 bytes. */
static void cfg_write(struct vfr *p, uint32_t off, const uint8_t *b,
                      uint32_t len)
{
    unsigned int chg = 0;

    for (uint32_t i = 0; i < len; i += 4) {
        uint32_t n = len - i < 4 ? len - i : 4;

        chg |= pcfg_write(&p->cs, off + i, n, (uint32_t)le_load(b + i, n));
    }
    if (chg & PCFG_CHG_MSIX)
        msix_set_control(&p->msix, pcfg_msix_control(&p->cs));
    cfg_window(p, off, len, true);
}

int vfr_cfg_access(struct vfr *p, uint64_t off, void *buf, uint32_t len,
                   bool write)
{
    if (off > VFR_CFG_SIZE || len > VFR_CFG_SIZE - off)
        return -EINVAL;
    if (write) {
        cfg_write(p, (uint32_t)off, buf, len);
        return 0;
    }
    cfg_window(p, (uint32_t)off, len, false);
    memcpy(buf, &p->cs.cfg[off], len);
    return 0;
}

bool vfr_msix_enabled(const struct vfr *p)
{
    return pcfg_msix_control(&p->cs) & PCI_MSIX_FLAGS_ENABLE;
}

bool vfr_intx_disabled(const struct vfr *p)
{
    return pcfg_get(&p->cs, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
}

/* ---- BARs --------------------------------------------------------------- */

int vfr_bar_access(struct vfr *p, uint64_t off, void *buf, uint32_t len,
                   bool write)
{
    return write ? vpm_write(&p->regs, off, buf, len)
                 : vpm_read(&p->regs, off, buf, len);
}

int vfr_msix_access(struct vfr *p, uint64_t off, void *buf, uint32_t len,
                    bool write)
{
    if (off >= VFR_MSIX_BAR_SIZE || len > VFR_MSIX_BAR_SIZE - off)
        return -EINVAL;
    if (off < VFR_MSIX_PBA_OFF && write)
        msix_table_write(&p->msix, off, buf, len);
    else if (off < VFR_MSIX_PBA_OFF)
        msix_table_read(&p->msix, off, buf, len);
    else if (!write)
        msix_pba_read(&p->msix, off - VFR_MSIX_PBA_OFF, buf, len);
    return 0;
}

uint16_t vfr_queue_vector(const struct vfr *p, uint16_t qidx)
{
    return vpm_queue_vector(&p->regs, qidx);
}

uint16_t vfr_config_vector(const struct vfr *p)
{
    return vpm_config_vector(&p->regs);
}

void vfr_set_isr(struct vfr *p, uint8_t bits)
{
    vpm_set_isr(&p->regs, bits);
}

/* ---- state -------------------------------------------------------------- */

/* BAR 0 as the guest sees it: table at 0, PBA at VFR_MSIX_PBA_OFF. */
static void msix_image(struct vfr *p, uint8_t img[VFR_MSIX_BAR_SIZE])
{
    memset(img, 0, VFR_MSIX_BAR_SIZE);
    for (uint32_t o = 0; o < msix_table_size(&p->msix); o += 8)
        msix_table_read(&p->msix, o, img + o, 8);
    for (uint32_t o = 0; o < msix_pba_size(&p->msix); o += 8)
        msix_pba_read(&p->msix, o, img + VFR_MSIX_PBA_OFF + o, 8);
}

int vfr_save(struct vfr *p, void *fdt, int node)
{
    uint8_t img[VFR_MSIX_BAR_SIZE];
    int r;

    msix_image(p, img);
    r = state_put_bytes(fdt, node, "pci-config", p->cs.cfg, VFR_CFG_SIZE);
    if (!r)
        r = state_put_bytes(fdt, node, "msix", img, sizeof(img));
    if (!r)
        r = state_put_bytes(fdt, node, "queues", p->regs.q,
                            sizeof(p->regs.q));
    if (!r)
        r = state_put_u32(fdt, node, "queue-select", p->regs.queue_select);
    if (!r)
        r = state_put_u32(fdt, node, "msix-config", p->regs.msix_config);
    if (!r)
        r = state_put_u32(fdt, node, "isr", p->regs.isr);
    return r;
}

/* Table entries from a BAR 0 image (pending bits stay the client's);
 * then the MSI-X control of the loaded config space. */
static void msix_take_image(struct vfr *p, const uint8_t *img)
{
    for (uint32_t o = 0; o < msix_table_size(&p->msix); o += 4)
        msix_table_write(&p->msix, o, img + o, 4);
    msix_set_control(&p->msix, pcfg_msix_control(&p->cs));
}

int vfr_load(struct vfr *p, const void *fdt, int node)
{
    struct vpm_queue q[VIRTIO_DEV_MAX_QUEUES];
    uint8_t cfg[VFR_CFG_SIZE], img[VFR_MSIX_BAR_SIZE];
    uint32_t sel, msix, isr, i;
    int r;

    r = state_get_bytes(fdt, node, "pci-config", cfg, sizeof(cfg));
    if (!r)
        r = state_get_bytes(fdt, node, "queues", q, sizeof(q));
    if (!r)
        r = state_get_u32(fdt, node, "queue-select", &sel);
    if (!r)
        r = state_get_u32(fdt, node, "msix-config", &msix);
    if (!r)
        r = state_get_u32(fdt, node, "isr", &isr);
    if (!r)
        r = state_get_bytes(fdt, node, "msix", img, sizeof(img));
    if (r)
        return r;
    if (!pcfg_same_identity(&p->cs, cfg) || sel > 0xffff ||
        (msix >= p->nvec && msix != VIRTIO_MSI_NO_VECTOR) || isr > 3)
        return -EINVAL; /* another device's state */
    for (i = 0; i < VIRTIO_DEV_MAX_QUEUES; i++)
        if (q[i].vector >= p->nvec)
            q[i].vector = VPM_NO_VECTOR;
    pcfg_take_image(&p->cs, cfg);
    msix_take_image(p, img);
    memcpy(p->regs.q, q, sizeof(q));
    p->regs.queue_select = (uint16_t)sel;
    p->regs.msix_config = (uint16_t)msix;
    p->regs.isr = (uint8_t)isr;
    return 0;
}
