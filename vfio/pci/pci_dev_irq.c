/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: interrupts. MSI-X and MSI vectors are irqfds on
 * MSI routes built from what the guest programmed; the same eventfds go to
 * the server with SET_IRQS, so its interrupts reach the guest without us.
 * A masked vector's irqfd is detached and its eventfd polled here: a
 * signal then sets the pending bit, and unmasking delivers it. INTx is an
 * irqfd with a resample eventfd handed to the server as UNMASK.
 * See pci_dev.h. Spec: vfio-user.rst "VFIO_USER_DEVICE_GET_IRQ_INFO",
 * "VFIO_USER_DEVICE_SET_IRQS"; PCI Local Bus 3.0 §6.8 (MSI, MSI-X). */
#include "vfio/pci/pci_dev_priv.h"
#include "vmm/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MSI_CTRL_MME_SHIFT 4

static const struct hv *hv_of(struct vfio_pci *d)
{
    return &d->env.hv;
}

/* Bring vector @v in line with (@addr, @data, @masked). map_lock held. */
static void apply_vec(struct vfio_pci *d, struct vpd_vec *v, uint32_t tag,
                      uint64_t addr, uint32_t data, bool masked)
{
    const struct hv *hv = hv_of(d);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
    int r = 0;

    if (v->efd < 0 || atomic_load(&d->dead))
        return;
    if (!masked) {
        if (!v->has_gsi)
            r = hv->ops->msi_add(hv->opaque, addr, data, &v->gsi);
        else
            r = hv->ops->msi_update(hv->opaque, v->gsi, addr, data);
        v->has_gsi = v->has_gsi || r == 0;
        if (v->polled && epoll_ctl(d->epfd, EPOLL_CTL_DEL, v->efd, NULL) == 0)
            v->polled = false;
        if (r == 0 && !v->irqfd &&
            hv->ops->irqfd(hv->opaque, v->efd, v->gsi, -1, true) == 0)
            v->irqfd = true;
        if (r)
            log_warn("minivmm: vfio-user %s: MSI route: %s\n",
                     d->name, strerror(-r));
        return;
    }
    if (v->irqfd && hv->ops->irqfd(hv->opaque, v->efd, v->gsi, -1,
                                   false) == 0)
        v->irqfd = false;
    if (!v->polled && epoll_ctl(d->epfd, EPOLL_CTL_ADD, v->efd, &ev) == 0)
        v->polled = true;
}

/* Vector @v leaves KVM and our epoll (failure, teardown). */
static void drop_vec(struct vfio_pci *d, struct vpd_vec *v)
{
    const struct hv *hv = hv_of(d);

    if (v->irqfd)
        hv->ops->irqfd(hv->opaque, v->efd, v->gsi, -1, false);
    if (v->polled)
        epoll_ctl(d->epfd, EPOLL_CTL_DEL, v->efd, NULL);
    v->irqfd = v->polled = false;
}

/* ---- MSI-X -------------------------------------------------------------- */

static void msix_vector_changed(void *opaque, unsigned int vec, uint64_t addr,
                                uint32_t data, bool masked)
{
    struct vfio_pci *d = opaque;

    if (vec >= d->nvec)
        return;
    pthread_mutex_lock(&d->map_lock);
    apply_vec(d, &d->vec[vec], VPD_EV_VEC + vec, addr, data, masked);
    pthread_mutex_unlock(&d->map_lock);
}

static void msix_fire(void *opaque, unsigned int vec, uint64_t addr,
                      uint32_t data)
{
    struct vfio_pci *d = opaque;

    (void)addr;
    (void)data;
    if (vec < d->nvec && d->vec[vec].irqfd)
        eventfd_write(d->vec[vec].efd, 1); /* the irqfd injects it */
}

static const struct msix_ops vpd_msix_ops = {msix_vector_changed, msix_fire};

static int msix_fds(struct vfio_pci *d, bool on)
{
    int *fds = NULL, r;

    if (on) {
        fds = malloc(d->nvec * sizeof(int));
        if (!fds)
            return -ENOMEM;
        for (unsigned int i = 0; i < d->nvec; i++)
            fds[i] = d->vec[i].efd;
    }
    r = vfio_client_set_irqs(d->client, VFIO_PCI_MSIX_IRQ_INDEX,
                             (on ? VFIO_IRQ_SET_DATA_EVENTFD
                                 : VFIO_IRQ_SET_DATA_NONE) |
                                 VFIO_IRQ_SET_ACTION_TRIGGER,
                             0, on ? d->nvec : 0, fds);
    free(fds);
    return r;
}

