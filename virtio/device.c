/* SPDX-License-Identifier: BSD-3-Clause */
/* Generic virtio device core (see device.h; spec 2.1, 2.2, 3.1). */
#include "virtio/device.h"

#include <errno.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/virtio_config.h>

#include "vmm/state.h"
#include "vmm/log.h"

/* Driver-settable status bits in spec order (3.1.1), each with the bits
 * that must already be set. NEEDS_RESET is device-owned. */
struct status_rule {
    uint8_t bit;
    uint8_t requires;
};

static const struct status_rule status_rules[] = {
    { VIRTIO_DEV_S_ACKNOWLEDGE, 0 },
    { VIRTIO_DEV_S_DRIVER, VIRTIO_DEV_S_ACKNOWLEDGE },
    { VIRTIO_DEV_S_FEATURES_OK,
      VIRTIO_DEV_S_ACKNOWLEDGE | VIRTIO_DEV_S_DRIVER },
    { VIRTIO_DEV_S_DRIVER_OK, VIRTIO_DEV_S_ACKNOWLEDGE | VIRTIO_DEV_S_DRIVER |
                              VIRTIO_DEV_S_FEATURES_OK },
    { VIRTIO_DEV_S_FAILED, 0 },
};

#define STATUS_DRIVER_BITS (VIRTIO_DEV_S_ACKNOWLEDGE | VIRTIO_DEV_S_DRIVER | \
                            VIRTIO_DEV_S_FEATURES_OK | \
                            VIRTIO_DEV_S_DRIVER_OK | VIRTIO_DEV_S_FAILED)

int virtio_dev_init(struct virtio_dev *vdev, uint32_t device_id,
                    uint64_t features, struct virtq *queues,
                    uint16_t num_queues, const struct virtio_dev_ops *ops,
                    void *priv, const struct virtio_irq *irq)
{
    if (!num_queues || num_queues > VIRTIO_DEV_MAX_QUEUES || !ops ||
        !ops->reset || !ops->config_read || !ops->queue_notify || !irq)
        return -EINVAL;
    memset(vdev, 0, sizeof(*vdev));
    vdev->ops = ops;
    vdev->priv = priv;
    vdev->device_id = device_id;
    vdev->device_features = features | (1ULL << VIRTIO_F_VERSION_1);
    vdev->queues = queues;
    vdev->num_queues = num_queues;
    vdev->irq = *irq;
    return 0;
}

void virtio_dev_select_device_features(struct virtio_dev *vdev,
                                       uint32_t sel)
{
    vdev->device_feature_select = sel;
}

/* Word @sel (0: bits 0-31, 1: bits 32-63) of a feature set; 0 beyond. */
static uint32_t feature_word(uint64_t features, uint32_t sel)
{
    return sel > 1 ? 0 : (uint32_t)(features >> (32 * sel));
}

uint32_t virtio_dev_read_device_features(const struct virtio_dev *vdev)
{
    return feature_word(vdev->device_features, vdev->device_feature_select);
}

void virtio_dev_select_driver_features(struct virtio_dev *vdev,
                                       uint32_t sel)
{
    vdev->driver_feature_select = sel;
}

uint32_t virtio_dev_read_driver_features(const struct virtio_dev *vdev)
{
    return feature_word(vdev->driver_features, vdev->driver_feature_select);
}

int virtio_dev_write_driver_features(struct virtio_dev *vdev, uint32_t v)
{
    unsigned int shift;

    if (vdev->status & VIRTIO_DEV_S_FEATURES_OK)
        return -EBUSY;      /* spec 2.2.2: no changes after FEATURES_OK */
    if (vdev->driver_feature_select > 1)
        return v ? -EINVAL : 0;
    shift = 32 * vdev->driver_feature_select;
    vdev->driver_features &= ~(0xffffffffULL << shift);
    vdev->driver_features |= (uint64_t)v << shift;
    return 0;
}

bool virtio_dev_has_feature(const struct virtio_dev *vdev, unsigned int bit)
{
    return bit < 64 && (vdev->driver_features & (1ULL << bit));
}

static int check_features(struct virtio_dev *vdev)
{
    uint64_t f = vdev->driver_features;
    unsigned int i;
    int r;

    if (f & ~vdev->device_features)
        return -EINVAL;
    if (!(f & (1ULL << VIRTIO_F_VERSION_1)))
        return -EINVAL;     /* no legacy interface */
    if (vdev->ops->features_ok) {
        r = vdev->ops->features_ok(vdev, f);
        if (r < 0)
            return r;
    }
    for (i = 0; i < vdev->num_queues; i++)
        virtq_set_features(&vdev->queues[i], f);
    return 0;
}

