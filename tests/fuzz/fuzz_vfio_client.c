/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the vfio-user client side as the VMM drives it, fed by
 * a scripted fake server over a socketpair: vfio_pci_create() (VERSION,
 * DEVICE_GET_INFO, identity, REGION_INFO with sparse-mmap and type
 * capability chains, GET_REGION_IO_FDS in the spec's 40-byte and
 * libvfio-user's 48-byte layouts, IRQ_INFO, config space reads with MSI-X
 * and MSI capabilities, DMA_MAP), then run time: config cycles (BARs,
 * Command, MSI-X and MSI enable: SET_IRQS), MSI-X table writes, trapped
 * BAR reads/writes (memory and I/O), server->client DMA_READ/DMA_WRITE in
 * the middle of a request, the migration probe, quiesce/resume, dirty
 * logging, reset and destroy. No KVM: a fake hypervisor (devices/hv.h)
 * accepts every memslot, ioeventfd, MSI route and irqfd.
 *
 * FUZZ_SRCS: vfio/pci/pci_dev.c vfio/pci/pci_dev_bar.c vfio/pci/pci_dev_irq.c vfio/pci/pci_dev_state.c vfio/pci/pci_dev_dirty.c vfio/pci/pci_dev_mig_v1.c
 * FUZZ_SRCS: vfio/pci/pci_dev_ctx.c vfio/pci/pci_dev_mig.c
 * FUZZ_SRCS: vfio/client/client.c vfio/client/client_info.c vfio/client/client_io.c vfio/client/client_dma.c vfio/client/client_mig.c vfio/client/client_mig_v1.c
 * FUZZ_SRCS: vfio/proto/conn.c vfio/proto/caps.c vfio/client/iommu.c vfio/proto/migration.c
 * FUZZ_SRCS: devices/pci.c devices/pci_cfg.c devices/pci_bar.c devices/pci_alloc.c devices/msix.c
 * FUZZ_SRCS: vmm/bus.c vmm/memory.c vmm/dirty.c vmm/state.c vmm/kvm.c vmm/log.c
 * FUZZ_SRCS: vfio/proto/frame.c vfio/proto/chan.c vfio/proto/cmdq.c vfio/proto/endpoint.c vfio/proto/endpoint_life.c vfio/client/client_core.c
 * FUZZ_SRCS: devices/msix_route.c devices/msix_state.c
 * FUZZ_PKGS: json-c
 * FUZZ_LIBS: -lfdt
 * FUZZ_ARGS: -max_len=1024 -len_control=0
 *
 * Input: one option byte, then one script step per command the client
 * sends, in order (the default reply once the input is used up):
 *   [op][len][len bytes]   op % 6:
 *     0 the default reply (a sane virtio-like device, below)
 *     1 the default reply patched: bytes[0..1] an offset (modulo the
 *       reply's length), the rest written there
 *     2 a reply whose payload is the bytes, as they are
 *     3 an error reply, errno bytes[0]
 *     4 first a DMA_READ (bytes[0] even) or DMA_WRITE command with the
 *       rest as its payload, then the default reply
 *     5 the server hangs up
 * Options: bit 0 io-fd entries in libvfio-user's 48-byte layout; bit 1
 * dma=message; bit 2 posted BAR writes; bit 3 the server offers
 * migration (DEVICE_FEATURE replies come from the script's bytes).
 * The client must never crash, leak or hang (ASan, the fuzzer's timeout);
 * whatever the server sends it refuses or survives.
 * Seeds: tests/fuzz/corpus/fuzz_vfio_client/.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vmm/hv.h"
#include "devices/pci.h"
#include "vfio/proto/caps.h"
#include "vfio/client/client.h"
#include "vfio/proto/conn.h"
#include "vfio/pci/pci_dev.h"
#include "vfio/proto/proto.h"
#include "vmm/bus.h"
#include "vmm/memory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NREG       9        /* BARs 0-5, ROM, config (7), VGA */
#define REG_BYTES  0x4000u  /* every region's backing here */
#define CFG        VFIO_PCI_CONFIG_REGION_INDEX
#define BDF        PCI_BDF(0, 1, 0)
#define MAXPAY     8192u

struct srv {
    struct vfio_user_conn *conn;
    pthread_t th;
    const uint8_t *in;      /* the script */
    size_t left;
    uint8_t opt;
    uint32_t state;         /* migration device state (option bit 3) */
    int memfd;              /* mmap-able BAR backing */
    int efd;                /* sent with io-fds */
    uint8_t mem[NREG][REG_BYTES];
    uint8_t rep[MAXPAY];    /* the reply being built */
};

/* ---- the default device ------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Config space: BAR0 mem32 16 KiB (MSI-X table at 0, PBA at 0x800, sparse
 * areas above), BAR2 mem64 16 KiB (io-fds), BAR4 I/O 256 bytes, MSI-X at
 * 0x40, MSI (64-bit, per-vector mask) at 0x50, INTx pin A. */
static void default_config(uint8_t *c)
{
    put32(c, 0x10421af4);
    put32(c + 8, 0x01800001);
    put16(c + PCI_STATUS, PCI_STATUS_CAP_LIST);
    put32(c + PCI_BASE_ADDRESS_0, 0);
    put32(c + PCI_BASE_ADDRESS_2, PCI_BASE_ADDRESS_MEM_TYPE_64);
    put32(c + PCI_BASE_ADDRESS_4, PCI_BASE_ADDRESS_SPACE_IO);
    c[PCI_CAPABILITY_LIST] = 0x40;
    c[PCI_INTERRUPT_PIN] = 1;
    c[0x40] = PCI_CAP_ID_MSIX;
    c[0x41] = 0x50;
    put16(c + 0x42, 3);
    put32(c + 0x44, 0);
    put32(c + 0x48, 0x800);
    c[0x50] = PCI_CAP_ID_MSI;
    put16(c + 0x52, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT |
                        (2 << 1));
}

static uint32_t region_size(unsigned int i)
{
    return i == 0 || i == 2 ? REG_BYTES : i == 4 ? 256 : i == CFG ? 4096 : 0;
}

/* BAR0's capability chain at 32: sparse mmap (2 areas), region type. */
static uint32_t region_caps(uint8_t *b)
{
    struct vfio_region_info_cap_sparse_mmap s = {
        .header = {VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, 32 + 48},
        .nr_areas = 2,
    };
    struct vfio_region_sparse_mmap_area a[2] = {{0x1000, 0x1000},
                                                {0x2000, 0x2000}};
    struct vfio_region_info_cap_type t = {
        .header = {VFIO_REGION_INFO_CAP_TYPE, 1, 0}, .type = 1,
        .subtype = 1,
    };

    memcpy(b, &s, 16);
    memcpy(b + 16, a, 32);
    memcpy(b + 48, &t, sizeof(t));
    return 48 + sizeof(t);
}

static uint32_t reply_region_info(struct srv *s, const uint8_t *p,
                                  int *fd)
{
    struct vfio_region_info ri;
    uint32_t len = sizeof(ri);

    memcpy(&ri, p, sizeof(ri));
    ri.size = ri.index < NREG ? region_size(ri.index) : 0;
    ri.flags = ri.size ? VFIO_REGION_INFO_FLAG_READ |
                             VFIO_REGION_INFO_FLAG_WRITE : 0;
    ri.offset = ri.cap_offset = 0;
    if (ri.index == 0 || ri.index == 2) {
        ri.flags |= VFIO_REGION_INFO_FLAG_MMAP;
        *fd = s->memfd;
    }
    if (ri.index == 0) {
        ri.flags |= VFIO_REGION_INFO_FLAG_CAPS;
        ri.cap_offset = 32;
        len += region_caps(s->rep + len);
    }
    ri.argsz = len;
    memcpy(s->rep, &ri, sizeof(ri));
    return len;
}

/* BAR2: two ioeventfds (a doorbell at 0x3000, a datamatch one at 0x3008). */
static uint32_t reply_io_fds(struct srv *s, const uint8_t *p, int *fd)
{
    struct vfio_user_region_io_fds_request q;
    uint32_t stride = (s->opt & 1) ? 48 : 40;
    struct vfio_user_region_io_fds_reply h = {16, 0, 0, 0};

    memcpy(&q, p, sizeof(q));
    h.index = q.index;
    memset(s->rep, 0, 16 + 2 * 48);
    if (q.index == 2) {
        struct vfio_user_sub_region_ioeventfd e[2] = {
            {0x3000, 4, 0, VFIO_USER_IO_FD_TYPE_IOEVENTFD, 0, 0, 0},
            {0x3008, 4, 0, VFIO_USER_IO_FD_TYPE_IOEVENTFD,
             KVM_IOEVENTFD_FLAG_DATAMATCH, 0, 7},
        };

        h.count = 2;
        h.argsz = 16 + 2 * stride;
        memcpy(s->rep + 16, &e[0], 40);
        memcpy(s->rep + 16 + stride, &e[1], 40);
        *fd = s->efd;
    }
    memcpy(s->rep, &h, 16);
    return h.argsz;
}

static uint32_t reply_rw(struct srv *s, const uint8_t *p, uint32_t n,
                         bool wr)
{
    struct vfio_user_region_access a;

    memcpy(&a, p, sizeof(a));
    if (a.region >= NREG || a.offset > REG_BYTES ||
        a.count > REG_BYTES - a.offset || a.count > MAXPAY - 16)
        return 0;
    memcpy(s->rep, &a, 16);
    if (wr) {
        if (a.count <= n - 16)
            memcpy(s->mem[a.region] + a.offset, p + 16, a.count);
        return 16;
    }
    memcpy(s->rep + 16, s->mem[a.region] + a.offset, a.count);
    return 16 + a.count;
}

static uint32_t reply_simple(struct srv *s, const struct vfio_user_msg *m)
{
    struct vfio_user_device_info di = {16, VFIO_DEVICE_FLAGS_PCI |
                                               VFIO_DEVICE_FLAGS_RESET,
                                       NREG, 5};
    struct vfio_irq_info ii;
    static const uint32_t counts[5] = {1, 4, 4, 0, 0};

    switch (m->hdr.cmd) {
    case VFIO_USER_DEVICE_GET_INFO:
        memcpy(s->rep, &di, sizeof(di));
        return sizeof(di);
    case VFIO_USER_DEVICE_GET_IRQ_INFO:
        memcpy(&ii, m->payload, sizeof(ii));
        ii.flags = VFIO_IRQ_INFO_EVENTFD;
        ii.count = ii.index < 5 ? counts[ii.index] : 0;
        memcpy(s->rep, &ii, sizeof(ii));
        return sizeof(ii);
    case VFIO_USER_DMA_UNMAP:
        memcpy(s->rep, m->payload, m->payload_len < 24 ? m->payload_len : 24);
        return 24;
    default:
        return 0;
    }
}

/* Migration v2 (option bit 3): the MIGRATION feature offers STOP_COPY
 * and PRE_COPY; the device state is kept (SET echoed, GET answered);
 * other features are echoed (a DMA log report of zeros). */
static int reply_feature(struct srv *s, const struct vfio_user_msg *m)
{
    struct vfio_user_device_feature f;
    struct vfio_user_device_feature_mig_state st = {s->state, 0};
    uint64_t flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY;
    const uint8_t *data = (const uint8_t *)m->payload + sizeof(f);

    if (!(s->opt & 8) || m->payload_len < sizeof(f) ||
        m->payload_len > MAXPAY)
        return -ENOTSUP;
    memcpy(&f, m->payload, sizeof(f));
    memcpy(s->rep, m->payload, m->payload_len);
    switch (f.flags & VFIO_DEVICE_FEATURE_MASK) {
    case VFIO_DEVICE_FEATURE_MIGRATION:
        memcpy(s->rep + sizeof(f), &flags, sizeof(flags));
        return (int)(sizeof(f) + sizeof(flags));
    case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
        if ((f.flags & VFIO_DEVICE_FEATURE_SET) &&
            m->payload_len >= sizeof(f) + 4)
            memcpy(&s->state, data, 4);
        st.device_state = s->state;
        memcpy(s->rep + sizeof(f), &st, sizeof(st));
        return (int)(sizeof(f) + sizeof(st));
    default: /* echoed, zeros up to argsz (a DMA log report's bitmap) */
        if (f.argsz <= m->payload_len || f.argsz > MAXPAY)
            return (int)m->payload_len;
        memset(s->rep + m->payload_len, 0, f.argsz - m->payload_len);
        return (int)f.argsz;
    }
}

/* MIG_DATA_READ: no data (end of the stream); MIG_DATA_WRITE: taken. */
static int reply_mig_data(struct srv *s, const struct vfio_user_msg *m)
{
    struct vfio_user_mig_data h = {8, 0};

    if (!(s->opt & 8))
        return -ENOTSUP;
    if (m->hdr.cmd == VFIO_USER_MIG_DATA_WRITE)
        return 0;
    memcpy(s->rep, &h, sizeof(h));
    return sizeof(h);
}

/* The default reply to @m in s->rep: its length, or -errno. */
static int default_reply(struct srv *s, const struct vfio_user_msg *m,
                         int *fd)
{
    const uint8_t *p = m->payload;

    switch (m->hdr.cmd) {
    case VFIO_USER_DEVICE_GET_REGION_INFO:
        return m->payload_len < 32 ? -EINVAL
                                   : (int)reply_region_info(s, p, fd);
    case VFIO_USER_DEVICE_GET_REGION_IO_FDS:
        return m->payload_len < 16 ? -EINVAL : (int)reply_io_fds(s, p, fd);
    case VFIO_USER_REGION_READ:
    case VFIO_USER_REGION_WRITE:
        if (m->payload_len < 16)
            return -EINVAL;
        return (int)reply_rw(s, p, m->payload_len,
                             m->hdr.cmd == VFIO_USER_REGION_WRITE) ?: -EINVAL;
    case VFIO_USER_DEVICE_FEATURE:
        return reply_feature(s, m);
    case VFIO_USER_MIG_DATA_READ:
    case VFIO_USER_MIG_DATA_WRITE:
        return reply_mig_data(s, m);
    case VFIO_USER_DEVICE_GET_INFO:
    case VFIO_USER_DEVICE_GET_IRQ_INFO:
    case VFIO_USER_DMA_UNMAP:
        return (int)reply_simple(s, m);
    case VFIO_USER_DMA_MAP:
    case VFIO_USER_DEVICE_SET_IRQS:
    case VFIO_USER_DEVICE_RESET:
        return 0;
    default:
        return -ENOTSUP;
    }
}

/* ---- the script --------------------------------------------------------- */

static int version(struct srv *s, struct vfio_user_msg *m)
{
    struct vfio_user_caps mine, cli, rep;
    uint16_t major, minor;
    void *p;
    size_t len;
    int r;

    vfio_user_caps_default(&mine);
    mine.max_msg_fds = 8;
    if (vfio_user_version_decode(m->payload, m->payload_len, &major, &minor,
                                 &cli, NULL, 0) ||
        vfio_user_caps_negotiate_server(&mine, &cli, &rep, NULL, 0))
        return -EINVAL;
    rep.twin_socket = false;
    if (vfio_user_version_encode(major, minor, &rep, &p, &len))
        return -ENOMEM;
    r = vfio_user_conn_send_reply(s->conn, VFIO_USER_CHAN_MAIN, &m->hdr, p,
                                  len, NULL, 0);
    free(p);
    vfio_user_conn_set_caps(s->conn, &mine, &rep);
    return r;
}

/* The next script step: op, and its bytes in @b (@n of them). */
static int next_step(struct srv *s, const uint8_t **b, uint32_t *n)
{
    uint8_t op, len;

    if (s->left < 2) {
        *n = 0;
        return 0;
    }
    op = s->in[0] % 6;
    len = s->in[1];
    if (len > s->left - 2)
        len = (uint8_t)(s->left - 2);
    *b = s->in + 2;
    *n = len;
    s->in += 2 + len;
    s->left -= 2 + (size_t)len;
    return op;
}

static void dma_command(struct srv *s, const uint8_t *b, uint32_t n)
{
    uint16_t id;

    if (n == 0)
        return;
    vfio_user_conn_send_command(s->conn, VFIO_USER_CHAN_MAIN,
                                (b[0] & 1) ? VFIO_USER_DMA_WRITE
                                           : VFIO_USER_DMA_READ,
                                0, b + 1, n - 1, NULL, 0, &id);
}

/* Answer one command; false: hang up. */
static bool serve(struct srv *s, struct vfio_user_msg *m)
{
    const uint8_t *b = NULL;
    uint32_t n, off;
    int op = next_step(s, &b, &n), fd = -1, len;

    if (op == 5)
        return false;
    if (op == 4)
        dma_command(s, b, n);
    if (m->hdr.cmd == VFIO_USER_VERSION && op != 2 && op != 3)
        return version(s, m) == 0;
    len = op == 2 ? (int)n : op == 3 ? -(b && n ? b[0] : EIO)
                                      : default_reply(s, m, &fd);
    if (op == 2)
        memcpy(s->rep, b, n);
    if (op == 1 && len > 0 && n >= 2) {
        off = (uint32_t)(b[0] | b[1] << 8) % (uint32_t)len;
        memcpy(s->rep + off, b + 2,
               n - 2 < (uint32_t)len - off ? n - 2 : (uint32_t)len - off);
    }
    if (m->hdr.flags & VFIO_USER_F_NO_REPLY)
        return true;
    if (len < 0)
        return vfio_user_conn_send_error(s->conn, VFIO_USER_CHAN_MAIN,
                                         &m->hdr, -len ?: EIO) == 0;
    return vfio_user_conn_send_reply(s->conn, VFIO_USER_CHAN_MAIN, &m->hdr,
                                     s->rep, (size_t)len, &fd,
                                     fd >= 0 ? 1 : 0) == 0;
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    struct vfio_user_expect exp;
    struct vfio_user_msg *m = calloc(1, sizeof(*m));

    m->payload_cap = 1u << 20;
    m->payload = malloc(m->payload_cap);
    for (;;) {
        vfio_user_conn_expect_command(s->conn, &exp);
        exp.type = VFIO_USER_EXPECT_ANY;
        exp.any_reply_id = true;
        exp.max_fds = 64;
        int r = vfio_user_conn_recv(s->conn, VFIO_USER_CHAN_MAIN, &exp,
                                    false, m, NULL);

        if (r == -ECONNRESET || r == -ENOTCONN || r == -EBADMSG ||
            r == -EPIPE || vfio_user_conn_failed(s->conn))
            break;
        if (r == 0 && (m->hdr.flags & VFIO_USER_F_TYPE_MASK) ==
                          VFIO_USER_F_TYPE_COMMAND && !serve(s, m)) {
            vfio_user_msg_close_fds(m);
            break;
        }
        vfio_user_msg_close_fds(m);
    }
    shutdown(vfio_user_conn_fd(s->conn, VFIO_USER_CHAN_MAIN), SHUT_RDWR);
    free(m->payload);
    free(m);
    return NULL;
}

/* ---- a hypervisor that accepts everything -------------------------------- */

static int h_msi_add(void *o, uint64_t a, uint32_t d, uint32_t *gsi)
{
    (void)o, (void)a, (void)d;
    *gsi = 24;
    return 0;
}

static int h_msi_update(void *o, uint32_t gsi, uint64_t a, uint32_t d)
{
    (void)o, (void)gsi, (void)a, (void)d;
    return 0;
}

static int h_msi_del(void *o, uint32_t gsi)
{
    (void)o, (void)gsi;
    return 0;
}

static int h_irqfd(void *o, int fd, uint32_t gsi, int rfd, bool assign)
{
    (void)o, (void)fd, (void)gsi, (void)rfd, (void)assign;
    return 0;
}

static int h_ioeventfd(void *o, int fd, uint64_t addr, uint32_t len,
                       bool pio, bool dm, uint64_t data, bool assign)
{
    (void)o, (void)fd, (void)addr, (void)len, (void)pio, (void)dm;
    (void)data, (void)assign;
    return 0;
}

static int h_slot_add(void *o, uint64_t gpa, uint64_t size, void *hva,
                      bool ro, uint32_t *slot)
{
    (void)o, (void)gpa, (void)size, (void)hva, (void)ro;
    *slot = 0;
    return 0;
}

static int h_slot_del(void *o, uint32_t slot)
{
    (void)o, (void)slot;
    return 0;
}

static const struct hv_ops hv_ops = {
    h_msi_add, h_msi_update, h_msi_del, h_irqfd, h_ioeventfd, h_slot_add,
    h_slot_del, NULL,
};

/* ---- the VMM side ------------------------------------------------------- */

static void cfg_wr(struct pci_bus *bus, uint32_t off, uint32_t len,
                   uint32_t v)
{
    pci_cfg_write(bus, BDF, off, &v, len);
}

/* What a guest does with the device once it exists. */
static void run_time(struct vfio_pci *d, struct pci_bus *bus,
                     struct bus *mmio, struct bus *pio)
{
    uint32_t v = 0, entry[4] = {0xFEE00000, 0, 0x41, 0};
    uint64_t flags = 0, count = 0, bits[1] = {0};

    for (uint32_t off = 0; off < 0x100; off += 4)
        pci_cfg_read(bus, BDF, off, &v, 4);
    cfg_wr(bus, PCI_BASE_ADDRESS_0, 4, 0xC0010000);
    cfg_wr(bus, PCI_BASE_ADDRESS_2, 4, 0xC0000000);
    cfg_wr(bus, PCI_BASE_ADDRESS_3, 4, 0);
    cfg_wr(bus, PCI_BASE_ADDRESS_4, 4, 0xC000);
    cfg_wr(bus, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
    cfg_wr(bus, 0x42, 2, PCI_MSIX_FLAGS_ENABLE);
    for (int i = 0; i < 4; i++)
        bus_dispatch(mmio, 0xC0010000 + 4 * (uint64_t)i, &entry[i], 4, true);
    bus_dispatch(mmio, 0xC0000010, &v, 4, false);
    bus_dispatch(mmio, 0xC0000010, &v, 4, true);
    bus_dispatch(pio, 0xC004, &v, 2, false);
    bus_dispatch(pio, 0xC004, &v, 2, true);
    cfg_wr(bus, 0x52, 2, PCI_MSI_FLAGS_ENABLE);
    vfio_pci_handle_ready(d);
    if (vfio_pci_mig_flags(d, &flags) == 0 && flags) {
        if (vfio_pci_dirty_start(d) == 0) {
            vfio_pci_dirty_sync(d, bits, 16, &count);
            vfio_pci_dirty_stop(d);
        }
        if (vfio_pci_quiesce(d) == 0)
            vfio_pci_resume(d);
    }
    pci_bus_reset(bus);
    vfio_pci_handle_ready(d);
}

struct vmm {
    struct bus *mmio, *pio;
    struct pci_bus *bus;
    struct guest_memory gm;
};

static int vmm_up(struct vmm *v)
{
    struct pci_bus_config bc;

    memset(v, 0, sizeof(*v));
    if (bus_create("mmio", &v->mmio) || bus_create("pio", &v->pio))
        abort();
    bc = (struct pci_bus_config){.mmio = v->mmio, .pio = v->pio,
                                 .intx_gsi_base = 16};
    if (pci_bus_create(&bc, &v->bus) ||
        guest_memory_create(16 * 4096, &v->gm))
        abort();
    return 0;
}

static void vmm_down(struct vmm *v)
{
    pci_bus_destroy(v->bus);
    bus_destroy(v->mmio);
    bus_destroy(v->pio);
    guest_memory_destroy(&v->gm);
}

static struct srv *srv_up(const uint8_t *data, size_t size, int *cfd)
{
    struct srv *s = calloc(1, sizeof(*s));
    int sv[2];

    if (!s || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ||
        vfio_user_conn_new(sv[1], &s->conn))
        abort();
    s->opt = data[0];
    s->state = VFIO_DEVICE_STATE_RUNNING;
    s->in = data + 1;
    s->left = size - 1;
    s->memfd = memfd_create("bar", MFD_CLOEXEC);
    s->efd = memfd_create("efd", MFD_CLOEXEC);
    if (s->memfd < 0 || s->efd < 0 || ftruncate(s->memfd, REG_BYTES))
        abort();
    default_config(s->mem[CFG]);
    *cfd = sv[0];
    if (pthread_create(&s->th, NULL, srv_main, s))
        abort();
    return s;
}

static void srv_down(struct srv *s)
{
    pthread_join(s->th, NULL);
    vfio_user_conn_free(s->conn);
    close(s->memfd);
    close(s->efd);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vmm v;
    struct vfio_pci *d = NULL;
    struct vfio_pci_env env;
    struct vfio_pci_opts o = {.name = "fz", .timeout_ms = 2000};
    char err[256];
    struct srv *s;

    if (size < 1)
        return 0;
    vmm_up(&v);
    s = srv_up(data, size, &o.sock_fd);
    o.dma_message = data[0] & 2;
    o.posted_writes = data[0] & 4;
    env = (struct vfio_pci_env){.bus = v.bus, .hv = {&hv_ops, NULL},
                                .mem = &v.gm};
    err[0] = 0;
    if (vfio_pci_create(&env, &o, &d, err, sizeof(err)) == 0)
        run_time(d, v.bus, v.mmio, v.pio);
    if (getenv("FUZZ_VERBOSE")) /* to check what a seed reaches */
        fprintf(stderr, "fuzz_vfio_client: create: %s; alive at the end: "
                "%d\n", d ? "ok" : err, d ? vfio_pci_alive(d) : 0);
    vfio_pci_destroy(d);
    srv_down(s);
    vmm_down(&v);
    return 0;
}
