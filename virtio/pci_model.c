/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci capabilities BAR register model; see pci_model.h. Spec:
 * virtio 1.x 4.1.4.3 "Common configuration structure layout", 4.1.4.4
 * "Notification structure layout", 4.1.4.5 "ISR status capability",
 * 4.1.4.6 "Device-specific configuration". */
#include "virtio/pci_model.h"

#include <errno.h>
#include <string.h>

#include <linux/virtio_pci.h>

#include "vmm/endian.h"

_Static_assert(sizeof(struct vpm_queue) == 32, "vfu-blk state layout");

int vpm_init(struct vpm *m, const struct vpm_params *p)
{
    if (!p->num_queues || p->num_queues > VIRTIO_DEV_MAX_QUEUES ||
        p->nvec > 2048 || p->config_size > 0x1000 || !p->ops ||
        !p->ops->notify)
        return -EINVAL;
    memset(m, 0, sizeof(*m));
    m->ops = p->ops;
    m->opaque = p->opaque;
    m->num_queues = p->num_queues;
    m->nvec = p->nvec;
    m->config_size = p->config_size;
    vpm_reset(m);
    return 0;
}

int vpm_attach(struct vpm *m, struct virtio_dev *vdev)
{
    if (!vdev || vdev->num_queues != m->num_queues)
        return -EINVAL;
    m->vdev = vdev;
    vpm_reset(m);
    return 0;
}

void vpm_reset(struct vpm *m)
{
    m->msix_config = VPM_NO_VECTOR;
    m->queue_select = 0;
    memset(m->q, 0, sizeof(m->q));
    for (uint16_t i = 0; i < m->num_queues; i++) {
        m->q[i].size = m->vdev ? m->vdev->queues[i].max_size : 0;
        m->q[i].vector = VPM_NO_VECTOR;
    }
    if (__atomic_exchange_n(&m->isr, 0, __ATOMIC_ACQ_REL) &&
        m->ops->isr_cleared)
        m->ops->isr_cleared(m->opaque);
}

/* --- common configuration ------------------------------------------- */

/* Width of the field starting at @off of the common structure (0: no
 * field starts there). */
static uint32_t field_width(uint32_t off)
{
    static const uint8_t w[VIRTIO_PCI_COMMON_SIZE] = {
        [0] = 4, [4] = 4, [8] = 4, [12] = 4, [16] = 2, [18] = 2,
        [20] = 1, [21] = 1, [22] = 2, [24] = 2, [26] = 2, [28] = 2,
        [30] = 2, [32] = 8, [40] = 8, [48] = 8,
    };

    return off < VIRTIO_PCI_COMMON_SIZE ? w[off] : 0;
}

/* The selected queue's registers and virtqueue, or NULL. */
static struct vpm_queue *selected(struct vpm *m, struct virtq **vq)
{
    *vq = virtio_dev_queue(m->vdev, m->queue_select);
    return *vq ? &m->q[m->queue_select] : NULL;
}

/* An enabled queue's size and ring addresses are the live virtqueue's:
 * the driver configures them before queue_enable (spec 4.1.4.3.2) and
 * cannot disable a queue but by a reset, so later writes are ignored and
 * reads show what the device uses. */
static bool frozen(const struct virtq *vq)
{
    return vq->enabled;
}

static uint64_t queue_field_read(struct vpm *m, uint32_t reg)
{
    struct virtq *vq;
    struct vpm_queue *q = selected(m, &vq);

    if (!q)
        return reg == VIRTIO_PCI_COMMON_Q_MSIX ? VPM_NO_VECTOR : 0;
    switch (reg) {
    case VIRTIO_PCI_COMMON_Q_SIZE:
        return frozen(vq) ? vq->size : q->size;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        return q->vector;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        return vq->enabled;
    case VIRTIO_PCI_COMMON_Q_NOFF:
        return m->queue_select;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
        return q->desc;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
        return q->driver;
    case VIRTIO_PCI_COMMON_Q_USEDLO:
        return q->device;
    default:
        return 0;
    }
}

