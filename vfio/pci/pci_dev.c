/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: creation, config space virtualisation, DMA
 * windows, reset, failure and reconnect. See pci_dev.h. The top of
 * vfio/pci/: it composes the device from its parts (BARs, interrupts,
 * state and migration, dirty logging; pci_dev_priv.h), which know nothing
 * of each other but what this file hands them.
 * Spec: vfio-user.rst "VFIO_USER_DEVICE_GET_INFO", "VFIO_USER_DMA_MAP",
 * "VFIO_USER_DEVICE_RESET", "Socket Disconnection Behavior". */
#include "vfio/pci/pci_dev.h"
#include "vfio/pci/pci_dev_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "vfio/client/client.h"
#include "vfio/pci/pci_dev_dirty.h"
#include "vmm/memory.h"
#include "vmm/state.h"
#include "vmm/log.h"

#define CFG_REGION VFIO_PCI_CONFIG_REGION_INDEX

/* ---- config space ------------------------------------------------------- */

static void vpd_cfg_read(struct pci_dev *pdev, uint32_t off, uint32_t len,
                         uint32_t *val)
{
    struct vfio_pci *d = pdev->opaque;
    bool any = false, all = true;
    uint32_t v = 0xFFFFFFFF, e;

    if (atomic_load(&d->ctx.dead)) { /* a dead function reads all-ones */
        *val = len == 4 ? v : v & ((1u << (8 * len)) - 1);
        return;
    }
    for (uint32_t i = 0; i < len; i++) {
        any |= d->emu[off + i];
        all &= d->emu[off + i];
    }
    if (!all && (off + len > d->cfg_size ||
                 vfio_client_region_read(d->ctx.client, CFG_REGION, off, &v,
                                         len)))
        v = 0xFFFFFFFF;
    if (any) {
        pci_dev_emulate_read(pdev, off, len, &e);
        for (uint32_t i = 0; i < len; i++) {
            if (!d->emu[off + i])
                continue;
            v &= ~(0xFFu << (8 * i));
            v |= e & (0xFFu << (8 * i));
        }
    }
    *val = len == 4 ? v : v & ((1u << (8 * len)) - 1);
}

/* Config writes that stay here: Interrupt Line (the VMM's routing). BAR,
 * ROM and Command writes go to the server too, like QEMU's client does:
 * a server may decode BAR accesses by the addresses the guest programmed
 * (QEMU's x-vfio-user-server does). The emulation here stays what the
 * guest reads back; the server's copy of those registers is never read. */
static bool owned_here(uint32_t off, uint32_t len)
{
    return off == PCI_INTERRUPT_LINE && len == 1;
}

static void vpd_cfg_write(struct pci_dev *pdev, uint32_t off, uint32_t len,
                          uint32_t val)
{
    struct vfio_pci *d = pdev->opaque;

    pci_dev_emulate_write(pdev, off, len, val);
    vpd_irq_cfg_write(&d->irq, off, len);
    /* The value the guest wrote (sizing all-ones included), after the
     * emulation here, as QEMU's vfio_pci_write_config() passes it. */
    if (!owned_here(off, len) && !atomic_load(&d->ctx.dead) &&
        off + len <= d->cfg_size)
        vfio_client_region_write(d->ctx.client, CFG_REGION, off, &val, len,
                                 false);
}

static void vpd_reset(struct pci_dev *pdev)
{
    struct vfio_pci *d = pdev->opaque;

    if (!atomic_load(&d->ctx.dead))
        vfio_client_reset(d->ctx.client);
    vpd_irq_reset(&d->irq);
}

static int vpd_bar_map(struct pci_dev *pdev, unsigned int bar, uint64_t addr,
                       uint64_t size)
{
    struct vfio_pci *d = pdev->opaque;

    (void)size;
    vpd_bars_map(&d->bars, bar, addr);
    return 0;
}

static void vpd_bar_unmap(struct pci_dev *pdev, unsigned int bar,
                          uint64_t addr, uint64_t size)
{
    struct vfio_pci *d = pdev->opaque;

    (void)addr;
    (void)size;
    vpd_bars_unmap(&d->bars, bar);
}

