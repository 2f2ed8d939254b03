/* SPDX-License-Identifier: BSD-3-Clause */
/* The virtio-iommu device (virtio/iommu.c)
 * over fake flat guest memory, driven with virtio/vring_driver.h:
 * requests and their tails, PROBE, malformed chains, config space and the
 * bypass field, fault records on the event queue, state save/load that
 * replays the mappings through the sink. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/iommu.h"
#include "virtio/iommu_proto.h"
#include "virtio/iommu_req.h"
#include "virtio/vring_driver.h"
#include "vmm/endian.h"

#define MEM_GPA  0x100000ULL
#define MEM_SIZE (4u << 20)
#define QSIZE    16
#define REQ_GPA  (MEM_GPA + 0x100000)
#define RESP_GPA (MEM_GPA + 0x101000)
#define EV_GPA   (MEM_GPA + 0x102000)

struct fx {
    uint8_t *host;
    struct virtio_flat_mem fm;
    struct virtio_mem mem;
    struct vring_drv drv[2];
    struct virtio_irq irq;
    struct virtio_iommu *m;
    long live[2];               /* windows the sink holds per endpoint */
};

static int irq_q(void *o, uint16_t q) { (void)o, (void)q; return 0; }
static int irq_c(void *o) { (void)o; return 0; }
static const struct virtio_irq_ops irq_ops = { irq_q, irq_c };

static int s_map(void *o, unsigned int ep, const struct viommu_map *m)
{
    (void)m;
    ((struct fx *)o)->live[ep]++;
    return 0;
}

static void s_unmap(void *o, unsigned int ep, const struct viommu_map *m)
{
    (void)m;
    ((struct fx *)o)->live[ep]--;
}

static const struct viommu_sink sink = { s_map, s_unmap };

static uint8_t *H(struct fx *f, uint64_t gpa) { return f->host + (gpa - MEM_GPA); }

static struct virtio_iommu *new_dev(struct fx *f)
{
    struct virtio_iommu_params p = { 4096, 48, &sink, f };
    struct host_iommu_dev h = { .name = "ep" };
    struct virtio_iommu *m;

    host_iommu_caps_vmm(&h.caps);
    assert_int_equal(virtio_iommu_create(&p, &f->mem, &f->irq, &m), 0);
    assert_int_equal(virtio_iommu_add_ram(m, 0, 0x40000000), 0);
    assert_int_equal(virtio_iommu_add_ep(m, 0x10, &h), 0);
    assert_int_equal(virtio_iommu_add_ep(m, 0x18, &h), 1);
    f->live[0] = f->live[1] = 1; /* identity, mapped by the creator */
    return m;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    uint64_t end;

