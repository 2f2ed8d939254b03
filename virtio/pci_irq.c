/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci interrupts and doorbells (see pci.h): MSI-X vectors as
 * irqfds on MSI routes that follow the guest's table, the INTx/ISR
 * fallback (spec 4.1.4.5, 4.1.5.3-4), and doorbell ioeventfds that follow
 * BAR 2 wherever the guest maps it. */
#include "virtio/pci_priv.h"
#include "vmm/stats.h"
#include "vmm/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool have_hv(const struct virtio_pci *vp)
{
    return vp->hv.ops != NULL;
}

/* --- MSI-X callbacks (MSI-X lock held) -------------------------------- */

static void route_vector(struct virtio_pci *vp, struct vp_vector *v,
                         uint64_t addr, uint32_t data)
{
    const struct hv_ops *ops = vp->hv.ops;
    int r;

    if (v->routed) {
        if ((v->addr != addr || v->data != data) &&
            ops->msi_update(vp->hv.opaque, v->gsi, addr, data) == 0) {
            v->addr = addr;
            v->data = data;
        }
        return;
    }
    r = ops->msi_add(vp->hv.opaque, addr, data, &v->gsi);
    if (r < 0) {
        log_warn("minivmm: virtio-pci: MSI route: %s\n",
                 strerror(-r));
        return;
    }
    r = ops->irqfd(vp->hv.opaque, v->efd, v->gsi, -1, true);
    if (r < 0) {
        log_warn("minivmm: virtio-pci: irqfd: %s\n", strerror(-r));
        ops->msi_del(vp->hv.opaque, v->gsi);
        return;
    }
    v->routed = true;
    v->addr = addr;
    v->data = data;
}

/* A vector's message or mask changed. Routes are made on first unmask
 * and kept while masked: a masked vector is never signalled (msix.c sets
 * its PBA bit instead), so the irqfd can stay attached. */
static void vp_vector_changed(void *opaque, unsigned int vec, uint64_t addr,
                              uint32_t data, bool masked)
{
    struct virtio_pci *vp = opaque;

    if (masked || !have_hv(vp) || vec >= vp->nvec)
        return;
    route_vector(vp, &vp->vec[vec], addr, data);
}

static void vp_fire(void *opaque, unsigned int vec, uint64_t addr,
                    uint32_t data)
{
    struct virtio_pci *vp = opaque;
    uint64_t one = 1;

    (void)addr, (void)data;
    if (vec < vp->nvec && write(vp->vec[vec].efd, &one, sizeof(one)) < 0) {
        /* Saturated counter: the interrupt is pending anyway. */
    }
}

const struct msix_ops vp_msix_ops = {
    .vector_changed = vp_vector_changed,
    .fire = vp_fire,
};

void vp_vectors_release(struct virtio_pci *vp)
{
    for (unsigned int i = 0; vp->vec && i < vp->nvec; i++) {
        struct vp_vector *v = &vp->vec[i];

        if (v->routed) {
            vp->hv.ops->irqfd(vp->hv.opaque, v->efd, v->gsi, -1, false);
            vp->hv.ops->msi_del(vp->hv.opaque, v->gsi);
            v->routed = false;
        }
    }
}

/* --- raising interrupts (transport lock held) ------------------------- */

static int raise(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
    if (msix_control(&vp->msix) & MSIX_CTRL_ENABLE) {
        if (vector == VPM_NO_VECTOR)
            return 0;
        stats_inc(&vp->st_interrupts);
        return msix_notify(&vp->msix, vector);
    }
    stats_inc(&vp->st_interrupts);
    vpm_set_isr(&vp->regs, isr_bit);
    pci_dev_set_intx(&vp->pci, true);
    return 0;
}

static int vp_notify_queue(void *opaque, uint16_t qidx)
{
    struct virtio_pci *vp = opaque;

    if (qidx >= vp->num_queues)
        return -EINVAL;
    return raise(vp, vpm_queue_vector(&vp->regs, qidx), VPM_ISR_QUEUE);
}

static int vp_notify_config(void *opaque)
{
    struct virtio_pci *vp = opaque;

    return raise(vp, vpm_config_vector(&vp->regs), VPM_ISR_CONFIG);
}

const struct virtio_irq_ops vp_irq_ops = {
    .notify_queue = vp_notify_queue,
    .notify_config = vp_notify_config,
};

/* --- doorbell ioeventfds (PCI bus lock held) -------------------------- */

static int doorbell_assign(struct virtio_pci *vp, uint16_t i, uint64_t base,
                           bool assign)
{
    uint64_t addr = base + VIRTIO_PCI_NOTIFY_OFF +
                    (uint64_t)i * VIRTIO_PCI_NOTIFY_MULT;

    return vp->hv.ops->ioeventfd(vp->hv.opaque, vp->q[i].efd, addr, 2,
                                 false, false, 0, assign);
}

int vp_bar_map(struct pci_dev *dev, unsigned int bar, uint64_t addr,
               uint64_t size)
{
    struct virtio_pci *vp = dev->opaque;
    int r;

    (void)size;
    if (bar != VIRTIO_PCI_CFG_BAR || !have_hv(vp))
        return 0;
    for (uint16_t i = 0; i < vp->num_queues; i++) {
        r = doorbell_assign(vp, i, addr, true);
        if (r < 0) {
            /* Still works through the trapped doorbell, just slower. */
            log_warn("minivmm: virtio-pci: ioeventfd at %#llx: "
                     "%s\n", (unsigned long long)addr, strerror(-r));
            continue;
        }
        vp->q[i].ioeventfd = true;
    }
    return 0;
}

void vp_bar_unmap(struct pci_dev *dev, unsigned int bar, uint64_t addr,
                  uint64_t size)
{
    struct virtio_pci *vp = dev->opaque;

    (void)size;
    if (bar != VIRTIO_PCI_CFG_BAR || !have_hv(vp))
        return;
    for (uint16_t i = 0; i < vp->num_queues; i++) {
        if (vp->q[i].ioeventfd)
            doorbell_assign(vp, i, addr, false);
        vp->q[i].ioeventfd = false;
    }
}
