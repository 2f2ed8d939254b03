/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-test phases: information commands, fd-backed and message-based DMA,
 * malformed input. Migration is in phases_mig.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "tools/vfu-test/phases.h"
#include "tools/vfu-test/phases_mig.h"
#include "tools/vfu-test/vtest.h"

#define MIB (1u << 20)

static void info_device(struct env *e, struct tc *t)
{
    struct vfio_user_device_info di = {.argsz = sizeof(di)};
    struct vfio_irq_info ii = {.argsz = sizeof(ii),
                               .index = VFIO_PCI_MSIX_IRQ_INDEX};
    int r;

    r = tc_call(t, VFIO_USER_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0);
    memcpy(&di, t->rbuf, sizeof(di));
    check(e, !r && di.num_regions == 9 && di.num_irqs == 5 &&
                 (di.flags & VFIO_DEVICE_FLAGS_PCI) &&
                 (di.flags & VFIO_DEVICE_FLAGS_RESET),
          "DEVICE_GET_INFO: PCI, reset, 9 regions, 5 IRQ indexes");
    r = tc_call(t, VFIO_USER_DEVICE_GET_IRQ_INFO, &ii, sizeof(ii), NULL, 0);
    memcpy(&ii, t->rbuf, sizeof(ii));
    check(e, !r && ii.count == 2 && (ii.flags & VFIO_IRQ_INFO_EVENTFD),
          "DEVICE_GET_IRQ_INFO: MSI-X, 2 vectors, eventfd");
    ii.index = 9;
    r = tc_call(t, VFIO_USER_DEVICE_GET_IRQ_INFO, &ii, sizeof(ii), NULL, 0);
    check(e, r == -EINVAL, "DEVICE_GET_IRQ_INFO: bad index -> EINVAL");
}

static void info_regions(struct env *e, struct tc *t)
{
    static const uint64_t sizes[9] = {0x1000, 0, 0x4000, 0, 0, 0, 0, 256, 0};
    struct vfio_region_info ri;
    struct vfio_user_region_io_fds_request io = {.argsz = 16, .index = 2};
    struct vfio_user_region_io_fds_reply rep;
    bool ok = true;
    uint32_t i;
    int r;

    for (i = 0; i < 9; i++) {
        memset(&ri, 0, sizeof(ri));
        ri.argsz = sizeof(ri);
        ri.index = i;
        r = tc_call(t, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, sizeof(ri),
                    NULL, 0);
        memcpy(&ri, t->rbuf, sizeof(ri));
        ok = ok && !r && ri.size == sizes[i] && ri.index == i;
    }
    check(e, ok, "DEVICE_GET_REGION_INFO: BAR0 4K, BAR2 16K, config 256");
    ri.index = 9;
    r = tc_call(t, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0);
    check(e, r == -EINVAL, "DEVICE_GET_REGION_INFO: bad index -> EINVAL");
    r = tc_call(t, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &io, sizeof(io), NULL,
                0);
    memcpy(&rep, t->rbuf, sizeof(rep));
    check(e, !r && rep.argsz == 56 && rep.count == 1 && !t->reply.nfds,
          "GET_REGION_IO_FDS: argsz too small -> needed argsz 56, no fds");
}

/* Vendor ID, device ID, the capability chain, BAR sizing. */
static void info_config(struct env *e, struct tc *t)
{
    uint32_t id = tc_rd(t, VFIO_PCI_CONFIG_REGION_INDEX, 0, 4);
    uint32_t seen = 0, bar;
    uint8_t at = (uint8_t)tc_rd(t, VFIO_PCI_CONFIG_REGION_INDEX, 0x34, 1);
    int n;

    check(e, id == 0x10421af4, "config space: vendor 0x1af4 device 0x1042");
    for (n = 0; at && n < 16; n++) {
        uint8_t capid = (uint8_t)tc_rd(t, 7, at, 1);

        if (capid == PCI_CAP_ID_MSIX)
            seen |= 1;
        else if (capid == PCI_CAP_ID_VNDR)
            seen |= 1u << (uint8_t)tc_rd(t, 7, at + 3u, 1);
        at = (uint8_t)tc_rd(t, 7, at + 1u, 1);
    }
    check(e, seen == 0x3f,
          "config space: MSI-X + virtio common/notify/ISR/device/pci caps");
    tc_wr(t, 7, PCI_BASE_ADDRESS_2, 0xffffffff, 4);
    bar = tc_rd(t, 7, PCI_BASE_ADDRESS_2, 4);
    tc_wr(t, 7, PCI_BASE_ADDRESS_2, 0, 4);
    check(e, bar == 0xffffc004, "config space: BAR2 sizes as 16K 64-bit");
}

