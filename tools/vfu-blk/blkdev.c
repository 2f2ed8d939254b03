/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-blk device glue; see blkdev.h. */
#include "blkdev.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "precopy.h"
#include "vfio/server/server.h"
#include "vmm/log.h"
#include "virtio/blk.h"
#include "regions.h"

#define STATE_VERSION 1u
#define STATE_MAX     (1u << 20)

struct vfu_blk {
    struct vfio_srv *srv;
    struct virtio_blk *blk;
    struct vfr pci;
    bool running;           /* migration state RUNNING or PRE_COPY */
    uint16_t nq;
    struct vfio_srv_region regions[VFIO_PCI_NUM_REGIONS];
    struct vfio_srv_ioeventfd ioev[VIRTIO_DEV_MAX_QUEUES];
    struct vfu_blk_counters c;
};

/* ---- guest memory: the client's DMA maps -------------------------------- */

static void *mem_translate(void *opaque, uint64_t gpa, uint64_t len,
                           bool write)
{
    struct vfu_blk *d = opaque;

    return d->srv ? vfio_srv_dma_translate(d->srv, gpa, len, write) : NULL;
}

static int mem_read(void *opaque, uint64_t gpa, void *buf, uint64_t len)
{
    struct vfu_blk *d = opaque;

    return d->srv ? vfio_srv_dma_read(d->srv, gpa, buf, len) : -EFAULT;
}

static int mem_write(void *opaque, uint64_t gpa, const void *buf,
                     uint64_t len)
{
    struct vfu_blk *d = opaque;

    return d->srv ? vfio_srv_dma_write(d->srv, gpa, buf, len) : -EFAULT;
}

static int mem_write_posted(void *opaque, uint64_t gpa, const void *buf,
                            uint64_t len)
{
    struct vfu_blk *d = opaque;

    return d->srv ? vfio_srv_dma_write_posted(d->srv, gpa, buf, len)
                  : -EFAULT;
}

static int mem_read_posted(void *opaque, uint64_t gpa, void *buf,
                           uint64_t len)
{
    struct vfu_blk *d = opaque;

    return d->srv ? vfio_srv_dma_read_posted(d->srv, gpa, buf, len)
                  : -EFAULT;
}

static int mem_flush(void *opaque)
{
    struct vfu_blk *d = opaque;

    return d->srv ? vfio_srv_dma_flush(d->srv) : 0;
}

static void mem_mark_dirty(void *opaque, uint64_t gpa, uint64_t len)
{
    struct vfu_blk *d = opaque;

    if (d->srv)
        vfio_srv_dma_mark_dirty(d->srv, gpa, len);
}

static const struct virtio_mem_ops mem_ops = {
    .translate = mem_translate,
    .read = mem_read,
    .write = mem_write,
    .mark_dirty = mem_mark_dirty,
    .write_posted = mem_write_posted,
    .flush = mem_flush,
    .read_posted = mem_read_posted,
};

/* ---- interrupts ----------------------------------------------------------- */

/* MSI-X vector @vec if the client gave its eventfd; else INTx (with @isr
 * set) unless MSI-X is on or INTx disabled. */
static int raise_irq(struct vfu_blk *d, uint16_t vec, uint8_t isr)
{
    if (vec != VIRTIO_MSI_NO_VECTOR &&
        vfio_srv_irq_has_fd(d->srv, VFIO_PCI_MSIX_IRQ_INDEX, vec)) {
        d->c.irqs_msix++;
        return vfio_srv_irq_trigger(d->srv, VFIO_PCI_MSIX_IRQ_INDEX, vec);
    }
    if (vfr_msix_enabled(&d->pci) || vfr_intx_disabled(&d->pci) ||
        !vfio_srv_irq_has_fd(d->srv, VFIO_PCI_INTX_IRQ_INDEX, 0))
        return 0;
    vfr_set_isr(&d->pci, isr);
    d->c.irqs_intx++;
    return vfio_srv_irq_trigger(d->srv, VFIO_PCI_INTX_IRQ_INDEX, 0);
}

static int irq_queue(void *opaque, uint16_t qidx)
{
    struct vfu_blk *d = opaque;

    return raise_irq(d, vfr_queue_vector(&d->pci, qidx), 1);
}

