/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vfio-user device state (vfio/pci_dev_state.c,
 * vfio/client_mig.c): the identity encoding and comparison, and a whole
 * save -> load round trip between two fake servers that speak the v2
 * migration protocol (DEVICE_FEATURE, MIG_DATA_READ/WRITE): BARs and
 * ioeventfds at the saved addresses, MSI-X routes, irqfds, a pending bit
 * taken from a masked vector, SET_IRQS, the server's stream delivered in
 * RESUMING; a server that does not match is refused before it is touched;
 * one without migration support cannot be saved; DMA dirty logging
 * reports land on guest-RAM page numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libfdt.h>
#include <stdio.h>
#include <linux/kvm.h>

#include "devices/pci.h"
#include "vfio/client/client_mig.h"
#include "vfio/pci/pci_dev.h"
#include "vfio/pci/pci_dev_priv.h"
#include "vmm/bus.h"
#include "vmm/state.h"
#include "test_vfio_client_fake.h"
#include "test_vfio_pci_rig.h"

#define BDF PCI_BDF(0, 1, 0)
#define FEAT 8u

/* ---- a fake server with migration ----------------------------------- */

struct mfake {
    struct fake f;          /* first: the hook gets &f */
    bool mig;               /* offers VFIO_DEVICE_FEATURE_MIGRATION */
    uint32_t state;
    int sets;               /* MIG_DEVICE_STATE SETs */
    uint8_t out[64];        /* the stream it saves */
    uint32_t out_len, pos;
    uint8_t in[64];         /* the stream it was given */
    uint32_t in_len;
    bool loaded;            /* RESUMING -> STOP seen */
    atomic_int refused;     /* commands refused as libvfio-user does */
    bool precopy;           /* offers VFIO_MIGRATION_PRE_COPY */
    uint8_t pre[16];        /* what it sends in PRE_COPY */
    uint32_t pre_len, pre_pos;
    bool lie;               /* MIG_DATA_READ: size beyond the payload */
};

/* DMA_LOGGING_REPORT: pages 0 and 5 of the range were written. */
static int log_report(struct mfake *m, struct vfio_user_msg *msg)
{
    struct vfio_user_dma_logging_report rq;
    uint8_t rep[FEAT + 24 + 64] = {0};
    uint64_t bm = 0x21, words;

    memcpy(&rq, (uint8_t *)msg->payload + FEAT, sizeof(rq));
    words = (rq.length / rq.page_size + 63) / 64;
    assert_true(words <= 8);
    memcpy(rep, msg->payload, FEAT + sizeof(rq));
    memcpy(rep + FEAT + sizeof(rq), &bm, 8);
    m->sets += 100; /* counted: a report was asked */
    return fake_reply(&m->f, msg, rep, FEAT + sizeof(rq) + words * 8, NULL,
                      0);
}

static int feat_hook(struct mfake *m, struct vfio_user_msg *msg)
{
    uint8_t rep[FEAT + 8];
    uint32_t flags, feat, st;
    uint64_t mf = VFIO_MIGRATION_STOP_COPY |
                  (m->precopy ? VFIO_MIGRATION_PRE_COPY : 0);

    memcpy(&flags, (uint8_t *)msg->payload + 4, 4);
    feat = flags & VFIO_DEVICE_FEATURE_MASK;
    memcpy(rep, msg->payload, FEAT);
    if (!m->mig)
        return -ENOTSUP;
    if (feat == VFIO_DEVICE_FEATURE_MIGRATION) {
        memcpy(rep + FEAT, &mf, 8);
        return fake_reply(&m->f, msg, rep, sizeof(rep), NULL, 0);
    }
    if (feat == VFIO_DEVICE_FEATURE_DMA_LOGGING_START ||
        feat == VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP)
        return fake_reply(&m->f, msg, msg->payload, msg->payload_len, NULL,
                          0);
    if (feat == VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT)
        return log_report(m, msg);
    if (feat != VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE)
        return -ENOTSUP;
    if (flags & VFIO_DEVICE_FEATURE_SET) {
        memcpy(&st, (uint8_t *)msg->payload + FEAT, 4);
        m->sets++;
        if (st == VFIO_DEVICE_STATE_STOP_COPY)
            m->pos = 0;
        if (st == VFIO_DEVICE_STATE_PRE_COPY)
            m->pre_pos = 0;
        if (st == VFIO_DEVICE_STATE_RESUMING)
            m->in_len = 0;
        if (m->state == VFIO_DEVICE_STATE_RESUMING)
            m->loaded = true;
        m->state = st;
    }
    memset(rep + FEAT, 0, 8);
    memcpy(rep + FEAT, &m->state, 4);
    return fake_reply(&m->f, msg, rep, sizeof(rep), NULL, 0);
}

