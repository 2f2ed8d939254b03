/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lvu-mig-server: a small libvfio-user-based test device for the interop
 * migration tests (tests/interop/interop_lvu_*.sh). It is built only
 * against build/peers (Debian's libvfio-user, 2022), whose migration is the
 * region-based one of spec 0.9.1 (../shared/spec/vfio-user-0.9.1.rst,
 * "Migration"): a migration region (VFU_PCI_DEV_MIGR_REGION_IDX) whose
 * registers libvfio-user serves, and VFIO_USER_DIRTY_PAGES bitmaps for DMA
 * regions it maps. Nothing else in the project links libvfio-user.
 *
 * The device (PCI 1234:4d47, class ff0000):
 *   BAR0, 4 KiB, memory, every byte of it is device state: saved and
 *   restored through the migration data, so it must arrive byte for byte.
 *     0x000-0x7ff  scratch the guest writes
 *     0x800/0x804  DMA address (GPA) low/high
 *     0x808        DMA length in bytes (multiple of 4, <= 64 KiB)
 *     0x80c        DMA pattern seed
 *     0x810        command (write): 1 = write the pattern now,
 *                  2 = arm: write it at the --dma-at trigger
 *     0x814        (RO) pattern writes done
 *     0x818        (RO) last DMA error (positive errno), 0 = none
 *     0x81c        (RO) poll: reading it is a trigger point; bit 0 = armed,
 *                  bit 1 = a migration state change was seen
 *     0x820        (RO) magic 'LVUM' (0x4d55564c)
 *     0x824-0xfff  more scratch
 *   The pattern: 32-bit word k of the buffer = lvu_pattern(seed, k).
 *   How the pattern reaches guest RAM (--dma-via):
 *     message  (default) VFIO_USER_DMA_WRITE messages, one per 4 KiB page,
 *              encoded here (spec "VFIO_USER_DMA_WRITE") and sent on
 *              libvfio-user's socket from inside a client request's
 *              callback, so the next message from the client is the reply.
 *              Not vfu_sgl_write: this libvfio-user's vfu_dma_transfer
 *              addresses every message at the DMA region's base
 *              (sg->dma_addr) and drops the offset inside the region
 *              (sg->offset), so the data lands at the wrong GPA.
 *     lvu      vfu_sgl_write, to show that bug (docs/interop.md).
 *     map      through the region's mapping when the client passed an fd
 *              (vfu_sgl_get/put: vfu_sgl_put marks the pages in
 *              libvfio-user's dirty bitmap, reported by DIRTY_PAGES);
 *              messages as above otherwise.
 *   Migration data: one 16 + 4096 byte record (magic, FNV-1a of BAR0,
 *   BAR0) in PRE_COPY (the device state that can move early)
 *   and again in STOP_AND_COPY; the destination applies each record.
 *
 * Usage: lvu-mig-server --socket-path=PATH [--dma-at=TRIGGER]
 *                       [--dma-via=message|lvu|map] [-v]
 *   TRIGGER (when an armed pattern write happens, always inside a request
 *   of the client, so the DMA_WRITE never crosses a client request):
 *     precopy   in the transition to PRE_COPY (RUNNING|SAVING)
 *     read:N    in the Nth migration-data read in PRE_COPY
 *     poll:N    in the Nth guest read of the poll register after the
 *               device entered PRE_COPY
 *     file:PATH in the first guest read of the poll register once PATH
 *               exists: the test script decides when (e.g. while the
 *               VMM is in its pre-copy phase; a v1 client may never move
 *               the device to PRE_COPY, going RUNNING -> STOP_AND_COPY)
 *     doorbell  never: only command 1 writes (the default)
 * Log lines (stderr) the tests wait for: "lvu-mig-server: ready",
 * "state NAME", "dma-write LEN bytes at GPA seed S (TRIGGER) via HOW",
 * "saved bar0 fnv HASH", "restored bar0 fnv HASH".
 * Exit: 0 when the client disconnects, 1 on errors, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "libvfio-user.h"

#define BAR0_SIZE   4096u
#define R_ADDR_LO   0x800u
#define R_ADDR_HI   0x804u
#define R_LEN       0x808u
#define R_SEED      0x80cu
#define R_CMD       0x810u
#define R_DONE      0x814u
#define R_ERR       0x818u
#define R_POLL      0x81cu
#define R_MAGIC     0x820u
#define MAGIC       0x4d55564cu       /* "LVUM" */
#define MAX_DMA     65536u
#define PG          4096u
#define REC_MAGIC   0x3147494d55564cULL /* "LVUMIG1" */
#define REC_SIZE    (16u + BAR0_SIZE)  /* magic, fnv, BAR0 */

enum trigger { T_DOORBELL, T_PRECOPY, T_READ, T_POLL, T_FILE };
enum via { V_MESSAGE, V_LVU, V_MAP };
static const char *const trig_name[] = { "doorbell", "precopy", "read",
                                         "poll", "file" };

struct dev {
    vfu_ctx_t *ctx;
    uint8_t bar[BAR0_SIZE];
    enum trigger trig;
    unsigned int trig_n;     /* read:N / poll:N */
    const char *trig_path;   /* file:PATH */
    unsigned int count;      /* reads / polls seen in PRE_COPY */
    enum via via;            /* --dma-via */
    uint16_t msg_id;         /* of our own DMA_WRITE messages */
    bool armed, mig_seen;
    vfu_migr_state_t state;
    uint8_t out[REC_SIZE];   /* the record being saved */
    bool out_read;           /* this iteration's record was handed out */
    uint8_t in[2 * REC_SIZE];
    size_t in_len, in_pending;
};

static void say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("lvu-mig-server: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static uint32_t get32(const struct dev *d, unsigned int off)
{
    uint32_t v;

    memcpy(&v, d->bar + off, 4);
    return v;
}

static void put32(struct dev *d, unsigned int off, uint32_t v)
{
    memcpy(d->bar + off, &v, 4);
}

/* The pattern: word @k of a buffer seeded @seed (the guest computes the
 * same in tests/guest/lvu/). */
static uint32_t lvu_pattern(uint32_t seed, uint32_t k)
{
    return (seed + k) * 2654435761u ^ 0xa5a5a5a5u;
}

/* FNV-1a 64 of @n bytes, to compare saved and restored state in logs. */
static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* Send all of @len bytes at @p on @fd. 0 or -errno. */
static int send_all(int fd, const void *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EPIPE;
        p = (const uint8_t *)p + n;
        len -= (size_t)n;
    }
    return 0;
}

static int recv_all(int fd, void *p, size_t len)
{
    while (len) {
        ssize_t n = recv(fd, p, len, MSG_WAITALL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -ECONNRESET;
        p = (uint8_t *)p + n;
        len -= (size_t)n;
    }
    return 0;
}

/* One VFIO_USER_DMA_WRITE of @len (<= 4 KiB) bytes at @gpa, encoded per
 * the spec (header; address, count; data) and its reply (header; address,
 * count) checked. Only from a callback of a client request: the client
 * then sends nothing but the reply. 0 or -errno. */
static int raw_dma_write(struct dev *d, uint64_t gpa, const void *buf,
                         uint32_t len)
{
    struct { uint16_t id, cmd; uint32_t size, flags, error; } h, rh;
    uint64_t acc[2] = { gpa, len }, racc[2];
    int fd = vfu_get_poll_fd(d->ctx), r;

    h = (typeof(h)){ ++d->msg_id, VFIO_USER_DMA_WRITE,
                     (uint32_t)(sizeof(h) + sizeof(acc) + len), 0, 0 };
    if ((r = send_all(fd, &h, sizeof(h))) || (r = send_all(fd, acc, 16)) ||
        (r = send_all(fd, buf, len)) || (r = recv_all(fd, &rh, sizeof(rh))))
        return r;
    if (rh.id != h.id || rh.cmd != h.cmd || (rh.flags & 0xf) != 1)
        return -EPROTO;
    if (rh.flags & 0x20)   /* error reply: no payload */
        return rh.error ? -(int)rh.error : -EIO;
    if (rh.size != sizeof(rh) + 16 || (r = recv_all(fd, racc, 16)))
        return r ? r : -EPROTO;
    return racc[0] == gpa && racc[1] == len ? 0 : -EPROTO;
}

/* Write one page-bounded piece @buf of @len bytes at @gpa. 0 or -errno. */
static int dma_piece(struct dev *d, uint64_t gpa, void *buf, uint32_t len,
                     const char **how)
{
    uint8_t sgbuf[256];
    dma_sg_t *sg = (dma_sg_t *)sgbuf;
    struct iovec iov;
    int n;

    if (dma_sg_size() > sizeof(sgbuf))
        return -ENOMEM;
    n = vfu_addr_to_sgl(d->ctx, (vfu_dma_addr_t)gpa, len, sg, 1,
                        PROT_READ | PROT_WRITE);
    if (n != 1)
        return n < 0 && errno ? -errno : -EFAULT;
    if (d->via == V_MAP && vfu_sg_is_mappable(d->ctx, sg) &&
        vfu_sgl_get(d->ctx, sg, &iov, 1, 0) == 0) {
        memcpy(iov.iov_base, buf, len);
        vfu_sgl_put(d->ctx, sg, &iov, 1); /* marks the page dirty */
        *how = "map";
        return 0;
    }
    if (d->via == V_LVU) {
        *how = "vfu_sgl_write";
        return vfu_sgl_write(d->ctx, sg, 1, buf) < 0 ? -errno : 0;
    }
    *how = "message";
    return raw_dma_write(d, gpa, buf, len);
}

/* Write the pattern the registers describe into guest RAM. */
static void dma_pattern(struct dev *d, const char *why)
{
    uint64_t gpa = get32(d, R_ADDR_LO) | (uint64_t)get32(d, R_ADDR_HI) << 32;
    uint32_t len = get32(d, R_LEN), seed = get32(d, R_SEED);
    uint8_t buf[PG];
    const char *how = "none";
    int r = 0;

    d->armed = false;
    if (len == 0 || len > MAX_DMA || len % 4)
        r = -EINVAL;
    for (uint32_t off = 0; off < len && r == 0;) {
        uint32_t n = PG - (uint32_t)((gpa + off) % PG);

        n = n < len - off ? n : len - off;
        for (uint32_t i = 0; i < n; i += 4) {
            uint32_t w = lvu_pattern(seed, (off + i) / 4);

            memcpy(buf + i, &w, 4);
        }
        r = dma_piece(d, gpa + off, buf, n, &how);
        off += n;
    }
    put32(d, R_ERR, (uint32_t)-r);
    if (r) {
        say("dma-write %u bytes at %#lx failed: %s (%s)", len,
            (unsigned long)gpa, strerror(-r), why);
        return;
    }
    put32(d, R_DONE, get32(d, R_DONE) + 1);
    say("dma-write %u bytes at %#lx seed %#x (%s) via %s", len,
        (unsigned long)gpa, seed, why, how);
}

/* An armed write fires when @t is the trigger and (for counted triggers)
 * the count reached N. */
static void maybe_fire(struct dev *d, enum trigger t)
{
    if (!d->armed || d->trig != t)
        return;
    if (t == T_READ || t == T_POLL) {
        if (++d->count < d->trig_n)
            return;
    }
    if (t == T_FILE && access(d->trig_path, F_OK) != 0)
        return;
    dma_pattern(d, trig_name[t]);
}

static ssize_t bar0_access(vfu_ctx_t *ctx, char *buf, size_t count,
                           loff_t off, bool is_write)
{
    struct dev *d = vfu_get_private(ctx);

    if (off < 0 || count > BAR0_SIZE || (size_t)off > BAR0_SIZE - count) {
        errno = EINVAL;
        return -1;
    }
    if (!is_write) {
        if ((size_t)off <= R_POLL && R_POLL < (size_t)off + count) {
            put32(d, R_POLL, (d->armed ? 1u : 0u) | (d->mig_seen ? 2u : 0u));
            if (d->state == VFU_MIGR_STATE_PRE_COPY)
                maybe_fire(d, T_POLL);
            maybe_fire(d, T_FILE);
            put32(d, R_POLL, (d->armed ? 1u : 0u) | (d->mig_seen ? 2u : 0u));
        }
        memcpy(buf, d->bar + off, count);
        return (ssize_t)count;
    }
    if (off == R_CMD && count == 4) {
        uint32_t cmd;

        memcpy(&cmd, buf, 4);
        if (cmd == 1) {
            dma_pattern(d, "doorbell");
        } else if (cmd == 2) {
            d->armed = true;
            d->count = 0;
        }
        return 4;
    }
    for (size_t i = 0; i < count; i++) {
        size_t a = (size_t)off + i;

        if (a < R_CMD || a >= R_MAGIC + 4)
            d->bar[a] = (uint8_t)buf[i];
    }
    return (ssize_t)count;
}

/* ---- migration (libvfio-user's region-based callbacks) ---------------- */

static const char *state_name(vfu_migr_state_t s)
{
    static const char *const n[] = { "STOP", "RUNNING", "STOP_AND_COPY",
                                     "PRE_COPY", "RESUME" };

    return (unsigned int)s < 5 ? n[s] : "?";
}

static int mig_transition(vfu_ctx_t *ctx, vfu_migr_state_t state)
{
    struct dev *d = vfu_get_private(ctx);

    say("state %s", state_name(state));
    if (state != VFU_MIGR_STATE_RUNNING)
        d->mig_seen = true;
    d->state = state;
    d->out_read = false;
    d->count = 0;
    if (state == VFU_MIGR_STATE_RESUME)
        d->in_len = d->in_pending = 0;
    if (state == VFU_MIGR_STATE_PRE_COPY)
        maybe_fire(d, T_PRECOPY);
    return 0;
}

static uint64_t mig_pending(vfu_ctx_t *ctx)
{
    struct dev *d = vfu_get_private(ctx);

    if (d->state != VFU_MIGR_STATE_PRE_COPY &&
        d->state != VFU_MIGR_STATE_STOP_AND_COPY)
        return 0;
    return d->out_read ? 0 : REC_SIZE;
}

/* The record: magic, FNV-1a of BAR0, BAR0. */
static void record_build(struct dev *d)
{
    uint64_t m = REC_MAGIC, h = fnv(d->bar, BAR0_SIZE);

    memcpy(d->out, &m, 8);
    memcpy(d->out + 8, &h, 8);
    memcpy(d->out + 16, d->bar, BAR0_SIZE);
    say("saved bar0 fnv %016lx (%s)", (unsigned long)h, state_name(d->state));
}

static int mig_prepare(vfu_ctx_t *ctx, uint64_t *offset, uint64_t *size)
{
    struct dev *d = vfu_get_private(ctx);

    *offset = 0;
    if (size == NULL)  /* resuming: data is written at offset 0 */
        return 0;
    record_build(d);
    *size = REC_SIZE;
    return 0;
}

static ssize_t mig_read(vfu_ctx_t *ctx, void *buf, uint64_t count,
                        uint64_t offset)
{
    struct dev *d = vfu_get_private(ctx);

    if (offset > REC_SIZE || count > REC_SIZE - offset) {
        errno = EINVAL;
        return -1;
    }
    memcpy(buf, d->out + offset, count);
    if (offset + count == REC_SIZE)
        d->out_read = true;
    if (d->state == VFU_MIGR_STATE_PRE_COPY)
        maybe_fire(d, T_READ);
    return (ssize_t)count;
}

static ssize_t mig_write(vfu_ctx_t *ctx, void *buf, uint64_t count,
                         uint64_t offset)
{
    struct dev *d = vfu_get_private(ctx);

    if (offset > sizeof(d->in) - d->in_len ||
        count > sizeof(d->in) - d->in_len - offset) {
        say("migration data write of %lu at %lu overflows", count, offset);
        errno = EINVAL;
        return -1;
    }
    memcpy(d->in + d->in_len + offset, buf, count);
    if (offset + count > d->in_pending)
        d->in_pending = offset + count;
    return (ssize_t)count;
}

/* Apply every whole record received; keep a partial one. */
static int mig_written(vfu_ctx_t *ctx, uint64_t count)
{
    struct dev *d = vfu_get_private(ctx);
    uint64_t m, h;

    if (count > d->in_pending) {
        errno = EINVAL;
        return -1;
    }
    d->in_len += count;
    d->in_pending = 0;
    while (d->in_len >= REC_SIZE) {
        memcpy(&m, d->in, 8);
        memcpy(&h, d->in + 8, 8);
        if (m != REC_MAGIC || fnv(d->in + 16, BAR0_SIZE) != h) {
            say("restore: bad record (magic %#lx)", (unsigned long)m);
            errno = EINVAL;
            return -1;
        }
        memcpy(d->bar, d->in + 16, BAR0_SIZE);
        say("restored bar0 fnv %016lx", (unsigned long)h);
        d->in_len -= REC_SIZE;
        memmove(d->in, d->in + REC_SIZE, d->in_len);
    }
    return 0;
}

/* ---- set-up ----------------------------------------------------------- */

static void dma_reg(vfu_ctx_t *ctx, vfu_dma_info_t *info)
{
    (void)ctx;
    say("dma region %#lx+%#lx %s", (unsigned long)info->iova.iov_base,
        (unsigned long)info->iova.iov_len, info->vaddr ? "mapped" : "no fd");
}

static void dma_unreg(vfu_ctx_t *ctx, vfu_dma_info_t *info)
{
    (void)ctx;
    (void)info;
}

static void lvu_log(vfu_ctx_t *ctx, int level, const char *msg)
{
    (void)ctx;
    (void)level;
    fprintf(stderr, "libvfio-user: %s\n", msg);
}

static int setup(struct dev *d, const char *path, bool verbose)
{
    static const vfu_migration_callbacks_t cb = {
        .version = VFU_MIGR_CALLBACKS_VERS,
        .transition = mig_transition,
        .get_pending_bytes = mig_pending,
        .prepare_data = mig_prepare,
        .read_data = mig_read,
        .write_data = mig_write,
        .data_written = mig_written,
    };
    size_t regs = vfu_get_migr_register_area_size();
    size_t data = (REC_SIZE + PG - 1) / PG * PG;

    d->ctx = vfu_create_ctx(VFU_TRANS_SOCK, path, 0, d, VFU_DEV_TYPE_PCI);
    if (!d->ctx)
        return -errno;
    if (vfu_setup_log(d->ctx, lvu_log, verbose ? LOG_DEBUG : LOG_ERR) ||
        vfu_pci_init(d->ctx, VFU_PCI_TYPE_CONVENTIONAL, 0, 0) ||
        vfu_setup_region(d->ctx, VFU_PCI_DEV_BAR0_REGION_IDX, BAR0_SIZE,
                         bar0_access, VFU_REGION_FLAG_RW |
                         VFU_REGION_FLAG_MEM, NULL, 0, -1, 0) ||
        vfu_setup_region(d->ctx, VFU_PCI_DEV_MIGR_REGION_IDX, regs + data,
                         NULL, VFU_REGION_FLAG_RW, NULL, 0, -1, 0) ||
        vfu_setup_device_migration_callbacks(d->ctx, &cb, regs) ||
        vfu_setup_device_dma(d->ctx, dma_reg, dma_unreg) ||
        vfu_setup_device_nr_irqs(d->ctx, VFU_DEV_INTX_IRQ, 1))
        return -errno;
    vfu_pci_set_id(d->ctx, 0x1234, 0x4d47, 0x1234, 0x0001);
    vfu_pci_set_class(d->ctx, 0xff, 0x00, 0x00);
    put32(d, R_MAGIC, MAGIC);
    d->state = VFU_MIGR_STATE_RUNNING;
    return vfu_realize_ctx(d->ctx) ? -errno : 0;
}

static int parse_trigger(struct dev *d, const char *s)
{
    char *end;

    if (!strcmp(s, "precopy") || !strcmp(s, "doorbell")) {
        d->trig = s[0] == 'p' ? T_PRECOPY : T_DOORBELL;
        return 0;
    }
    if (!strncmp(s, "file:", 5) && s[5]) {
        d->trig = T_FILE;
        d->trig_path = s + 5;
        return 0;
    }
    if (strncmp(s, "read:", 5) && strncmp(s, "poll:", 5))
        return -EINVAL;
    d->trig = s[1] == 'e' ? T_READ : T_POLL;
    errno = 0;
    d->trig_n = (unsigned int)strtoul(s + 5, &end, 10);
    return errno || *end || d->trig_n == 0 || d->trig_n > 1000000 ?
           -EINVAL : 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: lvu-mig-server --socket-path=PATH "
            "[--dma-at=precopy|read:N|poll:N|file:PATH|doorbell] "
            "[--dma-via=message|lvu|map] [-v]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket-path", required_argument, NULL, 's' },
        { "dma-at", required_argument, NULL, 'a' },
        { "dma-via", required_argument, NULL, 'm' },
        { "verbose", no_argument, NULL, 'v' },
        { NULL, 0, NULL, 0 },
    };
    static struct dev d;
    const char *path = NULL;
    bool verbose = false;
    int c, r;

    while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
        if (c == 's')
            path = optarg;
        else if (c == 'a' && parse_trigger(&d, optarg) == 0)
            continue;
        else if (c == 'm' && (!strcmp(optarg, "map") ||
                              !strcmp(optarg, "message") ||
                              !strcmp(optarg, "lvu")))
            d.via = optarg[1] == 'a' ? V_MAP : optarg[1] == 'v' ? V_LVU
                                                                 : V_MESSAGE;
        else if (c == 'v')
            verbose = true;
        else
            return usage();
    }
    if (!path || optind != argc)
        return usage();
    setbuf(stderr, NULL);
    if ((r = setup(&d, path, verbose)) < 0) {
        say("set-up failed: %s", strerror(-r));
        return 1;
    }
    say("ready on %s (dma-at %s, via %s)", path, trig_name[d.trig],
        d.via == V_MAP ? "map" : d.via == V_LVU ? "lvu" : "message");
    if (vfu_attach_ctx(d.ctx) < 0) {
        say("attach: %s", strerror(errno));
        return 1;
    }
    while (vfu_run_ctx(d.ctx) >= 0)
        ;
    r = errno;
    vfu_destroy_ctx(d.ctx);
    if (r == ENOTCONN) {
        say("client disconnected");
        return 0;
    }
    say("vfu_run_ctx: %s", strerror(r));
    return 1;
}
