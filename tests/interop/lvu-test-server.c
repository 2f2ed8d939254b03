/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lvu-test-server: a small vfio-user device built on libvfio-user (the
 * peers' build in build/peers, Debian's qemu 7.2 subprojects/libvfio-user)
 * for the interop suite. It exists because the 2022 sample servers declare
 * only I/O BARs (no VFU_REGION_FLAG_MEM), register no ioeventfd and raise
 * INTx only from a timer armed by an 8-byte BAR0 access that x86 port I/O
 * cannot make. See docs/interop.md, "libvfio-user samples".
 *
 * Device: vendor 0x4d56 device 0x1f01 (subsystem 0x4d56:0x0001), class
 * 0xff0000, one INTx (pin A).
 *   BAR0: 16 KiB memory BAR backed by a memfd. Sparse mmap areas
 *         [0, 0x1000) and [0x2000, 0x3000): the client may map them (KVM
 *         memslots), so guest accesses there never reach us as messages.
 *         The gaps [0x1000, 0x2000) and [0x3000, 0x4000) are trapped: every
 *         access is a REGION_READ/WRITE, counted. Gap registers (32-bit):
 *           0x1000 SCRATCH    read/write, stored in the memfd
 *           0x1004 MAGIC      reads 0x4c565554 ("TUVL")
 *           0x1008 DOORBELLS  doorbells consumed from the ioeventfds
 *           0x100c IRQ        write: raise INTx once (vfu_irq_trigger)
 *           0x1010 SUM0       sum of the 32-bit words of area 0 as the
 *                             server sees them in its own mapping
 *           0x1014 TRAPS      region messages counted so far (this read
 *                             included)
 *           0x1018 DMLATCH    doorbells consumed from the datamatch one
 *           0x3000 DOORBELL   ioeventfd, any 32-bit value
 *           0x3008 DOORBELL2  ioeventfd with datamatch 0x1234 (32-bit);
 *                             other values are trapped writes (counted)
 *         Other gap offsets are plain storage in the memfd.
 * Counters print on SIGUSR1, SIGTERM/SIGINT (then exit 0) and on each
 * disconnect, as one line:
 *   lvu-test-server: counters reads=R writes=W mmap_traps=M doorbells=D
 *   dm_doorbells=DM irqs=I dma_maps=N
 * (mmap_traps: trapped accesses that fell inside an mmap area: the client
 * trapped what it could have mapped.)
 *
 * Usage: lvu-test-server [-v] [-x] SOCKET
 *   -v  libvfio-user debug log on stderr
 *   -x  exit after the first client disconnects (default: wait for the
 *       next client, as for reconnect tests)
 * Prints "lvu-test-server: listening on SOCKET" once the socket exists.
 * (Migration is tested with tests/interop/lvu-mig-server.c.)
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "libvfio-user.h"

#define BAR0_SIZE 0x4000u
#define AREA0_OFF 0x0000u
#define AREA1_OFF 0x2000u
#define AREA_SIZE 0x1000u
#define REG_SCRATCH 0x1000u
#define REG_MAGIC 0x1004u
#define REG_DOORBELLS 0x1008u
#define REG_IRQ 0x100cu
#define REG_SUM0 0x1010u
#define REG_TRAPS 0x1014u
#define REG_DMLATCH 0x1018u
#define REG_DOORBELL 0x3000u
#define REG_DOORBELL2 0x3008u
#define MAGIC 0x4c565554u
#define DATAMATCH 0x1234u
#define MAX_DMA 64

struct lvu_counters {
    uint64_t reads, writes, mmap_traps, doorbells, dm_doorbells, irqs;
    uint64_t dma_maps;
};

struct lvu {
    vfu_ctx_t *ctx;
    const char *sock;
    bool verbose, exit_on_disconnect;
    int memfd;
    uint8_t *bar0;       /* our own mapping of the whole BAR0 memfd */
    int db_fd, dm_fd;    /* doorbell ioeventfds */
    int sig_fd;
    struct lvu_counters n;
    struct { uint64_t iova, len; } dma[MAX_DMA];
};

static void print_counters(const struct lvu *s, const char *why)
{
    printf("lvu-test-server: counters reads=%" PRIu64 " writes=%" PRIu64
           " mmap_traps=%" PRIu64 " doorbells=%" PRIu64
           " dm_doorbells=%" PRIu64 " irqs=%" PRIu64 " dma_maps=%" PRIu64
           " (%s)\n",
           s->n.reads, s->n.writes, s->n.mmap_traps, s->n.doorbells,
           s->n.dm_doorbells, s->n.irqs, s->n.dma_maps, why);
    fflush(stdout);
}

static void lvu_log(vfu_ctx_t *ctx, int level, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "lvu-test-server: [%d] %s\n", level, msg);
}

static bool in_area(uint64_t off, size_t count)
{
    return (off < AREA0_OFF + AREA_SIZE && off + count > AREA0_OFF) ||
           (off < AREA1_OFF + AREA_SIZE && off + count > AREA1_OFF);
}