static const struct pci_dev_ops vpd_pci_ops = {
    .flags = PCI_DEV_OWNS_CONFIG,
    .cfg_read = vpd_cfg_read,
    .cfg_write = vpd_cfg_write,
    .bar_map = vpd_bar_map,
    .bar_unmap = vpd_bar_unmap,
    .reset = vpd_reset,
};

/* Read the server's config space and set up the emulated header. */
static int config_setup(struct vfio_pci *d, char *err, size_t errlen)
{
    uint8_t *img = calloc(1, PCI_CFG_SPACE_EXP_SIZE);
    struct vfio_client_region ri;
    struct pci_dev_info info;
    int r = img ? vfio_client_region_info(d->ctx.client, CFG_REGION, &ri)
                : -ENOMEM;

    if (r == 0 && ri.fd >= 0)
        close(ri.fd);
    if (r == 0 && ri.size < PCI_CFG_SPACE_SIZE) {
        vfio_client_fail(d->ctx.client, "config region smaller than 256 bytes");
        r = -EPROTO;
    }
    d->cfg_size = r == 0 && ri.size >= PCI_CFG_SPACE_EXP_SIZE
                      ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE;
    if (r == 0)
        r = vfio_client_region_read(d->ctx.client, CFG_REGION, 0, img,
                                    d->cfg_size);
    if (r == 0 && (img[PCI_HEADER_TYPE] & 0x7F) != PCI_HEADER_TYPE_NORMAL) {
        vfio_client_fail(d->ctx.client, "config header type is not 0");
        r = -EPROTO;
    }
    if (r) {
        snprintf(err, errlen, "config space: %s", strerror(-r));
        free(img);
        return r;
    }
    info = (struct pci_dev_info){
        .vendor_id = (uint16_t)(img[0] | img[1] << 8),
        .device_id = (uint16_t)(img[2] | img[3] << 8),
        .class_code = (uint32_t)(img[9] | img[10] << 8 | img[11] << 16),
        .revision = img[PCI_REVISION_ID],
        .irq_pin = img[PCI_INTERRUPT_PIN] <= 4 ? img[PCI_INTERRUPT_PIN] : 0,
        .ext_cfg = d->cfg_size == PCI_CFG_SPACE_EXP_SIZE,
    };
    r = pci_dev_init(&d->pci, &info, &vpd_pci_ops, d);
    if (r == 0)
        memcpy(d->pci.cs.cfg, img, d->cfg_size);
    free(img);
    if (r)
        return r;
    d->pci.cs.cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
    d->pci.cs.cfg[PCI_INTERRUPT_PIN] = info.irq_pin;
    pci_cfg_set(&d->pci, PCI_COMMAND, 2, 0);
    memset(d->emu, 1, PCI_STD_HEADER_SIZEOF); /* the header lives here */
    return 0;
}

/* ---- DMA ---------------------------------------------------------------- */

