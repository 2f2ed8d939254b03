/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci transport: creation, capabilities, PCI hooks, state (see
 * pci.h; virtio 1.x section 4.1). Registers live in pci_regs.c,
 * interrupts and doorbells in pci_irq.c. */
#include "virtio/pci_priv.h"
#include "virtio/pci_caps.h"
#include "vmm/stats.h"

#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_pci.h>

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
        .pba_off = vp->pba_off,
        .cfg_bar = VIRTIO_PCI_CFG_BAR,
    };
    struct vpc_caps caps;
    int r = vpc_add_caps(&vp->pci.cs, &l, &caps);

    if (r < 0)
        return r;
    vp->msix_cap = (int)caps.msix;
    vp->cfg_cap = (int)caps.pci_cfg;
    return 0;
}

/* --- PCI hooks --------------------------------------------------------- */

static void vp_cfg_read(struct pci_dev *dev, uint32_t off, uint32_t len,
                        uint32_t *val)
{
    vp_cfg_cap_read(dev->opaque, off, len, val);
}

static void vp_cfg_write(struct pci_dev *dev, uint32_t off, uint32_t len,
                         uint32_t val)
{
    struct virtio_pci *vp = dev->opaque;
    uint32_t ctrl = (uint32_t)vp->msix_cap + PCI_MSIX_FLAGS;

    (void)val;
    if (pci_cfg_overlaps(off, len, ctrl, 2))
        msix_set_control(&vp->msix, (uint16_t)pci_cfg_get(dev, ctrl, 2));
    vp_cfg_cap_write(vp, off, len);
}

