/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci BARs (see pci.h): BAR 2 through the register model
 * (virtio/pci_model.h: common configuration, ISR, device configuration,
 * notifications) under the transport lock, the PCI configuration access
 * capability (spec 4.1.4.7), and the MSI-X table/PBA BAR. */
#include "virtio/pci_priv.h"
#include "virtio/pci_caps.h"
#include "vmm/stats.h"

#include <endian.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_pci.h>

/* --- struct vpm hooks (lock held, but for notify) ---------------------- */

static void regs_notify(void *opaque, uint16_t qidx)
{
    struct virtio_pci *vp = opaque;
    uint64_t one = 1;

    stats_inc(&vp->st_trapped);
    if (write(vp->q[qidx].efd, &one, sizeof(one)) < 0) {
        /* Counter saturated: a notification is pending anyway. */
    }
}

/* Apply the negotiated ring features; a queue the driver set up wrongly
 * needs a device reset (spec 2.1.2). */
static void regs_queue_enable(void *opaque, uint16_t qidx, int result)
{
    struct virtio_pci *vp = opaque;

    virtq_set_features(&vp->vdev->queues[qidx], vp->vdev->driver_features);
    if (result < 0)
        virtio_dev_set_needs_reset(vp->vdev, "queue %u: the driver enabled "
                                   "it with bad rings (%s)", qidx,
                                   strerror(-result));
}

static void regs_isr_cleared(void *opaque)
{
    struct virtio_pci *vp = opaque;

    pci_dev_set_intx(&vp->pci, false);
}

static const struct vpm_ops vp_regs_ops = {
    .notify = regs_notify,
    .queue_enable = regs_queue_enable,
    .isr_cleared = regs_isr_cleared,
};

int vp_regs_init(struct virtio_pci *vp)
{
    struct vpm_params p = {
        .num_queues = vp->num_queues,
        .nvec = (uint16_t)vp->nvec,
        .config_size = vp->config_size,
        .ops = &vp_regs_ops,
        .opaque = vp,
    };

    return vpm_init(&vp->regs, &p);
}

/* --- BARs ---------------------------------------------------------------- */

static void cfg_bar_read(void *opaque, uint64_t off, void *data,
                         uint32_t len)
{
    struct virtio_pci *vp = opaque;

    pthread_mutex_lock(&vp->lock);
    vpm_read(&vp->regs, off, data, len);
    pthread_mutex_unlock(&vp->lock);
}

/* Doorbells only signal an eventfd: no lock (see pci.h). */
static void cfg_bar_write(void *opaque, uint64_t off, const void *data,
                          uint32_t len)
{
    struct virtio_pci *vp = opaque;

    if (off >= VIRTIO_PCI_NOTIFY_OFF) {
        vpm_write(&vp->regs, off, data, len);
        return;
    }
    pthread_mutex_lock(&vp->lock);
    vpm_write(&vp->regs, off, data, len);
    pthread_mutex_unlock(&vp->lock);
}

const struct bus_ops vp_cfg_bar_ops = {
    .read = cfg_bar_read,
    .write = cfg_bar_write,
};

static void msix_bar_read(void *opaque, uint64_t off, void *data,
                          uint32_t len)
{
    struct virtio_pci *vp = opaque;

    if (off >= vp->pba_off)
        msix_pba_read(&vp->msix, off - vp->pba_off, data, len);
    else
        msix_table_read(&vp->msix, off, data, len);
}

static void msix_bar_write(void *opaque, uint64_t off, const void *data,
                           uint32_t len)
{
    struct virtio_pci *vp = opaque;

    if (off < vp->pba_off)
        msix_table_write(&vp->msix, off, data, len);
}

const struct bus_ops vp_msix_bar_ops = {
    .read = msix_bar_read,
    .write = msix_bar_write,
};

/* The VIRTIO_PCI_CAP_PCI_CFG window (virtio/pci_caps.h): cap.bar/offset/
 * length select a BAR range; pci_cfg_data accesses it. Only BAR 2 is
 * reachable. */
void vp_cfg_cap_read(struct virtio_pci *vp, uint32_t off, uint32_t len,
                     uint32_t *val)
{
    uint32_t data_off = (uint32_t)vp->cfg_cap + VPC_CFG_DATA, blen;
    uint32_t buf = 0;
    uint64_t boff;

    if (!vpc_cfg_window(&vp->pci.cs, (uint32_t)vp->cfg_cap,
                        VIRTIO_PCI_CFG_BAR, off, len, &boff, &blen))
        return;
    cfg_bar_read(vp, boff, &buf, blen);
    pci_cfg_set(&vp->pci, data_off, 4, le32toh(buf));
    *val = pci_cfg_get(&vp->pci, off, len);
}

void vp_cfg_cap_write(struct virtio_pci *vp, uint32_t off, uint32_t len)
{
    uint32_t data_off = (uint32_t)vp->cfg_cap + VPC_CFG_DATA, blen;
    uint32_t buf;
    uint64_t boff;

    if (!vpc_cfg_window(&vp->pci.cs, (uint32_t)vp->cfg_cap,
                        VIRTIO_PCI_CFG_BAR, off, len, &boff, &blen))
        return;
    buf = htole32(pci_cfg_get(&vp->pci, data_off, 4));
    cfg_bar_write(vp, boff, &buf, blen);
}