int virtio_dev_write_status(struct virtio_dev *vdev, uint8_t status)
{
    const struct status_rule *rule;
    uint8_t add;
    size_t i;

    if (status == 0) {
        virtio_dev_reset(vdev);
        return 0;
    }
    add = status & ~vdev->status & ~VIRTIO_DEV_S_NEEDS_RESET;
    if (add & ~STATUS_DRIVER_BITS)
        return -EINVAL;
    for (i = 0; i < sizeof(status_rules) / sizeof(status_rules[0]); i++) {
        rule = &status_rules[i];
        if (!(add & rule->bit))
            continue;
        if ((vdev->status & rule->requires) != rule->requires)
            return -EINVAL;
        if (rule->bit == VIRTIO_DEV_S_FEATURES_OK &&
            check_features(vdev) < 0)
            return -EINVAL;
        vdev->status |= rule->bit;
    }
    return 0;
}

uint8_t virtio_dev_read_status(const struct virtio_dev *vdev)
{
    return vdev->status;
}

bool virtio_dev_driver_ok(const struct virtio_dev *vdev)
{
    return vdev->status & VIRTIO_DEV_S_DRIVER_OK;
}

void virtio_dev_reset(struct virtio_dev *vdev)
{
    unsigned int i;

    vdev->ops->reset(vdev);
    for (i = 0; i < vdev->num_queues; i++)
        virtq_reset(&vdev->queues[i]);
    vdev->status = 0;
    vdev->driver_features = 0;
    vdev->device_feature_select = 0;
    vdev->driver_feature_select = 0;
}

static const char *type_name(uint32_t id)
{
    switch (id) {
    case 1: return "net";
    case 2: return "blk";
    case 3: return "console";
    case 4: return "rng";
    default: return "device";
    }
}

void virtio_dev_set_needs_reset(struct virtio_dev *vdev, const char *fmt,
                                ...)
{
    char why[200];
    va_list ap;

    if (vdev->status & VIRTIO_DEV_S_NEEDS_RESET)
        return;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    log_warn("virtio-%s: device needs reset: %s\n",
             type_name(vdev->device_id), why);
    vdev->status |= VIRTIO_DEV_S_NEEDS_RESET;
    if (virtio_dev_driver_ok(vdev))
        vdev->irq.ops->notify_config(vdev->irq.opaque);
}

void virtio_dev_queue_failed(struct virtio_dev *vdev, const struct virtq *q)
{
    long idx = vdev->queues && q >= vdev->queues &&
                       q < vdev->queues + vdev->num_queues
                   ? q - vdev->queues : -1;

    virtio_dev_set_needs_reset(vdev, "queue %ld: %s (%s)", idx,
                               q->broken_why ? q->broken_why
                                             : "a ring access failed",
                               strerror(q->broken_err < 0 ? -q->broken_err
                                                          : EIO));
}

struct virtq *virtio_dev_queue(struct virtio_dev *vdev, uint16_t qidx)
{
    return qidx < vdev->num_queues ? &vdev->queues[qidx] : NULL;
}

int virtio_dev_queue_notify(struct virtio_dev *vdev, uint16_t qidx)
{
    if (qidx >= vdev->num_queues)
        return -EINVAL;
    if (!virtio_dev_driver_ok(vdev) ||
        (vdev->status & VIRTIO_DEV_S_NEEDS_RESET))
        return 0;
    return vdev->ops->queue_notify(vdev, qidx);
}

int virtio_dev_config_read(struct virtio_dev *vdev, uint32_t off,
                           void *buf, uint32_t len)
{
    return vdev->ops->config_read(vdev, off, buf, len);
}

int virtio_dev_config_write(struct virtio_dev *vdev, uint32_t off,
                            const void *buf, uint32_t len)
{
    if (!vdev->ops->config_write)
        return 0;           /* read-only config: writes are ignored */
    return vdev->ops->config_write(vdev, off, buf, len);
}

void virtio_dev_config_changed(struct virtio_dev *vdev)
{
    vdev->config_generation++;
    if (virtio_dev_driver_ok(vdev))
        vdev->irq.ops->notify_config(vdev->irq.opaque);
}

