/* SPDX-License-Identifier: BSD-3-Clause */
/* Eager load of a snapshot's guest RAM (snap_reader_load_ram, see
 * snapshot_file.h; docs/snapshot-format.md "Eager restore"): two threads
 * take whole RAM sections (32 MiB of guest RAM each) in turn and read a
 * section's data in 4 MiB pieces into a buffer of their own, then pwrite
 * the present pages into the guest-RAM memfd (shmem allocates and fills
 * each page: no page fault per page, which costs more than the copy on
 * this host: preadv straight into the mapping took 30% more CPU). Reads
 *
 * - go through the page cache when the file is cached (a preadv2
 *   RWF_NOWAIT probe of its first data says so),
 * - else use O_DIRECT (block-aligned spans): no page-cache pages are
 *   allocated for a file read once. A file system without O_DIRECT falls
 *   back to the page cache.
 *
 * Zero pages are holes of the memfd: never touched. Each section's XXH3-64
 * checksum is verified over the bytes read. */
#include "minivmm/persist/snapshot_file.h"
#include "vmm/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#include "vmm/log.h"
#include "vmm/memory.h"

#define PG 4096ULL
#define THREADS 2
#define DIO_ALIGN 4096u
#define BOUNCE (4u << 20)
#define PROBE (64u << 10)
#define ONE_THREAD (64ULL << 20) /* less data than this: no second thread */

struct load_job {
    struct snap_reader *r;
    struct guest_memory *mem;
    int fd, dfd;            /* dfd: O_DIRECT, -1: page cache only */
    unsigned int nram;
    size_t bounce;          /* buffer size: BOUNCE, or less for less data */
    unsigned int next;      /* atomic */
    int err;                /* atomic: first failure, -errno */
    unsigned int bad;       /* section of the failure */
};

int snap_next_run(const uint8_t *bitmap, uint32_t npages, uint32_t *i,
                  uint32_t *n)
{
    uint32_t k = *i, m = 0;

    while (k < npages && !((bitmap[k / 8] >> (k % 8)) & 1))
        k++;
    while (k + m < npages && ((bitmap[(k + m) / 8] >> ((k + m) % 8)) & 1))
        m++;
    *i = k;
    *n = m;
    return m > 0;
}

void snap_dio_span(uint64_t off, uint64_t len, uint32_t align, uint64_t *aoff,
                   uint64_t *alen)
{
    uint64_t end = off + len;

    *aoff = off - off % align;
    *alen = (end + align - 1) / align * align - *aoff;
}