/* Parse the MSI-X capability of the config image. */
static int msix_setup(struct vfio_pci *d, uint32_t count, char *err,
                      size_t errlen)
{
    uint16_t ctrl = (uint16_t)pci_cfg_get(&d->pci, d->msix_cap + 2, 2);
    uint32_t table = pci_cfg_get(&d->pci, d->msix_cap + 4, 4);
    uint32_t pba = pci_cfg_get(&d->pci, d->msix_cap + 8, 4);
    unsigned int tsize = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1u;
    unsigned int bar = table & PCI_MSIX_TABLE_BIR;
    struct vpd_bar *b = &d->bars[bar < PCI_STD_NUM_BARS ? bar : 0];
    int r;

    unsigned int nvec = count < tsize ? count : tsize;
    struct vpd_vec *vec;

    d->msix_bar = bar;
    d->table_off = table & PCI_MSIX_TABLE_OFFSET;
    d->pba_off = pba & PCI_MSIX_PBA_OFFSET;
    r = msix_init(&d->msix, tsize, &vpd_msix_ops, d);
    if (r == 0 && (bar >= PCI_STD_NUM_BARS ||
                   (pba & PCI_MSIX_PBA_BIR) != bar ||
                   d->table_off + msix_table_size(&d->msix) > b->ri.size ||
                   d->pba_off + msix_pba_size(&d->msix) > b->ri.size))
        r = -EPROTO;
    if (r) {
        snprintf(err, errlen, "MSI-X capability: table BIR %u offset %#llx "
                 "/ PBA %#x for %u vectors do not fit the BAR", bar,
                 (unsigned long long)d->table_off, pba, tsize);
        return r;
    }
    /* nvec only once vec exists: cleanup walks vec[0, nvec) (a table
     * outside its BAR used to leave nvec set and vec NULL). */
    vec = calloc(nvec ? nvec : 1, sizeof(*vec));
    if (!vec)
        return -ENOMEM;
    for (unsigned int i = 0; i < nvec; i++)
        vec[i].efd = -1;
    d->vec = vec;
    d->nvec = nvec;
    for (unsigned int i = 0; i < nvec; i++) {
        vec[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (vec[i].efd < 0)
            return -errno;
    }
    /* Enable and Function Mask are the guest's; reads come from here. */
    d->emu[d->msix_cap + 2] = d->emu[d->msix_cap + 3] = 1;
    pci_dev_set_wmask(&d->pci, d->msix_cap + 2, 2,
                      PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    pci_cfg_set(&d->pci, d->msix_cap + 2, 2, ctrl & PCI_MSIX_FLAGS_QSIZE);
    msix_reset(&d->msix); /* all masked: every eventfd polled */
    return 0;
}

static void msix_cfg_write(struct vfio_pci *d)
{
    uint16_t ctrl = (uint16_t)pci_cfg_get(&d->pci, d->msix_cap + 2, 2);
    bool on = ctrl & PCI_MSIX_FLAGS_ENABLE;

    msix_set_control(&d->msix, ctrl);
    if (on != d->msix_on && msix_fds(d, on) == 0)
        d->msix_on = on;
}

/* ---- MSI ---------------------------------------------------------------- */

static bool msi_64(struct vfio_pci *d)
{
    return pci_cfg_get(&d->pci, d->msi_cap + PCI_MSI_FLAGS, 2) &
           PCI_MSI_FLAGS_64BIT;
}

static uint32_t msi_reg(struct vfio_pci *d, uint32_t reg32, uint32_t reg64)
{
    return d->msi_cap + (msi_64(d) ? reg64 : reg32);
}

static void msi_setup(struct vfio_pci *d, uint32_t count)
{
    uint16_t ctrl = (uint16_t)pci_cfg_get(&d->pci, d->msi_cap + 2, 2);
    bool pvm = ctrl & PCI_MSI_FLAGS_MASKBIT;
    uint32_t mmc = 1u << ((ctrl & PCI_MSI_FLAGS_QMASK) >> 1);
    uint32_t size = pvm ? (msi_64(d) ? 24 : 20) : (msi_64(d) ? 14 : 10);

    d->msi_nvec = mmc < count ? mmc : count;
    if (d->msi_nvec > VPD_MSI_MAX)
        d->msi_nvec = VPD_MSI_MAX;
    for (uint32_t i = 2; i < size; i++)
        d->emu[d->msi_cap + i] = 1;
    pci_cfg_set(&d->pci, d->msi_cap + 2, 2, ctrl & ~(PCI_MSI_FLAGS_ENABLE |
                                                     PCI_MSI_FLAGS_QSIZE));
    pci_dev_set_wmask(&d->pci, d->msi_cap + 2, 2,
                      PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    pci_dev_set_wmask(&d->pci, d->msi_cap + PCI_MSI_ADDRESS_LO, 4,
                      0xFFFFFFFC);
    if (msi_64(d))
        pci_dev_set_wmask(&d->pci, d->msi_cap + PCI_MSI_ADDRESS_HI, 4,
                          0xFFFFFFFF);
    pci_dev_set_wmask(&d->pci, msi_reg(d, PCI_MSI_DATA_32, PCI_MSI_DATA_64),
                      2, 0xFFFF);
    if (pvm)
        pci_dev_set_wmask(&d->pci,
                          msi_reg(d, PCI_MSI_MASK_32, PCI_MSI_MASK_64), 4,
                          (uint32_t)((1ull << d->msi_nvec) - 1));
    for (unsigned int i = 0; i < d->msi_nvec; i++)
        d->msi[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

/* Re-evaluate every MSI vector from the capability. map_lock held. */
static void msi_apply(struct vfio_pci *d)
{
    uint16_t ctrl = (uint16_t)pci_cfg_get(&d->pci, d->msi_cap + 2, 2);
    bool on = ctrl & PCI_MSI_FLAGS_ENABLE;
    unsigned int n = 1u << ((ctrl & PCI_MSI_FLAGS_QSIZE) >> 4);
    uint64_t addr = pci_cfg_get(&d->pci, d->msi_cap + PCI_MSI_ADDRESS_LO, 4);
    uint32_t data = pci_cfg_get(&d->pci,
                                msi_reg(d, PCI_MSI_DATA_32, PCI_MSI_DATA_64),
                                2);
    uint32_t mask = 0, mreg = msi_reg(d, PCI_MSI_MASK_32, PCI_MSI_MASK_64);
    uint32_t preg = mreg + 4, pend;
    bool pvm = ctrl & PCI_MSI_FLAGS_MASKBIT;

    if (msi_64(d))
        addr |= (uint64_t)pci_cfg_get(&d->pci,
                                      d->msi_cap + PCI_MSI_ADDRESS_HI, 4)
                << 32;
    if (pvm)
        mask = pci_cfg_get(&d->pci, mreg, 4);
    pend = pvm ? pci_cfg_get(&d->pci, preg, 4) : 0;
    for (unsigned int i = 0; i < d->msi_nvec; i++) {
        bool masked = !on || i >= n || (mask & (1u << i));

        apply_vec(d, &d->msi[i], VPD_EV_MSI + i, addr,
                  (data & ~(n - 1)) | (i & (n - 1)), masked);
        if (!masked && (pend & (1u << i))) {
            pend &= ~(1u << i);
            eventfd_write(d->msi[i].efd, 1);
        }
    }
    if (pvm)
        pci_cfg_set(&d->pci, preg, 4, pend);
}

static void msi_cfg_write(struct vfio_pci *d)
{
    bool on = pci_cfg_get(&d->pci, d->msi_cap + 2, 2) & PCI_MSI_FLAGS_ENABLE;
    int fds[VPD_MSI_MAX];

    pthread_mutex_lock(&d->map_lock);
    msi_apply(d);
    pthread_mutex_unlock(&d->map_lock);
    if (on == d->msi_on)
        return;
    for (unsigned int i = 0; i < d->msi_nvec; i++)
        fds[i] = d->msi[i].efd;
    if (vfio_client_set_irqs(d->client, VFIO_PCI_MSI_IRQ_INDEX,
                             (on ? VFIO_IRQ_SET_DATA_EVENTFD
                                 : VFIO_IRQ_SET_DATA_NONE) |
                                 VFIO_IRQ_SET_ACTION_TRIGGER,
                             0, on ? d->msi_nvec : 0, fds) == 0)
        d->msi_on = on;
}

/* ---- INTx --------------------------------------------------------------- */

static int intx_wire(struct vfio_pci *d)
{
    const struct hv *hv = hv_of(d);
    int r;

    d->intx_gsi = pci_dev_intx_gsi(&d->pci);
    r = hv->ops->irqfd(hv->opaque, d->intx_efd, d->intx_gsi, d->intx_rfd,
                       true);
    if (r == 0)
        r = vfio_client_set_irqs(d->client, VFIO_PCI_INTX_IRQ_INDEX,
                                 VFIO_IRQ_SET_DATA_EVENTFD |
                                     VFIO_IRQ_SET_ACTION_TRIGGER,
                                 0, 1, &d->intx_efd);
    if (r == 0 && vfio_client_set_irqs(d->client, VFIO_PCI_INTX_IRQ_INDEX,
                                       VFIO_IRQ_SET_DATA_EVENTFD |
                                           VFIO_IRQ_SET_ACTION_UNMASK,
                                       0, 1, &d->intx_rfd))
        log_warn("minivmm: vfio-user %s: server takes no INTx "
                 "unmask eventfd\n", d->name);
    d->intx_on = r == 0;
    return r;
}

/* ---- setup and life cycle ----------------------------------------------- */

static uint32_t irq_count(struct vfio_pci *d, uint32_t index)
{
    struct vfio_irq_info ii;

    if (vfio_client_irq_info(d->client, index, &ii) ||
        !(ii.flags & VFIO_IRQ_INFO_EVENTFD))
        return 0;
    return ii.count;
}

int vpd_irq_setup(struct vfio_pci *d, char *err, size_t errlen)
{
    uint32_t n;
    int r = 0;

    d->intx_efd = d->intx_rfd = -1;
    d->msix_cap = pci_find_capability(&d->pci, PCI_CAP_ID_MSIX);
    d->msi_cap = pci_find_capability(&d->pci, PCI_CAP_ID_MSI);
    if (d->msix_cap >= 0 && (n = irq_count(d, VFIO_PCI_MSIX_IRQ_INDEX)))
        r = msix_setup(d, n, err, errlen);
    else
        d->msix_cap = -1;
    if (r == 0 && d->msi_cap >= 0 &&
        (n = irq_count(d, VFIO_PCI_MSI_IRQ_INDEX)))
        msi_setup(d, n);
    else
        d->msi_cap = -1;
    if (r == 0 && d->pci.cfg[PCI_INTERRUPT_PIN] &&
        irq_count(d, VFIO_PCI_INTX_IRQ_INDEX) == 1) {
        d->intx_efd = eventfd(0, EFD_CLOEXEC);
        d->intx_rfd = eventfd(0, EFD_CLOEXEC);
    } else {
        d->pci.cfg[PCI_INTERRUPT_PIN] = 0;
    }
    if (r == 0 && vfio_client_failed(d->client))
        r = -ENODEV;
    if (r && !err[0])
        snprintf(err, errlen, "interrupt setup: %s", strerror(-r));
    return r;
}

/* After pci_register (the INTx GSI is known then). */
int vpd_irq_start(struct vfio_pci *d)
{
    return d->intx_efd >= 0 ? intx_wire(d) : 0;
}

void vpd_irq_cfg_write(struct vfio_pci *d, uint32_t off, uint32_t len)
{
    if (d->msix_cap >= 0 && pci_cfg_overlaps(off, len, d->msix_cap + 2, 2))
        msix_cfg_write(d);
    if (d->msi_cap >= 0 && pci_cfg_overlaps(off, len, d->msi_cap + 2, 22))
        msi_cfg_write(d);
}

void vpd_irq_vec_ready(struct vfio_pci *d, uint32_t tag)
{
    eventfd_t v;

    if (tag >= VPD_EV_MSI) {
        uint32_t i = tag - VPD_EV_MSI, preg;

        if (i >= d->msi_nvec || eventfd_read(d->msi[i].efd, &v))
            return;
        pthread_mutex_lock(&d->map_lock);
        preg = msi_reg(d, PCI_MSI_MASK_32, PCI_MSI_MASK_64) + 4;
        if (pci_cfg_get(&d->pci, d->msi_cap + 2, 2) & PCI_MSI_FLAGS_MASKBIT)
            pci_cfg_set(&d->pci, preg, 4,
                        pci_cfg_get(&d->pci, preg, 4) | (1u << i));
        pthread_mutex_unlock(&d->map_lock);
        return;
    }
    if (tag - VPD_EV_VEC < d->nvec &&
        eventfd_read(d->vec[tag - VPD_EV_VEC].efd, &v) == 0)
        msix_notify(&d->msix, tag - VPD_EV_VEC);
}

void vpd_irq_detach(struct vfio_pci *d)
{
    for (unsigned int i = 0; i < d->nvec; i++)
        drop_vec(d, &d->vec[i]);
    for (unsigned int i = 0; i < d->msi_nvec; i++)
        drop_vec(d, &d->msi[i]);
    if (d->intx_on)
        hv_of(d)->ops->irqfd(hv_of(d)->opaque, d->intx_efd, d->intx_gsi,
                             d->intx_rfd, false);
    d->intx_on = false;
}

/* Replay after a reconnect: vectors as the guest left them, eventfds to
 * the new server. map_lock NOT held (SET_IRQS waits for replies). */
int vpd_irq_reattach(struct vfio_pci *d)
{
    uint64_t addr;
    uint32_t data;
    int r = 0;

    for (unsigned int i = 0; i < d->nvec; i++) {
        /* msix lock, then map_lock: the order vector_changed uses. */
        bool masked = msix_masked(&d->msix, i, &addr, &data);

        pthread_mutex_lock(&d->map_lock);
        apply_vec(d, &d->vec[i], VPD_EV_VEC + i, addr, data, masked);
        pthread_mutex_unlock(&d->map_lock);
    }
    pthread_mutex_lock(&d->map_lock);
    if (d->msi_cap >= 0)
        msi_apply(d);
    pthread_mutex_unlock(&d->map_lock);
    if (d->msix_on)
        r = msix_fds(d, true);
    if (r == 0 && d->msi_on) {
        d->msi_on = false;
        msi_cfg_write(d);
    }
    if (r == 0 && d->intx_efd >= 0)
        r = intx_wire(d);
    return r;
}

void vpd_irq_reset(struct vfio_pci *d)
{
    if (d->msix_cap >= 0) {
        pci_cfg_set(&d->pci, d->msix_cap + 2, 2,
                    pci_cfg_get(&d->pci, d->msix_cap + 2, 2) &
                        PCI_MSIX_FLAGS_QSIZE);
        msix_reset(&d->msix);
        d->msix_on = false;
    }
    if (d->msi_cap >= 0) {
        pci_cfg_set(&d->pci, d->msi_cap + 2, 2,
                    pci_cfg_get(&d->pci, d->msi_cap + 2, 2) &
                        ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE));
        pthread_mutex_lock(&d->map_lock);
        msi_apply(d);
        pthread_mutex_unlock(&d->map_lock);
        d->msi_on = false;
    }
}

void vpd_irq_free(struct vfio_pci *d)
{
    pthread_mutex_lock(&d->map_lock);
    vpd_irq_detach(d);
    pthread_mutex_unlock(&d->map_lock);
    for (unsigned int i = 0; i < d->nvec; i++) {
        if (d->vec[i].has_gsi)
            hv_of(d)->ops->msi_del(hv_of(d)->opaque, d->vec[i].gsi);
        if (d->vec[i].efd >= 0)
            close(d->vec[i].efd);
    }
    for (unsigned int i = 0; i < d->msi_nvec; i++) {
        if (d->msi[i].has_gsi)
            hv_of(d)->ops->msi_del(hv_of(d)->opaque, d->msi[i].gsi);
        if (d->msi[i].efd >= 0)
            close(d->msi[i].efd);
    }
    if (d->msix_cap >= 0)
        msix_fini(&d->msix);
    free(d->vec);
    if (d->intx_efd >= 0)
        close(d->intx_efd);
    if (d->intx_rfd >= 0)
        close(d->intx_rfd);
}