int virtio_dev_notify_queue(struct virtio_dev *vdev, uint16_t qidx)
{
    struct virtq *q = virtio_dev_queue(vdev, qidx);

    if (!q)
        return -EINVAL;
    if (!virtq_need_notify(q))
        return 0;
    return vdev->irq.ops->notify_queue(vdev->irq.opaque, qidx);
}

/* --- state ------------------------------------------------------------ */

int virtio_dev_save(const struct virtio_dev *vdev, void *fdt, int node)
{
    char name[16];
    unsigned int i;
    int r, sub;

    r = state_put_u32(fdt, node, "device-id", vdev->device_id);
    if (!r)
        r = state_put_u32(fdt, node, "status", vdev->status);
    if (!r)
        r = state_put_u64(fdt, node, "device-features",
                          vdev->device_features);
    if (!r)
        r = state_put_u64(fdt, node, "driver-features",
                          vdev->driver_features);
    if (!r)
        r = state_put_u32(fdt, node, "config-generation",
                          vdev->config_generation);
    if (!r)
        r = state_put_u32(fdt, node, "num-queues", vdev->num_queues);
    for (i = 0; !r && i < vdev->num_queues; i++) {
        snprintf(name, sizeof(name), "queue@%u", i);
        sub = fdt_subnode_offset(fdt, node, name);  /* re-save */
        if (sub == -FDT_ERR_NOTFOUND)
            sub = fdt_add_subnode(fdt, node, name);
        if (sub == -FDT_ERR_NOSPACE)
            return -ENOSPC;
        if (sub < 0)
            return -EINVAL;
        r = virtq_save(&vdev->queues[i], fdt, sub);
    }
    return r;
}

struct dev_state {
    uint32_t device_id, status, generation, num_queues;
    uint64_t device_features, driver_features;
};

static int read_dev_state(const void *fdt, int node, struct dev_state *s)
{
    int r;

    r = state_get_u32(fdt, node, "device-id", &s->device_id);
    if (!r)
        r = state_get_u32(fdt, node, "status", &s->status);
    if (!r)
        r = state_get_u64(fdt, node, "device-features",
                          &s->device_features);
    if (!r)
        r = state_get_u64(fdt, node, "driver-features",
                          &s->driver_features);
    if (!r)
        r = state_get_u32(fdt, node, "config-generation", &s->generation);
    if (!r)
        r = state_get_u32(fdt, node, "num-queues", &s->num_queues);
    return r;
}

static int check_dev_state(const struct virtio_dev *vdev,
                           const struct dev_state *s)
{
    if (s->device_id != vdev->device_id ||
        s->num_queues != vdev->num_queues ||
        s->device_features != vdev->device_features)
        return -EINVAL;     /* a different device or configuration */
    if (s->status > UINT8_MAX || s->generation > UINT8_MAX ||
        (s->driver_features & ~vdev->device_features))
        return -EINVAL;
    if ((s->status & VIRTIO_DEV_S_FEATURES_OK) &&
        !(s->driver_features & (1ULL << VIRTIO_F_VERSION_1)))
        return -EINVAL;
    return 0;
}

int virtio_dev_load(struct virtio_dev *vdev, const void *fdt, int node)
{
    struct virtq tmp[VIRTIO_DEV_MAX_QUEUES];
    struct dev_state s;
    char name[16];
    unsigned int i;
    int r, sub;

    r = read_dev_state(fdt, node, &s);
    if (!r)
        r = check_dev_state(vdev, &s);
    for (i = 0; !r && i < vdev->num_queues; i++) {
        snprintf(name, sizeof(name), "queue@%u", i);
        sub = fdt_subnode_offset(fdt, node, name);
        if (sub < 0)
            return -ENOENT;
        tmp[i] = vdev->queues[i];
        r = virtq_load(&tmp[i], fdt, sub);
        /* ring features follow the negotiated set, not the saved flags */
        if (s.status & VIRTIO_DEV_S_FEATURES_OK)
            virtq_set_features(&tmp[i], s.driver_features);
    }
    if (r < 0)
        return r;
    memcpy(vdev->queues, tmp, vdev->num_queues * sizeof(tmp[0]));
    vdev->status = (uint8_t)s.status;
    vdev->driver_features = s.driver_features;
    vdev->config_generation = (uint8_t)s.generation;
    return 0;
}
