/* virtio-pci BAR registers (see pci.h): common configuration (spec
 * 4.1.4.3), ISR (4.1.4.5), device configuration (4.1.4.6), notifications
 * (4.1.4.4), the PCI configuration access capability (4.1.4.7), and the
 * MSI-X table/PBA BAR. */
#include "virtio/pci_priv.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_pci.h>

static uint64_t get_le(const void *data, uint32_t len)
{
    const uint8_t *p = data;
    uint64_t v = 0;

    for (uint32_t i = 0; i < len && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_le(void *data, uint32_t len, uint64_t v)
{
    uint8_t *p = data;

    for (uint32_t i = 0; i < len && i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static struct vp_queue *selected(struct virtio_pci *vp)
{
    return vp->queue_select < vp->num_queues ? &vp->q[vp->queue_select]
                                             : NULL;
}

void vp_regs_reset(struct virtio_pci *vp)
{
    vp->msix_config = VP_NO_VECTOR;
    vp->queue_select = 0;
    for (uint16_t i = 0; i < vp->num_queues; i++) {
        struct vp_queue *q = &vp->q[i];

        q->size = vp->vdev ? vp->vdev->queues[i].max_size : 0;
        q->vector = VP_NO_VECTOR;
        q->desc = q->avail = q->used = 0;
    }
    if (__atomic_exchange_n(&vp->isr, 0, __ATOMIC_ACQ_REL))
        pci_dev_set_intx(&vp->pci, false);
}

/* Value of the 64-bit queue address registers, or of the 16/32-bit ones;
 * @reg is the register's offset. */
static uint64_t queue_reg_read(struct virtio_pci *vp, uint32_t reg)
{
    struct vp_queue *q = selected(vp);
    uint16_t qi = vp->queue_select;

    if (!q)
        return reg == VIRTIO_PCI_COMMON_Q_MSIX ? VP_NO_VECTOR : 0;
    switch (reg) {
    case VIRTIO_PCI_COMMON_Q_SIZE:
        return q->size;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        return q->vector;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        return vp->vdev->queues[qi].enabled;
    case VIRTIO_PCI_COMMON_Q_NOFF:
        return qi;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
        return q->desc;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
        return q->avail;
    case VIRTIO_PCI_COMMON_Q_USEDLO:
        return q->used;
    default:
        return 0;
    }
}

static uint64_t common_reg_read(struct virtio_pci *vp, uint32_t reg)
{
    struct virtio_dev *vdev = vp->vdev;

    switch (reg) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        return vdev->device_feature_select;
    case VIRTIO_PCI_COMMON_DF:
        return virtio_dev_read_device_features(vdev);
    case VIRTIO_PCI_COMMON_GFSELECT:
        return vdev->driver_feature_select;
    case VIRTIO_PCI_COMMON_GF:
        return virtio_dev_read_driver_features(vdev);
    case VIRTIO_PCI_COMMON_MSIX:
        return vp->msix_config;
    case VIRTIO_PCI_COMMON_NUMQ:
        return vp->num_queues;
    case VIRTIO_PCI_COMMON_STATUS:
        return virtio_dev_read_status(vdev);
    case VIRTIO_PCI_COMMON_CFGGENERATION:
        return vdev->config_generation;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        return vp->queue_select;
    default:
        return queue_reg_read(vp, reg);
    }
}

/* Register containing @off and its width: 8 for the queue addresses
 * (accessed as two 4-byte halves or one 8-byte access). */
static uint32_t common_reg_at(uint32_t off, uint32_t *width)
{
    if (off >= VIRTIO_PCI_COMMON_Q_DESCLO) {
        *width = 8;
        return off & ~7u;
    }
    if (off < VIRTIO_PCI_COMMON_MSIX) {
        *width = 4;
        return off & ~3u;
    }
    if (off == VIRTIO_PCI_COMMON_STATUS ||
        off == VIRTIO_PCI_COMMON_CFGGENERATION) {
        *width = 1;
        return off;
    }
    *width = 2;
    return off & ~1u;
}

static void common_read(struct virtio_pci *vp, uint64_t off, void *data,
                        uint32_t len)
{
    uint32_t width, reg;
    uint64_t v;

    memset(data, 0, len);
    if (off >= VIRTIO_PCI_COMMON_SIZE || len > VIRTIO_PCI_COMMON_SIZE - off)
        return;
    reg = common_reg_at((uint32_t)off, &width);
    if (off + len > reg + width)
        return;     /* straddles registers: not a valid access */
    v = common_reg_read(vp, reg);
    put_le(data, len, v >> (8 * (off - reg)));
}

static void queue_enable(struct virtio_pci *vp)
{
    struct vp_queue *q = selected(vp);
    struct virtq *vq;

    if (!q)
        return;
    vq = &vp->vdev->queues[vp->queue_select];
    if (vq->enabled)
        return;
    virtq_set_features(vq, vp->vdev->driver_features);
    if (virtq_set_size(vq, q->size) < 0 ||
        virtq_set_addrs(vq, q->desc, q->avail, q->used) < 0 ||
        virtq_enable(vq) < 0)
        virtio_dev_set_needs_reset(vp->vdev);
}

static void status_write(struct virtio_pci *vp, uint8_t status)
{
    virtio_dev_write_status(vp->vdev, status);
    if (status == 0)
        vp_regs_reset(vp);
}

static void queue_reg_write(struct virtio_pci *vp, uint32_t reg,
                            uint64_t v)
{
    struct vp_queue *q = selected(vp);

    if (!q)
        return;
    switch (reg) {
    case VIRTIO_PCI_COMMON_Q_SIZE:
        q->size = (uint16_t)v;
        break;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        q->vector = v < vp->nvec ? (uint16_t)v : VP_NO_VECTOR;
        break;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        if (v == 1)
            queue_enable(vp);
        break;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
        q->desc = v;
        break;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
        q->avail = v;
        break;
    case VIRTIO_PCI_COMMON_Q_USEDLO:
        q->used = v;
        break;
    default:
        break;      /* read-only */
    }
}

static void common_reg_write(struct virtio_pci *vp, uint32_t reg,
                             uint64_t v)
{
    struct virtio_dev *vdev = vp->vdev;

    switch (reg) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        virtio_dev_select_device_features(vdev, (uint32_t)v);
        break;
    case VIRTIO_PCI_COMMON_GFSELECT:
        virtio_dev_select_driver_features(vdev, (uint32_t)v);
        break;
    case VIRTIO_PCI_COMMON_GF:
        virtio_dev_write_driver_features(vdev, (uint32_t)v);
        break;
    case VIRTIO_PCI_COMMON_MSIX:
        vp->msix_config = v < vp->nvec ? (uint16_t)v : VP_NO_VECTOR;
        break;
    case VIRTIO_PCI_COMMON_STATUS:
        status_write(vp, (uint8_t)v);
        break;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        vp->queue_select = (uint16_t)v;
        break;
    default:
        queue_reg_write(vp, reg, v);
        break;
    }
}

static void common_write(struct virtio_pci *vp, uint64_t off,
                         const void *data, uint32_t len)
{
    uint32_t width, reg, shift;
    uint64_t v, mask;

    if (off >= VIRTIO_PCI_COMMON_SIZE || len > VIRTIO_PCI_COMMON_SIZE - off)
        return;
    reg = common_reg_at((uint32_t)off, &width);
    if (off + len > reg + width)
        return;
    v = get_le(data, len);
    if (len < width) {
        /* A partial write (the queue address halves): merge. */
        shift = 8 * (uint32_t)(off - reg);
        mask = (len == 8 ? ~0ULL : ((1ULL << (8 * len)) - 1)) << shift;
        v = (common_reg_read(vp, reg) & ~mask) | ((v << shift) & mask);
    }
    common_reg_write(vp, reg, v);
}

static void isr_read(struct virtio_pci *vp, void *data, uint32_t len)
{
    uint8_t v = __atomic_exchange_n(&vp->isr, 0, __ATOMIC_ACQ_REL);

    memset(data, 0, len);
    *(uint8_t *)data = v;
    if (v)
        pci_dev_set_intx(&vp->pci, false);
}

static void notify_write(struct virtio_pci *vp, uint64_t off)
{
    uint64_t qidx = off / VIRTIO_PCI_NOTIFY_MULT, one = 1;

    if (qidx < vp->num_queues &&
        write(vp->q[qidx].efd, &one, sizeof(one)) < 0) {
        /* Counter saturated: a notification is pending anyway. */
    }
}

static void cfg_bar_read(void *opaque, uint64_t off, void *data,
                         uint32_t len)
{
    struct virtio_pci *vp = opaque;

    memset(data, 0, len);
    pthread_mutex_lock(&vp->lock);
    if (off < VIRTIO_PCI_ISR_OFF)
        common_read(vp, off, data, len);
    else if (off == VIRTIO_PCI_ISR_OFF)
        isr_read(vp, data, len);
    else if (off >= VIRTIO_PCI_DEVICE_OFF && off < VIRTIO_PCI_NOTIFY_OFF &&
             off - VIRTIO_PCI_DEVICE_OFF + len <= vp->config_size)
        virtio_dev_config_read(vp->vdev,
                               (uint32_t)(off - VIRTIO_PCI_DEVICE_OFF),
                               data, len);
    pthread_mutex_unlock(&vp->lock);
}

static void cfg_bar_write(void *opaque, uint64_t off, const void *data,
                          uint32_t len)
{
    struct virtio_pci *vp = opaque;

    if (off >= VIRTIO_PCI_NOTIFY_OFF) {
        notify_write(vp, off - VIRTIO_PCI_NOTIFY_OFF);
        return;
    }
    pthread_mutex_lock(&vp->lock);
    if (off < VIRTIO_PCI_ISR_OFF)
        common_write(vp, off, data, len);
    else if (off >= VIRTIO_PCI_DEVICE_OFF &&
             off - VIRTIO_PCI_DEVICE_OFF + len <= vp->config_size)
        virtio_dev_config_write(vp->vdev,
                                (uint32_t)(off - VIRTIO_PCI_DEVICE_OFF),
                                data, len);
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

/* The VIRTIO_PCI_CAP_PCI_CFG window: cap.bar/offset/length select a
 * BAR range; pci_cfg_data accesses it. Only BAR 2 is reachable. */
static bool cfg_cap_target(struct virtio_pci *vp, uint64_t *off,
                           uint32_t *len)
{
    uint32_t c = (uint32_t)vp->cfg_cap;
    uint32_t bar = pci_cfg_get(&vp->pci, c + VIRTIO_PCI_CAP_BAR, 1);

    *off = pci_cfg_get(&vp->pci, c + VIRTIO_PCI_CAP_OFFSET, 4);
    *len = pci_cfg_get(&vp->pci, c + VIRTIO_PCI_CAP_LENGTH, 4);
    return bar == VIRTIO_PCI_CFG_BAR &&
           (*len == 1 || *len == 2 || *len == 4) && *off % *len == 0 &&
           *off + *len <= VIRTIO_PCI_CFG_BAR_SIZE;
}

void vp_cfg_cap_read(struct virtio_pci *vp, uint32_t off, uint32_t len,
                     uint32_t *val)
{
    uint32_t data_off = (uint32_t)vp->cfg_cap + 16, blen;
    uint8_t buf[4] = { 0 };
    uint64_t boff;

    if (!pci_cfg_overlaps(off, len, data_off, 4) ||
        !cfg_cap_target(vp, &boff, &blen))
        return;
    cfg_bar_read(vp, boff, buf, blen);
    pci_cfg_set(&vp->pci, data_off, 4, (uint32_t)get_le(buf, 4));
    *val = pci_cfg_get(&vp->pci, off, len);
}

void vp_cfg_cap_write(struct virtio_pci *vp, uint32_t off, uint32_t len)
{
    uint32_t data_off = (uint32_t)vp->cfg_cap + 16, blen;
    uint8_t buf[4];
    uint64_t boff;

    if (!pci_cfg_overlaps(off, len, data_off, 4) ||
        !cfg_cap_target(vp, &boff, &blen))
        return;
    put_le(buf, 4, pci_cfg_get(&vp->pci, data_off, 4));
    cfg_bar_write(vp, boff, buf, blen);
}