static int dma_setup(struct vfio_pci *d, char *err, size_t errlen)
{
    const struct guest_memory *mem = d->env.mem;
    const struct guest_region *last;
    struct iommu_needs needs;
    int r;

    if (!mem || !mem->nregions)
        return 0;
    last = &mem->regions[mem->nregions - 1];
    needs = (struct iommu_needs){
        .page_size = 4096, .nwindows = mem->nregions,
        .max_iova = last->gpa + last->size - 1, .min_xfer = 8,
    };
    r = d->opts.check_dma ?
        d->opts.check_dma(d->opts.check_opaque, d->ctx.client, err,
                          errlen) :
        vfio_client_check_dma(d->ctx.client, &needs, err, errlen);
    for (unsigned int i = 0; r == 0 && i < mem->nregions; i++) {
        const struct guest_region *g = &mem->regions[i];

        /* Once per window: servers like SPDK's NVMe target skip a fd
         * window not 2 MiB-aligned (docs/interop.md). */
        if (!d->opts.dma_message && !guest_region_huge_aligned(g))
            log_warn("minivmm: vfio-user %s: DMA window [%#llx, "
                     "+%#llx) at memfd offset %#llx is not 2 MiB-aligned "
                    "(some servers, e.g. SPDK's NVMe target, ignore it): "
                    "use a --memory size that is a multiple of 2 MiB\n",
                    d->ctx.name, (unsigned long long)g->gpa,
                    (unsigned long long)g->size,
                    (unsigned long long)g->fd_offset);
        struct iommu_window w = {
            .iova = g->gpa, .size = g->size, .hva = g->hva,
            .fd = d->opts.dma_message ? -1 : g->fd,
            .fd_offset = g->fd_offset,
            .prot = IOMMU_PROT_READ | IOMMU_PROT_WRITE,
        };

        r = vfio_client_dma_map(d->ctx.client, &w);
        if (r)
            snprintf(err, errlen, "DMA_MAP of guest RAM [%#llx, +%#llx): %s",
                     (unsigned long long)g->gpa,
                     (unsigned long long)g->size, strerror(-r));
    }
    return r;
}

/* ---- failure and reconnect ---------------------------------------------- */

static void vpd_on_fail(void *opaque)
{
    struct vfio_pci *d = opaque;

    eventfd_write(d->fail_efd, 1); /* torn down on the event loop */
}

/* A DMA_WRITE the client served landed in guest RAM (IOVA = GPA here):
 * the server's DMA logging does not see message-based writes, so they
 * feed the VMM-side dirty bitmap (vmm/memory.h, docs/migration.md). */
static void vpd_on_dma_write(void *opaque, uint64_t iova, uint64_t len)
{
    struct vfio_pci *d = opaque;

    if (d->env.mem)
        guest_memory_mark_dirty(d->env.mem, iova, len);
}

static void teardown(struct vfio_pci *d)
{
    struct itimerspec its = {{d->opts.reconnect, 0}, {d->opts.reconnect, 0}};

    pthread_mutex_lock(&d->ctx.map_lock);
    if (atomic_load(&d->ctx.dead)) {
        pthread_mutex_unlock(&d->ctx.map_lock);
        return;
    }
    atomic_store(&d->ctx.dead, true);
    vpd_bars_detach(&d->bars);
    vpd_irq_detach(&d->irq);
    pthread_mutex_unlock(&d->ctx.map_lock);
    log_err("minivmm: vfio-user %s: device is dead (reads return "
            "all-ones, writes are dropped)%s\n", d->ctx.name,
            d->opts.reconnect ? "; reconnecting" : "");
    if (d->timer_fd >= 0)
        timerfd_settime(d->timer_fd, 0, &its, NULL);
}

/* Write the emulated BAR (and ROM BAR) registers and Command to the
 * server, as if the guest wrote them now: after a reconnect or a restore,
 * for servers that decode BAR accesses by them (docs/interop.md). */
static void config_replay(struct vfio_pci *d)
{
    uint32_t cmd = pci_cfg_get(&d->pci, PCI_COMMAND, 2);

    for (unsigned int i = 0; i < VPD_NR_BARS; i++) {
        uint32_t reg = i == PCI_ROM_BAR ? PCI_ROM_ADDRESS
                                        : PCI_BASE_ADDRESS_0 + 4 * i;
        uint32_t v = pci_cfg_get(&d->pci, reg, 4);

        if (d->pci.cs.bar[i].type != PCI_BAR_NONE ||
            (i > 0 && i < PCI_ROM_BAR &&
             (d->pci.cs.bar[i - 1].type & PCI_BAR_TYPE) == PCI_BAR_MEM64))
            vfio_client_region_write(d->ctx.client, CFG_REGION, reg, &v, 4,
                                     false);
    }
    vfio_client_region_write(d->ctx.client, CFG_REGION, PCI_COMMAND, &cmd, 2,
                             false);
}

/* Guest-visible state the new server must learn again: BARs, Command,
 * then MSI-X control. */
