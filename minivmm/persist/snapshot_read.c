/* SPDX-License-Identifier: BSD-3-Clause */
/* Snapshot reader (see snapshot_file.h). */
#include "minivmm/persist/snapshot_file.h"
#include "vmm/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#include "vmm/memory.h"
#include "minivmm/persist/snapshot_fmt.h"

#define MAX_THREADS 4
#define PG SNAP_PAGE_SIZE
#define RAM_FIXED_MAX (SNAP_RAM_HEADER_SIZE + SNAP_RAM_MAX_PAGES / 8)

struct ram_sec {
    struct snap_section s;
    uint64_t off;           /* of the payload */
    struct snap_ram ram;    /* bitmap points into fixed, or zero_bitmap */
    uint8_t *fixed;         /* ram header + bitmap; NULL: no page present,
                             * checksum verified at open */
    size_t fixed_len;
};

/* The bitmap of every section without present pages: a mostly-zero guest
 * of 8 GiB has ~250 of them, kept without an allocation (each fresh heap
 * page costs a fault, dear on this host: 0.6 ms at 8 GiB). */
static const uint8_t zero_bitmap[SNAP_RAM_MAX_PAGES / 8];

/* Section headers and RAM bitmaps are read through a small window: in a
 * mostly-zero snapshot, consecutive RAM sections lie a few KiB apart
 * (8 GiB of guest RAM: 256 sections in ~300 KiB), so one pread serves
 * many of them instead of two per section. */
#define WIN_SIZE (64u << 10)

struct snap_reader {
    int fd;
    uint64_t size;
    uint8_t *win;           /* WIN_SIZE bytes of the file at win_off */
    uint8_t *scratch;       /* RAM_FIXED_MAX bytes: a section's fixed part */
    uint64_t win_off;
    size_t win_len;         /* valid bytes (0: empty) */
    struct snap_header h;
    uint8_t *state;
    size_t state_len;
    struct ram_sec *ram;
    unsigned int nram, cap;
};

/* @len bytes at file offset @off into @buf, through the window when they
 * fit in it. 0 or -errno (-EIO: the file ends first). */
static int win_read(struct snap_reader *r, void *buf, size_t len,
                    uint64_t off)
{
    if (len > WIN_SIZE / 2 || !r->win)
        return fd_pread_all(r->fd, buf, len, off);
    if (off < r->win_off || off + len > r->win_off + r->win_len) {
        uint64_t left = r->size > off ? r->size - off : 0;
        size_t want = left < WIN_SIZE ? (size_t)left : WIN_SIZE;
        int ret;

        r->win_len = 0;
        if (want < len)
            return -EIO;
        ret = fd_pread_all(r->fd, r->win, want, off);
        if (ret < 0)
            return ret;
        r->win_off = off;
        r->win_len = want;
    }
    memcpy(buf, r->win + (off - r->win_off), len);
    return 0;
}

static int sec_fail(char *err, size_t errlen, const struct snap_section *s,
                    const char *why)
{
    snprintf(err, errlen, "section %u (%s): %s", s->index,
             snap_section_name(s->type), why);
    return -EINVAL;
}

/* The STATE section at offset @off (its header already decoded). */
static int read_state(struct snap_reader *r, const struct snap_section *s,
                      uint64_t off, char *err, size_t errlen)
{
    char why[96];
    int ret;

    if (s->type != SNAP_SEC_STATE)
        return sec_fail(err, errlen, s, "the first section must be the "
                        "state");
    r->state = malloc(s->length);
    if (!r->state)
        return -ENOMEM;
    r->state_len = s->length;
    ret = win_read(r, r->state, s->length, off);
    if (ret < 0)
        return sec_fail(err, errlen, s, strerror(-ret));
    if (snap_checksum(r->state, s->length, s->index) != s->check)
        return sec_fail(err, errlen, s, "checksum mismatch (corrupt)");
    if (snap_state_check(r->state, s->length, why, sizeof(why)))
        return sec_fail(err, errlen, s, why);
    return 0;
}

/* A RAM section's fixed part: read, decode; kept when pages follow, else
 * checksummed here (the payload is the fixed part) and dropped. */
