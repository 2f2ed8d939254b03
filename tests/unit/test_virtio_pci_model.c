/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci capabilities BAR register model (virtio/pci_model.c) over a
 * fake two-queue device: common configuration semantics (spec 4.1.4.3)
 * (one access style, spec 4.1.3.1 / 4.1.4.3.2), queue setup and enable, ISR read-to-clear,
 * notify decoding, the device configuration window and reset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "virtio/device.h"
#include "virtio/guest_mem.h"
#include "virtio/pci_model.h"

#define MEM_GPA 0x10000ULL
#define QMAX    16
#define CFG_LEN 8u

struct fake {
    uint8_t ram[64 * 1024];
    struct virtio_flat_mem fm;
    struct virtio_mem mem;
    struct virtq q[2];
    struct virtio_dev vdev;
    struct vpm m;
    uint8_t cfg[CFG_LEN];
    unsigned int notifies[3], enables, isr_clears, cfg_writes;
    int enable_result;
};

static int fake_config_read(struct virtio_dev *vdev, uint32_t off,
                            void *buf, uint32_t len)
{
    struct fake *f = vdev->priv;

    if (off > CFG_LEN || len > CFG_LEN - off)
        return -EINVAL;
    memcpy(buf, f->cfg + off, len);
    return 0;
}

static int fake_config_write(struct virtio_dev *vdev, uint32_t off,
                             const void *buf, uint32_t len)
{
    struct fake *f = vdev->priv;

    if (off > CFG_LEN || len > CFG_LEN - off)
        return -EINVAL;
    memcpy(f->cfg + off, buf, len);
    f->cfg_writes++;
    return 0;
}

static void fake_reset(struct virtio_dev *vdev)
{
    (void)vdev;
}

static int fake_queue_notify(struct virtio_dev *vdev, uint16_t qidx)
{
    (void)vdev, (void)qidx;
    return 0;
}

static const struct virtio_dev_ops dev_ops = {
    .reset = fake_reset,
    .config_read = fake_config_read,
    .config_write = fake_config_write,
    .queue_notify = fake_queue_notify,
};

static int irq_queue(void *opaque, uint16_t qidx)
{
    (void)opaque, (void)qidx;
    return 0;
}

static int irq_config(void *opaque)
{
    (void)opaque;
    return 0;
}

static const struct virtio_irq_ops irq_ops = {
    .notify_queue = irq_queue,
    .notify_config = irq_config,
};

static void m_notify(void *opaque, uint16_t qidx)
{
    struct fake *f = opaque;

    f->notifies[qidx < 2 ? qidx : 2]++;
}

static void m_queue_enable(void *opaque, uint16_t qidx, int result)
{
    struct fake *f = opaque;

    (void)qidx;
    f->enables++;
    f->enable_result = result;
}

static void m_isr_cleared(void *opaque)
{
    ((struct fake *)opaque)->isr_clears++;
}

static const struct vpm_ops m_ops = {
    .notify = m_notify,
    .queue_enable = m_queue_enable,
    .isr_cleared = m_isr_cleared,
};

static struct fake *new_fake(bool attach)
{
    static struct fake f;
    struct virtio_irq irq = { &irq_ops, &f };
    struct vpm_params p = {
        .num_queues = 2, .nvec = 3, .config_size = CFG_LEN,
        .ops = &m_ops, .opaque = &f,
    };

    memset(&f, 0, sizeof(f));
    for (unsigned int i = 0; i < CFG_LEN; i++)
        f.cfg[i] = (uint8_t)(0x40 + i);
    virtio_flat_mem_init(&f.fm, f.ram, MEM_GPA, sizeof(f.ram), true, &f.mem);
    for (unsigned int i = 0; i < 2; i++)
        assert_int_equal(virtq_init(&f.q[i], &f.mem, QMAX), 0);
    assert_int_equal(virtio_dev_init(&f.vdev, 42, 1ULL << 3, f.q, 2,
                                     &dev_ops, &f, &irq), 0);
    assert_int_equal(vpm_init(&f.m, &p), 0);
    if (attach)
        assert_int_equal(vpm_attach(&f.m, &f.vdev), 0);
    return &f;
}

