/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci BAR 2 (see pci_regs.h): the register model under the
 * transport lock, and the PCI configuration access capability (spec
 * 4.1.4.9). */
#include "virtio/pci_regs.h"
#include "virtio/pci_caps.h"

#include <endian.h>
#include <string.h>

#include <linux/virtio_pci.h>

/* --- struct vpm hooks (lock held, but for notify) ---------------------- */

static void regs_notify(void *opaque, uint16_t qidx)
{
    struct vp_regs *r = opaque;

    vp_db_ring(r->db, qidx);
}

/* Apply the negotiated ring features; a queue the driver set up wrongly
 * needs a device reset (spec 2.1.2). */
static void regs_queue_enable(void *opaque, uint16_t qidx, int result)
{
    struct vp_regs *r = opaque;
    struct virtio_dev *vdev = r->m.vdev;

    virtq_set_features(&vdev->queues[qidx], vdev->driver_features);
    if (result < 0)
        virtio_dev_set_needs_reset(vdev, "queue %u: the driver enabled "
                                   "it with bad rings (%s)", qidx,
                                   strerror(-result));
}

static void regs_isr_cleared(void *opaque)
{
    struct vp_regs *r = opaque;

    pci_dev_set_intx(r->pci, false);
}

static const struct vpm_ops vp_regs_ops = {
    .notify = regs_notify,
    .queue_enable = regs_queue_enable,
    .isr_cleared = regs_isr_cleared,
};

int vp_regs_init(struct vp_regs *r, uint16_t num_queues, uint16_t nvec,
                 uint32_t config_size, pthread_mutex_t *lock,
                 struct pci_dev *pci, struct vp_doorbells *db)
{
    struct vpm_params p = {
        .num_queues = num_queues,
        .nvec = nvec,
        .config_size = config_size,
        .ops = &vp_regs_ops,
        .opaque = r,
    };

    r->lock = lock;
    r->pci = pci;
    r->db = db;
    r->cfg_cap = -1;
    return vpm_init(&r->m, &p);
}

/* --- BARs ---------------------------------------------------------------- */

static void cfg_bar_read(void *opaque, uint64_t off, void *data,
                         uint32_t len)
{
    struct vp_regs *r = opaque;

    pthread_mutex_lock(r->lock);
    vpm_read(&r->m, off, data, len);
    pthread_mutex_unlock(r->lock);
}

/* Doorbells only signal an eventfd: no lock (see pci.h). */
static void cfg_bar_write(void *opaque, uint64_t off, const void *data,
                          uint32_t len)
{
    struct vp_regs *r = opaque;

    if (off >= VIRTIO_PCI_NOTIFY_OFF) {
        vpm_write(&r->m, off, data, len);
        return;
    }
    pthread_mutex_lock(r->lock);
    vpm_write(&r->m, off, data, len);
    pthread_mutex_unlock(r->lock);
}

const struct bus_ops vp_regs_bar_ops = {
    .read = cfg_bar_read,
    .write = cfg_bar_write,
};

/* The VIRTIO_PCI_CAP_PCI_CFG window (virtio/pci_caps.h): cap.bar/offset/
 * length select a BAR range; pci_cfg_data accesses it. Only BAR 2 is
 * reachable. */
void vp_regs_cfg_cap_read(struct vp_regs *r, uint32_t off, uint32_t len,
                          uint32_t *val)
{
    uint32_t data_off = (uint32_t)r->cfg_cap + VPC_CFG_DATA, blen;
    uint32_t buf = 0;
    uint64_t boff;

    if (!vpc_cfg_window(&r->pci->cs, (uint32_t)r->cfg_cap,
                        VIRTIO_PCI_CFG_BAR, off, len, &boff, &blen))
        return;
    cfg_bar_read(r, boff, &buf, blen);
    pci_cfg_set(r->pci, data_off, 4, le32toh(buf));
    *val = pci_cfg_get(r->pci, off, len);
}

void vp_regs_cfg_cap_write(struct vp_regs *r, uint32_t off, uint32_t len)
{
    uint32_t data_off = (uint32_t)r->cfg_cap + VPC_CFG_DATA, blen;
    uint32_t buf;
    uint64_t boff;

    if (!vpc_cfg_window(&r->pci->cs, (uint32_t)r->cfg_cap,
                        VIRTIO_PCI_CFG_BAR, off, len, &boff, &blen))
        return;
    buf = htole32(pci_cfg_get(r->pci, data_off, 4));
    cfg_bar_write(r, boff, &buf, blen);
}
