/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci interrupts (see pci_irq.h): MSI-X vectors through the route
 * engine, the INTx/ISR fallback (spec 4.1.4.5, 4.1.5.3-4). */
#include "virtio/pci_irq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/msix_state.h"
#include "vmm/stats.h"

int vp_irq_init(struct vp_irq *irq, unsigned int nvec, uint32_t pba_off,
                const struct hv *hv, struct pci_dev *pci, struct vpm *regs)
{
    int r;

    memset(irq, 0, sizeof(*irq));
    irq->pci = pci;
    irq->regs = regs;
    irq->pba_off = pba_off;
    r = msix_route_init(&irq->route, hv, nvec, "virtio-pci");
    if (r)
        return r;
    r = msix_init(&irq->msix, nvec, &msix_route_msix_ops, &irq->route);
    if (r)
        msix_route_fini(&irq->route);
    return r;
}

void vp_irq_fini(struct vp_irq *irq)
{
    msix_fini(&irq->msix);
    msix_route_fini(&irq->route);
}

/* --- raising interrupts (transport lock held) ------------------------- */

static int raise(struct vp_irq *irq, uint16_t vector, uint8_t isr_bit)
{
    if (msix_control(&irq->msix) & MSIX_CTRL_ENABLE) {
        if (vector == VPM_NO_VECTOR)
            return 0;
        stats_inc(&irq->st_interrupts);
        return msix_notify(&irq->msix, vector);
    }
    stats_inc(&irq->st_interrupts);
    vpm_set_isr(irq->regs, isr_bit);
    pci_dev_set_intx(irq->pci, true);
    return 0;
}

static int vp_notify_queue(void *opaque, uint16_t qidx)
{
    struct vp_irq *irq = opaque;

    if (qidx >= irq->regs->num_queues)
        return -EINVAL;
    return raise(irq, vpm_queue_vector(irq->regs, qidx), VPM_ISR_QUEUE);
}

static int vp_notify_config(void *opaque)
{
    struct vp_irq *irq = opaque;

    return raise(irq, vpm_config_vector(irq->regs), VPM_ISR_CONFIG);
}

const struct virtio_irq_ops vp_irq_ops = {
    .notify_queue = vp_notify_queue,
    .notify_config = vp_notify_config,
};

/* --- the MSI-X BAR ------------------------------------------------------ */

static void msix_bar_read(void *opaque, uint64_t off, void *data,
                          uint32_t len)
{
    struct vp_irq *irq = opaque;

    if (off >= irq->pba_off)
        msix_pba_read(&irq->msix, off - irq->pba_off, data, len);
    else
        msix_table_read(&irq->msix, off, data, len);
}

static void msix_bar_write(void *opaque, uint64_t off, const void *data,
                           uint32_t len)
{
    struct vp_irq *irq = opaque;

    if (off < irq->pba_off)
        msix_table_write(&irq->msix, off, data, len);
}

const struct bus_ops vp_irq_msix_bar_ops = {
    .read = msix_bar_read,
    .write = msix_bar_write,
};

void vp_irq_set_control(struct vp_irq *irq, uint16_t ctrl)
{
    msix_set_control(&irq->msix, ctrl);
}

void vp_irq_reset(struct vp_irq *irq)
{
    msix_reset(&irq->msix);
}

uint64_t vp_irq_count(const struct vp_irq *irq)
{
    return stats_get(&irq->st_interrupts);
}

/* --- state ------------------------------------------------------------- */

int vp_irq_save(struct vp_irq *irq, void *fdt, int node)
{
    return msix_state_save(&irq->msix, fdt, node);
}

int vp_irq_load(struct vp_irq *irq, const void *fdt, int node,
                uint16_t ctrl)
{
    int r = msix_state_load(&irq->msix, fdt, node);

    if (r == 0)
        msix_set_control(&irq->msix, ctrl);
    return r;
}
