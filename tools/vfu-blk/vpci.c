/* vfu-blk virtio-pci register model; see vpci.h. Spec: virtio 1.x 4.1.4
 * "Virtio Structure PCI Capabilities", 4.1.4.3 "Common configuration
 * structure layout"; PCI Local Bus 3.0, 6.1 / 6.8.2 (MSI-X capability). */
#include "vpci.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "vmm/state.h"

#define CAP_MSIX   0x40u
#define CAP_COMMON 0x50u
#define CAP_NOTIFY 0x60u
#define CAP_ISR    0x74u
#define CAP_DEVICE 0x84u
#define CAP_PCICFG 0x94u
#define PCICFG_DATA (CAP_PCICFG + 16u)
#define CMD_WMASK  (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |              \
                    PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

static void put16(uint8_t *p, uint16_t v)
{
    v = htole16(v);
    memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return le32toh(v);
}

static void mask32(struct vpci *p, uint32_t off, uint32_t m)
{
    put32(&p->wmask[off], m);
}

/* One virtio vendor capability (struct virtio_pci_cap) at @at. */
static void vcap(struct vpci *p, uint32_t at, uint8_t next, uint8_t len,
                 uint8_t type, uint32_t off, uint32_t length)
{
    uint8_t *c = &p->cfg[at];

    c[0] = PCI_CAP_ID_VNDR;
    c[1] = next;
    c[2] = len;
    c[3] = type;
    c[4] = VPCI_BAR;
    put32(c + 8, off);
    put32(c + 12, length);
}

