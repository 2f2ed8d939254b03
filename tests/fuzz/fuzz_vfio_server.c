/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the vfio-user server core's handling of client
 * messages (vfio/server*.c), over a real socketpair.
 *
 * FUZZ_SRCS: vfio/server/server.c vfio/server/server_io.c vfio/server/server_dma.c vfio/server/server_mig.c vfio/server/server_mig_v1.c vfio/proto/conn.c vfio/proto/caps.c vfio/proto/migration.c
 * FUZZ_SRCS: vfio/proto/frame.c vfio/proto/chan.c vfio/proto/cmdq.c vfio/proto/endpoint.c vfio/proto/endpoint_life.c vmm/log.c vfio/server/server_core.c
 * FUZZ_PKGS: json-c
 *
 * Input: one control byte, then the bytes a client sends.
 *   bit 0: a 64 KiB memfd travels with the first fuzzed message (DMA_MAP)
 *   bit 1: two eventfds travel with the first fuzzed message (SET_IRQS)
 *   bit 2: a valid VERSION handshake is done first, so the bytes reach
 *          the READY state's commands
 *   bit 3: offer twin_socket in that handshake
 *   bit 4: the device serves migration v1 (spec 0.9.1: the migration
 *          region, DIRTY_PAGES) and the handshake proposes "migration"
 * The whole input is written, the write side shut, and the server run
 * until it has consumed everything and dropped the client; replies are
 * drained. A fake device (regions with sparse areas and ioeventfds, INTx
 * and MSI-X, migration) turns region writes into DMA translations and
 * dirty marks, or into posted DMA_WRITE/READ messages (a map without
 * fd). The server must never crash, hang or leak (ASan).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfio/server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (48u * 1024)

static int fake_access(void *opaque, uint32_t region, uint64_t off, void *buf,
                       uint32_t len, bool write)
{
    struct vfio_srv **sp = opaque;
    uint64_t iova = 0;
    uint8_t *p;

    if (!write) {
        memset(buf, (int)(region + off), len);
        return region == 3 ? -EIO : 0;
    }
    if (region != 1 || off != 0 || len != 8 || !*sp)
        return 0;
    memcpy(&iova, buf, 8);
    p = vfio_srv_dma_translate(*sp, iova, 64, true);
    if (p) {
        memset(p, 0xa5, 64);
        vfio_srv_dma_write(*sp, iova, buf, 8); /* fd-backed: a memcpy */
    } else {
        /* A map without fd: posted DMA_WRITE and DMA_READ messages, whose
         * replies (any the input carries, matched by msg_id) go through
         * the endpoint's split reply and the server's reply checks. */
        uint8_t rd[16];

        vfio_srv_dma_write_posted(*sp, iova, buf, 8);
        vfio_srv_dma_read_posted(*sp, iova, rd, sizeof(rd));
        vfio_srv_dma_flush(*sp);
    }
    vfio_srv_dma_mark_dirty(*sp, iova, 4096);
    vfio_srv_irq_trigger(*sp, VFIO_PCI_MSIX_IRQ_INDEX, (uint32_t)iova & 3);
    return 0;
}

static int fake_reset(void *opaque)
{
    (void)opaque;
    return 0;
}

static int fake_arc(void *opaque, uint32_t from, uint32_t to)
{
    (void)opaque;
    (void)from;
    (void)to;
    return 0;
}

static int fake_save(void *opaque, void **buf, size_t *len)
{
    (void)opaque;
    *buf = calloc(1, 10000);
    *len = 10000;
    return *buf ? 0 : -ENOMEM;
}

static int fake_load(void *opaque, const void *buf, size_t len)
{
    (void)opaque;
    (void)buf;
    return len == 10000 ? 0 : -EINVAL;
}

static const struct vfio_srv_dev_ops fake_ops = {
    .region_access = fake_access,
    .reset = fake_reset,
    .mig_arc = fake_arc,
    .mig_save = fake_save,
    .mig_load = fake_load,
};

static const struct vfio_srv_sparse sparse[2] = {{0, 4096}, {8192, 4096}};
static const struct vfio_srv_ioeventfd ioev[2] = {
    {.offset = 0x3000, .cookie = 0},
    {.offset = 0x3004, .size = 2, .flags = 1, .datamatch = 1, .cookie = 1},
};

static void fill_dev(struct vfio_srv_dev *d, struct vfio_srv_region *rg,
                     int mfd, struct vfio_srv **sp)
{
    memset(d, 0, sizeof(*d));
    memset(rg, 0, 9 * sizeof(*rg));
    rg[0] = (struct vfio_srv_region){.size = 16384, .flags = 7,
                                     .mmap_fd = mfd, .sparse = sparse,
                                     .nr_sparse = 2, .type = 3,
                                     .subtype = 1};
    rg[1] = (struct vfio_srv_region){.size = 4096, .flags = 3,
                                     .mmap_fd = -1};
    rg[2] = (struct vfio_srv_region){.size = 0x4000, .flags = 3,
                                     .mmap_fd = -1, .ioeventfds = ioev,
                                     .nr_ioeventfds = 2};
    rg[3] = (struct vfio_srv_region){.size = 64, .flags = 1, .mmap_fd = -1};
    rg[7] = (struct vfio_srv_region){.size = 256, .flags = 3,
                                     .mmap_fd = -1};
    d->regions = rg;
    d->num_regions = 9;
    d->num_irqs = 5;
    d->irq_count[VFIO_PCI_INTX_IRQ_INDEX] = 1;
    d->irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = 4;
    d->mig_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY;
    d->ops = &fake_ops;
    d->opaque = sp;
}