static uint64_t rd(struct fake *f, uint64_t off, uint32_t len)
{
    uint8_t b[8];
    uint64_t v = 0;

    memset(b, 0xAA, sizeof(b));
    assert_int_equal(vpm_read(&f->m, off, b, len), 0);
    for (uint32_t i = 0; i < len; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static void wr(struct fake *f, uint64_t off, uint32_t len, uint64_t v)
{
    uint8_t b[8];

    for (uint32_t i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    assert_int_equal(vpm_write(&f->m, off, b, len), 0);
}

static void test_init_and_reset_values(void **state)
{
    struct fake *f = new_fake(true);
    struct vpm_params bad = { .num_queues = 0, .ops = &m_ops };
    struct vpm m;

    (void)state;
    assert_int_equal(vpm_init(&m, &bad), -EINVAL);
    bad.num_queues = VIRTIO_DEV_MAX_QUEUES + 1;
    assert_int_equal(vpm_init(&m, &bad), -EINVAL);
    bad.num_queues = 1;
    bad.ops = NULL;
    assert_int_equal(vpm_init(&m, &bad), -EINVAL);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_MSIX, 2), VPM_NO_VECTOR);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_NUMQ, 2), 2);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), VPM_NO_VECTOR);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
    wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);
    /* A missing queue: size 0, no vector, the rest 0. */
    wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 2, 2);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), VPM_NO_VECTOR);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_USEDHI, 8), 0);
    wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 2, 1);   /* ignored */
    assert_int_equal(vpm_queue_vector(&f->m, 2), VPM_NO_VECTOR);
    /* Beyond the structure, and outside the BAR. */
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_SIZE, 4), 0);
    assert_int_equal(vpm_read(&f->m, VIRTIO_PCI_CFG_BAR_SIZE - 2,
                              (uint8_t[4]){ 0 }, 4), -EINVAL);
    assert_int_equal(vpm_write(&f->m, VIRTIO_PCI_CFG_BAR_SIZE,
                               (uint8_t[1]){ 0 }, 1), -EINVAL);
}

static void test_no_device(void **state)
{
    struct fake *f = new_fake(false);

    (void)state;
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_NUMQ, 2), 0);
    wr(f, VIRTIO_PCI_NOTIFY_OFF, 2, 0);
    assert_int_equal(f->notifies[0], 0);
    f->q[0].max_size = 8;
    assert_int_equal(vpm_attach(&f->m, NULL), -EINVAL);
    assert_int_equal(vpm_attach(&f->m, &f->vdev), 0);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 8);
}

static void test_features_status(void **state)
{
    struct fake *f = new_fake(true);

    (void)state;
    wr(f, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_DF, 4), 1u << 3);
    wr(f, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_DFSELECT, 4), 1);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_DF, 4),
                     1u << (VIRTIO_F_VERSION_1 - 32));
    wr(f, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                                       VIRTIO_CONFIG_S_DRIVER);
    wr(f, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
    wr(f, VIRTIO_PCI_COMMON_GF, 4, 1u << (VIRTIO_F_VERSION_1 - 32));
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_GFSELECT, 4), 1);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_GF, 4),
                     1u << (VIRTIO_F_VERSION_1 - 32));
    wr(f, VIRTIO_PCI_COMMON_STATUS, 1, 0x0b);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
    f->vdev.config_generation = 5;
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_CFGGENERATION, 1), 5);
    /* Writes to read-only fields are ignored. */
    wr(f, VIRTIO_PCI_COMMON_NUMQ, 2, 9);
    wr(f, VIRTIO_PCI_COMMON_CFGGENERATION, 1, 9);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_NUMQ, 2), 2);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_CFGGENERATION, 1), 5);
}

static void test_vectors(void **state)
{
    struct fake *f = new_fake(true);

    (void)state;
    wr(f, VIRTIO_PCI_COMMON_MSIX, 2, 2);
    assert_int_equal(vpm_config_vector(&f->m), 2);
    wr(f, VIRTIO_PCI_COMMON_MSIX, 2, 3);    /* >= nvec */
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_MSIX, 2), VPM_NO_VECTOR);
    wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
    wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 2, 1);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), 1);
    assert_int_equal(vpm_queue_vector(&f->m, 1), 1);
    assert_int_equal(vpm_queue_vector(&f->m, 0), VPM_NO_VECTOR);
    assert_int_equal(vpm_queue_vector(&f->m, 7), VPM_NO_VECTOR);
    wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 2, 0x1234);
    assert_int_equal(vpm_queue_vector(&f->m, 1), VPM_NO_VECTOR);
}

