/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci transport: creation, capabilities, PCI hooks, state (see
 * pci.h; virtio 1.x section 4.1). The top of the transport: it wires the
 * parts below it, BAR 2's registers (pci_regs.c), interrupts
 * (pci_irq.c) and doorbells (pci_doorbell.c), which know nothing of each
 * other but what this file hands them. */
#include "virtio/pci.h"

#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_pci.h>

#include "virtio/pci_caps.h"
#include "virtio/pci_doorbell.h"
#include "virtio/pci_irq.h"
#include "virtio/pci_regs.h"

struct virtio_pci {
    struct pci_dev pci;             /* first: pci.opaque is us anyway */
    pthread_mutex_t lock;
    struct virtio_dev *vdev;
    const struct state_ops *dev_state;
    void *dev_opaque;
    uint16_t num_queues;
    uint32_t config_size;
    unsigned int nvec;
    int msix_cap;                   /* config offset */
    struct vp_regs regs;            /* BAR 2 (regs.m under lock) */
    struct vp_irq irq;              /* MSI-X (BAR 0), INTx */
    struct vp_doorbells db;         /* queue doorbells */
};

#define VP_MAX_CFG_SIZE  0x1000u

/* --- capabilities ------------------------------------------------------ */

/* MSI-X and the virtio capabilities (virtio/pci_caps.h). */
static int add_caps(struct virtio_pci *vp)
{
    const struct vpc_layout l = {
        .num_queues = vp->num_queues,
        .config_size = vp->config_size,
        .nvec = vp->nvec,
        .msix_bar = VIRTIO_PCI_MSIX_BAR,
        .pba_off = vp->irq.pba_off,
        .cfg_bar = VIRTIO_PCI_CFG_BAR,
    };
    struct vpc_caps caps;
    int r = vpc_add_caps(&vp->pci.cs, &l, &caps);

    if (r < 0)
        return r;
    vp->msix_cap = (int)caps.msix;
    vp->regs.cfg_cap = (int)caps.pci_cfg;
    return 0;
}

/* --- PCI hooks --------------------------------------------------------- */

static void vp_cfg_read(struct pci_dev *dev, uint32_t off, uint32_t len,
                        uint32_t *val)
{
    struct virtio_pci *vp = dev->opaque;

    vp_regs_cfg_cap_read(&vp->regs, off, len, val);
}

static void vp_cfg_write(struct pci_dev *dev, uint32_t off, uint32_t len,
                         uint32_t val)
{
    struct virtio_pci *vp = dev->opaque;
    uint32_t ctrl = (uint32_t)vp->msix_cap + PCI_MSIX_FLAGS;

    (void)val;
    if (pci_cfg_overlaps(off, len, ctrl, 2))
        vp_irq_set_control(&vp->irq, (uint16_t)pci_cfg_get(dev, ctrl, 2));
    vp_regs_cfg_cap_write(&vp->regs, off, len);
}

static void vp_reset(struct pci_dev *dev)
{
    struct virtio_pci *vp = dev->opaque;

    pthread_mutex_lock(&vp->lock);
    if (vp->vdev)
        virtio_dev_reset(vp->vdev);
    vpm_reset(&vp->regs.m);
    pthread_mutex_unlock(&vp->lock);
    vp_irq_reset(&vp->irq);
}

/* BAR 2 decoded at @addr: the doorbells' ioeventfds follow it (PCI bus
 * lock held). */
static int vp_bar_map(struct pci_dev *dev, unsigned int bar, uint64_t addr,
                      uint64_t size)
{
    struct virtio_pci *vp = dev->opaque;

    (void)size;
    if (bar == VIRTIO_PCI_CFG_BAR)
        vp_db_map(&vp->db, addr);
    return 0;
}

static void vp_bar_unmap(struct pci_dev *dev, unsigned int bar,
                         uint64_t addr, uint64_t size)
{
    struct virtio_pci *vp = dev->opaque;

    (void)size;
    if (bar == VIRTIO_PCI_CFG_BAR)
        vp_db_unmap(&vp->db, addr);
}

static int vp_save(struct pci_dev *dev, void *fdt, int node);
static int vp_load(struct pci_dev *dev, const void *fdt, int node);

static const struct pci_dev_ops vp_pci_ops = {
    .cfg_read = vp_cfg_read,
    .cfg_write = vp_cfg_write,
    .bar_map = vp_bar_map,
    .bar_unmap = vp_bar_unmap,
    .reset = vp_reset,
    .save = vp_save,
    .load = vp_load,
};

/* --- lifetime ---------------------------------------------------------- */

static uint64_t msix_bar_size(unsigned int nvec, uint32_t *pba)
{
    uint32_t table = nvec * MSIX_ENTRY_SIZE;
    uint64_t size = 4096;

    *pba = (table + 7u) & ~7u;
    while (size < *pba + (nvec + 63) / 64 * 8)
        size <<= 1;
    return size;
}

