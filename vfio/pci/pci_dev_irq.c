/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: interrupts (see pci_dev_irq.h). MSI-X and MSI
 * vectors are irqfds on MSI routes built from what the guest programmed
 * (devices/msix_route.c); the same eventfds go to the server with
 * SET_IRQS, so its interrupts reach the guest without us. A masked
 * vector's eventfd is watched by the route engine: a signal then sets the
 * pending bit, and unmasking delivers it. INTx is an irqfd with a resample
 * eventfd handed to the server as UNMASK. Spec: vfio-user.rst
 * "VFIO_USER_DEVICE_GET_IRQ_INFO", "VFIO_USER_DEVICE_SET_IRQS"; PCI Local
 * Bus 3.0 §6.8 (MSI, MSI-X). */
#include "vfio/pci/pci_dev_irq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/pci.h"
#include "vfio/client/client.h"
#include "devices/msix_state.h"

static struct pci_dev *pci_of(struct vpd_irq *irq)
{
    return irq->ctx->pci;
}

/* @n vectors in route engine @set, named after the device in logs. */
static int route_init(struct vpd_irq *irq, struct msix_route *set,
                      unsigned int n)
{
    char name[48];

    snprintf(name, sizeof(name), "vfio-user %s", irq->ctx->name);
    return msix_route_init(set, &irq->ctx->hv, n, name);
}

/* Hand the vectors' eventfds of @index (@n of @set) to the server, or
 * take them back (@on false). */
static int set_irqs(struct vpd_irq *irq, uint32_t index,
                    struct msix_route *set, unsigned int n, bool on)
{
    int *fds = NULL, r;

    if (on) {
        fds = malloc((n ? n : 1) * sizeof(int));
        if (!fds)
            return -ENOMEM;
        for (unsigned int i = 0; i < n; i++)
            fds[i] = msix_route_fd(set, i);
    }
    r = vfio_client_set_irqs(irq->ctx->client, index,
                             (on ? VFIO_IRQ_SET_DATA_EVENTFD
                                 : VFIO_IRQ_SET_DATA_NONE) |
                                 VFIO_IRQ_SET_ACTION_TRIGGER,
                             0, on ? n : 0, fds);
    free(fds);
    return r;
}

/* ---- MSI-X -------------------------------------------------------------- */