/* Queue 0 with rings in the fake RAM; addresses as 32-bit halves. */
static void setup_queue(struct fake *f, uint16_t size)
{
    wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
    wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 2, size);
    wr(f, VIRTIO_PCI_COMMON_Q_DESCLO, 4, MEM_GPA);
    wr(f, VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0);
    wr(f, VIRTIO_PCI_COMMON_Q_AVAILLO, 8, MEM_GPA + 0x1000);
    wr(f, VIRTIO_PCI_COMMON_Q_USEDLO, 4, MEM_GPA + 0x2000);
    wr(f, VIRTIO_PCI_COMMON_Q_USEDHI, 4, 0);
}

static void test_queue_enable(void **state)
{
    struct fake *f = new_fake(true);

    (void)state;
    setup_queue(f, 8);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 8), MEM_GPA);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_AVAILLO, 4),
                     MEM_GPA + 0x1000);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_AVAILHI, 4), 0);
    wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 0);      /* only 1 enables */
    assert_int_equal(f->enables, 0);
    wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    assert_int_equal(f->enables, 1);
    assert_int_equal(f->enable_result, 0);
    assert_true(f->q[0].enabled);
    assert_int_equal(f->q[0].size, 8);
    assert_int_equal(f->q[0].used_gpa, MEM_GPA + 0x2000);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
    wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);      /* already enabled */
    assert_int_equal(f->enables, 1);
    /* An enabled queue's size is frozen (test_enabled_queue_frozen). */
    wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 2, 4);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 8);
    assert_int_equal(f->q[0].size, 8);
    /* A bad setup is reported through the hook and reads back 0. */
    wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
    wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 2, 3);
    wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    assert_int_equal(f->enables, 2);
    assert_int_equal(f->enable_result, -EINVAL);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
}

/* Spec 4.1.3.1 widths: reads see the structure's bytes; writes must be
 * a whole field or a 32-bit half of a queue address. */
static void test_access_widths(void **state)
{
    struct fake *f = new_fake(true);

    (void)state;
    /* Reads span fields and shift within one. */
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_MSIX, 4), 0x0002FFFFu);
    wr(f, VIRTIO_PCI_COMMON_Q_DESCLO, 8, 0x1122334455667788ULL);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_DESCLO + 6, 2), 0x1122);
    /* Narrower or straddling writes are ignored. */
    wr(f, VIRTIO_PCI_COMMON_DFSELECT + 1, 1, 1);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_DFSELECT, 4), 0);
    wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 4, 4);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
    wr(f, VIRTIO_PCI_COMMON_MSIX, 4, 0x00020001);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_MSIX, 2), VPM_NO_VECTOR);
    wr(f, VIRTIO_PCI_COMMON_Q_DESCLO + 2, 2, 0xAABB);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 8),
                     0x1122334455667788ULL);
    /* 32-bit halves of a 64-bit field. */
    wr(f, VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0x99);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 8),
                     0x0000009955667788ULL);
    wr(f, VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x01020304);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 8),
                     0x0000009901020304ULL);
}

/* Spec 4.1.4.3.2: an enabled queue's size and addresses are the live
 * virtqueue's; only its vector stays writable. */
static void test_enabled_queue_frozen(void **state)
{
    struct fake *f = new_fake(true);

    (void)state;
    setup_queue(f, 8);
    wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    assert_true(f->q[0].enabled);
    wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 2, 4);
    wr(f, VIRTIO_PCI_COMMON_Q_DESCLO, 8, MEM_GPA + 0x3000);
    wr(f, VIRTIO_PCI_COMMON_Q_USEDHI, 4, 1);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 8);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 8), MEM_GPA);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_USEDLO, 8), MEM_GPA + 0x2000);
    wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);    /* still writable */
    assert_int_equal(vpm_queue_vector(&f->m, 0), 2);
    f->q[0].size = 2;                         /* live size wins */
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 2);
    /* Queue 1 (not enabled) stays writable. */
    wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
    wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 2, 4);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 4);
}