static int setup_pci(struct virtio_pci *vp, const struct virtio_pci_params *p)
{
    struct pci_dev_info info = {
        .vendor_id = VIRTIO_PCI_VENDOR_ID,
        .device_id = (uint16_t)(VIRTIO_PCI_DEVICE_ID_BASE + p->device_type),
        .subsys_vendor_id = VIRTIO_PCI_VENDOR_ID,
        .subsys_id = (uint16_t)(VIRTIO_PCI_DEVICE_ID_BASE + p->device_type),
        .class_code = p->class_code,
        .revision = 1,
        .irq_pin = 1,
    };
    uint32_t pba;
    uint64_t msix_size = msix_bar_size(vp->nvec, &pba);
    int r;

    r = pci_dev_init(&vp->pci, &info, &vp_pci_ops, vp);
    if (r == 0)
        r = pci_dev_set_bar(&vp->pci, VIRTIO_PCI_MSIX_BAR, PCI_BAR_MEM32,
                            msix_size, &vp_irq_msix_bar_ops, &vp->irq);
    if (r == 0)
        r = pci_dev_set_bar(&vp->pci, VIRTIO_PCI_CFG_BAR, PCI_BAR_MEM64,
                            VIRTIO_PCI_CFG_BAR_SIZE, &vp_regs_bar_ops,
                            &vp->regs);
    if (r == 0)
        r = add_caps(vp);
    return r;
}

int virtio_pci_create(const struct virtio_pci_params *p,
                      struct virtio_pci **out)
{
    struct virtio_pci *vp;
    uint32_t pba;
    int r;

    if (!p->num_queues || p->num_queues > VIRTIO_DEV_MAX_QUEUES ||
        p->config_size > VP_MAX_CFG_SIZE || p->device_type >= 0x40)
        return -EINVAL;
    vp = calloc(1, sizeof(*vp));
    if (!vp)
        return -ENOMEM;
    pthread_mutex_init(&vp->lock, NULL);
    vp->num_queues = p->num_queues;
    vp->config_size = p->config_size;
    vp->nvec = p->num_queues + 1u;
    msix_bar_size(vp->nvec, &pba);
    r = vp_regs_init(&vp->regs, vp->num_queues, (uint16_t)vp->nvec,
                     vp->config_size, &vp->lock, &vp->pci, &vp->db);
    if (r == 0)
        r = vp_db_init(&vp->db, vp->num_queues, &p->hv);
    if (r == 0)
        r = vp_irq_init(&vp->irq, vp->nvec, pba, &p->hv, &vp->pci,
                        &vp->regs.m);
    if (r == 0)
        r = setup_pci(vp, p);
    if (r < 0) {
        virtio_pci_destroy(vp);
        return r;
    }
    *out = vp;
    return 0;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
    if (!vp)
        return;
    vp_irq_fini(&vp->irq);
    vp_db_fini(&vp->db);
    pthread_mutex_destroy(&vp->lock);
    free(vp);
}

struct virtio_irq virtio_pci_irq(struct virtio_pci *vp)
{
    return (struct virtio_irq){ .ops = &vp_irq_ops, .opaque = &vp->irq };
}

int virtio_pci_attach(struct virtio_pci *vp, struct virtio_dev *vdev,
                      const struct state_ops *dev_state, void *dev_opaque)
{
    if (vp->vdev || !vdev || vdev->num_queues != vp->num_queues ||
        vdev->irq.opaque != &vp->irq || vpm_attach(&vp->regs.m, vdev) < 0)
        return -EINVAL;
    vp->vdev = vdev;
    vp->dev_state = dev_state;
    vp->dev_opaque = dev_opaque;
    return 0;
}

struct pci_dev *virtio_pci_pci_dev(struct virtio_pci *vp)
{
    return &vp->pci;
}

int virtio_pci_doorbell_fd(const struct virtio_pci *vp, uint16_t qidx)
{
    return vp_db_fd(&vp->db, qidx);
}

void virtio_pci_get_stats(const struct virtio_pci *vp,
                          struct virtio_pci_stats *st)
{
    vp_db_counts(&vp->db, &st->doorbells_ioeventfd, &st->doorbells_trapped);
    st->interrupts = vp_irq_count(&vp->irq);
}

void virtio_pci_doorbell_ready(struct virtio_pci *vp, uint16_t qidx)
{
    if (qidx >= vp->num_queues)
        return;
    vp_db_consume(&vp->db, qidx);
    pthread_mutex_lock(&vp->lock);
    virtio_dev_queue_notify(vp->vdev, qidx);
    pthread_mutex_unlock(&vp->lock);
}

void virtio_pci_lock(struct virtio_pci *vp)
{
    pthread_mutex_lock(&vp->lock);
}

void virtio_pci_unlock(struct virtio_pci *vp)
{
    pthread_mutex_unlock(&vp->lock);
}

/* --- state ------------------------------------------------------------- */

/* Transport registers of one queue as saved: little-endian words. */
struct vp_queue_state {
    uint64_t desc, avail, used;
    uint16_t size, vector;
    uint32_t pad;
};