/* Parse the MSI-X capability of the config image. */
static int msix_setup(struct vpd_irq *irq, uint32_t count,
                      const uint64_t bar_size[6], char *err, size_t errlen)
{
    struct pci_dev *pci = pci_of(irq);
    uint32_t cap = (uint32_t)irq->msix_cap;
    uint16_t ctrl = (uint16_t)pci_cfg_get(pci, cap + 2, 2);
    uint32_t table = pci_cfg_get(pci, cap + 4, 4);
    uint32_t pba = pci_cfg_get(pci, cap + 8, 4);
    unsigned int tsize = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1u;
    unsigned int bar = table & PCI_MSIX_TABLE_BIR;
    uint64_t bsize = bar_size[bar < PCI_STD_NUM_BARS ? bar : 0];
    unsigned int nvec = count < tsize ? count : tsize;
    int r;

    irq->msix_bar = bar;
    irq->table_off = table & PCI_MSIX_TABLE_OFFSET;
    irq->pba_off = pba & PCI_MSIX_PBA_OFFSET;
    r = msix_init(&irq->msix, tsize, &msix_route_msix_ops, &irq->vec);
    if (r == 0 && (bar >= PCI_STD_NUM_BARS ||
                   (pba & PCI_MSIX_PBA_BIR) != bar ||
                   irq->table_off + msix_table_size(&irq->msix) > bsize ||
                   irq->pba_off + msix_pba_size(&irq->msix) > bsize))
        r = -EPROTO;
    if (r) {
        snprintf(err, errlen, "MSI-X capability: table BIR %u offset %#llx "
                 "/ PBA %#x for %u vectors do not fit the BAR", bar,
                 (unsigned long long)irq->table_off, pba, tsize);
        return r;
    }
    r = route_init(irq, &irq->vec, nvec);
    if (r)
        return r;
    /* Enable and Function Mask are the guest's; reads come from here. */
    irq->emu[cap + 2] = irq->emu[cap + 3] = 1;
    pci_dev_set_wmask(pci, cap + 2, 2,
                      PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    pci_cfg_set(pci, cap + 2, 2, ctrl & PCI_MSIX_FLAGS_QSIZE);
    msix_reset(&irq->msix); /* all masked: every eventfd watched */
    return 0;
}

static void msix_cfg_write(struct vpd_irq *irq)
{
    uint16_t ctrl = (uint16_t)pci_cfg_get(pci_of(irq), irq->msix_cap + 2, 2);
    bool on = ctrl & PCI_MSIX_FLAGS_ENABLE;

    msix_set_control(&irq->msix, ctrl);
    if (on != irq->msix_on &&
        set_irqs(irq, VFIO_PCI_MSIX_IRQ_INDEX, &irq->vec, irq->vec.nvec,
                 on) == 0)
        irq->msix_on = on;
}

/* ---- MSI ---------------------------------------------------------------- */

static bool msi_64(struct vpd_irq *irq)
{
    return pci_cfg_get(pci_of(irq), irq->msi_cap + PCI_MSI_FLAGS, 2) &
           PCI_MSI_FLAGS_64BIT;
}

static uint32_t msi_reg(struct vpd_irq *irq, uint32_t reg32, uint32_t reg64)
{
    return irq->msi_cap + (msi_64(irq) ? reg64 : reg32);
}

static int msi_setup(struct vpd_irq *irq, uint32_t count)
{
    struct pci_dev *pci = pci_of(irq);
    uint32_t cap = (uint32_t)irq->msi_cap;
    uint16_t ctrl = (uint16_t)pci_cfg_get(pci, cap + 2, 2);
    bool pvm = ctrl & PCI_MSI_FLAGS_MASKBIT;
    uint32_t mmc = 1u << ((ctrl & PCI_MSI_FLAGS_QMASK) >> 1);
    uint32_t size = pvm ? (msi_64(irq) ? 24 : 20) : (msi_64(irq) ? 14 : 10);

    irq->msi_nvec = mmc < count ? mmc : count;
    if (irq->msi_nvec > VPD_MSI_MAX)
        irq->msi_nvec = VPD_MSI_MAX;
    for (uint32_t i = 2; i < size; i++)
        irq->emu[cap + i] = 1;
    pci_cfg_set(pci, cap + 2, 2, ctrl & ~(PCI_MSI_FLAGS_ENABLE |
                                          PCI_MSI_FLAGS_QSIZE));
    pci_dev_set_wmask(pci, cap + 2, 2,
                      PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    pci_dev_set_wmask(pci, cap + PCI_MSI_ADDRESS_LO, 4, 0xFFFFFFFC);
    if (msi_64(irq))
        pci_dev_set_wmask(pci, cap + PCI_MSI_ADDRESS_HI, 4, 0xFFFFFFFF);
    pci_dev_set_wmask(pci, msi_reg(irq, PCI_MSI_DATA_32, PCI_MSI_DATA_64),
                      2, 0xFFFF);
    if (pvm)
        pci_dev_set_wmask(pci,
                          msi_reg(irq, PCI_MSI_MASK_32, PCI_MSI_MASK_64), 4,
                          (uint32_t)((1ull << irq->msi_nvec) - 1));
    return route_init(irq, &irq->msi, irq->msi_nvec);
}

/* Re-evaluate every MSI vector from the capability. map_lock held. */
static void msi_apply(struct vpd_irq *irq)
{
    struct pci_dev *pci = pci_of(irq);
    uint32_t cap = (uint32_t)irq->msi_cap;
    uint16_t ctrl = (uint16_t)pci_cfg_get(pci, cap + 2, 2);
    bool on = ctrl & PCI_MSI_FLAGS_ENABLE, pvm = ctrl & PCI_MSI_FLAGS_MASKBIT;
    unsigned int n = 1u << ((ctrl & PCI_MSI_FLAGS_QSIZE) >> 4);
    uint64_t addr = pci_cfg_get(pci, cap + PCI_MSI_ADDRESS_LO, 4);
    uint32_t data = pci_cfg_get(pci, msi_reg(irq, PCI_MSI_DATA_32,
                                             PCI_MSI_DATA_64), 2);
    uint32_t mreg = msi_reg(irq, PCI_MSI_MASK_32, PCI_MSI_MASK_64);
    uint32_t mask = pvm ? pci_cfg_get(pci, mreg, 4) : 0;
    uint32_t pend = pvm ? pci_cfg_get(pci, mreg + 4, 4) : 0;

    if (msi_64(irq))
        addr |= (uint64_t)pci_cfg_get(pci, cap + PCI_MSI_ADDRESS_HI, 4)
                << 32;
    for (unsigned int i = 0; i < irq->msi_nvec; i++) {
        bool masked = !on || i >= n || (mask & (1u << i));

        msix_route_set(&irq->msi, i, addr, (data & ~(n - 1)) | (i & (n - 1)),
                       masked);
        if (!masked && (pend & (1u << i))) {
            pend &= ~(1u << i);
            msix_route_signal(&irq->msi, i);
        }
    }
    if (pvm)
        pci_cfg_set(pci, mreg + 4, 4, pend);
}

static void msi_cfg_write(struct vpd_irq *irq)
{
    bool on = pci_cfg_get(pci_of(irq), irq->msi_cap + 2, 2) &
              PCI_MSI_FLAGS_ENABLE;

    pthread_mutex_lock(&irq->ctx->map_lock);
    msi_apply(irq);
    pthread_mutex_unlock(&irq->ctx->map_lock);
    if (on != irq->msi_on &&
        set_irqs(irq, VFIO_PCI_MSI_IRQ_INDEX, &irq->msi, irq->msi_nvec,
                 on) == 0)
        irq->msi_on = on;
}

/* A masked MSI vector was signalled: its pending bit (map_lock held). */
static void msi_pending(void *opaque, unsigned int i)
{
    struct vpd_irq *irq = opaque;
    struct pci_dev *pci = pci_of(irq);
    uint32_t preg = msi_reg(irq, PCI_MSI_MASK_32, PCI_MSI_MASK_64) + 4;

    if (pci_cfg_get(pci, irq->msi_cap + 2, 2) & PCI_MSI_FLAGS_MASKBIT)
        pci_cfg_set(pci, preg, 4, pci_cfg_get(pci, preg, 4) | (1u << i));
}

static void msix_pending(void *opaque, unsigned int vec)
{
    msix_notify(opaque, vec);
}

void vpd_irq_msix_ready(struct vpd_irq *irq)
{
    if (irq->msix_cap >= 0)
        msix_route_take_pending(&irq->vec, msix_pending, &irq->msix);
}

void vpd_irq_msi_ready(struct vpd_irq *irq)
{
    if (irq->msi_cap < 0)
        return;
    pthread_mutex_lock(&irq->ctx->map_lock);
    msix_route_take_pending(&irq->msi, msi_pending, irq);
    pthread_mutex_unlock(&irq->ctx->map_lock);
}

int vpd_irq_msix_poll_fd(const struct vpd_irq *irq)
{
    return irq->msix_cap >= 0 ? msix_route_poll_fd(&irq->vec) : -1;
}

int vpd_irq_msi_poll_fd(const struct vpd_irq *irq)
{
    return irq->msi_cap >= 0 ? msix_route_poll_fd(&irq->msi) : -1;
}

/* ---- INTx --------------------------------------------------------------- */

static int intx_wire(struct vpd_irq *irq)
{
    const struct hv *hv = &irq->ctx->hv;
    struct vfio_client *c = irq->ctx->client;
    int r;

    irq->intx_gsi = pci_dev_intx_gsi(pci_of(irq));
    r = hv->ops->irqfd(hv->opaque, irq->intx_efd, irq->intx_gsi,
                       irq->intx_rfd, true);
    if (r == 0)
        r = vfio_client_set_irqs(c, VFIO_PCI_INTX_IRQ_INDEX,
                                 VFIO_IRQ_SET_DATA_EVENTFD |
                                     VFIO_IRQ_SET_ACTION_TRIGGER,
                                 0, 1, &irq->intx_efd);
    if (r == 0 && vfio_client_set_irqs(c, VFIO_PCI_INTX_IRQ_INDEX,
                                       VFIO_IRQ_SET_DATA_EVENTFD |
                                           VFIO_IRQ_SET_ACTION_UNMASK,
                                       0, 1, &irq->intx_rfd))
        vpd_say(irq->ctx, LOG_WARN, "server takes no INTx unmask eventfd");
    irq->intx_on = r == 0;
    return r;
}

/* ---- setup and life cycle ----------------------------------------------- */

static uint32_t irq_count(struct vpd_irq *irq, uint32_t index)
{
    struct vfio_irq_info ii;

    if (vfio_client_irq_info(irq->ctx->client, index, &ii) ||
        !(ii.flags & VFIO_IRQ_INFO_EVENTFD))
        return 0;
    return ii.count;
}

int vpd_irq_setup(struct vpd_irq *irq, struct vpd_ctx *ctx, uint8_t *emu,
                  const uint64_t bar_size[6], char *err, size_t errlen)
{
    struct pci_dev *pci = ctx->pci;
    uint32_t n;
    int r = 0;

    irq->ctx = ctx;
    irq->emu = emu;
    irq->intx_efd = irq->intx_rfd = -1;
    irq->msix_cap = pci_find_capability(pci, PCI_CAP_ID_MSIX);
    irq->msi_cap = pci_find_capability(pci, PCI_CAP_ID_MSI);
    if (irq->msix_cap >= 0 && (n = irq_count(irq, VFIO_PCI_MSIX_IRQ_INDEX)))
        r = msix_setup(irq, n, bar_size, err, errlen);
    else
        irq->msix_cap = -1;
    if (r == 0 && irq->msi_cap >= 0 &&
        (n = irq_count(irq, VFIO_PCI_MSI_IRQ_INDEX)))
        r = msi_setup(irq, n);
    else
        irq->msi_cap = -1;
    if (r == 0 && pci->cs.cfg[PCI_INTERRUPT_PIN] &&
        irq_count(irq, VFIO_PCI_INTX_IRQ_INDEX) == 1) {
        irq->intx_efd = eventfd(0, EFD_CLOEXEC);
        irq->intx_rfd = eventfd(0, EFD_CLOEXEC);
    } else {
        pci->cs.cfg[PCI_INTERRUPT_PIN] = 0;
    }
    if (r == 0 && vfio_client_failed(ctx->client))
        r = -ENODEV;
    if (r && !err[0])
        snprintf(err, errlen, "interrupt setup: %s", strerror(-r));
    return r;
}

int vpd_irq_start(struct vpd_irq *irq)
{
    return irq->intx_efd >= 0 ? intx_wire(irq) : 0;
}

void vpd_irq_cfg_write(struct vpd_irq *irq, uint32_t off, uint32_t len)
{
    if (irq->msix_cap >= 0 &&
        pci_cfg_overlaps(off, len, irq->msix_cap + 2, 2))
        msix_cfg_write(irq);
    if (irq->msi_cap >= 0 && pci_cfg_overlaps(off, len, irq->msi_cap + 2, 22))
        msi_cfg_write(irq);
}

void vpd_irq_detach(struct vpd_irq *irq)
{
    const struct hv *hv = &irq->ctx->hv;

    msix_route_suspend(&irq->vec);
    msix_route_suspend(&irq->msi);
    if (irq->intx_on)
        hv->ops->irqfd(hv->opaque, irq->intx_efd, irq->intx_gsi,
                       irq->intx_rfd, false);
    irq->intx_on = false;
}

/* Replay after a reconnect: vectors as the guest left them, eventfds to
 * the new server. */
int vpd_irq_reattach(struct vpd_irq *irq)
{
    int r = 0;

    msix_route_resume(&irq->vec);
    pthread_mutex_lock(&irq->ctx->map_lock);
    msix_route_resume(&irq->msi);
    if (irq->msi_cap >= 0)
        msi_apply(irq);
    pthread_mutex_unlock(&irq->ctx->map_lock);
    if (irq->msix_on)
        r = set_irqs(irq, VFIO_PCI_MSIX_IRQ_INDEX, &irq->vec, irq->vec.nvec,
                     true);
    if (r == 0 && irq->msi_on) {
        irq->msi_on = false;
        msi_cfg_write(irq);
    }
    if (r == 0 && irq->intx_efd >= 0)
        r = intx_wire(irq);
    return r;
}

void vpd_irq_reset(struct vpd_irq *irq)
{
    struct pci_dev *pci = pci_of(irq);

    if (irq->msix_cap >= 0) {
        pci_cfg_set(pci, irq->msix_cap + 2, 2,
                    pci_cfg_get(pci, irq->msix_cap + 2, 2) &
                        PCI_MSIX_FLAGS_QSIZE);
        msix_reset(&irq->msix);
        irq->msix_on = false;
    }
    if (irq->msi_cap >= 0) {
        pci_cfg_set(pci, irq->msi_cap + 2, 2,
                    pci_cfg_get(pci, irq->msi_cap + 2, 2) &
                        ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE));
        pthread_mutex_lock(&irq->ctx->map_lock);
        msi_apply(irq);
        pthread_mutex_unlock(&irq->ctx->map_lock);
        irq->msi_on = false;
    }
}

void vpd_irq_free(struct vpd_irq *irq)
{
    if (!irq->ctx)
        return;
    pthread_mutex_lock(&irq->ctx->map_lock);
    vpd_irq_detach(irq);
    pthread_mutex_unlock(&irq->ctx->map_lock);
    msix_route_fini(&irq->vec);
    msix_route_fini(&irq->msi);
    msix_fini(&irq->msix);
    if (irq->intx_efd >= 0)
        close(irq->intx_efd);
    if (irq->intx_rfd >= 0)
        close(irq->intx_rfd);
}

/* ---- state -------------------------------------------------------------- */

int vpd_irq_save(struct vpd_irq *irq, void *fdt, int node)
{
    /* Interrupts that arrived for masked vectors go to the PBA now. */
    vpd_irq_msix_ready(irq);
    vpd_irq_msi_ready(irq);
    return irq->msix_cap >= 0 ? msix_state_save(&irq->msix, fdt, node) : 0;
}

/* MSI-X table and PBA (routes and irqfds follow), then Message Control
 * (SET_IRQS when enabled); MSI from the config image. */
int vpd_irq_load(struct vpd_irq *irq, const void *fdt, int node)
{
    int r = 0;

    if (irq->msix_cap >= 0) {
        r = msix_state_load(&irq->msix, fdt, node);
        if (r == 0)
            vpd_irq_cfg_write(irq, (uint32_t)irq->msix_cap + 2, 2);
    }
    if (r == 0 && irq->msi_cap >= 0)
        vpd_irq_cfg_write(irq, (uint32_t)irq->msi_cap + 2, 2);
    if (r == 0 && vfio_client_failed(irq->ctx->client))
        r = -ENODEV;
    return r;
}