/* Value of the field starting at @reg. */
static uint64_t field_read(struct vpm *m, uint32_t reg)
{
    struct virtio_dev *vdev = m->vdev;

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
        return m->msix_config;
    case VIRTIO_PCI_COMMON_NUMQ:
        return m->num_queues;
    case VIRTIO_PCI_COMMON_STATUS:
        return virtio_dev_read_status(vdev);
    case VIRTIO_PCI_COMMON_CFGGENERATION:
        return vdev->config_generation;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        return m->queue_select;
    default:
        return queue_field_read(m, reg);
    }
}

static uint16_t vector_ok(const struct vpm *m, uint64_t v)
{
    return v < m->nvec ? (uint16_t)v : VPM_NO_VECTOR;
}

static void queue_enable(struct vpm *m, struct vpm_queue *q,
                         struct virtq *vq)
{
    int r;

    if (vq->enabled)
        return;
    r = virtq_set_size(vq, q->size);
    if (r == 0)
        r = virtq_set_addrs(vq, q->desc, q->driver, q->device);
    if (r == 0)
        r = virtq_enable(vq);
    if (m->ops->queue_enable)
        m->ops->queue_enable(m->opaque, m->queue_select, r);
}

static void queue_field_write(struct vpm *m, uint32_t reg, uint64_t v)
{
    struct virtq *vq;
    struct vpm_queue *q = selected(m, &vq);

    if (!q)
        return;
    if (reg == VIRTIO_PCI_COMMON_Q_MSIX)
        q->vector = vector_ok(m, v);
    else if (reg == VIRTIO_PCI_COMMON_Q_ENABLE && v == 1)
        queue_enable(m, q, vq);
    else if (frozen(vq))
        return;
    else if (reg == VIRTIO_PCI_COMMON_Q_SIZE)
        q->size = (uint16_t)v;
    else if (reg == VIRTIO_PCI_COMMON_Q_DESCLO)
        q->desc = v;
    else if (reg == VIRTIO_PCI_COMMON_Q_AVAILLO)
        q->driver = v;
    else if (reg == VIRTIO_PCI_COMMON_Q_USEDLO)
        q->device = v;
}

/* Write the whole field starting at @reg; read-only ones ignore it. */
static void field_write(struct vpm *m, uint32_t reg, uint64_t v)
{
    struct virtio_dev *vdev = m->vdev;

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
        m->msix_config = vector_ok(m, v);
        break;
    case VIRTIO_PCI_COMMON_STATUS:
        virtio_dev_write_status(vdev, (uint8_t)v);
        if ((uint8_t)v == 0)
            vpm_reset(m);
        break;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        m->queue_select = (uint16_t)v;
        break;
    default:
        queue_field_write(m, reg, v);
        break;
    }
}

/* The whole structure as the driver sees it. */
static void common_bytes(struct vpm *m, uint8_t *buf)
{
    uint32_t w;

    for (uint32_t reg = 0; reg < VIRTIO_PCI_COMMON_SIZE; reg += w) {
        w = field_width(reg);
        le_store(buf + reg, w, field_read(m, reg));
    }
}

/* Reads see the bytes of struct virtio_pci_common_cfg at any offset and
 * length (spec 4.1.3.1 asks drivers for field-wide accesses; a narrower
 * or wider read simply sees the bytes). */
static void common_read(struct vpm *m, uint64_t off, uint8_t *data,
                        uint32_t len)
{
    uint8_t all[VIRTIO_PCI_COMMON_SIZE];

    memset(data, 0, len);
    if (off >= VIRTIO_PCI_COMMON_SIZE)
        return;
    common_bytes(m, all);
    memcpy(data, all + off, len < VIRTIO_PCI_COMMON_SIZE - off
                                ? len : VIRTIO_PCI_COMMON_SIZE - off);
}