static int save_regs(struct virtio_pci *vp, void *fdt, int node)
{
    struct vp_queue_state *qs = calloc(vp->num_queues, sizeof(*qs));
    int r;

    if (!qs)
        return -ENOMEM;
    for (uint16_t i = 0; i < vp->num_queues; i++)
        qs[i] = (struct vp_queue_state){ .desc = vp->regs.m.q[i].desc,
                                         .avail = vp->regs.m.q[i].driver,
                                         .used = vp->regs.m.q[i].device,
                                         .size = vp->regs.m.q[i].size,
                                         .vector = vp->regs.m.q[i].vector };
    r = state_put_bytes(fdt, node, "queues", qs,
                        vp->num_queues * sizeof(*qs));
    free(qs);
    if (r == 0)
        r = state_put_u32(fdt, node, "msix-config", vp->regs.m.msix_config);
    if (r == 0)
        r = state_put_u32(fdt, node, "queue-select", vp->regs.m.queue_select);
    if (r == 0)
        r = state_put_u32(fdt, node, "isr", vp->regs.m.isr);
    return r;
}

static int vp_save(struct pci_dev *dev, void *fdt, int node)
{
    struct virtio_pci *vp = dev->opaque;
    int r, sub;

    pthread_mutex_lock(&vp->lock);
    r = vp_irq_save(&vp->irq, fdt, node);
    if (r == 0)
        r = save_regs(vp, fdt, node);
    if (r == 0 && vp->dev_state) {
        sub = fdt_subnode_offset(fdt, node, "virtio");
        if (sub == -FDT_ERR_NOTFOUND)
            sub = fdt_add_subnode(fdt, node, "virtio");
        r = sub == -FDT_ERR_NOSPACE ? -ENOSPC : sub < 0 ? -EINVAL : 0;
        if (r == 0)
            r = vp->dev_state->save(vp->dev_opaque, fdt, sub);
    }
    pthread_mutex_unlock(&vp->lock);
    return r;
}

static int load_regs(struct virtio_pci *vp, const void *fdt, int node)
{
    struct vp_queue_state *qs = calloc(vp->num_queues, sizeof(*qs));
    uint32_t mc, sel, isr;
    int r;

    if (!qs)
        return -ENOMEM;
    r = state_get_bytes(fdt, node, "queues", qs,
                        vp->num_queues * sizeof(*qs));
    if (r == 0)
        r = state_get_u32(fdt, node, "msix-config", &mc);
    if (r == 0)
        r = state_get_u32(fdt, node, "queue-select", &sel);
    if (r == 0)
        r = state_get_u32(fdt, node, "isr", &isr);
    for (uint16_t i = 0; r == 0 && i < vp->num_queues; i++)
        if (qs[i].vector != VPM_NO_VECTOR && qs[i].vector >= vp->nvec)
            r = -EINVAL;
    if (r == 0 && ((mc != VPM_NO_VECTOR && mc >= vp->nvec) ||
                   sel > UINT16_MAX || isr > 3))
        r = -EINVAL;
    for (uint16_t i = 0; r == 0 && i < vp->num_queues; i++) {
        vp->regs.m.q[i].desc = qs[i].desc;
        vp->regs.m.q[i].driver = qs[i].avail;
        vp->regs.m.q[i].device = qs[i].used;
        vp->regs.m.q[i].size = qs[i].size;
        vp->regs.m.q[i].vector = qs[i].vector;
    }
    if (r == 0) {
        vp->regs.m.msix_config = (uint16_t)mc;
        vp->regs.m.queue_select = (uint16_t)sel;
        vp->regs.m.isr = (uint8_t)isr;
    }
    free(qs);
    return r;
}

static int vp_load(struct pci_dev *dev, const void *fdt, int node)
{
    struct virtio_pci *vp = dev->opaque;
    int r, sub = 0;

    if (vp->dev_state) {
        sub = fdt_subnode_offset(fdt, node, "virtio");
        if (sub < 0)
            return -ENOENT;
    }
    pthread_mutex_lock(&vp->lock);
    r = load_regs(vp, fdt, node);
    if (r == 0 && vp->dev_state)
        r = vp->dev_state->load(vp->dev_opaque, fdt, sub);
    pthread_mutex_unlock(&vp->lock);
    /* The MSI-X table (which rewires the routes) and pending bits. */
    if (r == 0)
        r = vp_irq_load(&vp->irq, fdt, node,
                        (uint16_t)pci_cfg_get(&vp->pci, (uint32_t)vp->msix_cap
                                              + PCI_MSIX_FLAGS, 2));
    return r;
}

static int vp_state_save(void *opaque, void *fdt, int node)
{
    struct virtio_pci *vp = opaque;

    return pci_dev_save(&vp->pci, fdt, node);
}

static int vp_state_load(void *opaque, const void *fdt, int node)
{
    struct virtio_pci *vp = opaque;

    return pci_dev_load(&vp->pci, fdt, node);
}

const struct state_ops virtio_pci_state_ops = {
    .save = vp_state_save,
    .load = vp_state_load,
};