static int read_ram_fixed(struct snap_reader *r, const struct snap_section *s,
                          uint64_t off, char *err, size_t errlen)
{
    struct ram_sec *rs;
    size_t len = s->length < RAM_FIXED_MAX ? s->length : RAM_FIXED_MAX;
    char why[96];
    int ret;

    if (r->nram == r->cap) {
        unsigned int cap = r->cap ? 2 * r->cap : 64;
        void *p = realloc(r->ram, cap * sizeof(*r->ram));

        if (!p)
            return -ENOMEM;
        r->ram = p;
        r->cap = cap;
    }
    rs = &r->ram[r->nram++];
    memset(rs, 0, sizeof(*rs));
    rs->s = *s;
    rs->off = off;
    ret = win_read(r, r->scratch, len, off);
    if (ret < 0)
        return sec_fail(err, errlen, s, strerror(-ret));
    if (snap_ram_decode(r->scratch, len, s->length, &rs->ram, why,
                        sizeof(why)))
        return sec_fail(err, errlen, s, why);
    rs->fixed_len = SNAP_RAM_HEADER_SIZE +
                    snap_ram_bitmap_bytes(rs->ram.npages);
    if (rs->ram.present == 0) {
        if (snap_checksum(r->scratch, rs->fixed_len, s->index) != s->check)
            return sec_fail(err, errlen, s, "checksum mismatch (corrupt)");
        rs->ram.bitmap = zero_bitmap;
        return 0;
    }
    rs->fixed = malloc(rs->fixed_len);
    if (!rs->fixed)
        return -ENOMEM;
    memcpy(rs->fixed, r->scratch, rs->fixed_len);
    rs->ram.bitmap = rs->fixed + SNAP_RAM_HEADER_SIZE;
    return 0;
}

static int read_end(struct snap_reader *r, const struct snap_section *s,
                    uint64_t off, char *err, size_t errlen)
{
    uint8_t buf[SNAP_END_SIZE];
    struct snap_end e;
    uint64_t pages = 0;
    char why[96];
    int ret = win_read(r, buf, sizeof(buf), off);

    if (ret < 0)
        return sec_fail(err, errlen, s, strerror(-ret));
    if (snap_checksum(buf, sizeof(buf), s->index) != s->check)
        return sec_fail(err, errlen, s, "checksum mismatch (corrupt)");
    if (snap_end_decode(buf, sizeof(buf), &e, why, sizeof(why)))
        return sec_fail(err, errlen, s, why);
    for (unsigned int i = 0; i < r->nram; i++)
        pages += r->ram[i].ram.present;
    if (e.nsections != s->index || e.ram_pages != pages)
        return sec_fail(err, errlen, s, "counts do not match the file "
                        "(sections lost)");
    if (off + SNAP_END_SIZE != r->size)
        return sec_fail(err, errlen, s, "trailing data after the end "
                        "record");
    return 0;
}

/* One section header at @off; dispatch on its type. 1 after END. */
static int read_section(struct snap_reader *r, uint64_t *off, uint32_t i,
                        char *err, size_t errlen)
{
    uint8_t hb[SNAP_SECTION_HEADER_SIZE];
    struct snap_section s;
    uint64_t left = r->size - *off;
    int ret;

    if (left == 0) {
        snprintf(err, errlen, "truncated: file ends before section %u "
                 "(no end record)", i);
        return -EINVAL;
    }
    ret = win_read(r, hb, left < sizeof(hb) ? left : sizeof(hb), *off);
    if (ret < 0) {
        snprintf(err, errlen, "section %u: %s", i, strerror(-ret));
        return ret;
    }
    ret = snap_section_decode(hb, left, i, &s, err, errlen);
    if (ret < 0)
        return ret;
    if (s.length > left - SNAP_SECTION_HEADER_SIZE)
        return sec_fail(err, errlen, &s, "truncated (file ends in its "
                        "payload)");
    *off += SNAP_SECTION_HEADER_SIZE;
    if (i == 0)
        ret = read_state(r, &s, *off, err, errlen);
    else if (s.type == SNAP_SEC_STATE)
        ret = sec_fail(err, errlen, &s, "a second state section");
    else if (s.type == SNAP_SEC_RAM)
        ret = read_ram_fixed(r, &s, *off, err, errlen);
    else if (s.type == SNAP_SEC_END)
        ret = read_end(r, &s, *off, err, errlen);
    else if (!(s.flags & SNAP_SEC_F_OPTIONAL))
        ret = sec_fail(err, errlen, &s, "unknown required section type "
                       "(newer minivmm?)");
    *off += s.length;
    if (ret == 0 && s.type == SNAP_SEC_END)
        return 1;
    return ret;
}