static int irq_config(void *opaque)
{
    struct vfu_blk *d = opaque;

    return raise_irq(d, vfr_config_vector(&d->pci), 2);
}

static const struct virtio_irq_ops irq_ops = {
    .notify_queue = irq_queue,
    .notify_config = irq_config,
};

/* ---- doorbells and regions ---------------------------------------------- */

static void kick(struct vfu_blk *d, uint16_t qidx)
{
    if (d->running) /* stopped: virtio_blk_resume() catches up */
        virtio_blk_queue_notify(d->blk, qidx);
}

static void pci_doorbell(void *opaque, uint16_t qidx)
{
    struct vfu_blk *d = opaque;

    d->c.doorbells_region++;
    kick(d, qidx);
}

static const struct vfr_ops pci_ops = {
    .doorbell = pci_doorbell,
};

static void srv_ioeventfd(void *opaque, uint32_t region, uint32_t cookie)
{
    struct vfu_blk *d = opaque;

    (void)region;
    d->c.doorbells_ioeventfd++;
    kick(d, (uint16_t)cookie);
}

static int srv_region_access(void *opaque, uint32_t region, uint64_t off,
                             void *buf, uint32_t len, bool write)
{
    struct vfu_blk *d = opaque;

    switch (region) {
    case VFR_BAR:
        return vfr_bar_access(&d->pci, off, buf, len, write);
    case VFR_MSIX_BAR:
        return vfr_msix_access(&d->pci, off, buf, len, write);
    case VFIO_PCI_CONFIG_REGION_INDEX:
        return vfr_cfg_access(&d->pci, off, buf, len, write);
    default:
        return -EINVAL;
    }
}

static int srv_reset(void *opaque)
{
    struct vfu_blk *d = opaque;

    virtio_dev_reset(virtio_blk_vdev(d->blk));
    vfr_reset(&d->pci);
    d->running = true;
    return 0;
}

static void srv_dma_unmap(void *opaque, uint64_t iova, uint64_t size)
{
    struct vfu_blk *d = opaque;

    (void)iova;
    (void)size;
    virtio_blk_quiesce(d->blk); /* in-flight I/O may target the range */
}

/* ---- migration ------------------------------------------------------------- */

static bool mig_running(uint32_t s)
{
    return s == VFIO_DEVICE_STATE_RUNNING || s == VFIO_DEVICE_STATE_PRE_COPY;
}

static int srv_mig_arc(void *opaque, uint32_t from, uint32_t to)
{
    struct vfu_blk *d = opaque;

    if (mig_running(from) && !mig_running(to)) {
        d->running = false;
        return virtio_blk_quiesce(d->blk);
    }
    if (!mig_running(from) && mig_running(to)) {
        d->running = true;
        return virtio_blk_resume(d->blk);
    }
    return 0;
}

static int save_tree(struct vfu_blk *d, void *fdt, size_t cap)
{
    int r, node;

    r = fdt_create_empty_tree(fdt, (int)cap);
    if (!r)
        r = fdt_setprop_u32(fdt, 0, "vfu-blk-version", STATE_VERSION);
    if (r)
        return -ENOSPC;
    node = fdt_add_subnode(fdt, 0, "virtio-blk");
    if (node < 0)
        return -ENOSPC;
    r = virtio_blk_state_ops.save(d->blk, fdt, node);
    if (r)
        return r;
    node = fdt_add_subnode(fdt, 0, "vpci");
    if (node < 0)
        return -ENOSPC;
    return vfr_save(&d->pci, fdt, node);
}

static int srv_mig_save(void *opaque, void **buf, size_t *len)
{
    struct vfu_blk *d = opaque;
    size_t cap;
    void *fdt;
    int r = -ENOSPC;

    for (cap = 16384; r == -ENOSPC && cap <= STATE_MAX; cap *= 2) {
        fdt = malloc(cap);
        if (!fdt)
            return -ENOMEM;
        r = save_tree(d, fdt, cap);
        if (!r) {
            fdt_pack(fdt);
            *buf = fdt;
            *len = fdt_totalsize(fdt);
            return 0;
        }
        free(fdt);
    }
    return r;
}

