/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-blk virtio-pci register model; see vpci.h. Spec: virtio 1.x 4.1.4
 * "Virtio Structure PCI Capabilities", 4.1.4.3 "Common configuration
 * structure layout"; PCI Local Bus 3.0, 6.1 / 6.8.2 (MSI-X capability). */
#include "vpci.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "vmm/state.h"

#define CAP_MSIX   0x40u
#define CAP_COMMON 0x50u
#define CAP_NOTIFY 0x60u
#define CAP_ISR    0x74u
#define CAP_DEVICE 0x84u
#define CAP_PCICFG 0x94u
#define PCICFG_DATA (CAP_PCICFG + 16u)
#define CMD_WMASK  (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |              \
                    PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

static void put16(uint8_t *p, uint16_t v)
{
    v = htole16(v);
    memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return le32toh(v);
}

static void mask32(struct vpci *p, uint32_t off, uint32_t m)
{
    put32(&p->wmask[off], m);
}

/* One virtio vendor capability (struct virtio_pci_cap) at @at. */
static void vcap(struct vpci *p, uint32_t at, uint8_t next, uint8_t len,
                 uint8_t type, uint32_t off, uint32_t length)
{
    uint8_t *c = &p->cfg[at];

    c[0] = PCI_CAP_ID_VNDR;
    c[1] = next;
    c[2] = len;
    c[3] = type;
    c[4] = VPCI_BAR;
    put32(c + 8, off);
    put32(c + 12, length);
}

