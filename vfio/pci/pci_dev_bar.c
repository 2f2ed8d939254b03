/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: BARs. Region info → BAR declarations; mmap-able
 * areas → memslots and GET_REGION_IO_FDS → ioeventfds at the BAR's guest
 * address; trapped accesses → REGION_READ/WRITE (the MSI-X table and PBA
 * are emulated here). See pci_dev_bar.h.
 * Spec: vfio-user.rst "VFIO_USER_DEVICE_GET_REGION_INFO",
 * "VFIO_USER_DEVICE_GET_REGION_IO_FDS", "Read and Write Operations". */
#include "vfio/pci/pci_dev_bar.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#define PAGE 4096ull

static bool in_range(uint64_t off, uint32_t len, uint64_t start,
                     uint64_t size)
{
    return off >= start && off - start < size && len <= size - (off - start);
}

/* ---- trapped access ----------------------------------------------------- */

/* MSI-X table or PBA access in this BAR: handled here, returns true. */
static bool msix_access(struct vpd_bar *b, uint64_t off, void *data,
                        uint32_t len, bool write)
{
    struct vpd_bars *bs = b->owner;

    if (!bs->msix || b->idx != bs->msix_bar)
        return false;
    if (in_range(off, len, bs->table_off, msix_table_size(bs->msix))) {
        if (write)
            msix_table_write(bs->msix, off - bs->table_off, data, len);
        else
            msix_table_read(bs->msix, off - bs->table_off, data, len);
        return true;
    }
    if (in_range(off, len, bs->pba_off, msix_pba_size(bs->msix))) {
        if (!write)
            msix_pba_read(bs->msix, off - bs->pba_off, data, len);
        return true;
    }
    return false;
}

#define VPD_ERR_BURST 5 /* failed accesses logged before rate limiting */

/* Whether failure number @n (from 0) of @d is logged: the first
 * VPD_ERR_BURST, then at most one per second per device. */
static bool io_err_log_ok(struct vpd_bars *d, unsigned int n)
{
    struct timespec ts;
    long long last, now;

    if (n < VPD_ERR_BURST)
        return true;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (long long)ts.tv_sec;
    last = atomic_load(&d->io_err_sec);
    return now != last &&
           atomic_compare_exchange_strong(&d->io_err_sec, &last, now);
}

/* A trapped BAR access the server failed (REGION_READ/WRITE error or no
 * reply): the guest gets all-ones / the write is lost; say so. */
static void io_err(struct vpd_bar *b, uint64_t off, uint32_t len, bool write,
                   int err)
{
    struct vpd_bars *bs = b->owner;
    unsigned int n;

    if (vfio_client_failed(bs->ctx->client))
        return; /* the device's failure is logged once, by the client */
    n = atomic_fetch_add(&bs->io_errors, 1);
    if (!io_err_log_ok(bs, n))
        return;
    log_warn("minivmm: vfio-user %s: %s of %u bytes at BAR %u offset "
             "%#llx failed: %s (%s; %u failed BAR accesses so far)\n",
             bs->ctx->name, write ? "write" : "read", len, b->idx,
             (unsigned long long)off, strerror(-err),
             write ? "dropped" : "the guest reads all-ones", n + 1);
}

static void bar_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
    struct vpd_bar *b = opaque;
    struct vpd_ctx *d = b->owner->ctx;
    int r;

    if (msix_access(b, off, data, len, false))
        return;
    if (atomic_load(&d->dead) || !in_range(off, len, 0, b->ri.size)) {
        memset(data, 0xFF, len);
        return;
    }
    r = vfio_client_region_read(d->client, b->idx, off, data, len);
    if (r) {
        memset(data, 0xFF, len);
        io_err(b, off, len, false, r);
    }
}

static void bar_write(void *opaque, uint64_t off, const void *data,
                      uint32_t len)
{
    struct vpd_bar *b = opaque;
    struct vpd_ctx *d = b->owner->ctx;
    int r;

    if (msix_access(b, off, (void *)data, len, true))
        return;
    if (atomic_load(&d->dead) || !in_range(off, len, 0, b->ri.size))
        return; /* dropped */
    r = vfio_client_region_write(d->client, b->idx, off, data, len,
                                 d->posted_writes && !b->io);
    if (r)
        io_err(b, off, len, true, r);
}