/* What the pre-copy part carries (precopy.h): fixed while running. */
static void identity(struct vfu_blk *d, struct vfu_blk_ident *id)
{
    struct virtio_dev *vdev = virtio_blk_vdev(d->blk);
    struct virtio_blk_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    virtio_dev_config_read(vdev, 0, &cfg, sizeof(cfg));
    *id = (struct vfu_blk_ident){
        .features = vdev->device_features,
        .capacity = le64toh(cfg.capacity),
        .blk_size = le32toh(cfg.blk_size),
        .size_max = le32toh(cfg.size_max),
        .seg_max = le32toh(cfg.seg_max),
        .queues = d->nq,
        .queue_size = vdev->num_queues ? vdev->queues[0].max_size : 0,
        .vectors = d->pci.nvec,
    };
}

static int srv_mig_precopy(void *opaque, void **buf, size_t *len)
{
    struct vfu_blk_ident id;

    identity(opaque, &id);
    return vfu_blk_precopy_encode(&id, buf, len);
}

static int load_final(struct vfu_blk *d, const void *buf, size_t len);

/* [pre-copy part] final part (precopy.h); each refusal says why. */
static int srv_mig_load(void *opaque, const void *buf, size_t len)
{
    struct vfu_blk *d = opaque;
    struct vfu_blk_ident own;
    const void *pre, *fin;
    size_t pre_len, fin_len;
    char why[160] = "";
    void *copy = NULL;
    int r = vfu_blk_stream_split(buf, len, &pre, &pre_len, &fin, &fin_len);

    if (r)
        snprintf(why, sizeof(why), "%zu bytes are not [pre-copy part] "
                 "final part", len);
    identity(d, &own);
    if (r == 0 && pre)
        r = vfu_blk_precopy_check(pre, pre_len, &own, why, sizeof(why));
    if (r == 0 && ((uintptr_t)fin % 8)) { /* libfdt wants it aligned */
        copy = malloc(fin_len);
        r = copy ? 0 : -ENOMEM;
        if (copy)
            fin = memcpy(copy, fin, fin_len);
    }
    if (r == 0 && (r = load_final(d, fin, fin_len)) != 0)
        snprintf(why, sizeof(why), "final part: %s", strerror(-r));
    free(copy);
    if (r)
        log_err("vfu-blk: migration stream refused: %s\n", why);
    else
        log_info("vfu-blk: migration stream loaded: %zu bytes pre-copy, "
                 "%zu bytes final\n", pre_len, fin_len);
    return r;
}

static int load_final(struct vfu_blk *d, const void *buf, size_t len)
{
    const fdt32_t *ver;
    int node, r;

    if (!buf || len < FDT_V17_SIZE || len > STATE_MAX ||
        fdt_check_full(buf, len) || fdt_totalsize(buf) != len)
        return -EINVAL;
    ver = fdt_getprop(buf, 0, "vfu-blk-version", &r);
    if (!ver || r != 4 || fdt32_to_cpu(*ver) != STATE_VERSION)
        return -EINVAL;
    node = fdt_subnode_offset(buf, 0, "virtio-blk");
    if (node < 0)
        return -EINVAL;
    r = virtio_blk_state_ops.load(d->blk, buf, node);
    if (r)
        return r;
    node = fdt_subnode_offset(buf, 0, "vpci");
    return node < 0 ? -EINVAL : vfr_load(&d->pci, buf, node);
}

static const struct vfio_srv_dev_ops srv_ops = {
    .region_access = srv_region_access,
    .ioeventfd = srv_ioeventfd,
    .reset = srv_reset,
    .dma_unmap = srv_dma_unmap,
    .mig_arc = srv_mig_arc,
    .mig_save = srv_mig_save,
    .mig_load = srv_mig_load,
    .mig_precopy = srv_mig_precopy,
};

/* ---- construction -------------------------------------------------------- */

