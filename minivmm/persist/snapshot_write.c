/* SPDX-License-Identifier: BSD-3-Clause */
/* Snapshot writer (see snapshot_file.h). */
#include "minivmm/persist/snapshot_file.h"

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

#include "vmm/iov.h"
#include "vmm/memory.h"
#include "minivmm/persist/snapshot_fmt.h"

#define MAX_THREADS 4
#define PG SNAP_PAGE_SIZE
#define BITMAP_WORDS (SNAP_RAM_CHUNK_PAGES / 64)
#define FIXED_MAX (SNAP_SECTION_HEADER_SIZE + SNAP_RAM_HEADER_SIZE + \
                   BITMAP_WORDS * 8)

struct chunk {
    uint64_t gpa;
    uint32_t npages;
    uint32_t present;
    const uint8_t *hva;
    int fd;                 /* memfd for hole skipping, or -1 */
    uint64_t fd_off;
    uint64_t file_off;      /* where its section header goes */
    uint64_t bitmap[BITMAP_WORDS];
    uint8_t fixed[FIXED_MAX]; /* section header + ram header + bitmap */
    size_t fixed_len;
};

struct job {
    int fd;
    struct chunk *chunks;
    unsigned int nchunks;
    unsigned int next;      /* atomic work counter */
    int err;                /* atomic: first -errno */
    int phase;              /* 0 scan, 1 write */
};

static bool page_zero(const uint8_t *p)
{
    const uint64_t *q = (const uint64_t *)p;
    uint64_t acc = q[0] | q[PG / 8 - 1];

    for (unsigned int i = 0; !acc && i < PG / 8; i += 8)
        acc = q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] | q[i + 5] |
              q[i + 6] | q[i + 7];
    return acc == 0;
}

/* Mark the non-zero pages of [@first, @end) pages of @c. */
static void scan_range(struct chunk *c, uint32_t first, uint32_t end)
{
    for (uint32_t i = first; i < end; i++) {
        if (page_zero(c->hva + (uint64_t)i * PG))
            continue;
        c->bitmap[i / 64] |= 1ULL << (i % 64);
        c->present++;
    }
}

/* Scan only the data extents of the memfd: holes are zero and reading
 * them would allocate pages. */
static void scan_chunk(struct chunk *c)
{
    uint64_t start = c->fd_off, end = c->fd_off + (uint64_t)c->npages * PG;
    uint64_t pos = start;

    if (c->fd < 0) {
        scan_range(c, 0, c->npages);
        return;
    }
    while (pos < end) {
        off_t data = lseek(c->fd, (off_t)pos, SEEK_DATA), hole;

        if (data < 0 && errno != ENXIO) {
            scan_range(c, (uint32_t)((pos - start) / PG), c->npages);
            return;
        }
        if (data < 0 || (uint64_t)data >= end)
            return;
        hole = lseek(c->fd, data, SEEK_HOLE);
        if (hole < 0 || (uint64_t)hole > end)
            hole = (off_t)end;
        scan_range(c, (uint32_t)(((uint64_t)data - start) / PG),
                   (uint32_t)(((uint64_t)hole - start + PG - 1) / PG));
        pos = (uint64_t)hole;
    }
}

/* Runs of present pages from page @i: *@n pages. false at the end. */
static bool next_run(const struct chunk *c, uint32_t *i, uint32_t *n)
{
    while (*i < c->npages && !(c->bitmap[*i / 64] >> (*i % 64) & 1))
        (*i)++;
    if (*i >= c->npages)
        return false;
    *n = 0;
    while (*i + *n < c->npages &&
           (c->bitmap[(*i + *n) / 64] >> ((*i + *n) % 64) & 1))
        (*n)++;
    return true;
}

/* Bitmap, checksum and the encoded fixed part of chunk @k. */
static void prepare_chunk(struct chunk *c, uint32_t index)
{
    XXH3_state_t *st = XXH3_createState();
    struct snap_section s = { .type = SNAP_SEC_RAM, .index = index };
    uint8_t *fixed = c->fixed + SNAP_SECTION_HEADER_SIZE;
    uint32_t i = 0, n;

    scan_chunk(c);
    c->fixed_len = SNAP_SECTION_HEADER_SIZE + SNAP_RAM_HEADER_SIZE +
                   snap_ram_bitmap_bytes(c->npages);
    snap_ram_encode(fixed, c->gpa, c->npages, c->bitmap);
    s.length = snap_ram_length(c->npages, c->present);
    if (st) {
        XXH3_64bits_reset_withSeed(st, index);
        XXH3_64bits_update(st, fixed, c->fixed_len -
                                          SNAP_SECTION_HEADER_SIZE);
        while (next_run(c, &i, &n)) {
            XXH3_64bits_update(st, c->hva + (uint64_t)i * PG,
                               (size_t)n * PG);
            i += n;
        }
        s.check = XXH3_64bits_digest(st);
        XXH3_freeState(st);
    } else {
        s.check = 0; /* cannot happen in practice; the reader refuses */
    }
    snap_section_encode(c->fixed, &s);
}

