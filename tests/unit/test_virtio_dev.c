/* SPDX-License-Identifier: BSD-3-Clause */
/* Generic virtio device core (virtio/device.c) with a fake device model:
 * status rules (spec 3.1.1), feature words and FEATURES_OK, reset,
 * DEVICE_NEEDS_RESET, doorbell gating, save/load validation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <libfdt.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "virtio/device.h"
#include "virtio/guest_mem.h"
#include "virtio/vring_driver.h"

#define MEM_GPA 0x10000ULL

struct fake {
    uint8_t ram[64 * 1024];
    struct virtio_flat_mem fm;
    struct virtio_mem mem;
    struct virtq q[2];
    struct vring_drv drv[2];
    struct virtio_dev vdev;
    unsigned int resets, notifies, config_irqs;
    int refuse;                 /* features_ok result */
};

static int fake_features_ok(struct virtio_dev *vdev, uint64_t features)
{
    (void)features;
    return ((struct fake *)vdev->priv)->refuse;
}

static void fake_reset(struct virtio_dev *vdev)
{
    ((struct fake *)vdev->priv)->resets++;
}

static int fake_config_read(struct virtio_dev *vdev, uint32_t off,
                            void *buf, uint32_t len)
{
    (void)vdev;
    if (off + len > 4)
        return -EINVAL;
    memset(buf, 0x42, len);
    return 0;
}

static int fake_queue_notify(struct virtio_dev *vdev, uint16_t qidx)
{
    (void)qidx;
    ((struct fake *)vdev->priv)->notifies++;
    return 0;
}

static int fake_irq_queue(void *opaque, uint16_t qidx)
{
    (void)opaque;
    (void)qidx;
    return 0;
}

static int fake_irq_config(void *opaque)
{
    ((struct fake *)opaque)->config_irqs++;
    return 0;
}

static const struct virtio_dev_ops fake_ops = {
    .features_ok = fake_features_ok,
    .reset = fake_reset,
    .config_read = fake_config_read,
    .queue_notify = fake_queue_notify,
};

static const struct virtio_irq_ops fake_irq_ops = {
    .notify_queue = fake_irq_queue,
    .notify_config = fake_irq_config,
};

#define FEATURES ((1ULL << 3) | (1ULL << VIRTIO_RING_F_EVENT_IDX))

static struct fake *new_fake(void)
{
    static struct fake f;
    struct virtio_irq irq = { &fake_irq_ops, &f };
    unsigned int i;

    memset(&f, 0, sizeof(f));
    virtio_flat_mem_init(&f.fm, f.ram, MEM_GPA, sizeof(f.ram), true, &f.mem);
    for (i = 0; i < 2; i++) {
        assert_int_equal(virtq_init(&f.q[i], &f.mem, 16), 0);
        assert_int_equal(vring_drv_init(&f.drv[i], &f.mem, 16,
                                        MEM_GPA + i * 0x4000, NULL), 0);
    }
    assert_int_equal(virtio_dev_init(&f.vdev, 42, FEATURES, f.q, 2,
                                     &fake_ops, &f, &irq), 0);
    return &f;
}

static const uint8_t AD = VIRTIO_DEV_S_ACKNOWLEDGE | VIRTIO_DEV_S_DRIVER;

static void test_feature_words(void **state)
{
    struct fake *f = new_fake();
    struct virtio_dev *v = &f->vdev;

    (void)state;
    virtio_dev_select_device_features(v, 0);
    assert_int_equal(virtio_dev_read_device_features(v), (uint32_t)FEATURES);
    virtio_dev_select_device_features(v, 1);
    assert_int_equal(virtio_dev_read_device_features(v),
                     1u << (VIRTIO_F_VERSION_1 - 32));
    virtio_dev_select_device_features(v, 7);
    assert_int_equal(virtio_dev_read_device_features(v), 0);
    virtio_dev_select_driver_features(v, 1);
    assert_int_equal(virtio_dev_write_driver_features(v, 1), 0);
    assert_int_equal(virtio_dev_read_driver_features(v), 1);
    virtio_dev_select_driver_features(v, 2);
    assert_int_equal(virtio_dev_write_driver_features(v, 1), -EINVAL);
    assert_true(virtio_dev_has_feature(v, VIRTIO_F_VERSION_1));
    assert_false(virtio_dev_has_feature(v, 64));
}