static void fill_regions(struct vfu_blk *d, struct vfio_srv_dev *dev)
{
    const uint32_t rw = VFIO_REGION_INFO_FLAG_READ |
                        VFIO_REGION_INFO_FLAG_WRITE;
    uint16_t i;

    for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++)
        d->regions[i].mmap_fd = -1;
    for (i = 0; i < d->nq; i++) {
        d->ioev[i].offset = VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * i;
        d->ioev[i].size = 0; /* any width: KVM fast MMIO */
        d->ioev[i].cookie = i;
    }
    d->regions[VFR_MSIX_BAR].size = VFR_MSIX_BAR_SIZE;
    d->regions[VFR_MSIX_BAR].flags = rw;
    d->regions[VFR_BAR].size = VIRTIO_PCI_CFG_BAR_SIZE;
    d->regions[VFR_BAR].flags = rw;
    d->regions[VFR_BAR].ioeventfds = d->ioev;
    d->regions[VFR_BAR].nr_ioeventfds = d->nq;
    d->regions[VFIO_PCI_CONFIG_REGION_INDEX].size = VFR_CFG_SIZE;
    d->regions[VFIO_PCI_CONFIG_REGION_INDEX].flags = rw;
    memset(dev, 0, sizeof(*dev));
    dev->regions = d->regions;
    dev->num_regions = VFIO_PCI_NUM_REGIONS;
    dev->num_irqs = VFIO_PCI_NUM_IRQS;
    dev->irq_count[VFIO_PCI_INTX_IRQ_INDEX] = 1;
    dev->irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = d->pci.nvec;
    dev->mig_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY;
    dev->ops = &srv_ops;
    dev->opaque = d;
}

static int make_blk(struct vfu_blk *d, const struct vfu_blk_params *p)
{
    struct virtio_blk_params bp = {
        .fd = p->disk_fd,
        .readonly = p->readonly,
        .discard = true,
        .write_zeroes = true,
        .num_queues = p->queues,
        .serial = "vfu-blk",
    };
    struct virtio_mem mem = {&mem_ops, d};
    struct virtio_irq irq = {&irq_ops, d};

    int r = virtio_blk_create(&bp, &mem, &irq, &d->blk);

    /* A device on a PCI bus: the driver must use the platform's DMA
     * translation (an IOMMU, a vIOMMU in front of the client), like any
     * hardware virtio device (virtio 1.2 6.1, VIRTIO_F_ACCESS_PLATFORM).
     * Without an IOMMU that is the identity, so nothing changes then. */
    if (r == 0)
        virtio_blk_vdev(d->blk)->device_features |=
            1ULL << VIRTIO_F_ACCESS_PLATFORM;
    return r;
}

int vfu_blk_create(const struct vfu_blk_params *p, struct vfu_blk **out)
{
    struct vfio_srv_dev dev;
    struct vfio_user_caps own;
    struct vfu_blk *d;
    int r;

    if (!p->queues || p->queues > VIRTIO_DEV_MAX_QUEUES)
        return -EINVAL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->nq = p->queues;
    d->running = true;
    r = make_blk(d, p);
    if (r)
        goto fail;
    r = vfr_init(&d->pci, virtio_blk_vdev(d->blk), 0x010000,
                  sizeof(struct virtio_blk_config), &pci_ops, d);
    if (r)
        goto fail_blk;
    fill_regions(d, &dev);
    if (p->no_ioeventfds)
        d->regions[VFR_BAR].nr_ioeventfds = 0;
    dev.strict = p->strict;
    dev.mig_v1 = p->mig_v1;
    vfio_srv_default_caps(&own);
    own.iova_bits = p->iova_bits;
    if (p->pgsizes)
        own.pgsizes = p->pgsizes;
    if (p->max_dma_maps)
        own.max_dma_maps = p->max_dma_maps;
    r = vfio_srv_create(&dev, &own, p->listen_fd, &d->srv);
    if (r)
        goto fail_blk;
    if (p->listen_fd < 0) {
        r = vfio_srv_attach(d->srv, p->conn_fd);
        if (r)
            goto fail_srv;
    }
    *out = d;
    return 0;
fail_srv:
    vfio_srv_destroy(d->srv);
fail_blk:
    vfr_fini(&d->pci);
    virtio_blk_destroy(d->blk);
fail:
    free(d);
    return r;
}