static int pwritev_all(int fd, struct iovec *iov, int cnt, uint64_t off)
{
    while (cnt > 0) {
        ssize_t w = pwritev(fd, iov, cnt, (off_t)off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        off += (uint64_t)w;
        iov_advance(&iov, &cnt, (size_t)w);
    }
    return 0;
}

/* The fixed part, then the present pages straight from guest memory. */
static int write_chunk(int fd, const struct chunk *c, struct iovec *iov)
{
    uint64_t off = c->file_off;
    uint32_t i = 0, n;
    int cnt = 1, r;

    iov[0] = (struct iovec){ (void *)c->fixed, c->fixed_len };
    while (next_run(c, &i, &n)) {
        iov[cnt++] = (struct iovec){ (void *)(c->hva + (uint64_t)i * PG),
                                     (size_t)n * PG };
        i += n;
        if (cnt == IOV_MAX) {
            r = pwritev_all(fd, iov, cnt, off);
            if (r < 0)
                return r;
            for (int k = 0; k < cnt; k++)
                off += iov[k].iov_len;
            cnt = 0;
        }
    }
    return cnt ? pwritev_all(fd, iov, cnt, off) : 0;
}

static void *worker(void *arg)
{
    struct job *j = arg;
    struct iovec *iov = malloc(sizeof(*iov) * IOV_MAX);
    unsigned int k;

    if (!iov) {
        __atomic_store_n(&j->err, -ENOMEM, __ATOMIC_RELAXED);
        return NULL;
    }
    while ((k = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) <
           j->nchunks) {
        int r = 0;

        if (j->phase == 0)
            prepare_chunk(&j->chunks[k], 1 + k);
        else
            r = write_chunk(j->fd, &j->chunks[k], iov);
        if (r < 0) {
            int zero = 0;

            __atomic_compare_exchange_n(&j->err, &zero, r, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED);
            break;
        }
    }
    free(iov);
    return NULL;
}

/* A helper thread, named for the kernel's audit log (docs/security.md):
 * it runs under the event loop's seccomp filter, inherited. */
static void *helper(void *arg)
{
    pthread_setname_np(pthread_self(), "snap-writer");
    return worker(arg);
}

/* Run one phase on up to MAX_THREADS threads (this one included). */
static int run_phase(struct job *j, int phase)
{
    pthread_t t[MAX_THREADS];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned int n = cpus > 0 ? (unsigned int)cpus : 1, started = 0;

    if (n > MAX_THREADS)
        n = MAX_THREADS;
    if (n > j->nchunks)
        n = j->nchunks ? j->nchunks : 1;
    j->phase = phase;
    j->next = 0;
    for (unsigned int i = 1; i < n; i++)
        if (pthread_create(&t[started], NULL, helper, j) == 0)
            started++;
    worker(j);
    for (unsigned int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    return j->err;
}

static int make_chunks(const struct guest_memory *mem, struct chunk **out,
                       unsigned int *n)
{
    unsigned int total = 0, k = 0;
    struct chunk *c;

    for (unsigned int i = 0; i < mem->nregions; i++)
        total += (unsigned int)((mem->regions[i].size / PG +
                                 SNAP_RAM_CHUNK_PAGES - 1) /
                                SNAP_RAM_CHUNK_PAGES);
    c = calloc(total ? total : 1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    for (unsigned int i = 0; i < mem->nregions; i++) {
        const struct guest_region *g = &mem->regions[i];

        for (uint64_t p = 0; p < g->size / PG; p += SNAP_RAM_CHUNK_PAGES) {
            uint64_t left = g->size / PG - p;

            c[k].gpa = g->gpa + p * PG;
            c[k].npages = (uint32_t)(left < SNAP_RAM_CHUNK_PAGES ?
                                     left : SNAP_RAM_CHUNK_PAGES);
            c[k].hva = g->hva + p * PG;
            c[k].fd = g->fd;
            c[k].fd_off = g->fd_offset + p * PG;
            k++;
        }
    }
    *out = c;
    *n = k;
    return 0;
}

/* File header, then the STATE section. */
static int write_head(int fd, const void *fdt, size_t fdt_len,
                      uint64_t ram_size)
{
    uint8_t hdr[SNAP_HEADER_SIZE + SNAP_SECTION_HEADER_SIZE];
    struct snap_section s = {
        .type = SNAP_SEC_STATE, .length = fdt_len, .index = 0,
        .check = snap_checksum(fdt, fdt_len, 0),
    };
    struct iovec iov[2] = { { hdr, sizeof(hdr) },
                            { (void *)fdt, fdt_len } };

    snap_header_encode(hdr, 0, ram_size);
    snap_section_encode(hdr + SNAP_HEADER_SIZE, &s);
    return pwritev_all(fd, iov, 2, 0);
}

static int write_end(int fd, uint64_t off, uint32_t index, uint64_t pages)
{
    uint8_t buf[SNAP_SECTION_HEADER_SIZE + SNAP_END_SIZE];
    struct snap_end e = { .nsections = index, .ram_pages = pages };
    struct snap_section s = { .type = SNAP_SEC_END, .length = SNAP_END_SIZE,
                              .index = index };
    struct iovec iov = { buf, sizeof(buf) };

    snap_end_encode(buf + SNAP_SECTION_HEADER_SIZE, &e);
    s.check = snap_checksum(buf + SNAP_SECTION_HEADER_SIZE, SNAP_END_SIZE,
                            index);
    snap_section_encode(buf, &s);
    return pwritev_all(fd, &iov, 1, off);
}

int snap_write_fd(int fd, const void *fdt, size_t fdt_len,
                  const struct guest_memory *mem,
                  struct snap_write_stats *st, char *err, size_t errlen)
{
    struct job j = { .fd = fd };
    uint64_t off = SNAP_HEADER_SIZE + SNAP_SECTION_HEADER_SIZE + fdt_len;
    uint64_t pages = 0, total = 0;
    int r;

    if (fdt_len == 0 || fdt_len > SNAP_STATE_MAX) {
        snprintf(err, errlen, "state tree too large (%zu bytes)", fdt_len);
        return -EINVAL;
    }
    r = make_chunks(mem, &j.chunks, &j.nchunks);
    if (r == 0)
        r = run_phase(&j, 0);
    for (unsigned int k = 0; r == 0 && k < j.nchunks; k++) {
        j.chunks[k].file_off = off;
        off += j.chunks[k].fixed_len +
               (uint64_t)j.chunks[k].present * PG;
        pages += j.chunks[k].present;
        total += j.chunks[k].npages;
    }
    if (r == 0)
        r = write_head(fd, fdt, fdt_len, mem->ram_size);
    if (r == 0)
        r = run_phase(&j, 1);
    if (r == 0)
        r = write_end(fd, off, 1 + j.nchunks, pages);
    off += SNAP_SECTION_HEADER_SIZE + SNAP_END_SIZE;
    if (r == 0 && ftruncate(fd, (off_t)off) < 0 && errno != EINVAL)
        r = -errno; /* EINVAL: a pipe or socket, nothing to trim */
    free(j.chunks);
    if (r < 0) {
        snprintf(err, errlen, "writing the snapshot: %s", strerror(-r));
        return r;
    }
    if (st)
        *st = (struct snap_write_stats){ .bytes = off, .pages = pages,
                                         .zero_pages = total - pages,
                                         .sections = 2 + j.nchunks };
    return 0;
}

/* fsync the directory holding @path so a rename into it is durable. */
static int fsync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    char *slash;
    int fd, r = 0;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        r = -errno;
    close(fd);
    return r;
}

/* The temporary file is created with a fresh random name next to @path
 * (mkostemp: O_CREAT|O_EXCL, mode 0600), so whatever sits at a predictable
 * name (a symlink planted by another user, a FIFO) is never opened; it is
 * fsynced, then renamed over @path (rename(2) replaces a symlink at @path,
 * it never follows it), then the directory is fsynced. */
int snap_write_file(const char *path, const void *fdt, size_t fdt_len,
                    const struct guest_memory *mem,
                    struct snap_write_stats *st, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    int fd, r;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >=
        (int)sizeof(tmp)) {
        snprintf(err, errlen, "%s: path too long", path);
        return -ENAMETOOLONG;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        snprintf(err, errlen, "%s: creating a temporary file: %s", path,
                 strerror(-r));
        return r;
    }
    r = snap_write_fd(fd, fdt, fdt_len, mem, st, err, errlen);
    if (r == 0 && fsync(fd) < 0) {
        r = -errno;
        snprintf(err, errlen, "%s: fsync: %s", tmp, strerror(-r));
    }
    if (close(fd) < 0 && r == 0) {
        r = -errno;
        snprintf(err, errlen, "%s: %s", tmp, strerror(-r));
    }
    if (r == 0 && rename(tmp, path) < 0) {
        r = -errno;
        snprintf(err, errlen, "renaming %s to %s: %s", tmp, path,
                 strerror(-r));
    }
    if (r < 0) {
        unlink(tmp);
        return r;
    }
    r = fsync_dir_of(path);
    if (r < 0)
        snprintf(err, errlen, "%s: syncing its directory: %s", path,
                 strerror(-r));
    return r;
}