static const struct bus_ops vpd_bar_ops = {bar_read, bar_write};

/* ---- memslot areas ------------------------------------------------------ */

/* Remove [@start, @end) (rounded out to pages) from @b's areas. Each cut
 * may split an area in two; beyond VPD_MAX_AREAS pieces the remaining
 * ones are dropped (trapped) rather than kept: the server decides how many
 * io-fds one BAR has (up to VFIO_CLIENT_MAX_IOFDS) and each one cuts. */
static void carve(struct vpd_bar *b, uint64_t start, uint64_t end)
{
    struct vfio_client_area out[VPD_MAX_AREAS];
    unsigned int n = 0;

    start &= ~(PAGE - 1);
    end = (end + PAGE - 1) & ~(PAGE - 1);
    for (unsigned int i = 0; i < b->nareas; i++) {
        uint64_t a = b->areas[i].offset, e = a + b->areas[i].size;

        if (n >= VPD_MAX_AREAS)
            break; /* no room: the rest stays trapped (slower, correct) */
        if (end <= a || start >= e) {
            out[n++] = b->areas[i];
            continue;
        }
        if (a < start && n < VPD_MAX_AREAS)
            out[n++] = (struct vfio_client_area){a, start - a};
        if (end < e && n < VPD_MAX_AREAS)
            out[n++] = (struct vfio_client_area){end, e - end};
    }
    memcpy(b->areas, out, n * sizeof(out[0]));
    b->nareas = n;
}

static void compute_areas(struct vpd_bars *d, struct vpd_bar *b)
{
    b->nareas = 0;
    if (!b->map)
        return;
    if (b->ri.has_sparse) {
        for (unsigned int i = 0;
             i < b->ri.nsparse && b->nareas < VPD_MAX_AREAS; i++)
            b->areas[b->nareas++] = b->ri.sparse[i];
    } else if (b->ri.size >= PAGE) {
        b->areas[b->nareas++] =
            (struct vfio_client_area){0, b->ri.size & ~(PAGE - 1)};
    }
    if (d->msix && b->idx == d->msix_bar) {
        carve(b, d->table_off, d->table_off + msix_table_size(d->msix));
        carve(b, d->pba_off, d->pba_off + msix_pba_size(d->msix));
    }
    for (unsigned int i = 0; i < b->io_fds.n; i++)
        carve(b, b->io_fds.e[i].offset,
              b->io_fds.e[i].offset + (b->io_fds.e[i].size ?: 1));
}