static void pattern_io(struct env *e, struct dev *x, uint8_t seed,
                       const char *what)
{
    char msg[160];
    int r;

    fill(e->mem + TD_OUT, TD_BUF_SIZE, seed);
    memset(e->mem + TD_IN, 0, TD_BUF_SIZE);
    r = tdrv_transfer(&x->d, true, 0, IOVA + TD_OUT, TD_BUF_SIZE, 256 * 1024,
                      true);
    snprintf(msg, sizeof(msg), "%s: 4 MiB written through the virtqueue "
             "(%d)", what, r);
    check(e, !r, msg);
    r = tdrv_transfer(&x->d, false, 0, IOVA + TD_IN, TD_BUF_SIZE, 256 * 1024,
                      true);
    check(e, !r && !memcmp(e->mem + TD_IN, e->mem + TD_OUT, TD_BUF_SIZE),
          "4 MiB read back equals the pattern");
    check(e, disk_has(x->disk, 0, e->mem + TD_OUT, TD_BUF_SIZE),
          "disk file holds the 4 MiB pattern");
}

/* fd-backed DMA with twin socket; leaves @a running for migration. */
void phase_fd(struct env *e, struct dev *a)
{
    int r;

    r = make_disk(e, "a.img", a->disk, sizeof(a->disk));
    if (!r)
        r = start(e, &a->p, "a", a->disk);
    if (!r)
        r = tc_connect(&a->tc, a->p.sock, true, e->mem, IOVA, TD_MEM_SIZE);
    check(e, !r && a->tc.twin, "VERSION: negotiated, twin socket on");
    if (r)
        return;
    info_device(e, &a->tc);
    info_regions(e, &a->tc);
    info_config(e, &a->tc);
    r = tc_dma_map(&a->tc, IOVA, TD_MEM_SIZE, e->memfd, 0);
    check(e, !r, "DMA_MAP with fd");
    r = tc_dma_map(&a->tc, IOVA + 4096, 4096, e->memfd, 0);
    check(e, r == -EEXIST, "DMA_MAP overlapping -> EEXIST");
    r = tdrv_attach(&a->d, &a->tc, e->mem, IOVA);
    check(e, !r && a->d.ioev >= 0,
          "SET_IRQS (MSI-X eventfds), GET_REGION_IO_FDS (doorbell)");
    r = tdrv_init_device(&a->d);
    check(e, !r, "virtio init over REGION_WRITE and REGION_WRITE_MULTI");
    if (r)
        return;
    pattern_io(e, a, 1, "fd-backed DMA");
    check(e, counter(&a->p, "requests") >= 32 &&
                 counter(&a->p, "bytes_written") >= TD_BUF_SIZE &&
                 counter(&a->p, "bytes_read") >= TD_BUF_SIZE,
          "counters: >= 32 requests, 4 MiB each way");
    check(e, counter(&a->p, "doorbells_ioeventfd") > 0 &&
                 counter(&a->p, "doorbells_region_write") > 0 &&
                 counter(&a->p, "irqs_msix") > 0,
          "counters: doorbells by ioeventfd and REGION_WRITE, MSI-X irqs");
}

/* Message-based DMA (no fd): every access is DMA_READ/DMA_WRITE. */
void phase_msg(struct env *e, const char *name, bool twin)
{
    struct dev x;
    char what[96], img[32];
    int r;

    memset(&x, 0, sizeof(x));
    snprintf(img, sizeof(img), "%s.img", name);
    snprintf(what, sizeof(what), "message-based DMA, twin socket %s",
             twin ? "on" : "off");
    r = make_disk(e, img, x.disk, sizeof(x.disk));
    if (!r)
        r = start(e, &x.p, name, x.disk);
    if (!r)
        r = tc_connect(&x.tc, x.p.sock, twin, e->mem, IOVA, TD_MEM_SIZE);
    if (!r)
        r = tc_dma_map(&x.tc, IOVA, TD_MEM_SIZE, -1, 0);
    if (!r)
        r = tdrv_attach(&x.d, &x.tc, e->mem, IOVA);
    if (!r)
        r = tdrv_init_device(&x.d);
    check(e, !r && x.tc.twin == twin, what);
    if (!r) {
        pattern_io(e, &x, twin ? 2 : 3, what);
        check(e, counter(&x.p, "dma_messages") > 0 && x.tc.dma_reads > 0 &&
                     x.tc.dma_writes > 0,
              "counters: DMA_READ and DMA_WRITE messages served");
        r = tc_dma_unmap(&x.tc, IOVA, TD_MEM_SIZE);
        check(e, !r, "DMA_UNMAP");
    }
    tdrv_close(&x.d);
    tc_close(&x.tc);
    check(e, stop(&x.p) == 0, "vfu-blk exits 0 on SIGTERM");
}

/* Garbage framing: msg_size below the header. */
static int send_garbage(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct vfio_user_header h = {.msg_id = 1, .cmd = 4, .msg_size = 3};
    char b;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), r = -1;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
        write(fd, &h, sizeof(h)) == sizeof(h))
        r = read(fd, &b, 1) == 0 ? 0 : -1; /* server closes */
    if (fd >= 0)
        close(fd);
    return r;
}