int snap_reader_open_fd(int fd, struct snap_reader **out, char *err,
                        size_t errlen)
{
    struct snap_reader *r = calloc(1, sizeof(*r));
    uint8_t hb[SNAP_HEADER_SIZE];
    struct stat sb;
    uint64_t off = SNAP_HEADER_SIZE;
    int ret;

    err[0] = 0;
    if (!r) {
        close(fd);
        return -ENOMEM;
    }
    r->fd = fd;
    r->win = malloc(WIN_SIZE); /* NULL: plain preads */
    r->scratch = malloc(RAM_FIXED_MAX);
    if (!r->scratch) {
        free(r->win);
        free(r);
        close(fd);
        return -ENOMEM;
    }
    ret = fstat(fd, &sb) < 0 ? -errno : 0;
    r->size = ret == 0 ? (uint64_t)sb.st_size : 0;
    if (ret == 0 && r->size < SNAP_HEADER_SIZE)
        ret = snap_header_decode(hb, (size_t)r->size, &r->h, err, errlen);
    if (ret == 0)
        ret = win_read(r, hb, sizeof(hb), 0);
    if (ret == 0)
        ret = snap_header_decode(hb, sizeof(hb), &r->h, err, errlen);
    for (uint32_t i = 0; ret == 0; i++) {
        if (i >= SNAP_MAX_SECTIONS) {
            snprintf(err, errlen, "too many sections");
            ret = -EINVAL;
            break;
        }
        ret = read_section(r, &off, i, err, errlen);
    }
    if (ret < 0) {
        if (!err[0])
            snprintf(err, errlen, "reading the snapshot: %s",
                     strerror(-ret));
        snap_reader_close(r);
        return ret;
    }
    free(r->win); /* only the headers went through them */
    free(r->scratch);
    r->win = r->scratch = NULL;
    *out = r;
    return 0;
}

int snap_reader_open(const char *path, struct snap_reader **out, char *err,
                     size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    int r;

    err[0] = 0;
    if (fd < 0) {
        r = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-r));
        return r;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file (a snapshot is a "
                 "file written by the snapshot command)", path);
        close(fd);
        return -EINVAL;
    }
    if (fcntl(fd, F_SETFL, 0) < 0) {
        r = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-r));
        close(fd);
        return r;
    }
    r = snap_reader_open_fd(fd, out, err, errlen);
    if (r < 0) {
        char tmp[512];

        snprintf(tmp, sizeof(tmp), "%s", err);
        snprintf(err, errlen, "%s: %s", path, tmp);
    }
    return r;
}

void snap_reader_close(struct snap_reader *r)
{
    if (!r)
        return;
    for (unsigned int i = 0; i < r->nram; i++)
        free(r->ram[i].fixed);
    free(r->ram);
    free(r->state);
    free(r->win);
    free(r->scratch);
    if (r->fd >= 0)
        close(r->fd);
    free(r);
}

const void *snap_reader_state(const struct snap_reader *r, size_t *len)
{
    *len = r->state_len;
    return r->state;
}

uint64_t snap_reader_ram_size(const struct snap_reader *r)
{
    return r->h.ram_size;
}

unsigned int snap_reader_nram(const struct snap_reader *r)
{
    return r->nram;
}

void snap_reader_ram_view(const struct snap_reader *r, unsigned int k,
                          struct snap_ram_view *v)
{
    const struct ram_sec *rs = &r->ram[k];

    *v = (struct snap_ram_view){
        .gpa = rs->ram.gpa, .npages = rs->ram.npages,
        .present = rs->ram.present, .bitmap = rs->ram.bitmap,
        .data_off = rs->off + rs->fixed_len, .fixed = rs->fixed,
        .fixed_len = rs->fixed ? rs->fixed_len : 0, .check = rs->s.check,
        .index = rs->s.index,
    };
}

int snap_reader_fd(const struct snap_reader *r)
{
    return r->fd;
}