/* Like current libvfio-user: in STOP, STOP_COPY and RESUMING only region
 * access, DEVICE_FEATURE, MIG_DATA_* and DMA_(UN)MAP are served. */
static bool lvu_allowed(uint32_t state, uint16_t cmd)
{
    if (state != VFIO_DEVICE_STATE_STOP &&
        state != VFIO_DEVICE_STATE_STOP_COPY &&
        state != VFIO_DEVICE_STATE_RESUMING)
        return true;
    return cmd == VFIO_USER_REGION_READ || cmd == VFIO_USER_REGION_WRITE ||
           cmd == VFIO_USER_DEVICE_FEATURE ||
           cmd == VFIO_USER_MIG_DATA_READ ||
           cmd == VFIO_USER_MIG_DATA_WRITE || cmd == VFIO_USER_DMA_MAP ||
           cmd == VFIO_USER_DMA_UNMAP;
}

/* MIG_DATA_READ, the reply padded to the requested size as libvfio-user
 * does (size says how much is data; at most 64 bytes per reply). */
static int mig_read(struct mfake *m, struct vfio_user_msg *msg)
{
    struct vfio_user_mig_data d;
    uint32_t want;
    uint8_t *rep;
    int r;

    memcpy(&d, msg->payload, 8);
    want = d.size;
    if (want > (2u << 20))
        return -EINVAL;
    rep = calloc(1, 8 + want);
    assert_non_null(rep);
    if (m->state == VFIO_DEVICE_STATE_PRE_COPY) {
        if (d.size > m->pre_len - m->pre_pos)
            d.size = m->pre_len - m->pre_pos;
        memcpy(rep + 8, m->pre + m->pre_pos, d.size);
        m->pre_pos += d.size;
    } else {
        if (d.size > m->out_len - m->pos)
            d.size = m->out_len - m->pos;
        d.size = d.size > 64 ? 64 : d.size;
        memcpy(rep + 8, m->out + m->pos, d.size);
        m->pos += d.size;
    }
    d.argsz = 8 + want;
    memset(rep + 8 + d.size, 0xA5, want - d.size); /* padding */
    if (m->lie) { /* unpadded, and 10 bytes more claimed than sent */
        want = d.size;
        d.size += 10;
    }
    memcpy(rep, &d, 8);
    r = fake_reply(&m->f, msg, rep, 8 + want, NULL, 0);
    free(rep);
    return r;
}

static int mig_hook(struct fake *f, struct vfio_user_msg *msg)
{
    struct mfake *m = (struct mfake *)f;
    struct vfio_user_mig_data d;
    int r = 0;

    if (!lvu_allowed(m->state, msg->hdr.cmd)) {
        atomic_fetch_add(&m->refused, 1);
        r = -EINVAL;
        goto out;
    }
    switch (msg->hdr.cmd) {
    case VFIO_USER_DEVICE_FEATURE:
        r = feat_hook(m, msg);
        break;
    case VFIO_USER_MIG_DATA_READ:
        r = mig_read(m, msg);
        break;
    case VFIO_USER_MIG_DATA_WRITE:
        memcpy(&d, msg->payload, 8);
        if (d.argsz < 8 + d.size) { /* libvfio-user: argsz too small */
            atomic_fetch_add(&m->refused, 1);
            r = -EINVAL;
            break;
        }
        assert_true(m->in_len + d.size <= sizeof(m->in));
        memcpy(m->in + m->in_len, (uint8_t *)msg->payload + 8, d.size);
        m->in_len += d.size;
        r = fake_reply(f, msg, NULL, 0, NULL, 0);
        break;
    default:
        return 0;
    }
out:
    if (r < 0)
        vfio_user_conn_send_error(f->conn, VFIO_USER_CHAN_MAIN, &msg->hdr,
                                  -r);
    return 1;
}