static void replay_config(struct vfio_pci *d)
{
    config_replay(d);
    if (d->irq.msix_cap >= 0) {
        uint32_t ctl = pci_cfg_get(&d->pci, d->irq.msix_cap + 2, 2);

        vfio_client_region_write(d->ctx.client, CFG_REGION,
                                 d->irq.msix_cap + 2, &ctl, 2, false);
    }
}

static void try_reconnect(struct vfio_pci *d)
{
    struct itimerspec off = {{0, 0}, {0, 0}};
    char err[256] = "";
    int fd, r = vfio_client_dial(d->socket, &fd);

    if (r)
        return; /* not back yet */
    r = vfio_client_reconnect(d->ctx.client, fd, err, sizeof(err));
    if (r == 0 && (r = vfio_client_identity(d->ctx.client, &d->st.ident)) != 0)
        snprintf(err, sizeof(err), "device identity: %s", strerror(-r));
    if (r == 0) {
        /* Alive only once the BARs are back: while reattaching, a BAR's
         * region info is refetched (a vCPU access would see size 0: reads
         * all-ones, writes dropped) and its memslots are not in place. */
        pthread_mutex_lock(&d->ctx.map_lock);
        r = vpd_bars_reattach(&d->bars);
        if (r == 0)
            atomic_store(&d->ctx.dead, false);
        pthread_mutex_unlock(&d->ctx.map_lock);
    }
    if (r == 0)
        r = vpd_irq_reattach(&d->irq);
    if (r == 0)
        replay_config(d);
    if (r || vfio_client_failed(d->ctx.client)) {
        log_err("minivmm: vfio-user %s: reconnect failed: %s\n",
                d->ctx.name, err[0] ? err : strerror(-r ? -r : EIO));
        atomic_store(&d->ctx.dead, false); /* let teardown run again */
        vfio_client_fail(d->ctx.client, "reconnect failed");
        teardown(d);
        return;
    }
    timerfd_settime(d->timer_fd, 0, &off, NULL);
    log_info("minivmm: vfio-user %s: reconnected to %s; DMA maps, "
             "interrupts, ioeventfds and BARs restored\n", d->ctx.name,
             d->socket);
}

void vfio_pci_handle_ready(struct vfio_pci *d)
{
    struct epoll_event ev[16];
    int n = epoll_wait(d->epfd, ev, 16, 0);
    uint64_t v;

    for (int i = 0; i < n; i++) {
        uint32_t tag = ev[i].data.u32;

        if (tag == VPD_EV_CLIENT) {
            vfio_client_handle_ready(d->ctx.client);
        } else if (tag == VPD_EV_FAIL) {
            eventfd_read(d->fail_efd, &v);
            teardown(d);
        } else if (tag == VPD_EV_TIMER) {
            if (read(d->timer_fd, &v, sizeof(v)) == sizeof(v))
                try_reconnect(d);
        } else if (tag == VPD_EV_MSIX) {
            vpd_irq_msix_ready(&d->irq);
        } else if (tag == VPD_EV_MSI) {
            vpd_irq_msi_ready(&d->irq);
        }
    }
}

int vfio_pci_poll_fd(const struct vfio_pci *d)
{
    return d->epfd;
}

bool vfio_pci_alive(const struct vfio_pci *d)
{
    return !atomic_load(&d->ctx.dead) && !vfio_client_failed(d->ctx.client);
}

struct vfio_client *vfio_pci_client(struct vfio_pci *d)
{
    return d->ctx.client;
}

uint16_t vfio_pci_bdf(const struct vfio_pci *d)
{
    return d->pci.devfn; /* bus 0 */
}

/* ---- creation ----------------------------------------------------------- */