static uint32_t sum_area0(const struct lvu *s)
{
    uint32_t sum = 0, w;

    for (unsigned int i = 0; i < AREA_SIZE; i += 4) {
        memcpy(&w, s->bar0 + AREA0_OFF + i, 4);
        sum += w;
    }
    return sum;
}

/* A 32-bit read of a register with computed contents; false if @off is
 * plain storage. */
static bool reg_read(struct lvu *s, uint64_t off, uint32_t *v)
{
    switch (off) {
    case REG_MAGIC: *v = MAGIC; return true;
    case REG_DOORBELLS: *v = (uint32_t)s->n.doorbells; return true;
    case REG_SUM0: *v = sum_area0(s); return true;
    case REG_TRAPS: *v = (uint32_t)(s->n.reads + s->n.writes); return true;
    case REG_DMLATCH: *v = (uint32_t)s->n.dm_doorbells; return true;
    default: return false;
    }
}

static ssize_t bar0_access(vfu_ctx_t *ctx, char *buf, size_t count,
                           loff_t off, bool is_write)
{
    struct lvu *s = vfu_get_private(ctx);
    uint32_t v;

    if (off < 0 || (uint64_t)off > BAR0_SIZE ||
        count > BAR0_SIZE - (uint64_t)off) {
        errno = EINVAL;
        return -1;
    }
    if (is_write)
        s->n.writes++;
    else
        s->n.reads++;
    if (in_area(off, count))
        s->n.mmap_traps++;
    if (!is_write && count == 4 && reg_read(s, off, &v)) {
        memcpy(buf, &v, 4);
        return count;
    }
    if (is_write && off == REG_IRQ) {
        if (vfu_irq_trigger(ctx, 0) < 0) {
            vfu_log(ctx, LOG_ERR, "INTx trigger: %m");
            errno = EIO;
            return -1;
        }
        s->n.irqs++;
        return count;
    }
    if (is_write)
        memcpy(s->bar0 + off, buf, count);
    else
        memcpy(buf, s->bar0 + off, count);
    return count;
}

static void dma_register(vfu_ctx_t *ctx, vfu_dma_info_t *info)
{
    struct lvu *s = vfu_get_private(ctx);

    s->n.dma_maps++;
    for (unsigned int i = 0; i < MAX_DMA; i++) {
        if (s->dma[i].len == 0) {
            s->dma[i].iova = (uint64_t)(uintptr_t)info->iova.iov_base;
            s->dma[i].len = info->iova.iov_len;
            return;
        }
    }
}

static void dma_unregister(vfu_ctx_t *ctx, vfu_dma_info_t *info)
{
    struct lvu *s = vfu_get_private(ctx);

    for (unsigned int i = 0; i < MAX_DMA; i++) {
        if (s->dma[i].iova == (uint64_t)(uintptr_t)info->iova.iov_base &&
            s->dma[i].len == info->iova.iov_len)
            s->dma[i].len = 0;
    }
}

static int device_reset(vfu_ctx_t *ctx, vfu_reset_type_t type)
{
    vfu_log(ctx, LOG_DEBUG, "device reset (type %d)", (int)type);
    return 0;
}

/* BAR0 with its memfd, sparse areas and doorbells. 0 or -1 (errno). */
static int setup_bar0(struct lvu *s)
{
    struct iovec areas[] = {
        {.iov_base = (void *)(uintptr_t)AREA0_OFF, .iov_len = AREA_SIZE},
        {.iov_base = (void *)(uintptr_t)AREA1_OFF, .iov_len = AREA_SIZE},
    };

    s->memfd = memfd_create("lvu-bar0", MFD_CLOEXEC);
    if (s->memfd < 0 || ftruncate(s->memfd, BAR0_SIZE) < 0)
        return -1;
    s->bar0 = mmap(NULL, BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                   s->memfd, 0);
    if (s->bar0 == MAP_FAILED)
        return -1;
    if (vfu_setup_region(s->ctx, VFU_PCI_DEV_BAR0_REGION_IDX, BAR0_SIZE,
                         bar0_access, VFU_REGION_FLAG_RW | VFU_REGION_FLAG_MEM,
                         areas, 2, s->memfd, 0) < 0)
        return -1;
    s->db_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->dm_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->db_fd < 0 || s->dm_fd < 0)
        return -1;
    if (vfu_create_ioeventfd(s->ctx, VFU_PCI_DEV_BAR0_REGION_IDX, s->db_fd,
                             REG_DOORBELL, 4, 0, 0) < 0)
        return -1;
    /* flags bit 0: datamatch (vfio-user.rst, GET_REGION_IO_FDS). */
    return vfu_create_ioeventfd(s->ctx, VFU_PCI_DEV_BAR0_REGION_IDX,
                                s->dm_fd, REG_DOORBELL2, 4, 1, DATAMATCH);
}

