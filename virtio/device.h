/* SPDX-License-Identifier: BSD-3-Clause */
/* Generic virtio device core: device status, feature negotiation, config
 * generation, reset and queue array (virtio 1.x sections 2.1 "Device
 * Status Field", 2.2 "Feature Bits", 3.1 "Device Initialization").
 *
 * Shared by the in-VMM virtio-pci transport and the vfio-user server
 * (vfu-blk): a transport maps its registers onto these calls; a device
 * model (virtio/blk.c) embeds struct virtio_dev and fills a const
 * struct virtio_dev_ops. Modern (VIRTIO_F_VERSION_1) devices only.
 *
 * Not thread-safe: the transport serialises all calls for one device.
 */
#ifndef MINIVMM_VIRTIO_DEVICE_H
#define MINIVMM_VIRTIO_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/queue.h"

#define VIRTIO_DEV_MAX_QUEUES 64u

/* Status bits (<linux/virtio_config.h> has them as VIRTIO_CONFIG_S_*). */
#define VIRTIO_DEV_S_ACKNOWLEDGE   0x01u
#define VIRTIO_DEV_S_DRIVER        0x02u
#define VIRTIO_DEV_S_DRIVER_OK     0x04u
#define VIRTIO_DEV_S_FEATURES_OK   0x08u
#define VIRTIO_DEV_S_NEEDS_RESET   0x40u
#define VIRTIO_DEV_S_FAILED        0x80u

struct virtio_dev;

/* How a device raises interrupts; later an irqfd / MSI-X vector, or a
 * vfio-user IRQ eventfd. Both 0 or -errno. */
struct virtio_irq_ops {
    int (*notify_queue)(void *opaque, uint16_t qidx);  /* used buffers */
    int (*notify_config)(void *opaque);                /* config change */
};

struct virtio_irq {
    const struct virtio_irq_ops *ops;
    void *opaque;
};

struct virtio_dev_ops {
    /* FEATURES_OK is being set with @features (already checked to be a
     * subset of the offered ones with VERSION_1): 0 to accept, -errno to
     * refuse (FEATURES_OK then stays clear). Optional. */
    int (*features_ok)(struct virtio_dev *vdev, uint64_t features);
    /* Reset the device model: quiesce I/O, forget requests. device.c
     * resets status, features and queues afterwards. */
    void (*reset)(struct virtio_dev *vdev);
    /* Device-specific configuration (spec 4.1.4.6): @len bytes at byte
     * offset @off. 0 or -errno (-EINVAL out of range). */
    int (*config_read)(struct virtio_dev *vdev, uint32_t off, void *buf,
                       uint32_t len);
    int (*config_write)(struct virtio_dev *vdev, uint32_t off,
                        const void *buf, uint32_t len);
    /* The driver notified queue @qidx. 0 or -errno. */
    int (*queue_notify)(struct virtio_dev *vdev, uint16_t qidx);
};

/* Owned by device.c; public because device models embed it. */
struct virtio_dev {
    const struct virtio_dev_ops *ops;
    void *priv;                     /* the device model */
    uint32_t device_id;             /* VIRTIO_ID_* */
    uint64_t device_features;       /* offered */
    uint64_t driver_features;       /* accepted by the driver */
    uint32_t device_feature_select;
    uint32_t driver_feature_select;
    uint8_t status;
    uint8_t config_generation;
    uint16_t num_queues;
    struct virtq *queues;           /* [num_queues], owned by the model */
    struct virtio_irq irq;
};

/* Set up @vdev in the reset state. VIRTIO_F_VERSION_1 is added to
 * @features. @queues must already be virtq_init()ed. 0 or -EINVAL. */
int virtio_dev_init(struct virtio_dev *vdev, uint32_t device_id,
                    uint64_t features, struct virtq *queues,
                    uint16_t num_queues, const struct virtio_dev_ops *ops,
                    void *priv, const struct virtio_irq *irq);

/* Feature words (32 bits each, selected by *_feature_select). Driver
 * feature writes after FEATURES_OK are refused with -EBUSY. */
void virtio_dev_select_device_features(struct virtio_dev *vdev,
                                       uint32_t sel);
uint32_t virtio_dev_read_device_features(const struct virtio_dev *vdev);
void virtio_dev_select_driver_features(struct virtio_dev *vdev,
                                       uint32_t sel);
uint32_t virtio_dev_read_driver_features(const struct virtio_dev *vdev);
int virtio_dev_write_driver_features(struct virtio_dev *vdev, uint32_t v);
bool virtio_dev_has_feature(const struct virtio_dev *vdev,
                            unsigned int bit);

/* Driver writes the status register. 0 resets the device. Bits can only
 * be added, in spec order (table in device.c); FEATURES_OK is latched only
 * for an acceptable feature set (the driver re-reads it, spec 3.1.1).
 * Returns 0, or -EINVAL when the write was refused (status unchanged
 * apart from accepted bits). */
int virtio_dev_write_status(struct virtio_dev *vdev, uint8_t status);
uint8_t virtio_dev_read_status(const struct virtio_dev *vdev);
void virtio_dev_reset(struct virtio_dev *vdev);
/* Device-detected error (broken queue): set DEVICE_NEEDS_RESET and raise
 * a config interrupt if the driver is running (spec 2.1.2). The reason
 * (printf @fmt) goes to stderr as one line, "virtio-<type>: device needs
 * reset: <reason>", when the bit gets set (not again while it stays). */
void virtio_dev_set_needs_reset(struct virtio_dev *vdev, const char *fmt,
                                ...) __attribute__((format(printf, 2, 3)));
/* virtio_dev_set_needs_reset() for broken queue @q of @vdev, with the
 * cause the queue recorded (virtq.broken_why / broken_err). */
void virtio_dev_queue_failed(struct virtio_dev *vdev, const struct virtq *q);
bool virtio_dev_driver_ok(const struct virtio_dev *vdev);

/* Queue @qidx, or NULL if out of range. */
struct virtq *virtio_dev_queue(struct virtio_dev *vdev, uint16_t qidx);
/* Doorbell for queue @qidx; ignored (0) unless DRIVER_OK. -EINVAL for a
 * bad index. */
int virtio_dev_queue_notify(struct virtio_dev *vdev, uint16_t qidx);
int virtio_dev_config_read(struct virtio_dev *vdev, uint32_t off,
                           void *buf, uint32_t len);
int virtio_dev_config_write(struct virtio_dev *vdev, uint32_t off,
                            const void *buf, uint32_t len);
/* Config changed under the driver: bump generation, notify. */
void virtio_dev_config_changed(struct virtio_dev *vdev);

/* Raise the queue interrupt if virtq_need_notify() says so. */
int virtio_dev_notify_queue(struct virtio_dev *vdev, uint16_t qidx);

/* Status, features, selects, generation, and one subnode "queue@N" per
 * queue (virtq_save()). Load validates everything and leaves @vdev
 * untouched on error. 0 or -errno. */
int virtio_dev_save(const struct virtio_dev *vdev, void *fdt, int node);
int virtio_dev_load(struct virtio_dev *vdev, const void *fdt, int node);

#endif
