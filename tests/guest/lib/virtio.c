/* SPDX-License-Identifier: BSD-3-Clause */
/* A tiny virtio-pci driver for test payloads (see virtio.h). */
#include "lib/virtio.h"

#include "lib/errno.h"
#include "lib/io.h"
#include "lib/lapic.h"
#include "lib/string.h"
#include "lib/time.h"

/* Common configuration offsets (spec 4.1.4.3). */
#define CC_DFSELECT  0
#define CC_DF        4
#define CC_GFSELECT  8
#define CC_GF        12
#define CC_MSIX      16
#define CC_NUMQ      18
#define CC_STATUS    20
#define CC_QSELECT   22
#define CC_QSIZE     24
#define CC_QMSIX     26
#define CC_QENABLE   28
#define CC_QNOFF     30
#define CC_QDESC     32
#define CC_QAVAIL    40
#define CC_QUSED     48

#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

static uint64_t vdma_next = VDMA_BASE;
static struct pci_window bar_window = { 0xC0000000ULL, 0xE0000000ULL };

void *vdma_alloc(uint64_t size, uint64_t align)
{
    uint64_t a = (vdma_next + align - 1) & ~(align - 1);

    if (a + size > VDMA_LIMIT)
        return 0;
    vdma_next = a + size;
    memset((void *)(uintptr_t)a, 0, size);
    return (void *)(uintptr_t)a;
}

static int assign_bars(struct pci_addr a, uint64_t base[6])
{
    struct pci_bar bar;
    uint64_t addr;

    for (unsigned int i = 0; i < 6; i++) {
        base[i] = 0;
        if (pci_bar_probe(PCI_CF8, a, i, &bar) < 0 || !bar.size || bar.io)
            continue;
        if (pci_window_alloc(&bar_window, bar.size < 4096 ? 4096 : bar.size,
                             &addr) < 0)
            return -ENOSPC;
        pci_bar_set(PCI_CF8, a, i, &bar, addr);
        base[i] = addr;
        if (bar.is64)
            i++;
    }
    pci_write16(PCI_CF8, a, PCI_COMMAND,
                pci_read16(PCI_CF8, a, PCI_COMMAND) | PCI_CMD_MEM |
                    PCI_CMD_MASTER);
    return 0;
}

static void parse_caps(struct vdev *d, const uint64_t base[6])
{
    unsigned int off = pci_read8(PCI_CF8, d->pci, PCI_CAP_PTR) & 0xFC;
    unsigned int guard = 48;

    for (; off && guard--; off = pci_read8(PCI_CF8, d->pci, off + 1) & 0xFC) {
        uint8_t id = pci_read8(PCI_CF8, d->pci, off);
        uint8_t type = pci_read8(PCI_CF8, d->pci, off + 3);
        uint8_t bar = pci_read8(PCI_CF8, d->pci, off + 4);
        uint32_t o = pci_read32(PCI_CF8, d->pci, off + 8);

        if (id == PCI_CAP_ID_MSIX) {
            uint32_t t = pci_read32(PCI_CF8, d->pci, off + 4);

            d->msix_table = base[t & 7] + (t & ~7U);
            t = pci_read32(PCI_CF8, d->pci, off + 8);
            d->msix_pba = base[t & 7] + (t & ~7U);
            d->nvec = (pci_read16(PCI_CF8, d->pci, off + 2) & 0x7FF) + 1;
            continue;
        }
        if (id != PCI_CAP_ID_VNDR || bar > 5)
            continue;
        if (type == 1)
            d->common = base[bar] + o;
        else if (type == 2) {
            d->notify = base[bar] + o;
            d->notify_mult = pci_read32(PCI_CF8, d->pci, off + 16);
        } else if (type == 3)
            d->isr = base[bar] + o;
        else if (type == 4)
            d->device = base[bar] + o;
    }
}