/* The whole device, realized. 0 or -1 (errno; the step on stderr). */
static int setup_device(struct lvu *s)
{
    s->ctx = vfu_create_ctx(VFU_TRANS_SOCK, s->sock,
                            LIBVFIO_USER_FLAG_ATTACH_NB, s, VFU_DEV_TYPE_PCI);
    if (!s->ctx) {
        perror("lvu-test-server: vfu_create_ctx");
        return -1;
    }
    if (vfu_setup_log(s->ctx, lvu_log, s->verbose ? LOG_DEBUG : LOG_ERR) <
            0 ||
        vfu_pci_init(s->ctx, VFU_PCI_TYPE_CONVENTIONAL, PCI_HEADER_TYPE_NORMAL,
                     0) < 0) {
        perror("lvu-test-server: log/pci init");
        return -1;
    }
    vfu_pci_set_id(s->ctx, 0x4d56, 0x1f01, 0x4d56, 0x0001);
    vfu_pci_set_class(s->ctx, 0xff, 0x00, 0x00);
    if (setup_bar0(s) < 0) {
        perror("lvu-test-server: BAR0");
        return -1;
    }
    if (vfu_setup_device_nr_irqs(s->ctx, VFU_DEV_INTX_IRQ, 1) < 0 ||
        vfu_setup_device_dma(s->ctx, dma_register, dma_unregister) < 0 ||
        vfu_setup_device_reset_cb(s->ctx, device_reset) < 0 ||
        vfu_realize_ctx(s->ctx) < 0) {
        perror("lvu-test-server: irqs/dma/reset/realize");
        return -1;
    }
    return 0;
}

static void drain(int fd, uint64_t *counter)
{
    uint64_t v;

    while (read(fd, &v, sizeof(v)) == sizeof(v))
        *counter += v;
}

/* One signal from the signalfd: 1 to stop, 0 to go on. */
static int on_signal(struct lvu *s)
{
    struct signalfd_siginfo si;

    if (read(s->sig_fd, &si, sizeof(si)) != sizeof(si))
        return 0;
    if (si.ssi_signo == SIGUSR1) {
        print_counters(s, "SIGUSR1");
        return 0;
    }
    print_counters(s, si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
    return 1;
}

/* Connection step: attach (non-blocking) or serve requests. 1 to stop,
 * 0 to go on, -1 on error. */
static int on_socket(struct lvu *s, bool *attached)
{
    if (!*attached) {
        if (vfu_attach_ctx(s->ctx) < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        *attached = true;
        printf("lvu-test-server: client attached\n");
        fflush(stdout);
        return 0;
    }
    if (vfu_run_ctx(s->ctx) >= 0 || errno == EAGAIN || errno == EBUSY)
        return 0;
    if (errno != ENOTCONN && errno != ECONNRESET)
        return -1;
    *attached = false;
    print_counters(s, "disconnected");
    return s->exit_on_disconnect ? 1 : 0;
}

enum slot { SLOT_SIG, SLOT_SOCK, SLOT_DB, SLOT_DM, NR_SLOTS };

static int serve(struct lvu *s)
{
    bool attached = false;
    int r = 0;

    printf("lvu-test-server: listening on %s\n", s->sock);
    fflush(stdout);
    while (r == 0) {
        struct pollfd p[NR_SLOTS] = {
            [SLOT_SIG] = {s->sig_fd, POLLIN, 0},
            [SLOT_SOCK] = {vfu_get_poll_fd(s->ctx), POLLIN, 0},
            [SLOT_DB] = {s->db_fd, POLLIN, 0},
            [SLOT_DM] = {s->dm_fd, POLLIN, 0},
        };

        if (poll(p, NR_SLOTS, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (p[SLOT_DB].revents & POLLIN)
            drain(s->db_fd, &s->n.doorbells);
        if (p[SLOT_DM].revents & POLLIN)
            drain(s->dm_fd, &s->n.dm_doorbells);
        if (p[SLOT_SIG].revents & POLLIN)
            r = on_signal(s);
        if (r == 0 && (p[SLOT_SOCK].revents & (POLLIN | POLLHUP | POLLERR)))
            r = on_socket(s, &attached);
    }
    return r < 0 ? -1 : 0;
}

static int parse_args(struct lvu *s, int argc, char **argv)
{
    int opt;

    while ((opt = getopt(argc, argv, "vx")) != -1) {
        switch (opt) {
        case 'v': s->verbose = true; break;
        case 'x': s->exit_on_disconnect = true; break;
        default: return -1;
        }
    }
    if (optind != argc - 1)
        return -1;
    s->sock = argv[optind];
    return 0;
}

int main(int argc, char **argv)
{
    struct lvu s = {.memfd = -1, .db_fd = -1, .dm_fd = -1};
    sigset_t set;
    int r;

    if (parse_args(&s, argc, argv) < 0) {
        fprintf(stderr, "usage: lvu-test-server [-v] [-x] SOCKET\n");
        return 2;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    s.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (s.sig_fd < 0 || setup_device(&s) < 0)
        return 1;
    r = serve(&s);
    if (r < 0)
        perror("lvu-test-server: serve");
    vfu_destroy_ctx(s.ctx);
    return r < 0 ? 1 : 0;
}