static void test_status_zero_resets(void **state)
{
    struct fake *f = new_fake(true);

    (void)state;
    setup_queue(f, 8);
    wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 2, 1);
    wr(f, VIRTIO_PCI_COMMON_MSIX, 2, 0);
    wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
    vpm_set_isr(&f->m, VPM_ISR_QUEUE);
    wr(f, VIRTIO_PCI_COMMON_STATUS, 1, 0);
    assert_false(f->q[0].enabled);
    assert_int_equal(f->isr_clears, 1);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_MSIX, 2), VPM_NO_VECTOR);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), VPM_NO_VECTOR);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
    assert_int_equal(rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
    vpm_reset(&f->m);                         /* ISR already 0 */
    assert_int_equal(f->isr_clears, 1);
}

static void test_isr_read_to_clear(void **state)
{
    struct fake *f = new_fake(true);

    (void)state;
    assert_int_equal(rd(f, VIRTIO_PCI_ISR_OFF, 1), 0);
    assert_int_equal(f->isr_clears, 0);
    vpm_set_isr(&f->m, VPM_ISR_QUEUE);
    vpm_set_isr(&f->m, VPM_ISR_CONFIG);
    assert_int_equal(rd(f, VIRTIO_PCI_ISR_OFF + 1, 1), 0);
    assert_int_equal(rd(f, VIRTIO_PCI_ISR_OFF, 4), 3);
    assert_int_equal(f->isr_clears, 1);
    assert_int_equal(rd(f, VIRTIO_PCI_ISR_OFF, 1), 0);
    assert_int_equal(f->isr_clears, 1);
    vpm_set_isr(&f->m, VPM_ISR_CONFIG);
    wr(f, VIRTIO_PCI_ISR_OFF, 1, 0);          /* writes ignored */
    assert_int_equal(rd(f, VIRTIO_PCI_ISR_OFF, 1), 2);
}

static void test_notify_decode(void **state)
{
    struct fake *f = new_fake(true);

    (void)state;
    wr(f, VIRTIO_PCI_NOTIFY_OFF, 2, 0);
    wr(f, VIRTIO_PCI_NOTIFY_OFF + 2, 1, 0);
    wr(f, VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT, 4, 1);
    wr(f, VIRTIO_PCI_NOTIFY_OFF + 2 * VIRTIO_PCI_NOTIFY_MULT, 2, 2);
    wr(f, VIRTIO_PCI_CFG_BAR_SIZE - 2, 2, 0);
    assert_int_equal(f->notifies[0], 2);
    assert_int_equal(f->notifies[1], 1);
    assert_int_equal(f->notifies[2], 0);
    assert_int_equal(rd(f, VIRTIO_PCI_NOTIFY_OFF, 4), 0);
}

static void test_device_config(void **state)
{
    struct fake *f = new_fake(true);

    (void)state;
    assert_int_equal(rd(f, VIRTIO_PCI_DEVICE_OFF, 4), 0x43424140u);
    assert_int_equal(rd(f, VIRTIO_PCI_DEVICE_OFF + 4, 4), 0x47464544u);
    assert_int_equal(rd(f, VIRTIO_PCI_DEVICE_OFF + 6, 4), 0);
    assert_int_equal(rd(f, VIRTIO_PCI_DEVICE_OFF + 0x100, 1), 0);
    wr(f, VIRTIO_PCI_DEVICE_OFF + 2, 2, 0x9988);
    assert_int_equal(f->cfg_writes, 1);
    assert_int_equal(rd(f, VIRTIO_PCI_DEVICE_OFF, 4), 0x99884140u);
    wr(f, VIRTIO_PCI_DEVICE_OFF + 7, 2, 0);   /* past config_size */
    assert_int_equal(f->cfg_writes, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_and_reset_values),
        cmocka_unit_test(test_no_device),
        cmocka_unit_test(test_features_status),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_queue_enable),
        cmocka_unit_test(test_access_widths),
        cmocka_unit_test(test_enabled_queue_frozen),
        cmocka_unit_test(test_status_zero_resets),
        cmocka_unit_test(test_isr_read_to_clear),
        cmocka_unit_test(test_notify_decode),
        cmocka_unit_test(test_device_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