static void negative_cmds(struct env *e, struct tc *t)
{
    struct vfio_user_region_access a = {.offset = 0, .region = 42,
                                        .count = 4};
    struct vfio_irq_set s = {.argsz = 20, .index = 7,
                             .flags = VFIO_IRQ_SET_DATA_NONE |
                                      VFIO_IRQ_SET_ACTION_TRIGGER};
    uint8_t v[8] = {0};

    check(e, tc_call(t, 99, NULL, 0, NULL, 0) == -ENOTSUP,
          "unknown command -> ENOTSUP");
    check(e, tc_call(t, VFIO_USER_REGION_READ, &a, sizeof(a), NULL, 0) ==
                 -EINVAL, "REGION_READ bad region -> EINVAL");
    a.region = 7;
    a.offset = 254;
    check(e, tc_call(t, VFIO_USER_REGION_READ, &a, sizeof(a), NULL, 0) ==
                 -EINVAL, "REGION_READ past the end -> EINVAL");
    check(e, tc_call(t, VFIO_USER_REGION_READ, &a, 3, NULL, 0) == -EINVAL,
          "truncated REGION_READ -> EINVAL");
    check(e, tc_call(t, VFIO_USER_DEVICE_SET_IRQS, &s, sizeof(s), NULL, 0) ==
                 -EINVAL, "SET_IRQS bad index -> EINVAL");
    check(e, tc_dma_unmap(t, 0x1000, 0x1000) == -ENOENT,
          "DMA_UNMAP of nothing -> ENOENT");
    check(e, tc_call(t, VFIO_USER_VERSION, v, 4, NULL, 0) == -EINVAL,
          "second VERSION -> EINVAL");
    check(e, tc_feature(t, VFIO_DEVICE_FEATURE_GET | 99, NULL, 0, 64, NULL,
                        0, NULL) == -ENOTSUP,
          "DEVICE_FEATURE unknown feature -> ENOTSUP");
    check(e, tc_call(t, VFIO_USER_MIG_DATA_WRITE, v, 8, NULL, 0) == -EINVAL,
          "MIG_DATA_WRITE outside RESUMING -> EINVAL");
}

void phase_negative(struct env *e)
{
    struct dev x;
    int r;

    memset(&x, 0, sizeof(x));
    r = make_disk(e, "n.img", x.disk, sizeof(x.disk));
    if (!r)
        r = start(e, &x.p, "n", x.disk);
    if (r)
        return check(e, false, "start vfu-blk");
    check(e, tc_raw_version(x.p.sock, "{\"capabilities\": [1,") == -EINVAL,
          "VERSION with malformed JSON -> EINVAL");
    check(e, tc_raw_version(x.p.sock, "{\"capabilities\":"
                                      "{\"max_msg_fds\":-5}}") == -EINVAL,
          "VERSION with out-of-range capability -> EINVAL");
    check(e, send_garbage(x.p.sock) == 0, "garbage framing: connection closed");
    r = tc_connect(&x.tc, x.p.sock, false, e->mem, IOVA, TD_MEM_SIZE);
    check(e, !r, "server still accepts a client afterwards");
    if (r)
        goto out;
    negative_cmds(e, &x.tc);
    r = tc_dma_map(&x.tc, IOVA, TD_MEM_SIZE, e->memfd, 0);
    if (!r)
        r = tdrv_attach(&x.d, &x.tc, e->mem, IOVA);
    if (!r)
        r = tdrv_init_device(&x.d);
    tdrv_close(&x.d);
    tc_close(&x.tc);
    r = r ? r : tc_connect(&x.tc, x.p.sock, true, e->mem, IOVA, TD_MEM_SIZE);
    check(e, !r && tc_rd(&x.tc, 2, VIRTIO_PCI_COMMON_STATUS, 1) == 0x0f,
          "reconnect: device state kept (status DRIVER_OK)");
    check(e, tc_dma_unmap(&x.tc, IOVA, TD_MEM_SIZE) == -ENOENT,
          "reconnect: old DMA maps gone");
    r = tc_call(&x.tc, VFIO_USER_DEVICE_RESET, NULL, 0, NULL, 0);
    check(e, !r && tc_rd(&x.tc, 2, VIRTIO_PCI_COMMON_STATUS, 1) == 0,
          "DEVICE_RESET: virtio status back to 0");
    tc_close(&x.tc);
out:
    check(e, stop(&x.p) == 0, "vfu-blk exits 0 on SIGTERM");
}

void run_all(struct env *e)
{
    struct dev a;

    memset(&a, 0, sizeof(a));
    phase_fd(e, &a);
    phase_msg(e, "m1", true);
    phase_msg(e, "m2", false);
    phase_migrate(e, &a);
    phase_negative(e);
    if (a.p.pid > 0)
        stop(&a.p);
}