void vfu_blk_destroy(struct vfu_blk *d)
{
    struct vfio_srv *srv;

    if (!d)
        return;
    srv = d->srv;
    virtio_blk_destroy(d->blk); /* may still complete into the maps */
    d->srv = NULL;
    vfio_srv_destroy(srv);
    vfr_fini(&d->pci);
    free(d);
}

int vfu_blk_srv_fd(const struct vfu_blk *d)
{
    return vfio_srv_poll_fd(d->srv);
}

int vfu_blk_io_fd(const struct vfu_blk *d)
{
    return virtio_blk_poll_fd(d->blk);
}

uint32_t vfu_blk_take_ioeventfds(struct vfu_blk *d, int *fds, uint32_t max)
{
    return vfio_srv_take_ioeventfds(d->srv, fds, max);
}

void vfu_blk_ioeventfd_ready(struct vfu_blk *d, uint32_t idx)
{
    vfio_srv_handle_ioeventfd(d->srv, idx);
}

int vfu_blk_srv_ready(struct vfu_blk *d)
{
    return vfio_srv_handle_ready(d->srv);
}

int vfu_blk_io_ready(struct vfu_blk *d)
{
    return virtio_blk_handle_ready(d->blk);
}

void vfu_blk_get_counters(const struct vfu_blk *d,
                          struct vfu_blk_counters *c)
{
    struct virtio_blk_stats bs;
    struct vfio_srv_stats ss;

    *c = d->c;
    virtio_blk_get_stats(d->blk, &bs);
    vfio_srv_get_stats(d->srv, &ss);
    c->requests = bs.requests;
    c->bytes_read = bs.bytes_read;
    c->bytes_written = bs.bytes_written;
    c->errors = bs.errors;
    c->dma_msgs = ss.dma_msgs;
    c->dma_rounds = ss.dma_rounds;
    c->commands = ss.commands;
    c->connections = ss.connections;
    c->wakeups += ss.waits;
    c->msgs_sent = ss.msgs_sent;
    c->msgs_received = ss.msgs_received;
}

void vfu_blk_count_wakeup(struct vfu_blk *d)
{
    d->c.wakeups++;
}

#define COUNTER(n, f) { n, offsetof(struct vfu_blk_counters, f) }
const struct vfu_blk_counter_name vfu_blk_counter_names[VFU_BLK_NR_COUNTERS] = {
    COUNTER("requests", requests),
    COUNTER("bytes_read", bytes_read),
    COUNTER("bytes_written", bytes_written),
    COUNTER("errors", errors),
    COUNTER("doorbells_ioeventfd", doorbells_ioeventfd),
    COUNTER("doorbells_region_write", doorbells_region),
    COUNTER("irqs_msix", irqs_msix),
    COUNTER("irqs_intx", irqs_intx),
    COUNTER("dma_messages", dma_msgs),
    COUNTER("commands", commands),
    COUNTER("connections", connections),
    COUNTER("wakeups", wakeups),
    COUNTER("messages_sent", msgs_sent),
    COUNTER("messages_received", msgs_received),
    COUNTER("dma_rounds", dma_rounds),
};

uint64_t vfu_blk_counter(const struct vfu_blk_counters *c, unsigned int i)
{
    uint64_t v;

    memcpy(&v, (const char *)c + vfu_blk_counter_names[i].off, sizeof(v));
    return v;
}

void vfu_blk_print_counters(const struct vfu_blk *d, FILE *f)
{
    struct vfu_blk_counters c;
    struct vfio_srv_stats st;

    vfu_blk_get_counters(d, &c);
    fputs("vfu-blk:", f);
    for (unsigned int i = 0; i < VFU_BLK_NR_COUNTERS; i++)
        fprintf(f, " %s=%" PRIu64, vfu_blk_counter_names[i].name,
                vfu_blk_counter(&c, i));
    fputc('\n', f);
    vfio_srv_get_stats(d->srv, &st);
    if (st.dirty_bitmaps) /* migration v1 */
        fprintf(f, "vfu-blk: dirty_bitmaps=%" PRIu64 " dirty_pages=%" PRIu64
                "\n", st.dirty_bitmaps, st.dirty_pages);
    fflush(f);
}