    f->host = calloc(1, MEM_SIZE);
    virtio_flat_mem_init(&f->fm, f->host, MEM_GPA, MEM_SIZE, true, &f->mem);
    f->irq = (struct virtio_irq){ &irq_ops, f };
    for (unsigned int i = 0; i < 2; i++)
        assert_int_equal(vring_drv_init(&f->drv[i], &f->mem, QSIZE,
                                        MEM_GPA + i * 0x10000, &end), 0);
    f->m = new_dev(f);
    assert_int_equal(vring_drv_setup_device(virtio_iommu_vdev(f->m),
                                            f->drv), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    virtio_iommu_destroy(f->m);
    free(f->host);
    free(f);
    return 0;
}

/* Send @rlen request bytes (at REQ_GPA) with @wlen writable bytes (at
 * RESP_GPA); returns the used length, *@st the byte at @toff. */
static uint32_t send(struct fx *f, uint32_t rlen, uint32_t wlen,
                     uint32_t toff, uint8_t *st)
{
    struct vring_drv_buf b[2] = { { REQ_GPA, rlen, false },
                                  { RESP_GPA, wlen, true } };
    uint32_t id, len;
    uint16_t head;

    memset(H(f, RESP_GPA), 0xee, 1024);
    assert_int_equal(vring_drv_add_chain(&f->drv[0], b, wlen ? 2 : 1, 0,
                                         &head), 0);
    assert_int_equal(vring_drv_publish(&f->drv[0], head), 0);
    assert_int_equal(virtio_dev_queue_notify(virtio_iommu_vdev(f->m), 0), 0);
    assert_int_equal(vring_drv_get_used(&f->drv[0], &id, &len), 1);
    assert_int_equal(id, head);
    *st = *H(f, RESP_GPA + toff);
    return len;
}

static void req_attach(struct fx *f, uint8_t type, uint32_t dom, uint32_t ep)
{
    uint8_t *r = H(f, REQ_GPA);

    memset(r, 0, 20);
    r[0] = type;
    le32_store(r + 4, dom);
    le32_store(r + 8, ep);
}

static void req_map(struct fx *f, uint32_t dom, uint64_t s, uint64_t e,
                    uint64_t phys)
{
    uint8_t *r = H(f, REQ_GPA);

    memset(r, 0, 36);
    r[0] = VIOMMU_T_MAP;
    le32_store(r + 4, dom);
    le64_store(r + 8, s);
    le64_store(r + 16, e);
    le64_store(r + 24, phys);
    le32_store(r + 32, 3);
}

static void test_requests(void **state)
{
    struct fx *f = *state;
    uint8_t st;

    req_attach(f, VIOMMU_T_ATTACH, 1, 0x10);
    assert_int_equal(send(f, 20, 4, 0, &st), 4);
    assert_int_equal(st, VIOMMU_S_OK);
    assert_int_equal(f->live[0], 0);
    req_map(f, 1, 0x1000, 0x1fff, 0x5000);
    assert_int_equal(send(f, 36, 4, 0, &st), 4);
    assert_int_equal(st, VIOMMU_S_OK);
    assert_int_equal(f->live[0], 1);
    assert_int_equal(send(f, 35, 4, 0, &st), 4);   /* short */
    assert_int_equal(st, VIOMMU_S_INVAL);
    *H(f, REQ_GPA) = 77;
    assert_int_equal(send(f, 36, 4, 0, &st), 4);
    assert_int_equal(st, VIOMMU_S_UNSUPP);
    /* No room for a tail: returned unanswered, nothing written. */
    req_map(f, 1, 0x8000, 0x8fff, 0);
    assert_int_equal(send(f, 36, 3, 0, &st), 0);
    assert_int_equal(st, 0xee);
    assert_int_equal(send(f, 36, 0, 0, &st), 0);
    assert_int_equal(f->live[0], 1);
}

static void test_probe(void **state)
{
    struct fx *f = *state;
    uint8_t *r = H(f, REQ_GPA), st;

    memset(r, 0, 72);
    r[0] = VIOMMU_T_PROBE;
    le32_store(r + 4, 0x18);
    assert_int_equal(send(f, 72, VIOMMU_PROBE_SIZE + 4, VIOMMU_PROBE_SIZE,
                          &st), VIOMMU_PROBE_SIZE + 4);
    assert_int_equal(st, VIOMMU_S_OK);
    assert_int_equal(le16_load(H(f, RESP_GPA)), VIOMMU_PROBE_T_RESV_MEM);
    assert_int_equal(*H(f, RESP_GPA + 4), VIOMMU_RESV_MEM_T_MSI);
    assert_int_equal(le64_load(H(f, RESP_GPA + 8)), 0xfee00000);
    /* A buffer too short for the properties: INVAL in its last 4 bytes. */
    assert_int_equal(send(f, 72, 64, 60, &st), 64);
    assert_int_equal(st, VIOMMU_S_INVAL);
    le32_store(r + 4, 0x99);
    assert_int_equal(send(f, 72, VIOMMU_PROBE_SIZE + 4, VIOMMU_PROBE_SIZE,
                          &st), VIOMMU_PROBE_SIZE + 4);
    assert_int_equal(st, VIOMMU_S_NOENT);
}

static void test_config_and_fault(void **state)
{
    struct fx *f = *state;
    struct virtio_dev *vd = virtio_iommu_vdev(f->m);
    struct vring_drv_buf b = { EV_GPA, 64, true };
    struct viommu_config c;
    uint32_t id, len;
    uint64_t gpa;
    uint16_t head;
    uint8_t zero = 0;

    assert_int_equal(virtio_dev_config_read(vd, 0, &c, sizeof(c)), 0);
    assert_int_equal(c.page_size_mask, ~0xfffULL);
    assert_int_equal(c.input_end, (1ULL << 48) - 1);
    assert_int_equal(c.domain_end, VIOMMU_MAX_DOMAINS - 1);
    assert_int_equal(c.probe_size, VIOMMU_PROBE_SIZE);
    assert_int_equal(c.bypass, 1);
    assert_int_equal(virtio_dev_config_read(vd, 36, &c, 8), -EINVAL);
    assert_int_equal(virtio_iommu_translate(f->m, 0x10, 0x1000, 8, 1, &gpa,
                                            true), 0);
    assert_int_equal(virtio_dev_config_write(vd, 36, &zero, 1), 0);
    assert_int_equal(f->live[0] + f->live[1], 0);   /* blocked */
    /* An unmapped access with an event buffer posted: a fault record. */
    assert_int_equal(vring_drv_add_chain(&f->drv[1], &b, 1, 0, &head), 0);
    assert_int_equal(vring_drv_publish(&f->drv[1], head), 0);
    assert_int_equal(virtio_iommu_translate(f->m, 0x10, 0x1000, 8, 2, &gpa,
                                            true), -EFAULT);
    assert_int_equal(vring_drv_get_used(&f->drv[1], &id, &len), 1);
    assert_int_equal(len, 24);
    assert_int_equal(*H(f, EV_GPA), VIOMMU_FAULT_R_MAPPING);
    assert_int_equal(le32_load(H(f, EV_GPA + 4)),
                     VIOMMU_FAULT_F_ADDRESS | VIOMMU_FAULT_F_WRITE);
    assert_int_equal(le32_load(H(f, EV_GPA + 8)), 0x10);
    assert_int_equal(le64_load(H(f, EV_GPA + 16)), 0x1000);
    /* No buffer left: dropped and counted. */
    virtio_iommu_report_fault(f->m, 0x10, 0x2000, 1);
    struct virtio_iommu_stats s;
    virtio_iommu_get_stats(f->m, &s);
    assert_int_equal(s.faults, 2);
    assert_int_equal(s.faults_dropped, 1);
    assert_int_equal(virtio_iommu_translate(f->m, 0x77, 0, 8, 1, &gpa, true),
                     -ENOENT);
}

static void test_save_load(void **state)
{
    struct fx *f = *state;
    static char fdt[16384];
    struct virtio_iommu *m2;
    uint64_t gpa;
    uint8_t st;
    int node;

    req_attach(f, VIOMMU_T_ATTACH, 3, 0x10);
    send(f, 20, 4, 0, &st);
    req_attach(f, VIOMMU_T_ATTACH, 3, 0x18);
    send(f, 20, 4, 0, &st);
    req_map(f, 3, 0x7f0000000000ULL, 0x7f0000001fffULL, 0x200000);
    assert_int_equal(send(f, 36, 4, 0, &st), 4);
    assert_int_equal(st, VIOMMU_S_OK);
    assert_int_equal(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
    node = fdt_add_subnode(fdt, 0, "viommu");
    assert_int_equal(virtio_iommu_state_ops.save(f->m, fdt, node), 0);
    /* A fresh device from the "command line": the load replays. */
    m2 = new_dev(f);
    assert_int_equal(virtio_iommu_state_ops.load(m2, fdt, node), 0);
    assert_int_equal(f->live[0], 1);
    assert_int_equal(f->live[1], 1);
    assert_int_equal(virtio_iommu_translate(m2, 0x18, 0x7f0000001000ULL, 16,
                                            3, &gpa, false), 0);
    assert_int_equal(gpa, 0x201000);
    virtio_iommu_destroy(m2);
    /* An endpoint the command line does not have: refused. */
    struct virtio_iommu_params p = { 4096, 48, &sink, f };
    struct host_iommu_dev h = { .name = "ep" };
    host_iommu_caps_vmm(&h.caps);
    assert_int_equal(virtio_iommu_create(&p, &f->mem, &f->irq, &m2), 0);
    assert_int_equal(virtio_iommu_add_ep(m2, 0x10, &h), 0);
    assert_int_equal(virtio_iommu_state_ops.load(m2, fdt, node), -EINVAL);
    virtio_iommu_destroy(m2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_and_fault, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
    };

    return cmocka_run_group_tests_name("virtio_iommu", tests, NULL, NULL);
}