/* A write must be a whole field, or a 4-byte half of a 64-bit one (its
 * half chosen by bit 2 of @off), the widths spec 4.1.3.1 lets a driver
 * use; any other write is ignored. */
static void common_write(struct vpm *m, uint64_t off64, const void *data,
                         uint32_t len)
{
    uint32_t off = off64 < VIRTIO_PCI_COMMON_SIZE ? (uint32_t)off64 : 0;
    uint32_t reg = off & ~7u, w = field_width(reg) == 8 ? 8
                                                         : field_width(off);
    uint64_t v;

    if (off64 >= VIRTIO_PCI_COMMON_SIZE || !w ||
        (len != w && !(w == 8 && len == 4)))
        return;     /* not a register write the spec allows: ignored */
    v = le_load(data, len);
    if (w != 8) {
        field_write(m, off, v);
        return;
    }
    if (len == 4 && (off & 4))
        v = (field_read(m, reg) & 0xffffffffull) | (v << 32);
    else if (len == 4)
        v = (field_read(m, reg) & ~0xffffffffull) | v;
    field_write(m, reg, v);
}

/* --- the BAR ----------------------------------------------------------- */

static bool devcfg_range(const struct vpm *m, uint64_t off, uint32_t len)
{
    return off >= VIRTIO_PCI_DEVICE_OFF && off < VIRTIO_PCI_NOTIFY_OFF &&
           off - VIRTIO_PCI_DEVICE_OFF + len <= m->config_size;
}

int vpm_read(struct vpm *m, uint64_t off, void *data, uint32_t len)
{
    uint8_t *b = data;

    if (off >= VIRTIO_PCI_CFG_BAR_SIZE ||
        len > VIRTIO_PCI_CFG_BAR_SIZE - off)
        return -EINVAL;
    memset(b, 0, len);
    if (!m->vdev || !len)
        return 0;
    if (off < VIRTIO_PCI_ISR_OFF) {
        common_read(m, off, b, len);
    } else if (off == VIRTIO_PCI_ISR_OFF) {
        b[0] = __atomic_exchange_n(&m->isr, 0, __ATOMIC_ACQ_REL);
        if (b[0] && m->ops->isr_cleared)
            m->ops->isr_cleared(m->opaque);
    } else if (devcfg_range(m, off, len) &&
               virtio_dev_config_read(m->vdev,
                                      (uint32_t)(off - VIRTIO_PCI_DEVICE_OFF),
                                      b, len) < 0) {
        memset(b, 0, len);
    }
    return 0;
}

int vpm_write(struct vpm *m, uint64_t off, const void *data, uint32_t len)
{
    uint64_t qidx;

    if (off >= VIRTIO_PCI_CFG_BAR_SIZE ||
        len > VIRTIO_PCI_CFG_BAR_SIZE - off)
        return -EINVAL;
    if (!m->vdev)
        return 0;
    if (off >= VIRTIO_PCI_NOTIFY_OFF) {
        qidx = (off - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULT;
        if (qidx < m->num_queues)
            m->ops->notify(m->opaque, (uint16_t)qidx);
    } else if (off < VIRTIO_PCI_ISR_OFF) {
        common_write(m, off, data, len);
    } else if (devcfg_range(m, off, len)) {
        /* A refused write (read-only field) is ignored. */
        virtio_dev_config_write(m->vdev,
                                (uint32_t)(off - VIRTIO_PCI_DEVICE_OFF),
                                data, len);
    }
    return 0;
}

uint16_t vpm_queue_vector(const struct vpm *m, uint16_t qidx)
{
    return qidx < m->num_queues ? m->q[qidx].vector : VPM_NO_VECTOR;
}

uint16_t vpm_config_vector(const struct vpm *m)
{
    return m->msix_config;
}

void vpm_set_isr(struct vpm *m, uint8_t bits)
{
    __atomic_or_fetch(&m->isr, bits, __ATOMIC_ACQ_REL);
}