/* A VERSION command (JSON caps) at @buf; returns its length. */
static size_t version_msg(uint8_t *buf, bool twin, bool v1)
{
    char j[200];
    size_t jl;

    snprintf(j, sizeof(j), "{\"capabilities\":{\"max_msg_fds\":4%s%s}}",
             twin ? ",\"twin_socket\":{\"supported\":true}" : "",
             v1 ? ",\"migration\":{\"pgsize\":4096}" : "");
    jl = strlen(j) + 1;
    struct vfio_user_header h = {.msg_id = 0, .cmd = VFIO_USER_VERSION,
                                 .msg_size = (uint32_t)(16 + 4 + jl)};
    struct vfio_user_version v = {0, 1};

    memcpy(buf, &h, 16);
    memcpy(buf + 16, &v, 4);
    memcpy(buf + 20, j, jl);
    return h.msg_size;
}

static int send_input(int fd, const uint8_t *buf, size_t len, const int *fds,
                      unsigned int nfds)
{
    union {
        char b[CMSG_SPACE(3 * sizeof(int))];
        struct cmsghdr a;
    } u;
    struct iovec iov = {(void *)buf, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    struct cmsghdr *c;

    if (nfds) {
        memset(&u, 0, sizeof(u));
        mh.msg_control = u.b;
        mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
    }
    return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Read and drop what the server sent, closing received fds. */
static void drain(int fd)
{
    static char buf[65536];
    union {
        char b[CMSG_SPACE(64 * sizeof(int))];
        struct cmsghdr a;
    } u;
    struct iovec iov = {buf, sizeof(buf)};
    struct msghdr mh;
    struct cmsghdr *c;
    size_t i, n;

    for (;;) {
        memset(&mh, 0, sizeof(mh));
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = u.b;
        mh.msg_controllen = sizeof(u.b);
        if (recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
            return;
        for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_type != SCM_RIGHTS)
                continue;
            n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (i = 0; i < n; i++) {
                int f;

                memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                close(f);
            }
        }
    }
}

/* @pre bytes (the handshake) go alone, the fds with the first byte after
 * them. */
static void run(struct vfio_srv *s, int cfd, const uint8_t *in, size_t pre,
                size_t len, const int *fds, unsigned int nfds)
{
    int i;

    if (pre && send_input(cfd, in, pre, NULL, 0))
        return;
    if (len > pre && send_input(cfd, in + pre, len - pre, fds, nfds))
        return;
    shutdown(cfd, SHUT_WR);
    for (i = 0; i < 100000; i++) {
        drain(cfd);
        if (vfio_srv_handle_ready(s) == -ENOTCONN)
            break;
    }
    if (i == 100000)
        abort(); /* the server stopped making progress */
    drain(cfd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[MAX_INPUT + 256];
    struct vfio_user_caps own;
    struct vfio_srv_region rg[9];
    struct vfio_srv_dev dev;
    struct vfio_srv *s = NULL;
    int sv[2], fds[3], nfds = 0, mfd, big = 1 << 20;
    size_t off = 0;

    if (size < 1 || size > MAX_INPUT)
        return 0;
    mfd = memfd_create("bar", MFD_CLOEXEC);
    if (mfd < 0 || ftruncate(mfd, 16384))
        abort();
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        abort();
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
    vfio_user_caps_default(&own);
    own.max_msg_fds = 4;
    own.max_data_xfer_size = 4096;
    own.max_dma_maps = 8;
    own.twin_socket = true;
    own.write_multiple = true;
    fill_dev(&dev, rg, mfd, &s);
    dev.mig_v1 = data[0] & 16;
    if (vfio_srv_create(&dev, &own, -1, &s))
        abort();
    /* The harness never answers DMA messages: a DMA call over the twin
     * socket (whose client end sits unread in our queue) ends at the
     * deadline, so keep it short. */
    vfio_srv_set_timeout(s, 10);
    if (vfio_srv_attach(s, sv[1]))
        abort();
    if (data[0] & 1) {
        fds[nfds] = memfd_create("dma", MFD_CLOEXEC);
        if (fds[nfds] < 0 || ftruncate(fds[nfds], 65536))
            abort();
        nfds++;
    }
    if (data[0] & 2) {
        fds[nfds++] = eventfd(0, EFD_CLOEXEC);
        fds[nfds++] = eventfd(0, EFD_CLOEXEC);
    }
    if (data[0] & 4)
        off = version_msg(buf, data[0] & 8, data[0] & 16);
    memcpy(buf + off, data + 1, size - 1);
    run(s, sv[0], buf, off, off + size - 1, fds, (unsigned int)nfds);
    vfio_srv_destroy(s);
    while (nfds)
        close(fds[--nfds]);
    close(sv[0]);
    close(mfd);
    return 0;
}
