/* SPDX-License-Identifier: BSD-3-Clause */
/* Snapshot files: writing a VM's state tree and guest RAM in the format of
 * snapshot_fmt.h, and reading one back, fast:
 *
 * - save: pages are tested for zero in place (holes of the memfd are
 *   skipped with SEEK_DATA/SEEK_HOLE without touching them), chunks are
 *   scanned and checksummed by several threads, then written straight
 *   from guest memory with pwritev (no copies), into PATH.tmp renamed to
 *   PATH when complete;
 * - restore: every header, the state tree and every RAM section's layout
 *   are validated before anything is allocated (snap_reader_open; headers
 *   through a 64 KiB read window, sections without pages checksummed
 *   there and not kept), then present pages are loaded on demand
 *   (snapshot_lazy.h) or eagerly by two threads (snap_reader_load_ram,
 *   snapshot_load.c: page cache or O_DIRECT reads, pwrite into the memfd;
 *   zero pages never touched: the memfd is zero), each section's checksum
 *   verified over the bytes read.
 */
#ifndef MINIVMM_SNAPSHOT_FILE_H
#define MINIVMM_SNAPSHOT_FILE_H

#include <stddef.h>
#include <stdint.h>

struct guest_memory;
struct snap_reader;

struct snap_write_stats {
    uint64_t bytes;         /* file size */
    uint64_t pages;         /* present (non-zero) pages written */
    uint64_t zero_pages;    /* pages elided */
    uint32_t sections;
};

/* Write @fdt (@fdt_len bytes, a finished tree) and all of @mem to @path
 * (through @path.tmp). Guest RAM must not change meanwhile (vCPUs and
 * devices quiesced). 0 or -errno with the reason in @err. */
int snap_write_file(const char *path, const void *fdt, size_t fdt_len,
                    const struct guest_memory *mem,
                    struct snap_write_stats *st, char *err, size_t errlen);

/* Same into an open fd at offset 0 (tests, and later streams). */
int snap_write_fd(int fd, const void *fdt, size_t fdt_len,
                  const struct guest_memory *mem,
                  struct snap_write_stats *st, char *err, size_t errlen);

/* Open and validate @path: header, state tree, every section header and
 * RAM bitmap, the end record. -EINVAL (corrupt, truncated, foreign or too
 * new; the reason names the section), or another -errno (cannot open), the
 * reason in @err either way. */
int snap_reader_open(const char *path, struct snap_reader **out, char *err,
                     size_t errlen);
int snap_reader_open_fd(int fd, struct snap_reader **out, char *err,
                        size_t errlen);
void snap_reader_close(struct snap_reader *r);

/* The validated state tree, valid until close. */
const void *snap_reader_state(const struct snap_reader *r, size_t *len);
/* Guest RAM size recorded in the header, bytes. */
uint64_t snap_reader_ram_size(const struct snap_reader *r);

/* One RAM section as snap_reader_open validated it (on-demand loading,
 * snapshot_lazy.c). Pointers valid until close. */
struct snap_ram_view {
    uint64_t gpa;           /* guest-physical start, page aligned */
    uint32_t npages;        /* 4 KiB pages covered */
    uint32_t present;       /* pages stored (bits set in bitmap) */
    const uint8_t *bitmap;  /* 8 x ceil(npages / 64) bytes, bit i of byte
                             * i / 8 = page i present (format's words, LE) */
    uint64_t data_off;      /* file offset of the first present page */
    const void *fixed;      /* RAM header + bitmap: hashed before pages;
                             * NULL (fixed_len 0) when present is 0: that
                             * section's checksum was verified at open and
                             * there is nothing to load */
    size_t fixed_len;
    uint64_t check;         /* XXH3-64 of the payload, seeded with index */
    uint32_t index;         /* section index in the file */
};

/* Number of RAM sections, and section @k (< that number) in file order. */
unsigned int snap_reader_nram(const struct snap_reader *r);
void snap_reader_ram_view(const struct snap_reader *r, unsigned int k,
                          struct snap_ram_view *v);
/* The file, positioned nowhere (pread only); owned by the reader. */
int snap_reader_fd(const struct snap_reader *r);

/* Read every RAM section into @mem (fresh: all zero), verifying each
 * checksum (snapshot_load.c: two threads, pages populated first, O_DIRECT
 * through a bounce buffer when the file is not in the page cache).
 * -EINVAL names the section (corrupt data, pages outside RAM); -EIO etc.
 * for read errors. */
int snap_reader_load_ram(struct snap_reader *r, struct guest_memory *mem,
                         char *err, size_t errlen);

/* The next run of present pages in @bitmap (@npages bits, bit i of byte
 * i / 8) at or after page *@i: *@i its first page, *@n its length. 1, or
 * 0 when there is none (*@n = 0). */
int snap_next_run(const uint8_t *bitmap, uint32_t npages, uint32_t *i,
                  uint32_t *n);

/* The @align-aligned file span (*@aoff, *@alen bytes) holding @len bytes
 * at @off (@align a power of two; O_DIRECT reads). */
void snap_dio_span(uint64_t off, uint64_t len, uint32_t align,
                   uint64_t *aoff, uint64_t *alen);

#endif