static void init_header(struct vpci *p, uint32_t class_code)
{
    uint8_t *c = p->cfg;

    put16(c + PCI_VENDOR_ID, 0x1af4);
    put16(c + PCI_DEVICE_ID, (uint16_t)(0x1040 + p->vdev->device_id));
    put16(c + PCI_STATUS, PCI_STATUS_CAP_LIST);
    c[PCI_REVISION_ID] = 1;
    put32(c + PCI_CLASS_REVISION, (class_code << 8) | 1);
    put32(c + PCI_BASE_ADDRESS_0, 0);
    put32(c + PCI_BASE_ADDRESS_2, PCI_BASE_ADDRESS_MEM_TYPE_64);
    put16(c + PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    put16(c + PCI_SUBSYSTEM_ID, 0x1100);
    c[PCI_CAPABILITY_LIST] = CAP_MSIX;
    c[PCI_INTERRUPT_PIN] = 1;
    put16(p->wmask + PCI_COMMAND, CMD_WMASK);
    mask32(p, PCI_BASE_ADDRESS_0, ~(VPCI_MSIX_BAR_SIZE - 1));
    mask32(p, PCI_BASE_ADDRESS_2, ~(VPCI_BAR_SIZE - 1));
    mask32(p, PCI_BASE_ADDRESS_3, 0xffffffffu);
    p->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

static void init_caps(struct vpci *p)
{
    uint8_t *m = &p->cfg[CAP_MSIX];
    uint16_t nq = p->vdev->num_queues;

    m[0] = PCI_CAP_ID_MSIX;
    m[1] = CAP_COMMON;
    put16(m + PCI_MSIX_FLAGS, (uint16_t)(p->nvec - 1));
    put32(m + PCI_MSIX_TABLE, VPCI_MSIX_BAR);
    put32(m + PCI_MSIX_PBA, VPCI_MSIX_PBA_OFF | VPCI_MSIX_BAR);
    p->wmask[CAP_MSIX + PCI_MSIX_FLAGS + 1] = 0xc0; /* enable, mask all */
    vcap(p, CAP_COMMON, CAP_NOTIFY, 16, VIRTIO_PCI_CAP_COMMON_CFG,
         VPCI_COMMON_OFF, sizeof(struct virtio_pci_common_cfg));
    vcap(p, CAP_NOTIFY, CAP_ISR, 20, VIRTIO_PCI_CAP_NOTIFY_CFG,
         VPCI_NOTIFY_OFF, VPCI_NOTIFY_MULT * nq);
    put32(&p->cfg[CAP_NOTIFY + 16], VPCI_NOTIFY_MULT);
    vcap(p, CAP_ISR, CAP_DEVICE, 16, VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR_OFF, 1);
    vcap(p, CAP_DEVICE, CAP_PCICFG, 16, VIRTIO_PCI_CAP_DEVICE_CFG,
         VPCI_DEVICE_OFF, p->devcfg_size);
    vcap(p, CAP_PCICFG, 0, 20, VIRTIO_PCI_CAP_PCI_CFG, 0, 0);
    p->wmask[CAP_PCICFG + 4] = 0xff;
    mask32(p, CAP_PCICFG + 8, 0xffffffffu);
    mask32(p, CAP_PCICFG + 12, 0xffffffffu);
    mask32(p, PCICFG_DATA, 0xffffffffu);
}

void vpci_init(struct vpci *p, struct virtio_dev *vdev, uint32_t class_code,
               uint32_t devcfg_size, const struct vpci_ops *ops,
               void *opaque)
{
    uint32_t v;

    memset(p, 0, sizeof(*p));
    p->vdev = vdev;
    p->ops = ops;
    p->opaque = opaque;
    p->nvec = (uint16_t)(vdev->num_queues + 1);
    p->devcfg_size = devcfg_size;
    init_header(p, class_code);
    init_caps(p);
    for (v = 0; v < p->nvec; v++) /* entries start masked */
        put32(&p->msix[v * 16 + 12], 1);
    vpci_reset(p);
}

void vpci_reset(struct vpci *p)
{
    uint16_t i;

    p->queue_select = 0;
    p->msix_config = VIRTIO_MSI_NO_VECTOR;
    p->isr = 0;
    memset(p->q, 0, sizeof(p->q));
    for (i = 0; i < p->vdev->num_queues; i++) {
        p->q[i].size = p->vdev->queues[i].max_size;
        p->q[i].vector = VIRTIO_MSI_NO_VECTOR;
    }
}

/* ---- configuration space ------------------------------------------------ */

/* The VIRTIO_PCI_CAP_PCI_CFG window: an access to BAR @bar at offset
 * @off of @len bytes through pci_cfg_data. */
static void pcicfg_window(struct vpci *p, bool write)
{
    uint32_t len = get32(&p->cfg[CAP_PCICFG + 12]);
    uint32_t off = get32(&p->cfg[CAP_PCICFG + 8]);

    if (p->cfg[CAP_PCICFG + 4] != VPCI_BAR || (len != 1 && len != 2 &&
                                              len != 4))
        return;
    vpci_bar_access(p, off, &p->cfg[PCICFG_DATA], len, write);
}

int vpci_cfg_access(struct vpci *p, uint64_t off, void *buf, uint32_t len,
                    bool write)
{
    uint8_t *b = buf;
    bool window = off < PCICFG_DATA + 4 && off + len > PCICFG_DATA;
    uint32_t i;

    if (off > VPCI_CFG_SIZE || len > VPCI_CFG_SIZE - off)
        return -EINVAL;
    if (!write) {
        if (window)
            pcicfg_window(p, false);
        memcpy(b, &p->cfg[off], len);
        return 0;
    }
    for (i = 0; i < len; i++) {
        uint8_t m = p->wmask[off + i];

        p->cfg[off + i] = (uint8_t)((p->cfg[off + i] & ~m) | (b[i] & m));
    }
    if (window)
        pcicfg_window(p, true);
    return 0;
}

bool vpci_msix_enabled(const struct vpci *p)
{
    return p->cfg[CAP_MSIX + PCI_MSIX_FLAGS + 1] & (PCI_MSIX_FLAGS_ENABLE >> 8);
}

bool vpci_intx_disabled(const struct vpci *p)
{
    return p->cfg[PCI_COMMAND + 1] & (PCI_COMMAND_INTX_DISABLE >> 8);
}

/* ---- common configuration ----------------------------------------------- */

static struct vpci_queue *sel_queue(struct vpci *p, struct virtq **vq)
{
    *vq = virtio_dev_queue(p->vdev, p->queue_select);
    return *vq ? &p->q[p->queue_select] : NULL;
}

static void common_read(struct vpci *p, struct virtio_pci_common_cfg *c)
{
    struct virtio_dev *vd = p->vdev;
    struct virtq *vq;
    struct vpci_queue *q = sel_queue(p, &vq);

    memset(c, 0, sizeof(*c));
    c->device_feature_select = htole32(vd->device_feature_select);
    c->device_feature = htole32(virtio_dev_read_device_features(vd));
    c->guest_feature_select = htole32(vd->driver_feature_select);
    c->guest_feature = htole32(virtio_dev_read_driver_features(vd));
    c->msix_config = htole16(p->msix_config);
    c->num_queues = htole16(vd->num_queues);
    c->device_status = virtio_dev_read_status(vd);
    c->config_generation = vd->config_generation;
    c->queue_select = htole16(p->queue_select);
    if (!q)
        return;
    c->queue_size = htole16(vq->enabled ? vq->size : q->size);
    c->queue_msix_vector = htole16(q->vector);
    c->queue_enable = htole16(vq->enabled);
    c->queue_notify_off = htole16(p->queue_select);
    c->queue_desc_lo = htole32((uint32_t)q->desc);
    c->queue_desc_hi = htole32((uint32_t)(q->desc >> 32));
    c->queue_avail_lo = htole32((uint32_t)q->driver);
    c->queue_avail_hi = htole32((uint32_t)(q->driver >> 32));
    c->queue_used_lo = htole32((uint32_t)q->device);
    c->queue_used_hi = htole32((uint32_t)(q->device >> 32));
}

static void set_half(uint64_t *a, bool hi, uint64_t v, uint32_t len)
{
    if (len == 8)
        *a = v;
    else if (hi)
        *a = (*a & 0xffffffffull) | (v << 32);
    else
        *a = (*a & ~0xffffffffull) | (uint32_t)v;
}

static void queue_addr(struct vpci_queue *q, uint32_t off, uint64_t v,
                       uint32_t len)
{
    uint32_t base = off & ~7u;
    bool hi = off & 4;

    if (base == VIRTIO_PCI_COMMON_Q_DESCLO)
        set_half(&q->desc, hi, v, len);
    else if (base == VIRTIO_PCI_COMMON_Q_AVAILLO)
        set_half(&q->driver, hi, v, len);
    else
        set_half(&q->device, hi, v, len);
}

static void queue_enable(struct vpci_queue *q, struct virtq *vq)
{
    if (vq->enabled || virtq_set_size(vq, q->size) ||
        virtq_set_addrs(vq, q->desc, q->driver, q->device))
        return;
    virtq_enable(vq); /* refused: queue_enable reads back 0 */
}

static uint16_t vector_ok(const struct vpci *p, uint64_t v)
{
    return v < p->nvec ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

static void common_write(struct vpci *p, uint32_t off, uint64_t v,
                         uint32_t len)
{
    struct virtio_dev *vd = p->vdev;
    struct virtq *vq;
    struct vpci_queue *q = sel_queue(p, &vq);
    bool idle = q && !vq->enabled;

    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        virtio_dev_select_device_features(vd, (uint32_t)v);
        break;
    case VIRTIO_PCI_COMMON_GFSELECT:
        virtio_dev_select_driver_features(vd, (uint32_t)v);
        break;
    case VIRTIO_PCI_COMMON_GF:
        virtio_dev_write_driver_features(vd, (uint32_t)v);
        break;
    case VIRTIO_PCI_COMMON_MSIX:
        p->msix_config = vector_ok(p, v);
        break;
    case VIRTIO_PCI_COMMON_STATUS:
        virtio_dev_write_status(vd, (uint8_t)v);
        if (!v)
            vpci_reset(p);
        break;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        p->queue_select = (uint16_t)v;
        break;
    case VIRTIO_PCI_COMMON_Q_SIZE:
        if (idle)
            q->size = (uint16_t)v;
        break;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        if (q)
            q->vector = vector_ok(p, v);
        break;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        if (idle && v == 1)
            queue_enable(q, vq);
        break;
    default:
        if (idle && off >= VIRTIO_PCI_COMMON_Q_DESCLO &&
            off < VIRTIO_PCI_COMMON_Q_NDATA)
            queue_addr(q, off, v, len);
        break;
    }
}

/* Field widths of the common structure, by offset (0: not a field start).
 * A write must hit a whole field, or a 32-bit half of a 64-bit one. */
static uint32_t common_width(uint32_t off)
{
    static const uint8_t w[VIRTIO_PCI_COMMON_Q_NDATA] = {
        [0] = 4, [4] = 4, [8] = 4, [12] = 4, [16] = 2, [18] = 2,
        [20] = 1, [21] = 1, [22] = 2, [24] = 2, [26] = 2, [28] = 2,
        [30] = 2, [32] = 8, [40] = 8, [48] = 8,
    };

    return off < VIRTIO_PCI_COMMON_Q_NDATA ? w[off] : 0;
}

static int common_access(struct vpci *p, uint32_t off, uint8_t *b,
                         uint32_t len, bool write)
{
    struct virtio_pci_common_cfg c;
    uint64_t v = 0;
    uint32_t w;

    if (!write) {
        common_read(p, &c);
        memset(b, 0, len);
        if (off < sizeof(c))
            memcpy(b, (uint8_t *)&c + off,
                   len < sizeof(c) - off ? len : sizeof(c) - off);
        return 0;
    }
    w = common_width(off & ~7u) == 8 ? 8 : common_width(off);
    if (!w || (len != w && !(w == 8 && len == 4)))
        return 0; /* not a register write the spec allows: ignored */
    memcpy(&v, b, len);
    common_write(p, off, le64toh(v), len);
    return 0;
}

/* ---- BARs ------------------------------------------------------------------ */

int vpci_bar_access(struct vpci *p, uint64_t off, void *buf, uint32_t len,
                    bool write)
{
    uint8_t *b = buf;
    uint64_t end = VPCI_NOTIFY_OFF +
                   (uint64_t)VPCI_NOTIFY_MULT * p->vdev->num_queues;

    if (off >= VPCI_BAR_SIZE || len > VPCI_BAR_SIZE - off)
        return -EINVAL;
    if (off < VPCI_ISR_OFF)
        return common_access(p, (uint32_t)off, b, len, write);
    if (off < VPCI_DEVICE_OFF) {
        if (!write) {
            memset(b, 0, len);
            b[0] = off == VPCI_ISR_OFF ? p->isr : 0;
            if (off == VPCI_ISR_OFF)
                p->isr = 0;
        }
        return 0;
    }
    if (off < VPCI_NOTIFY_OFF) {
        off -= VPCI_DEVICE_OFF;
        if (write) /* a refused write (read-only field) is ignored */
            virtio_dev_config_write(p->vdev, (uint32_t)off, b, len);
        else if (virtio_dev_config_read(p->vdev, (uint32_t)off, b, len))
            memset(b, 0, len);
        return 0;
    }
    if (!write)
        memset(b, 0, len);
    else if (off < end && p->ops->doorbell)
        p->ops->doorbell(p->opaque,
                         (uint16_t)((off - VPCI_NOTIFY_OFF) /
                                    VPCI_NOTIFY_MULT));
    return 0;
}

int vpci_msix_access(struct vpci *p, uint64_t off, void *buf, uint32_t len,
                     bool write)
{
    if (off >= VPCI_MSIX_BAR_SIZE || len > VPCI_MSIX_BAR_SIZE - off)
        return -EINVAL;
    if (off >= VPCI_MSIX_PBA_OFF && !write)
        memset(buf, 0, len); /* pending bits live in the client */
    else if (off < VPCI_MSIX_PBA_OFF && write)
        memcpy(&p->msix[off], buf, len);
    else if (!write)
        memcpy(buf, &p->msix[off], len);
    return 0;
}

uint16_t vpci_queue_vector(const struct vpci *p, uint16_t qidx)
{
    return qidx < p->vdev->num_queues ? p->q[qidx].vector
                                      : VIRTIO_MSI_NO_VECTOR;
}

uint16_t vpci_config_vector(const struct vpci *p)
{
    return p->msix_config;
}

void vpci_set_isr(struct vpci *p, uint8_t bits)
{
    p->isr |= bits;
}

/* ---- state ------------------------------------------------------------------ */

int vpci_save(const struct vpci *p, void *fdt, int node)
{
    int r;

    r = state_put_bytes(fdt, node, "pci-config", p->cfg, sizeof(p->cfg));
    if (!r)
        r = state_put_bytes(fdt, node, "msix", p->msix, sizeof(p->msix));
    if (!r)
        r = state_put_bytes(fdt, node, "queues", p->q, sizeof(p->q));
    if (!r)
        r = state_put_u32(fdt, node, "queue-select", p->queue_select);
    if (!r)
        r = state_put_u32(fdt, node, "msix-config", p->msix_config);
    if (!r)
        r = state_put_u32(fdt, node, "isr", p->isr);
    return r;
}

int vpci_load(struct vpci *p, const void *fdt, int node)
{
    struct vpci_queue q[VIRTIO_DEV_MAX_QUEUES];
    uint8_t cfg[VPCI_CFG_SIZE];
    uint32_t sel, msix, isr, i;
    int r;

    r = state_get_bytes(fdt, node, "pci-config", cfg, sizeof(cfg));
    if (!r)
        r = state_get_bytes(fdt, node, "queues", q, sizeof(q));
    if (!r)
        r = state_get_u32(fdt, node, "queue-select", &sel);
    if (!r)
        r = state_get_u32(fdt, node, "msix-config", &msix);
    if (!r)
        r = state_get_u32(fdt, node, "isr", &isr);
    if (r)
        return r;
    if (memcmp(cfg, p->cfg, 4) || memcmp(cfg + 8, p->cfg + 8, 4) || sel > 0xffff ||
        (msix >= p->nvec && msix != VIRTIO_MSI_NO_VECTOR) || isr > 3)
        return -EINVAL; /* another device's state */
    r = state_get_bytes(fdt, node, "msix", p->msix, sizeof(p->msix));
    if (r)
        return r;
    for (i = 0; i < VIRTIO_DEV_MAX_QUEUES; i++)
        q[i].vector = vector_ok(p, q[i].vector);
    memcpy(p->cfg, cfg, sizeof(cfg));
    memcpy(p->q, q, sizeof(q));
    p->queue_select = (uint16_t)sel;
    p->msix_config = (uint16_t)msix;
    p->isr = (uint8_t)isr;
    return 0;
}