/* ---- the rig: a vfio-user PCI device on a bus with a fake hypervisor -- */

struct rig {
    struct mfake m;
    struct vfio_rig v;
    uint8_t iofds[VFIO_RIG_IOFDS_LEN];
};

/* Virtio-pci-like: BAR0 MSI-X (4 vectors, PBA at 0x800), BAR2 64-bit
 * @bar2 bytes with an ioeventfd at 0x3000. */
static void rig_server(struct rig *r, uint64_t bar2, bool mig)
{
    vfio_rig_virtio_like(&r->m.f, bar2, r->iofds);
    r->m.f.hook = mig_hook;
    r->m.mig = mig;
    r->m.state = VFIO_DEVICE_STATE_RUNNING;
}

static void rig_up(struct rig *r, uint64_t bar2, bool mig)
{
    struct vfio_pci_opts o = {.name = "s0", .timeout_ms = 2000};
    char err[256] = "";

    memset(r, 0, sizeof(*r));
    rig_server(r, bar2, mig);
    if (vfio_rig_create(&r->v, &r->m.f, &o, NULL, err, sizeof(err)))
        fail_msg("create: %s", err);
}

static void rig_down(struct rig *r)
{
    vfio_rig_destroy(&r->v, &r->m.f);
}

static uint32_t cfg_rd(struct rig *r, uint32_t off, uint32_t len)
{
    return vfio_rig_cfg_rd(&r->v, BDF, off, len);
}

static void cfg_wr(struct rig *r, uint32_t off, uint32_t len, uint32_t v)
{
    vfio_rig_cfg_wr(&r->v, BDF, off, len, v);
}

static void mmio_rw(struct rig *r, uint64_t a, void *v, uint32_t len,
                    bool wr)
{
    assert_int_equal(bus_dispatch(r->v.mmio, a, v, len, wr), 0);
}

/* The guest's work: BARs, decode, MSI-X on, vector 0 live, vector 1
 * masked with an interrupt pending in its eventfd. */
static void guest_setup(struct rig *r)
{
    uint32_t e0[4] = {0xFEE00000, 0, 0x41, 0}, e1[4] = {0xFEE00000, 0,
                                                        0x42, 1};

    cfg_wr(r, PCI_BASE_ADDRESS_0, 4, 0xC0010000);
    cfg_wr(r, PCI_BASE_ADDRESS_2, 4, 0xC0000000);
    cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    cfg_wr(r, 0x42, 2, PCI_MSIX_FLAGS_ENABLE);
    for (int i = 0; i < 4; i++) {
        mmio_rw(r, 0xC0010000 + 4 * (uint64_t)i, &e0[i], 4, true);
        mmio_rw(r, 0xC0010010 + 4 * (uint64_t)i, &e1[i], 4, true);
    }
    assert_int_equal(r->v.hv.irqfds, 1);
    assert_int_equal(eventfd_write(r->m.f.irq_fds[1], 1), 0);
}

static void *new_tree(void)
{
    void *fdt = malloc(65536);

    assert_non_null(fdt);
    assert_int_equal(fdt_create_empty_tree(fdt, 65536), 0);
    return fdt;
}

/* ---- tests ------------------------------------------------------------ */

static void sample_identity(struct vfio_client_identity *id)
{
    memset(id, 0, sizeof(*id));
    id->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
    id->num_regions = 9;
    id->num_irqs = 5;
    id->region[0].size = 0x1000;
    id->region[2].size = 0x4000;
    id->region[2].flags = 3;
    id->region[7].size = 256;
    id->irq[2].count = 4;
    id->irq[2].flags = VFIO_IRQ_INFO_EVENTFD;
}