static void vp_reset(struct pci_dev *dev)
{
    struct virtio_pci *vp = dev->opaque;

    pthread_mutex_lock(&vp->lock);
    if (vp->vdev)
        virtio_dev_reset(vp->vdev);
    vpm_reset(&vp->regs);
    pthread_mutex_unlock(&vp->lock);
    msix_reset(&vp->msix);
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

static int make_eventfds(struct virtio_pci *vp)
{
    for (uint16_t i = 0; i < vp->num_queues; i++) {
        vp->q[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (vp->q[i].efd < 0)
            return -errno;
    }
    for (unsigned int i = 0; i < vp->nvec; i++) {
        vp->vec[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (vp->vec[i].efd < 0)
            return -errno;
    }
    return 0;
}

static int alloc_parts(struct virtio_pci *vp)
{
    vp->q = calloc(vp->num_queues, sizeof(*vp->q));
    vp->vec = calloc(vp->nvec, sizeof(*vp->vec));
    if (!vp->q || !vp->vec)
        return -ENOMEM;
    for (uint16_t i = 0; i < vp->num_queues; i++)
        vp->q[i].efd = -1;
    for (unsigned int i = 0; i < vp->nvec; i++)
        vp->vec[i].efd = -1;
    return make_eventfds(vp);
}

static uint64_t msix_bar_size(const struct virtio_pci *vp, uint32_t *pba)
{
    uint32_t table = vp->nvec * MSIX_ENTRY_SIZE;
    uint64_t size = 4096;

    *pba = (table + 7u) & ~7u;
    while (size < *pba + (vp->nvec + 63) / 64 * 8)
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
    uint64_t msix_size = msix_bar_size(vp, &vp->pba_off);
    int r;

    r = pci_dev_init(&vp->pci, &info, &vp_pci_ops, vp);
    if (r == 0)
        r = pci_dev_set_bar(&vp->pci, VIRTIO_PCI_MSIX_BAR, PCI_BAR_MEM32,
                            msix_size, &vp_msix_bar_ops, vp);
    if (r == 0)
        r = pci_dev_set_bar(&vp->pci, VIRTIO_PCI_CFG_BAR, PCI_BAR_MEM64,
                            VIRTIO_PCI_CFG_BAR_SIZE, &vp_cfg_bar_ops, vp);
    if (r == 0)
        r = add_caps(vp);
    return r;
}

int virtio_pci_create(const struct virtio_pci_params *p,
                      struct virtio_pci **out)
{
    struct virtio_pci *vp;
    int r;

    if (!p->num_queues || p->num_queues > VIRTIO_DEV_MAX_QUEUES ||
        p->config_size > VP_MAX_CFG_SIZE || p->device_type >= 0x40)
        return -EINVAL;
    vp = calloc(1, sizeof(*vp));
    if (!vp)
        return -ENOMEM;
    pthread_mutex_init(&vp->lock, NULL);
    vp->hv = p->hv;
    vp->num_queues = p->num_queues;
    vp->config_size = p->config_size;
    vp->nvec = p->num_queues + 1u;
    r = vp_regs_init(vp);
    if (r == 0)
        r = alloc_parts(vp);
    if (r == 0)
        r = msix_init(&vp->msix, vp->nvec, &vp_msix_ops, vp);
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
    vp_vectors_release(vp);
    msix_fini(&vp->msix);
    for (uint16_t i = 0; vp->q && i < vp->num_queues; i++)
        if (vp->q[i].efd >= 0)
            close(vp->q[i].efd);
    for (unsigned int i = 0; vp->vec && i < vp->nvec; i++)
        if (vp->vec[i].efd >= 0)
            close(vp->vec[i].efd);
    free(vp->q);
    free(vp->vec);
    pthread_mutex_destroy(&vp->lock);
    free(vp);
}

struct virtio_irq virtio_pci_irq(struct virtio_pci *vp)
{
    return (struct virtio_irq){ .ops = &vp_irq_ops, .opaque = vp };
}

int virtio_pci_attach(struct virtio_pci *vp, struct virtio_dev *vdev,
                      const struct state_ops *dev_state, void *dev_opaque)
{
    if (vp->vdev || !vdev || vdev->num_queues != vp->num_queues ||
        vdev->irq.opaque != vp || vpm_attach(&vp->regs, vdev) < 0)
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
    return qidx < vp->num_queues ? vp->q[qidx].efd : -1;
}

void virtio_pci_get_stats(const struct virtio_pci *vp,
                          struct virtio_pci_stats *st)
{
    uint64_t all = stats_get(&vp->st_doorbells);
    uint64_t trapped = stats_get(&vp->st_trapped);

    /* Kicks consumed while the device was paused are not counted in all:
     * clamp rather than wrap. */
    st->doorbells_trapped = trapped;
    st->doorbells_ioeventfd = all > trapped ? all - trapped : 0;
    st->interrupts = stats_get(&vp->st_interrupts);
}

void virtio_pci_doorbell_ready(struct virtio_pci *vp, uint16_t qidx)
{
    uint64_t v;

    if (qidx >= vp->num_queues)
        return;
    if (read(vp->q[qidx].efd, &v, sizeof(v)) < 0) {
        /* EAGAIN: someone else consumed it; process anyway. */
    } else {
        stats_add(&vp->st_doorbells, v);
    }
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

static int save_msix(struct virtio_pci *vp, void *fdt, int node)
{
    uint32_t tsize = msix_table_size(&vp->msix);
    uint32_t psize = msix_pba_size(&vp->msix);
    uint8_t *buf = malloc(tsize + psize);
    int r;

    if (!buf)
        return -ENOMEM;
    for (uint32_t o = 0; o < tsize; o += 4)
        msix_table_read(&vp->msix, o, buf + o, 4);
    for (uint32_t o = 0; o < psize; o += 8)
        msix_pba_read(&vp->msix, o, buf + tsize + o, 8);
    r = state_put_bytes(fdt, node, "msix-table", buf, tsize);
    if (r == 0)
        r = state_put_bytes(fdt, node, "msix-pba", buf + tsize, psize);
    free(buf);
    return r;
}

static int save_regs(struct virtio_pci *vp, void *fdt, int node)
{
    struct vp_queue_state *qs = calloc(vp->num_queues, sizeof(*qs));
    int r;

    if (!qs)
        return -ENOMEM;
    for (uint16_t i = 0; i < vp->num_queues; i++)
        qs[i] = (struct vp_queue_state){ .desc = vp->regs.q[i].desc,
                                         .avail = vp->regs.q[i].driver,
                                         .used = vp->regs.q[i].device,
                                         .size = vp->regs.q[i].size,
                                         .vector = vp->regs.q[i].vector };
    r = state_put_bytes(fdt, node, "queues", qs,
                        vp->num_queues * sizeof(*qs));
    free(qs);
    if (r == 0)
        r = state_put_u32(fdt, node, "msix-config", vp->regs.msix_config);
    if (r == 0)
        r = state_put_u32(fdt, node, "queue-select", vp->regs.queue_select);
    if (r == 0)
        r = state_put_u32(fdt, node, "isr", vp->regs.isr);
    return r;
}

static int vp_save(struct pci_dev *dev, void *fdt, int node)
{
    struct virtio_pci *vp = dev->opaque;
    int r, sub;

    pthread_mutex_lock(&vp->lock);
    r = save_msix(vp, fdt, node);
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

/* Restore the MSI-X table (which rewires routes) and pending bits. */
static int load_msix(struct virtio_pci *vp, const void *fdt, int node)
{
    uint32_t tsize = msix_table_size(&vp->msix);
    uint32_t psize = msix_pba_size(&vp->msix);
    uint32_t ctrl = (uint32_t)vp->msix_cap + PCI_MSIX_FLAGS;
    uint8_t *buf = malloc(tsize + psize);
    uint64_t bits;
    int r;

    if (!buf)
        return -ENOMEM;
    r = state_get_bytes(fdt, node, "msix-table", buf, tsize);
    if (r == 0)
        r = state_get_bytes(fdt, node, "msix-pba", buf + tsize, psize);
    if (r == 0) {
        msix_reset(&vp->msix);
        for (uint32_t o = 0; o < tsize; o += 4)
            msix_table_write(&vp->msix, o, buf + o, 4);
        for (unsigned int v = 0; v < vp->nvec; v++) {
            memcpy(&bits, buf + tsize + v / 64 * 8, 8);
            if ((bits >> (v % 64)) & 1)
                msix_notify(&vp->msix, v);
        }
        msix_set_control(&vp->msix,
                         (uint16_t)pci_cfg_get(&vp->pci, ctrl, 2));
    }
    free(buf);
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
        vp->regs.q[i].desc = qs[i].desc;
        vp->regs.q[i].driver = qs[i].avail;
        vp->regs.q[i].device = qs[i].used;
        vp->regs.q[i].size = qs[i].size;
        vp->regs.q[i].vector = qs[i].vector;
    }
    if (r == 0) {
        vp->regs.msix_config = (uint16_t)mc;
        vp->regs.queue_select = (uint16_t)sel;
        vp->regs.isr = (uint8_t)isr;
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
    if (r == 0)
        r = load_msix(vp, fdt, node);
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