static int watch(struct vfio_pci *d, int fd, uint32_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

    return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int vpd_alloc(const struct vfio_pci_env *env,
                     const struct vfio_pci_opts *o, struct vfio_pci **out)
{
    struct vfio_pci *d = calloc(1, sizeof(*d));

    if (!d)
        return -ENOMEM;
    d->env = *env;
    d->opts = *o;
    snprintf(d->ctx.name, sizeof(d->ctx.name), "%s",
             o->name ? o->name : "vfio");
    snprintf(d->socket, sizeof(d->socket), "%s", o->socket ? o->socket : "");
    d->ctx.hv = env->hv;
    d->ctx.pci = &d->pci;
    d->ctx.posted_writes = o->posted_writes;
    d->irq.msix_cap = d->irq.msi_cap = -1;
    d->timer_fd = -1;
    pthread_mutex_init(&d->ctx.map_lock, NULL);
    vpd_state_init(&d->st, &d->ctx, &d->irq);
    d->epfd = epoll_create1(EPOLL_CLOEXEC);
    d->fail_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (o->reconnect)
        d->timer_fd = timerfd_create(CLOCK_MONOTONIC,
                                     TFD_CLOEXEC | TFD_NONBLOCK);
    *out = d;
    if (d->epfd < 0 || d->fail_efd < 0 || (o->reconnect && d->timer_fd < 0))
        return -errno;
    return watch(d, d->fail_efd, VPD_EV_FAIL) ?:
           (d->timer_fd >= 0 ? watch(d, d->timer_fd, VPD_EV_TIMER) : 0);
}

static int vpd_connect(struct vfio_pci *d, char *err, size_t errlen)
{
    struct vfio_client_opts co = {
        .name = d->ctx.name, .timeout_ms = d->opts.timeout_ms,
        .on_fail = vpd_on_fail, .opaque = d,
        .on_dma_write = vpd_on_dma_write,
        .any_pgsize = d->opts.check_dma != NULL,
    };

    if (d->opts.on_dma_fault) { /* to the vIOMMU */
        co.on_dma_fault = d->opts.on_dma_fault;
        co.fault_opaque = d->opts.check_opaque;
    }
    struct vfio_client_dev_info di;
    int r;

    if (d->opts.sock_fd >= 0)
        r = vfio_client_new(d->opts.sock_fd, &co, &d->ctx.client, err, errlen);
    else
        r = vfio_client_connect(d->socket, &co, &d->ctx.client, err, errlen);
    if (r == 0)
        r = watch(d, vfio_client_poll_fd(d->ctx.client), VPD_EV_CLIENT);
    if (r == 0 && (r = vfio_client_device_info(d->ctx.client, &di)) != 0)
        snprintf(err, errlen, "DEVICE_GET_INFO: %s", strerror(-r));
    if (r == 0 && (!(di.flags & VFIO_DEVICE_FLAGS_PCI) ||
                   di.num_regions <= CFG_REGION)) {
        snprintf(err, errlen, "not a PCI device (flags %#x, %u regions)",
                 di.flags, di.num_regions);
        r = -ENOTSUP;
    }
    return r;
}

/* Interrupts, their poll fds, and the MSI-X table trapped in its BAR. */
static int irq_setup(struct vfio_pci *d, char *err, size_t errlen)
{
    uint64_t sizes[6];
    int r;

    for (unsigned int i = 0; i < 6; i++)
        sizes[i] = vpd_bar_region_size(&d->bars, i);
    r = vpd_irq_setup(&d->irq, &d->ctx, d->emu, sizes, err, errlen);
    if (r == 0 && vpd_irq_msix_poll_fd(&d->irq) >= 0)
        r = watch(d, vpd_irq_msix_poll_fd(&d->irq), VPD_EV_MSIX);
    if (r == 0 && vpd_irq_msi_poll_fd(&d->irq) >= 0)
        r = watch(d, vpd_irq_msi_poll_fd(&d->irq), VPD_EV_MSI);
    if (r == 0)
        vpd_bars_carve(&d->bars, d->irq.msix_cap >= 0 ? &d->irq.msix : NULL,
                       d->irq.msix_bar, d->irq.table_off, d->irq.pba_off);
    return r;
}

static int vpd_setup(struct vfio_pci *d, char *err, size_t errlen)
{
    int r = vpd_connect(d, err, errlen);

    /* What a snapshot records of the server, taken while the device
     * runs: some servers (libvfio-user) refuse these queries once the
     * device is in STOP / STOP_COPY, where the state save happens. */
    if (r == 0 && (r = vfio_client_identity(d->ctx.client, &d->st.ident)) != 0)
        snprintf(err, errlen, "device identity: %s", strerror(-r));
    if (r == 0)
        r = config_setup(d, err, errlen);
    if (r == 0)
        r = vpd_bars_setup(&d->bars, &d->ctx, err, errlen);
    if (r == 0)
        r = irq_setup(d, err, errlen);
    if (r == 0) {
        r = vpd_bars_declare(&d->bars);
        if (r)
            snprintf(err, errlen, "BARs do not fit PCI: %s", strerror(-r));
    }
    if (r == 0)
        r = dma_setup(d, err, errlen);
    if (r == 0 && (r = pci_register(d->env.bus, &d->pci)) != 0)
        snprintf(err, errlen, "PCI bus: %s", strerror(-r));
    if (r == 0 && (r = vpd_irq_start(&d->irq)) != 0)
        snprintf(err, errlen, "INTx: %s", strerror(-r));
    return r;
}

int vfio_pci_create(const struct vfio_pci_env *env,
                    const struct vfio_pci_opts *o, struct vfio_pci **out,
                    char *err, size_t errlen)
{
    struct vfio_pci *d = NULL;
    char why[200] = "";
    int r;

    *out = NULL;
    r = vpd_alloc(env, o, &d);
    if (r == 0)
        r = vpd_setup(d, why, sizeof(why));
    if (r) {
        snprintf(err, errlen, "vfio-user %s (%s): %s", d ? d->ctx.name : "?",
                 o->socket ? o->socket : "fd",
                 why[0] ? why : strerror(-r));
        vfio_pci_destroy(d);
        return r;
    }
    *out = d;
    return 0;
}

void vfio_pci_destroy(struct vfio_pci *d)
{
    if (!d)
        return;
    pci_unregister(&d->pci);
    vpd_mig_free_saved(&d->st.mig);
    vpd_precopy_end(&d->st);
    vpd_irq_free(&d->irq);
    vpd_bars_free(&d->bars);
    vfio_client_free(d->ctx.client);
    if (d->epfd >= 0)
        close(d->epfd);
    if (d->fail_efd >= 0)
        close(d->fail_efd);
    if (d->timer_fd >= 0)
        close(d->timer_fd);
    pthread_mutex_destroy(&d->ctx.map_lock);
    free(d);
}

/* ---- snapshots, migration, dirty logging: the parts do the work -------- */

int vfio_pci_quiesce(struct vfio_pci *d)
{
    return vpd_state_quiesce(&d->st);
}

int vfio_pci_resume(struct vfio_pci *d)
{
    return vpd_state_resume(&d->st);
}

int vfio_pci_mig_flags(struct vfio_pci *d, uint64_t *flags)
{
    return vpd_state_mig_flags(&d->st, flags);
}

int vfio_pci_dirty_start(struct vfio_pci *d)
{
    return vpd_dirty_start(&d->st);
}

int vfio_pci_dirty_sync(struct vfio_pci *d, uint64_t *bits, uint64_t npages,
                        uint64_t *count)
{
    return vpd_dirty_sync(&d->st, bits, npages, count);
}

int vfio_pci_dirty_stop(struct vfio_pci *d)
{
    return vpd_dirty_stop(&d->st);
}

static int vpd_save(void *opaque, void *fdt, int node)
{
    struct vfio_pci *d = opaque;

    return vpd_state_save(&d->st, fdt, node);
}

static int vpd_load(void *opaque, const void *fdt, int node)
{
    struct vfio_pci *d = opaque;
    int r = vpd_state_load(&d->st, fdt, node);

    if (r == 0)
        config_replay(d); /* the BARs the guest programmed */
    return r;
}

const struct state_ops vfio_pci_state_ops = {
    .save = vpd_save,
    .load = vpd_load,
};