int vdev_find(uint16_t type, unsigned int nth, struct vdev *d)
{
    uint64_t base[6];

    for (uint8_t dev = 0; dev < 32; dev++) {
        struct pci_addr a = { 0, dev, 0 };
        uint32_t id = pci_read32(PCI_CF8, a, PCI_VENDOR_ID);

        if ((id & 0xFFFF) != 0x1AF4 || (id >> 16) != 0x1040u + type)
            continue;
        if (nth--)
            continue;
        memset(d, 0, sizeof(*d));
        d->pci = a;
        d->type = type;
        if (assign_bars(a, base) < 0)
            return -ENOSPC;
        parse_caps(d, base);
        return d->common && d->notify && d->isr ? 0 : -EINVAL;
    }
    return -ENODEV;
}

uint8_t vdev_status(struct vdev *d)
{
    return mmio_read8(d->common + CC_STATUS);
}

static void set_status(struct vdev *d, uint8_t bits)
{
    mmio_write8(d->common + CC_STATUS, bits);
}

int vdev_init(struct vdev *d, uint64_t want)
{
    uint64_t offered;

    set_status(d, 0);
    if (vdev_status(d) != 0)
        return -EIO;
    set_status(d, VIRTIO_S_ACK);
    set_status(d, VIRTIO_S_ACK | VIRTIO_S_DRIVER);
    mmio_write32(d->common + CC_DFSELECT, 0);
    offered = mmio_read32(d->common + CC_DF);
    mmio_write32(d->common + CC_DFSELECT, 1);
    offered |= (uint64_t)mmio_read32(d->common + CC_DF) << 32;
    d->features = offered & (want | (1ULL << VIRTIO_F_VERSION_1));
    if (!(d->features & (1ULL << VIRTIO_F_VERSION_1)))
        return -EIO;
    mmio_write32(d->common + CC_GFSELECT, 0);
    mmio_write32(d->common + CC_GF, (uint32_t)d->features);
    mmio_write32(d->common + CC_GFSELECT, 1);
    mmio_write32(d->common + CC_GF, (uint32_t)(d->features >> 32));
    set_status(d, VIRTIO_S_ACK | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
    if (!(vdev_status(d) & VIRTIO_S_FEATURES_OK))
        return -EIO;
    return 0;
}

int vdev_msix_enable(struct vdev *d)
{
    unsigned int cap = pci_find_cap(PCI_CF8, d->pci, PCI_CAP_ID_MSIX);

    if (!cap || !d->msix_table)
        return -ENODEV;
    for (uint16_t i = 0; i < d->nvec; i++)
        mmio_write32(d->msix_table + 16u * i + 12, 1);
    pci_write16(PCI_CF8, d->pci, cap + 2, 0x8000);
    return 0;
}

void vdev_msix_set(struct vdev *d, uint16_t entry, uint8_t vector,
                   int masked)
{
    uint64_t e = d->msix_table + 16u * entry;

    mmio_write32(e + 12, 1);
    mmio_write32(e, 0xFEE00000u | (lapic_id() << 12));
    mmio_write32(e + 4, 0);
    mmio_write32(e + 8, vector);
    if (!masked)
        mmio_write32(e + 12, 0);
}

int vdev_msix_pending(struct vdev *d, uint16_t entry)
{
    uint64_t bits = mmio_read64(d->msix_pba + entry / 64 * 8);

    return (bits >> (entry % 64)) & 1;
}

int vq_setup(struct vdev *d, struct vq *q, uint16_t index, uint16_t size,
             uint16_t msix, uint8_t vector)
{
    uint16_t max;

    mmio_write16(d->common + CC_QSELECT, index);
    max = mmio_read16(d->common + CC_QSIZE);
    if (!max)
        return -EINVAL;
    if (!size || size > max)
        size = max;
    memset(q, 0, sizeof(*q));
    q->dev = d;
    q->index = index;
    q->size = size;
    q->desc = vdma_alloc(16u * size, 4096);
    q->avail = vdma_alloc(6u + 2u * size, 4096);
    q->used = vdma_alloc(6u + 8u * size, 4096);
    q->chain_len = vdma_alloc(2u * size, 8);
    if (!q->desc || !q->avail || !q->used || !q->chain_len)
        return -ENOMEM;
    for (uint16_t i = 0; i < size; i++)
        q->desc[i].next = (uint16_t)(i + 1);
    q->num_free = size;
    mmio_write16(d->common + CC_QSIZE, size);
    mmio_write64(d->common + CC_QDESC, (uintptr_t)q->desc);
    mmio_write64(d->common + CC_QAVAIL, (uintptr_t)q->avail);
    mmio_write64(d->common + CC_QUSED, (uintptr_t)q->used);
    if (msix != VIRTIO_NO_VECTOR) {
        vdev_msix_set(d, msix, vector, 0);
        q->vector = vector;
    }
    mmio_write16(d->common + CC_QMSIX, msix);
    if (mmio_read16(d->common + CC_QMSIX) != msix)
        return -EIO;
    q->notify_addr = d->notify +
                     (uint64_t)mmio_read16(d->common + CC_QNOFF) *
                         d->notify_mult;
    mmio_write16(d->common + CC_QENABLE, 1);
    return mmio_read16(d->common + CC_QENABLE) == 1 ? 0 : -EIO;
}

int vdev_config_msix(struct vdev *d, uint16_t msix, uint8_t vector)
{
    if (msix != VIRTIO_NO_VECTOR)
        vdev_msix_set(d, msix, vector, 0);
    mmio_write16(d->common + CC_MSIX, msix);
    return mmio_read16(d->common + CC_MSIX) == msix ? 0 : -EIO;
}

void vdev_driver_ok(struct vdev *d)
{
    set_status(d, VIRTIO_S_ACK | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK |
                      VIRTIO_S_DRIVER_OK);
}

uint8_t vdev_cfg8(struct vdev *d, unsigned int off)
{
    return mmio_read8(d->device + off);
}

uint32_t vdev_cfg32(struct vdev *d, unsigned int off)
{
    return mmio_read32(d->device + off);
}

uint64_t vdev_cfg64(struct vdev *d, unsigned int off)
{
    return mmio_read32(d->device + off) |
           (uint64_t)mmio_read32(d->device + off + 4) << 32;
}

int vq_add(struct vq *q, const struct vq_buf *bufs, unsigned int n)
{
    uint16_t head = q->free_head, i = head, last = head;

    if (n == 0 || n > q->num_free)
        return -ENOSPC;
    for (unsigned int k = 0; k < n; k++) {
        q->desc[i].addr = (uintptr_t)bufs[k].addr;
        q->desc[i].len = bufs[k].len;
        q->desc[i].flags = (uint16_t)((bufs[k].write ? VRING_DESC_F_WRITE
                                                     : 0) |
                                      (k + 1 < n ? VRING_DESC_F_NEXT : 0));
        last = i;
        i = q->desc[i].next;
    }
    q->free_head = q->desc[last].next;
    q->num_free = (uint16_t)(q->num_free - n);
    q->chain_len[head] = (uint16_t)n;
    q->avail->ring[q->avail->idx % q->size] = head;
    __asm__ volatile("" ::: "memory");  /* x86: stores stay ordered */
    q->avail->idx = (uint16_t)(q->avail->idx + 1);
    return head;
}

void vq_kick(struct vq *q)
{
    __asm__ volatile("mfence" ::: "memory");
    mmio_write16(q->notify_addr, q->index);
}

int vq_get_used(struct vq *q, uint32_t *id, uint32_t *len)
{
    uint16_t head, n, tail;

    if (q->used->idx == q->last_used)
        return 0;
    __asm__ volatile("" ::: "memory");
    *id = q->used->ring[q->last_used % q->size].id;
    *len = q->used->ring[q->last_used % q->size].len;
    q->last_used++;
    head = (uint16_t)*id;
    n = q->chain_len[head];
    tail = head;
    for (uint16_t k = 1; k < n; k++)
        tail = q->desc[tail].next;
    q->desc[tail].next = q->free_head;
    q->free_head = head;
    q->num_free = (uint16_t)(q->num_free + n);
    return 1;
}

int vq_wait_used(struct vq *q, uint32_t *id, uint32_t *len,
                 uint64_t timeout_us)
{
    uint64_t start = time_us();

    while (!vq_get_used(q, id, len)) {
        if (time_us() - start > timeout_us)
            return -ETIMEDOUT;
        cpu_relax();
    }
    return 1;
}