static void test_status_order(void **state)
{
    struct fake *f = new_fake();
    struct virtio_dev *v = &f->vdev;

    (void)state;
    assert_int_equal(virtio_dev_write_status(v, VIRTIO_DEV_S_DRIVER),
                     -EINVAL);                      /* needs ACK first */
    assert_int_equal(virtio_dev_write_status(v, AD |
                     VIRTIO_DEV_S_DRIVER_OK), -EINVAL);
    assert_int_equal(virtio_dev_read_status(v), AD);
    assert_int_equal(virtio_dev_write_status(v, 0x10 | AD), -EINVAL);
    /* no VERSION_1: FEATURES_OK stays clear */
    assert_int_equal(virtio_dev_write_status(v, AD |
                     VIRTIO_DEV_S_FEATURES_OK), -EINVAL);
    assert_int_equal(virtio_dev_read_status(v), AD);
    virtio_dev_select_driver_features(v, 1);
    assert_int_equal(virtio_dev_write_driver_features(v, 1 | 2), 0);
    assert_int_equal(virtio_dev_write_status(v, AD |
                     VIRTIO_DEV_S_FEATURES_OK), -EINVAL);  /* not offered */
    assert_int_equal(virtio_dev_write_driver_features(v, 1), 0);
    f->refuse = -ENOTSUP;
    assert_int_equal(virtio_dev_write_status(v, AD |
                     VIRTIO_DEV_S_FEATURES_OK), -EINVAL);  /* model says no */
    f->refuse = 0;
    /* all bits in one write, in spec order */
    assert_int_equal(virtio_dev_write_status(v, AD |
                     VIRTIO_DEV_S_FEATURES_OK | VIRTIO_DEV_S_DRIVER_OK), 0);
    assert_true(virtio_dev_driver_ok(v));
    virtio_dev_select_driver_features(v, 0);
    assert_int_equal(virtio_dev_write_driver_features(v, 8), -EBUSY);
    assert_int_equal(virtio_dev_write_status(v, 0), 0);
    assert_int_equal(f->resets, 1);
    assert_int_equal(virtio_dev_read_status(v), 0);
    assert_int_equal(v->driver_features, 0);
}

static void test_needs_reset_and_doorbells(void **state)
{
    struct fake *f = new_fake();
    struct virtio_dev *v = &f->vdev;
    uint8_t b[4];

    (void)state;
    assert_int_equal(virtio_dev_queue_notify(v, 0), 0);
    assert_int_equal(f->notifies, 0);               /* before DRIVER_OK */
    assert_int_equal(vring_drv_setup_device(v, f->drv), 0);
    assert_true(f->q[1].enabled && f->q[1].event_idx);
    assert_int_equal(virtio_dev_queue_notify(v, 1), 0);
    assert_int_equal(f->notifies, 1);
    assert_int_equal(virtio_dev_queue_notify(v, 2), -EINVAL);
    assert_int_equal(virtio_dev_config_read(v, 0, b, 4), 0);
    assert_int_equal(virtio_dev_config_write(v, 0, b, 4), 0);
    virtio_dev_config_changed(v);
    assert_int_equal(v->config_generation, 1);
    assert_int_equal(f->config_irqs, 1);
    virtio_dev_set_needs_reset(v, "test %d", 1);
    virtio_dev_set_needs_reset(v, "test %d", 2);    /* once */
    assert_int_equal(f->config_irqs, 2);
    assert_int_equal(virtio_dev_queue_notify(v, 1), 0);
    assert_int_equal(f->notifies, 1);               /* ignored now */
    virtio_dev_reset(v);
    assert_false(f->q[1].enabled);
}

static void test_save_load(void **state)
{
    static char fdt[8192];
    struct fake *f = new_fake();
    struct virtio_dev *v = &f->vdev, saved;
    int node, q;

    (void)state;
    assert_int_equal(vring_drv_setup_device(v, f->drv), 0);
    f->q[1].last_avail_idx = 7;
    assert_int_equal(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
    node = fdt_add_subnode(fdt, 0, "dev");
    assert_int_equal(virtio_dev_save(v, fdt, node), 0);
    saved = *v;
    virtio_dev_reset(v);
    assert_int_equal(virtio_dev_load(v, fdt, node), 0);
    assert_int_equal(v->status, saved.status);
    assert_int_equal(v->driver_features, saved.driver_features);
    assert_int_equal(f->q[1].last_avail_idx, 7);
    assert_true(f->q[1].enabled && f->q[1].event_idx);
    /* corrupt trees: refused, device untouched */
    virtio_dev_reset(v);
    assert_int_equal(fdt_setprop_u32(fdt, node, "device-id", 1), 0);
    assert_int_equal(virtio_dev_load(v, fdt, node), -EINVAL);
    assert_int_equal(fdt_setprop_u32(fdt, node, "device-id", 42), 0);
    assert_int_equal(fdt_setprop_u32(fdt, node, "status", 0x1ff), 0);
    assert_int_equal(virtio_dev_load(v, fdt, node), -EINVAL);
    assert_int_equal(fdt_setprop_u32(fdt, node, "status", saved.status), 0);
    q = fdt_subnode_offset(fdt, node, "queue@1");
    assert_int_equal(fdt_setprop_u32(fdt, q, "size", 32), 0);  /* > max */
    assert_int_equal(virtio_dev_load(v, fdt, node), -EINVAL);
    assert_int_equal(fdt_del_node(fdt, q), 0);
    assert_int_equal(virtio_dev_load(v, fdt, node), -ENOENT);
    assert_int_equal(v->status, 0);
    assert_false(f->q[0].enabled);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feature_words),
        cmocka_unit_test(test_status_order),
        cmocka_unit_test(test_needs_reset_and_doorbells),
        cmocka_unit_test(test_save_load),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