/* Region info, mmap and io-fds of one BAR (again after a reconnect). */
static int bar_fetch(struct vpd_bars *bs, struct vpd_bar *b, uint64_t size0)
{
    struct vfio_client_region *ri = &b->ri;
    struct vpd_ctx *d = bs->ctx;
    int prot, r;

    r = vfio_client_region_info(d->client, b->idx, ri);
    if (r)
        return r;
    if (size0 && ri->size != size0) {
        vfio_client_fail(d->client, "region size changed on reconnect");
        return -EPROTO;
    }
    if (ri->size && (ri->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
        prot = ((ri->flags & VFIO_REGION_INFO_FLAG_READ) ? PROT_READ : 0) |
               ((ri->flags & VFIO_REGION_INFO_FLAG_WRITE) ? PROT_WRITE : 0);
        b->map = mmap(NULL, ri->size, prot, MAP_SHARED, ri->fd,
                      (off_t)ri->mmap_offset);
        if (b->map == MAP_FAILED) {
            log_warn("minivmm: vfio-user %s: region %u: mmap: %m; "
                     "trapping it\n", d->name, b->idx);
            b->map = NULL;
        }
    }
    if (ri->fd >= 0)
        close(ri->fd);
    ri->fd = -1;
    b->io_fds.n = b->io_fds.nfds = 0;
    if (ri->size && b->idx < PCI_ROM_BAR) {
        r = vfio_client_region_io_fds(d->client, b->idx, ri->size,
                                      &b->io_fds);
        if (r == -ENOTSUP || r == -EINVAL)
            r = 0; /* no io-fds: everything trapped */
    }
    compute_areas(bs, b);
    return r;
}

static unsigned int bar_type(const uint8_t *img, unsigned int idx,
                             bool *io)
{
    uint32_t reg = 0;

    *io = false;
    if (idx == PCI_ROM_BAR)
        return PCI_BAR_ROM;
    memcpy(&reg, img + PCI_BASE_ADDRESS_0 + 4 * idx, 4);
    if (reg & PCI_BASE_ADDRESS_SPACE_IO) {
        *io = true;
        return PCI_BAR_IO;
    }
    return ((reg & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
                    PCI_BASE_ADDRESS_MEM_TYPE_64
                ? PCI_BAR_MEM64
                : PCI_BAR_MEM32) |
           ((reg & PCI_BASE_ADDRESS_MEM_PREFETCH) ? PCI_BAR_PREFETCH : 0);
}

static uint64_t pow2_at_least(uint64_t v, uint64_t min)
{
    uint64_t p = min;

    while (p < v && p < (1ULL << 62))
        p <<= 1;
    return p;
}

int vpd_bars_setup(struct vpd_bars *bs, struct vpd_ctx *ctx, char *err,
                   size_t errlen)
{
    int r = 0;

    bs->ctx = ctx;
    for (unsigned int i = 0; i < VPD_NR_BARS && r == 0; i++) {
        struct vpd_bar *b = &bs->bar[i];

        b->owner = bs;
        b->idx = i;
        b->io_fds.nfds = 0;
        r = bar_fetch(bs, b, 0);
        if (r)
            snprintf(err, errlen, "region %u: %s", i, strerror(-r));
    }
    return r;
}

/* Declare BARs from the config image (still in ctx->pci->cs.cfg). */
int vpd_bars_declare(struct vpd_bars *bs)
{
    struct pci_dev *pci = bs->ctx->pci;
    uint8_t img[PCI_STD_HEADER_SIZEOF];
    int r = 0;

    memcpy(img, pci->cs.cfg, sizeof(img));
    for (unsigned int i = 0; i < VPD_NR_BARS; i++)
        pci_cfg_set(pci, i == PCI_ROM_BAR ? PCI_ROM_ADDRESS
                                              : PCI_BASE_ADDRESS_0 + 4 * i,
                    4, 0);
    for (unsigned int i = 0; i < VPD_NR_BARS && r == 0; i++) {
        struct vpd_bar *b = &bs->bar[i];
        unsigned int type = bar_type(img, i, &b->io);

        if (!b->ri.size || (i > 0 && i < PCI_ROM_BAR &&
                            (bs->bar[i - 1].size &&
                             (bar_type(img, i - 1, &(bool){0}) &
                              PCI_BAR_TYPE) == PCI_BAR_MEM64)))
            continue;
        if ((type & PCI_BAR_TYPE) == PCI_BAR_MEM64 && i == 5)
            type = PCI_BAR_MEM32;
        b->size = pow2_at_least(b->ri.size, b->io ? 4 : type == PCI_BAR_ROM
                                                            ? 2048 : 16);
        r = pci_dev_set_bar(pci, i, type, b->size, &vpd_bar_ops, b);
        if (r)
            log_warn("minivmm: vfio-user %s: BAR %u (%#llx bytes): "
                     "%s\n", bs->ctx->name, i, (unsigned long long)b->ri.size,
                     strerror(-r));
    }
    return r;
}

/* ---- mapping ------------------------------------------------------------ */

static void detach_bar(struct vpd_ctx *d, struct vpd_bar *b)
{
    const struct hv *hv = &d->hv;

    for (unsigned int i = 0; b->slotted && i < b->nareas; i++)
        hv->ops->memslot_del(hv->opaque, b->slots[i]);
    b->slotted = false;
    for (unsigned int i = 0; b->io_on && i < b->io_fds.n; i++) {
        const struct vfio_client_iofd *e = &b->io_fds.e[i];

        hv->ops->ioeventfd(hv->opaque, e->fd, b->addr + e->offset, e->size,
                           b->io, e->flags & KVM_IOEVENTFD_FLAG_DATAMATCH,
                           e->datamatch, false);
    }
    b->io_on = false;
}

static void attach_bar(struct vpd_ctx *d, struct vpd_bar *b)
{
    const struct hv *hv = &d->hv;
    unsigned int i;
    int r = 0;

    for (i = 0; i < b->nareas && r == 0 && !b->io; i++)
        r = hv->ops->memslot_add(hv->opaque, b->addr + b->areas[i].offset,
                                 b->areas[i].size,
                                 (uint8_t *)b->map + b->areas[i].offset,
                                 !(b->ri.flags & VFIO_REGION_INFO_FLAG_WRITE),
                                 &b->slots[i]);
    if (r) {
        log_warn("minivmm: vfio-user %s: BAR %u memslot at %#llx: "
                 "%s; trapping it\n", d->name, b->idx,
                 (unsigned long long)b->addr, strerror(-r));
        while (--i > 0)
            hv->ops->memslot_del(hv->opaque, b->slots[i - 1]);
    }
    b->slotted = r == 0 && b->nareas && !b->io;
    for (i = 0, r = 0; i < b->io_fds.n && r == 0; i++) {
        const struct vfio_client_iofd *e = &b->io_fds.e[i];

        r = hv->ops->ioeventfd(hv->opaque, e->fd, b->addr + e->offset,
                               e->size, b->io,
                               e->flags & KVM_IOEVENTFD_FLAG_DATAMATCH,
                               e->datamatch, true);
    }
    b->io_on = r == 0;
    if (r == 0)
        return;
    log_warn("minivmm: vfio-user %s: BAR %u ioeventfd: %s; trapping "
             "doorbells\n", d->name, b->idx, strerror(-r));
    while (--i > 0) {
        const struct vfio_client_iofd *e = &b->io_fds.e[i - 1];

        hv->ops->ioeventfd(hv->opaque, e->fd, b->addr + e->offset, e->size,
                           b->io, e->flags & KVM_IOEVENTFD_FLAG_DATAMATCH,
                           e->datamatch, false);
    }
}

void vpd_bars_map(struct vpd_bars *bs, unsigned int bar, uint64_t addr)
{
    struct vpd_ctx *d = bs->ctx;
    struct vpd_bar *b = &bs->bar[bar];

    pthread_mutex_lock(&d->map_lock);
    b->mapped = true;
    b->addr = addr;
    if (!atomic_load(&d->dead))
        attach_bar(d, b);
    pthread_mutex_unlock(&d->map_lock);
}

void vpd_bars_unmap(struct vpd_bars *bs, unsigned int bar)
{
    struct vpd_ctx *d = bs->ctx;

    pthread_mutex_lock(&d->map_lock);
    detach_bar(d, &bs->bar[bar]);
    bs->bar[bar].mapped = false;
    pthread_mutex_unlock(&d->map_lock);
}

static void release_bar(struct vpd_bar *b)
{
    if (b->map)
        munmap(b->map, b->ri.size);
    b->map = NULL;
    vfio_client_iofds_close(&b->io_fds);
}

void vpd_bars_detach(struct vpd_bars *bs)
{
    for (unsigned int i = 0; i < VPD_NR_BARS; i++)
        detach_bar(bs->ctx, &bs->bar[i]);
}

int vpd_bars_reattach(struct vpd_bars *bs)
{
    int r = 0;

    for (unsigned int i = 0; i < VPD_NR_BARS && r == 0; i++) {
        struct vpd_bar *b = &bs->bar[i];
        uint64_t size0 = b->ri.size;

        release_bar(b);
        if (!size0)
            continue;
        r = bar_fetch(bs, b, size0);
        if (r == 0 && b->mapped)
            attach_bar(bs->ctx, b);
    }
    return r;
}

void vpd_bars_carve(struct vpd_bars *bs, struct msix *msix, unsigned int bar,
                    uint64_t table_off, uint64_t pba_off)
{
    bs->msix = msix;
    bs->msix_bar = bar;
    bs->table_off = table_off;
    bs->pba_off = pba_off;
    for (unsigned int i = 0; i < VPD_NR_BARS; i++)
        compute_areas(bs, &bs->bar[i]);
}

void vpd_bars_free(struct vpd_bars *bs)
{
    for (unsigned int i = 0; i < VPD_NR_BARS; i++)
        release_bar(&bs->bar[i]);
}

uint64_t vpd_bar_region_size(const struct vpd_bars *bs, unsigned int idx)
{
    return idx < VPD_NR_BARS ? bs->bar[idx].ri.size : 0;
}