static void test_identity_encoding(void **state)
{
    struct vfio_client_identity a, b;
    void *fdt = new_tree();
    uint32_t bad[3] = {1, VFIO_CLIENT_MAX_REGIONS + 1, 0};
    int node = fdt_add_subnode(fdt, 0, "dev");

    (void)state;
    sample_identity(&a);
    assert_int_equal(vpd_identity_save(fdt, node, &a), 0);
    assert_int_equal(vpd_identity_load(fdt, node, &b), 0);
    assert_memory_equal(&a, &b, sizeof(a));
    /* A count beyond the caps, or arrays of the wrong length: refused. */
    assert_int_equal(state_put_bytes(fdt, node, "device-info", bad,
                                     sizeof(bad)), 0);
    assert_int_equal(vpd_identity_load(fdt, node, &b), -EINVAL);
    bad[1] = 10;
    assert_int_equal(state_put_bytes(fdt, node, "device-info", bad,
                                     sizeof(bad)), 0);
    assert_int_equal(vpd_identity_load(fdt, node, &b), -EINVAL);
    /* Missing entirely. */
    node = fdt_add_subnode(fdt, 0, "empty");
    assert_int_equal(vpd_identity_load(fdt, node, &b), -ENOENT);
    free(fdt);
}

static void test_identity_diff(void **state)
{
    struct vfio_client_identity a, b;
    char why[128] = "";

    (void)state;
    sample_identity(&a);
    b = a;
    assert_int_equal(vfio_client_identity_diff(&a, &b, why, sizeof(why)),
                     0);
    b.region[2].size = 0x8000;
    assert_int_equal(vfio_client_identity_diff(&a, &b, why, sizeof(why)),
                     -EINVAL);
    assert_string_equal(why, "region 2 size is 0x8000, the snapshot has "
                             "0x4000");
    b = a;
    b.irq[2].count = 3;
    vfio_client_identity_diff(&a, &b, why, sizeof(why));
    assert_string_equal(why, "IRQ index 2 count is 0x3, the snapshot has "
                             "0x4");
    b.num_regions = 8; /* the first difference wins */
    vfio_client_identity_diff(&a, &b, why, sizeof(why));
    assert_string_equal(why, "num_regions is 0x8, the snapshot has 0x9");
    b = a;
    b.flags = VFIO_DEVICE_FLAGS_PCI;
    vfio_client_identity_diff(&a, &b, why, sizeof(why));
    assert_non_null(strstr(why, "device flags"));
}

/* Source: quiesce, save, resume. */
static void *save_source(void)
{
    struct rig a;
    void *fdt = new_tree();
    int node = fdt_add_subnode(fdt, 0, "vfio-user@s0");
    const void *p;
    int len;

    rig_up(&a, 0x4000, true);
    memcpy(a.m.out, "server-stream-0123456789", 24);
    a.m.out_len = 24;
    guest_setup(&a);
    assert_int_equal(vfio_pci_quiesce(a.v.d), 0);
    assert_int_equal(a.m.state, VFIO_DEVICE_STATE_STOP);
    assert_int_equal(vfio_pci_state_ops.save(a.v.d, fdt, node), 0);
    assert_int_equal(vfio_pci_state_ops.save(a.v.d, fdt, node), 0);
    assert_int_equal(a.m.sets, 3); /* STOP, STOP_COPY, STOP: once */
    assert_int_equal(a.m.state, VFIO_DEVICE_STATE_STOP);
    p = fdt_getprop(fdt, node, "server-state", &len);
    assert_int_equal(len, 24);
    assert_memory_equal(p, "server-stream-0123456789", 24);
    assert_non_null(fdt_getprop(fdt, node, "msix-table", &len));
    assert_int_equal(len, 4 * 16);
    assert_int_equal(vfio_pci_resume(a.v.d), 0);
    assert_int_equal(a.m.state, VFIO_DEVICE_STATE_RUNNING);
    assert_int_equal(atomic_load(&a.m.refused), 0);
    rig_down(&a);
    return fdt;
}