static void init_header(struct vpci *p, uint32_t class_code)
{
    uint8_t *c = p->cfg;

    put16(c + PCI_VENDOR_ID, 0x1af4);
    put16(c + PCI_DEVICE_ID, (uint16_t)(0x1040 + p->vdev->device_id));
    put16(c + PCI_STATUS, PCI_STATUS_CAP_LIST);
    c[PCI_REVISION_ID] = 1;
    put32(c + PCI_CLASS_REVISION, (class_code << 8) | 1);
    put32(c + PCI_BASE_ADDRESS_0, 0);
    put32(c + PCI_BASE_ADDRESS_2, PCI_BASE_ADDRESS_MEM_TYPE_64);
    put16(c + PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    put16(c + PCI_SUBSYSTEM_ID, 0x1100);
    c[PCI_CAPABILITY_LIST] = CAP_MSIX;
    c[PCI_INTERRUPT_PIN] = 1;
    put16(p->wmask + PCI_COMMAND, CMD_WMASK);
    mask32(p, PCI_BASE_ADDRESS_0, ~(VPCI_MSIX_BAR_SIZE - 1));
    mask32(p, PCI_BASE_ADDRESS_2, ~(VIRTIO_PCI_CFG_BAR_SIZE - 1));
    mask32(p, PCI_BASE_ADDRESS_3, 0xffffffffu);
    p->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

static void init_caps(struct vpci *p)
{
    uint8_t *m = &p->cfg[CAP_MSIX];
    uint16_t nq = p->vdev->num_queues;

    m[0] = PCI_CAP_ID_MSIX;
    m[1] = CAP_COMMON;
    put16(m + PCI_MSIX_FLAGS, (uint16_t)(p->nvec - 1));
    put32(m + PCI_MSIX_TABLE, VPCI_MSIX_BAR);
    put32(m + PCI_MSIX_PBA, VPCI_MSIX_PBA_OFF | VPCI_MSIX_BAR);
    p->wmask[CAP_MSIX + PCI_MSIX_FLAGS + 1] = 0xc0; /* enable, mask all */
    vcap(p, CAP_COMMON, CAP_NOTIFY, 16, VIRTIO_PCI_CAP_COMMON_CFG,
         VIRTIO_PCI_COMMON_OFF, sizeof(struct virtio_pci_common_cfg));
    vcap(p, CAP_NOTIFY, CAP_ISR, 20, VIRTIO_PCI_CAP_NOTIFY_CFG,
         VIRTIO_PCI_NOTIFY_OFF, VIRTIO_PCI_NOTIFY_MULT * nq);
    put32(&p->cfg[CAP_NOTIFY + 16], VIRTIO_PCI_NOTIFY_MULT);
    vcap(p, CAP_ISR, CAP_DEVICE, 16, VIRTIO_PCI_CAP_ISR_CFG,
         VIRTIO_PCI_ISR_OFF, 1);
    vcap(p, CAP_DEVICE, CAP_PCICFG, 16, VIRTIO_PCI_CAP_DEVICE_CFG,
         VIRTIO_PCI_DEVICE_OFF, p->devcfg_size);
    vcap(p, CAP_PCICFG, 0, 20, VIRTIO_PCI_CAP_PCI_CFG, 0, 0);
    p->wmask[CAP_PCICFG + 4] = 0xff;
    mask32(p, CAP_PCICFG + 8, 0xffffffffu);
    mask32(p, CAP_PCICFG + 12, 0xffffffffu);
    mask32(p, PCICFG_DATA, 0xffffffffu);
}

static void regs_notify(void *opaque, uint16_t qidx)
{
    struct vpci *p = opaque;

    if (p->ops->doorbell)
        p->ops->doorbell(p->opaque, qidx);
}

static const struct vpm_ops regs_ops = {
    .notify = regs_notify,
};

int vpci_init(struct vpci *p, struct virtio_dev *vdev, uint32_t class_code,
              uint32_t devcfg_size, const struct vpci_ops *ops, void *opaque)
{
    struct vpm_params rp = {
        .num_queues = vdev->num_queues,
        .nvec = (uint16_t)(vdev->num_queues + 1),
        .config_size = devcfg_size,
        .ops = &regs_ops,
        .opaque = p,
    };
    uint32_t v;
    int r;

    memset(p, 0, sizeof(*p));
    p->vdev = vdev;
    p->ops = ops;
    p->opaque = opaque;
    p->nvec = rp.nvec;
    p->devcfg_size = devcfg_size;
    init_header(p, class_code);
    init_caps(p);
    for (v = 0; v < p->nvec; v++) /* entries start masked */
        put32(&p->msix[v * 16 + 12], 1);
    r = vpm_init(&p->regs, &rp);
    return r ? r : vpm_attach(&p->regs, vdev);
}

void vpci_reset(struct vpci *p)
{
    vpm_reset(&p->regs);
}

/* ---- configuration space ------------------------------------------------ */

/* The VIRTIO_PCI_CAP_PCI_CFG window: an access to BAR @bar at offset
 * @off of @len bytes through pci_cfg_data. */
static void pcicfg_window(struct vpci *p, bool write)
{
    uint32_t len = get32(&p->cfg[CAP_PCICFG + 12]);
    uint32_t off = get32(&p->cfg[CAP_PCICFG + 8]);

    if (p->cfg[CAP_PCICFG + 4] != VPCI_BAR || (len != 1 && len != 2 &&
                                              len != 4))
        return;
    vpci_bar_access(p, off, &p->cfg[PCICFG_DATA], len, write);
}

int vpci_cfg_access(struct vpci *p, uint64_t off, void *buf, uint32_t len,
                    bool write)
{
    uint8_t *b = buf;
    bool window = off < PCICFG_DATA + 4 && off + len > PCICFG_DATA;
    uint32_t i;

    if (off > VPCI_CFG_SIZE || len > VPCI_CFG_SIZE - off)
        return -EINVAL;
    if (!write) {
        if (window)
            pcicfg_window(p, false);
        memcpy(b, &p->cfg[off], len);
        return 0;
    }
    for (i = 0; i < len; i++) {
        uint8_t m = p->wmask[off + i];

        p->cfg[off + i] = (uint8_t)((p->cfg[off + i] & ~m) | (b[i] & m));
    }
    if (window)
        pcicfg_window(p, true);
    return 0;
}

bool vpci_msix_enabled(const struct vpci *p)
{
    return p->cfg[CAP_MSIX + PCI_MSIX_FLAGS + 1] & (PCI_MSIX_FLAGS_ENABLE >> 8);
}

bool vpci_intx_disabled(const struct vpci *p)
{
    return p->cfg[PCI_COMMAND + 1] & (PCI_COMMAND_INTX_DISABLE >> 8);
}

/* ---- BARs --------------------------------------------------------------- */

int vpci_bar_access(struct vpci *p, uint64_t off, void *buf, uint32_t len,
                    bool write)
{
    return write ? vpm_write(&p->regs, off, buf, len)
                 : vpm_read(&p->regs, off, buf, len);
}

int vpci_msix_access(struct vpci *p, uint64_t off, void *buf, uint32_t len,
                     bool write)
{
    if (off >= VPCI_MSIX_BAR_SIZE || len > VPCI_MSIX_BAR_SIZE - off)
        return -EINVAL;
    if (off >= VPCI_MSIX_PBA_OFF && !write)
        memset(buf, 0, len); /* pending bits live in the client */
    else if (off < VPCI_MSIX_PBA_OFF && write)
        memcpy(&p->msix[off], buf, len);
    else if (!write)
        memcpy(buf, &p->msix[off], len);
    return 0;
}

uint16_t vpci_queue_vector(const struct vpci *p, uint16_t qidx)
{
    return vpm_queue_vector(&p->regs, qidx);
}

uint16_t vpci_config_vector(const struct vpci *p)
{
    return vpm_config_vector(&p->regs);
}

void vpci_set_isr(struct vpci *p, uint8_t bits)
{
    vpm_set_isr(&p->regs, bits);
}

/* ---- state -------------------------------------------------------------- */

int vpci_save(const struct vpci *p, void *fdt, int node)
{
    int r;

    r = state_put_bytes(fdt, node, "pci-config", p->cfg, sizeof(p->cfg));
    if (!r)
        r = state_put_bytes(fdt, node, "msix", p->msix, sizeof(p->msix));
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

int vpci_load(struct vpci *p, const void *fdt, int node)
{
    struct vpm_queue q[VIRTIO_DEV_MAX_QUEUES];
    uint8_t cfg[VPCI_CFG_SIZE];
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
    if (r)
        return r;
    if (memcmp(cfg, p->cfg, 4) || memcmp(cfg + 8, p->cfg + 8, 4) ||
        sel > 0xffff ||
        (msix >= p->nvec && msix != VIRTIO_MSI_NO_VECTOR) || isr > 3)
        return -EINVAL; /* another device's state */
    r = state_get_bytes(fdt, node, "msix", p->msix, sizeof(p->msix));
    if (r)
        return r;
    for (i = 0; i < VIRTIO_DEV_MAX_QUEUES; i++)
        if (q[i].vector >= p->nvec)
            q[i].vector = VPM_NO_VECTOR;
    memcpy(p->cfg, cfg, sizeof(cfg));
    memcpy(p->regs.q, q, sizeof(q));
    p->regs.queue_select = (uint16_t)sel;
    p->regs.msix_config = (uint16_t)msix;
    p->regs.isr = (uint8_t)isr;
    return 0;
}