/* pwrite all of @len bytes. 0 or -errno. */
static int pwrite_all(int fd, const uint8_t *p, uint64_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        len -= (uint64_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* Where the next file bytes of a section go: run [i, i + n) of the bitmap,
 * @done bytes of it filled; guest memory at @hva, memfd offset @moff. */
struct cursor {
    const struct snap_ram_view *v;
    const struct guest_memory *mem;
    uint8_t *hva;
    uint64_t moff;
    uint32_t i, n;
    uint64_t done;
};

/* Place @len file bytes from @src into the guest pages at @c: pwrite to
 * the memfd (shmem allocates the page and copies, no page fault), or
 * memcpy for hugetlb RAM (no write(2) there). 0 or -errno. */
static int place(struct cursor *c, const uint8_t *src, uint64_t len)
{
    while (len > 0) {
        uint64_t room, k, at;
        int r;

        if (c->done == (uint64_t)c->n * PG) {
            c->i += c->n;
            c->done = 0;
            if (!snap_next_run(c->v->bitmap, c->v->npages, &c->i, &c->n))
                return -EIO; /* more bytes than present pages */
        }
        room = (uint64_t)c->n * PG - c->done;
        k = len < room ? len : room;
        at = (uint64_t)c->i * PG + c->done;
        if (c->mem->hugepages)
            memcpy(c->hva + at, src, k);
        else if ((r = pwrite_all(c->mem->fd, src, k, c->moff + at)) < 0)
            return r;
        c->done += k;
        src += k;
        len -= k;
    }
    return 0;
}

/* The section's data span, read through @bounce in BOUNCE pieces (block
 * aligned when @direct), hashed and placed. 0 or -errno (-EINVAL from an
 * O_DIRECT read: the file system refused it). */
static int load_span(int fd, bool direct, struct cursor *c, uint8_t *bounce,
                     size_t bounce_len, XXH3_state_t *st)
{
    uint64_t pos = c->v->data_off;
    uint64_t end = pos + (uint64_t)c->v->present * PG;

    while (pos < end) {
        uint64_t a = pos, alen = end - pos, use;
        ssize_t got;
        int r;

        if (direct)
            snap_dio_span(pos, end - pos, DIO_ALIGN, &a, &alen);
        if (alen > bounce_len)
            alen = bounce_len;
        got = pread(fd, bounce, alen, (off_t)a);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -errno;
        if ((uint64_t)got <= pos - a)
            return -EIO; /* the file ends early */
        use = a + (uint64_t)got < end ? a + (uint64_t)got - pos : end - pos;
        XXH3_64bits_update(st, bounce + (pos - a), use);
        r = place(c, bounce + (pos - a), use);
        if (r < 0)
            return r;
        pos += use;
    }
    return 0;
}

static void load_fail(struct load_job *j, unsigned int k, int r)
{
    int zero = 0;

    if (__atomic_compare_exchange_n(&j->err, &zero, r, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        j->bad = k;
}

/* Section @k: O_DIRECT when chosen (the page cache again when the file
 * system refuses it), checksum verified. */
static int load_one(struct load_job *j, unsigned int k, uint8_t *bounce,
                    XXH3_state_t *st)
{
    struct snap_ram_view v;
    struct cursor c = { .v = &v, .mem = j->mem };
    int r = -EINVAL;

    snap_reader_ram_view(j->r, k, &v);
    if (!v.fixed)
        return 0; /* no page: verified at open */
    c.hva = guest_memory_hva(j->mem, v.gpa, (uint64_t)v.npages * PG);
    if (!c.hva)
        return -ERANGE;
    c.moff = (uint64_t)(c.hva - j->mem->base);
    XXH3_64bits_reset_withSeed(st, v.index);
    XXH3_64bits_update(st, v.fixed, v.fixed_len);
    if (j->dfd >= 0)
        r = load_span(j->dfd, true, &c, bounce, j->bounce, st);
    if (r == -EINVAL) {
        c.i = c.n = 0;
        c.done = 0;
        XXH3_64bits_reset_withSeed(st, v.index);
        XXH3_64bits_update(st, v.fixed, v.fixed_len);
        r = load_span(j->fd, false, &c, bounce, j->bounce, st);
    }
    if (r < 0)
        return r;
    return XXH3_64bits_digest(st) == v.check ? 0 : -EBADMSG;
}

static void *load_worker(void *arg)
{
    struct load_job *j = arg;
    XXH3_state_t *st = XXH3_createState();
    uint8_t *bounce = aligned_alloc(DIO_ALIGN, j->bounce);
    unsigned int k;

    while (bounce && st && !__atomic_load_n(&j->err, __ATOMIC_ACQUIRE) &&
           (k = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) <
               j->nram) {
        int r = load_one(j, k, bounce, st);

        if (r < 0)
            load_fail(j, k, r);
    }
    if (!bounce || !st)
        load_fail(j, 0, -ENOMEM);
    free(bounce);
    XXH3_freeState(st);
    return NULL;
}

/* An O_DIRECT fd for @fd's file when its RAM data is not in the page
 * cache, else -1. The probe: preadv2 RWF_NOWAIT (fails with EAGAIN rather
 * than read the disk) in the middle of the largest section's data, away
 * from the headers snap_reader_open just read. */
static int direct_fd(struct snap_reader *r, int fd)
{
    struct snap_ram_view v, best = { 0 };
    char path[64];
    struct iovec iov;
    ssize_t got;
    int dfd;

    for (unsigned int k = 0; k < snap_reader_nram(r); k++) {
        snap_reader_ram_view(r, k, &v);
        if (v.present > best.present)
            best = v;
    }
    if (!best.present)
        return -1;
    iov.iov_len = best.present * PG < PROBE ? best.present * PG : PROBE;
    iov.iov_base = malloc(iov.iov_len);
    if (!iov.iov_base)
        return -1;
    got = preadv2(fd, &iov, 1, (off_t)(best.data_off + best.present * PG / 2 -
                                       best.present * PG / 2 % PG), RWF_NOWAIT);
    free(iov.iov_base);
    if (got > 0 || (got < 0 && errno != EAGAIN))
        return -1; /* cached, or no RWF_NOWAIT here: the page cache */
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    dfd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
    log_debug("minivmm: restore: snapshot not in the page cache: %s",
              dfd >= 0 ? "O_DIRECT reads" : "no O_DIRECT here, page cache");
    return dfd;
}

static int report(struct snap_reader *r, const struct load_job *j, char *err,
                  size_t errlen)
{
    struct snap_ram_view v;

    snap_reader_ram_view(r, j->bad, &v);
    if (j->err == -EBADMSG)
        snprintf(err, errlen, "section %u (ram): checksum mismatch "
                 "(corrupt)", v.index);
    else if (j->err == -ERANGE)
        snprintf(err, errlen, "section %u (ram): pages outside guest RAM",
                 v.index);
    else
        snprintf(err, errlen, "section %u (ram): reading: %s", v.index,
                 strerror(-j->err));
    return j->err == -EBADMSG || j->err == -ERANGE ? -EINVAL : j->err;
}

int snap_reader_load_ram(struct snap_reader *r, struct guest_memory *mem,
                         char *err, size_t errlen)
{
    struct load_job j = { .r = r, .mem = mem, .fd = snap_reader_fd(r),
                          .nram = snap_reader_nram(r) };
    pthread_t t[THREADS - 1];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned int n = cpus > 1 ? THREADS : 1, started = 0;
    uint64_t data = 0, most = 0;
    struct snap_ram_view v;

    if (snap_reader_ram_size(r) != mem->ram_size) {
        snprintf(err, errlen, "snapshot has %llu bytes of RAM, the VM %llu",
                 (unsigned long long)snap_reader_ram_size(r),
                 (unsigned long long)mem->ram_size);
        return -EINVAL;
    }
    for (unsigned int k = 0; k < j.nram; k++) {
        snap_reader_ram_view(r, k, &v);
        data += v.present * PG;
        most = v.present * PG > most ? v.present * PG : most;
    }
    if (data < ONE_THREAD)
        n = 1; /* a thread costs more than it saves */
    /* Enough for the largest section's block-aligned span, at most BOUNCE. */
    j.bounce = most + 2 * DIO_ALIGN < BOUNCE ? most + 2 * DIO_ALIGN : BOUNCE;
    j.dfd = mem->hugepages ? -1 : direct_fd(r, j.fd);
    for (unsigned int i = 1; i < n && i < j.nram; i++)
        if (pthread_create(&t[started], NULL, load_worker, &j) == 0)
            started++;
    load_worker(&j);
    for (unsigned int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    if (j.dfd >= 0)
        close(j.dfd);
    return j.err == 0 ? 0 : report(r, &j, err, errlen);
}