static void test_round_trip(void **state)
{
    void *fdt = save_source();
    int node = fdt_subnode_offset(fdt, 0, "vfio-user@s0");
    uint64_t pba = 0;
    uint32_t bar2;
    struct rig b;

    (void)state;
    rig_up(&b, 0x4000, true);
    assert_int_equal(b.v.hv.ioev, 0);
    assert_int_equal(vfio_pci_state_ops.load(b.v.d, fdt, node), 0);
    /* The server got the stream in RESUMING and runs again. */
    assert_true(b.m.loaded);
    assert_int_equal(b.m.in_len, 24);
    assert_memory_equal(b.m.in, "server-stream-0123456789", 24);
    assert_int_equal(b.m.state, VFIO_DEVICE_STATE_RUNNING);
    assert_int_equal(atomic_load(&b.m.refused), 0);
    /* BARs where the guest put them: ioeventfd and decode. */
    assert_int_equal(cfg_rd(&b, PCI_BASE_ADDRESS_2, 4), 0xC0000004);
    assert_int_equal(cfg_rd(&b, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY,
                     PCI_COMMAND_MEMORY);
    assert_int_equal(b.v.hv.ioev, 1);
    assert_int_equal(b.v.hv.last_ioev_addr, 0xC0003000);
    /* ... and the server learnt them too (docs/interop.md). */
    memcpy(&bar2, b.m.f.mem[VFIO_PCI_CONFIG_REGION_INDEX] +
                      PCI_BASE_ADDRESS_2, 4);
    assert_int_equal(bar2 & ~0xFu, 0xC0000000);
    assert_true(b.m.f.mem[VFIO_PCI_CONFIG_REGION_INDEX][PCI_COMMAND] &
                PCI_COMMAND_MEMORY);
    /* MSI-X: enabled, eventfds at the server, vector 0 an irqfd, the
     * interrupt that hit masked vector 1 pending. */
    assert_int_equal(cfg_rd(&b, 0x42, 2), PCI_MSIX_FLAGS_ENABLE | 3);
    assert_true(b.m.f.irq_fds[3] >= 0);
    assert_int_equal(b.m.f.last_irq_index, VFIO_PCI_MSIX_IRQ_INDEX);
    assert_int_equal(b.v.hv.irqfds, 1);
    assert_int_equal(b.v.hv.routes, 1);
    mmio_rw(&b, 0xC0010800, &pba, 8, false);
    assert_int_equal(pba, 2);
    rig_down(&b);
    free(fdt);
}

static void test_mismatch_refused(void **state)
{
    void *fdt = save_source();
    int node = fdt_subnode_offset(fdt, 0, "vfio-user@s0");
    struct rig c;

    (void)state;
    rig_up(&c, 0x8000, true); /* BAR 2 twice as large */
    assert_int_equal(vfio_pci_state_ops.load(c.v.d, fdt, node), -EINVAL);
    assert_int_equal(c.m.sets, 0); /* refused before touching it */
    assert_int_equal(c.v.hv.ioev, 0);
    rig_down(&c);
    /* Same device, no migration support: refused too. */
    rig_up(&c, 0x4000, false);
    assert_int_equal(vfio_pci_state_ops.load(c.v.d, fdt, node), -EINVAL);
    rig_down(&c);
    /* A bad version. */
    rig_up(&c, 0x4000, true);
    assert_int_equal(state_put_u32(fdt, node, "version", 99), 0);
    assert_int_equal(vfio_pci_state_ops.load(c.v.d, fdt, node), -EINVAL);
    assert_int_equal(c.m.sets, 0);
    rig_down(&c);
    free(fdt);
}

static void test_no_migration(void **state)
{
    void *fdt = new_tree();
    int node = fdt_add_subnode(fdt, 0, "vfio-user@s0");
    uint64_t f = 1;
    struct rig r;

    (void)state;
    rig_up(&r, 0x4000, false);
    assert_int_equal(vfio_pci_mig_flags(r.v.d, &f), 0);
    assert_int_equal(f, 0);
    assert_int_equal(vfio_pci_quiesce(r.v.d), 0); /* pause still works */
    assert_int_equal(vfio_pci_state_ops.save(r.v.d, fdt, node),
                     -EOPNOTSUPP);
    assert_int_equal(vfio_pci_resume(r.v.d), 0);
    assert_true(vfio_pci_alive(r.v.d));
    rig_down(&r);
    free(fdt);
}

static void test_dirty_logging(void **state)
{
    struct iommu_window w = {.iova = 0x100000, .size = 64 * 4096,
                             .fd = -1, .fd_offset = 0x200000,
                             .prot = IOMMU_PROT_READ | IOMMU_PROT_WRITE};
    uint64_t bits[16] = {0}, n = 0;
    struct rig r;

    (void)state;
    rig_up(&r, 0x4000, true);
    assert_int_equal(vfio_client_dma_map(vfio_pci_client(r.v.d), &w), 0);
    assert_int_equal(vfio_pci_dirty_start(r.v.d), 0);
    assert_int_equal(vfio_pci_dirty_sync(r.v.d, bits, 1024, &n), 0);
    assert_int_equal(r.m.sets, 100);
    /* fd_offset 0x200000 = RAM page 512: pages 512 and 517. */
    assert_int_equal(n, 2);
    assert_int_equal(bits[8], 0x21);
    assert_int_equal(vfio_pci_dirty_stop(r.v.d), 0);
    rig_down(&r);
}

/* Live migration with a PRE_COPY server: the pre-copy data is read while
 * the device runs and leads the saved stream; a cancelled migration
 * returns the server to RUNNING. */
static void test_pre_copy(void **state)
{
    void *fdt = new_tree();
    int node = fdt_add_subnode(fdt, 0, "vfio-user@s0"), len;
    uint64_t bits[16] = {0}, n = 0;
    const void *p;
    struct rig r;

    (void)state;
    rig_up(&r, 0x4000, true);
    r.m.precopy = true;
    memcpy(r.m.pre, "early-state", 11);
    r.m.pre_len = 11;
    memcpy(r.m.out, "final", 5);
    r.m.out_len = 5;
    /* Cancelled: PRE_COPY, then back to RUNNING. */
    assert_int_equal(vfio_pci_dirty_start(r.v.d), 0);
    assert_int_equal(r.m.state, VFIO_DEVICE_STATE_PRE_COPY);
    assert_int_equal(vfio_pci_dirty_stop(r.v.d), 0);
    assert_int_equal(r.m.state, VFIO_DEVICE_STATE_RUNNING);
    /* Completed: pre-copy data, then STOP_COPY's. */
    assert_int_equal(vfio_pci_dirty_start(r.v.d), 0);
    assert_int_equal(r.m.pre_pos, 11);
    assert_int_equal(vfio_pci_dirty_sync(r.v.d, bits, 1024, &n), 0);
    assert_int_equal(vfio_pci_quiesce(r.v.d), 0);
    assert_int_equal(r.m.state, VFIO_DEVICE_STATE_STOP_COPY);
    assert_int_equal(vfio_pci_state_ops.save(r.v.d, fdt, node), 0);
    p = fdt_getprop(fdt, node, "server-state", &len);
    assert_int_equal(len, 16);
    assert_memory_equal(p, "early-statefinal", 16);
    assert_int_equal(vfio_pci_dirty_stop(r.v.d), 0);
    assert_int_equal(r.m.state, VFIO_DEVICE_STATE_STOP);
    assert_int_equal(vfio_pci_resume(r.v.d), 0);
    /* A snapshot afterwards: no PRE_COPY, the final part alone. */
    r.m.pos = 0;
    assert_int_equal(vfio_pci_quiesce(r.v.d), 0);
    assert_int_equal(vfio_pci_state_ops.save(r.v.d, fdt, node), 0);
    p = fdt_getprop(fdt, node, "server-state", &len);
    assert_int_equal(len, 5);
    assert_memory_equal(p, "final", 5);
    assert_int_equal(vfio_pci_resume(r.v.d), 0);
    assert_int_equal(atomic_load(&r.m.refused), 0);
    rig_down(&r);
    free(fdt);
}

/* A MIG_DATA_READ reply claiming more data than its payload holds: the
 * device fails, the save says so (padding is fine, a short payload not). */
static void test_mig_read_lies(void **state)
{
    void *fdt = new_tree();
    int node = fdt_add_subnode(fdt, 0, "vfio-user@s0");
    struct rig r;

    (void)state;
    rig_up(&r, 0x4000, true);
    memcpy(r.m.out, "final", 5);
    r.m.out_len = 5;
    r.m.lie = true;
    assert_int_equal(vfio_pci_quiesce(r.v.d), 0);
    assert_int_equal(vfio_pci_state_ops.save(r.v.d, fdt, node), -EPROTO);
    assert_true(vfio_client_failed(vfio_pci_client(r.v.d)));
    rig_down(&r);
    free(fdt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_encoding),
        cmocka_unit_test(test_identity_diff),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_mismatch_refused),
        cmocka_unit_test(test_no_migration),
        cmocka_unit_test(test_dirty_logging),
        cmocka_unit_test(test_pre_copy),
        cmocka_unit_test(test_mig_read_lies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
