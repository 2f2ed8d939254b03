/* SPDX-License-Identifier: BSD-3-Clause */
/* The snapshot / migration-stream encoding (docs/snapshot-format.md): a
 * file header, then sections, each a 32-byte section header and a payload
 * with its own checksum (XXH3-64, seeded with the section's index):
 *
 *   STATE  the machine and device state: a flattened device tree
 *   RAM    one chunk of guest RAM: gpa, page count, a bitmap of the pages
 *          present (all others are zero), then the present pages
 *   END    section count and page total: a file without it is truncated
 *
 * Pure functions over buffers (no I/O, no allocation): the file writer and
 * reader (snapshot_file.c), the fuzz target and the unit tests share them.
 * All integers little-endian. Every decode function validates everything
 * it reads and returns 0 or -EINVAL with a one-line reason in @err.
 */
#ifndef MINIVMM_SNAPSHOT_FMT_H
#define MINIVMM_SNAPSHOT_FMT_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC "MVMSNAP\n"          /* 8 bytes, no NUL */
#define SNAP_VERSION 1                  /* newest version this code reads */
#define SNAP_HEADER_SIZE 64
#define SNAP_SECTION_HEADER_SIZE 32
#define SNAP_RAM_HEADER_SIZE 16
#define SNAP_END_SIZE 16
#define SNAP_PAGE_SIZE 4096ULL
#define SNAP_RAM_CHUNK_PAGES 8192u      /* what the writer uses: 32 MiB */
#define SNAP_RAM_MAX_PAGES 65536u       /* what a reader accepts: 256 MiB */
#define SNAP_STATE_MAX (64u << 20)      /* largest STATE payload */
#define SNAP_MAX_SECTIONS (1u << 20)

/* Header flags: bits 0-15 must be understood (unknown ones refuse the
 * file), bits 16-31 may be ignored. None are defined in version 1. */
#define SNAP_F_REQUIRED_MASK 0x0000ffffu

/* Section types. */
enum snap_section_type {
    SNAP_SEC_STATE = 1,
    SNAP_SEC_RAM = 2,
    SNAP_SEC_END = 3,
};

/* Section flags: an unknown section type with OPTIONAL set is skipped by
 * a reader; without it the file is refused. */
#define SNAP_SEC_F_OPTIONAL 0x1u

struct snap_header {
    uint32_t version;
    uint32_t flags;
    uint64_t ram_size;      /* guest RAM, bytes */
};

struct snap_section {
    uint32_t type;
    uint32_t flags;
    uint64_t length;        /* payload bytes */
    uint64_t check;         /* XXH3-64 of the payload, seed = index */
    uint32_t index;         /* 0-based position in the file or stream */
};

/* A RAM payload's fixed part, as decoded. @bitmap points into the buffer
 * given to snap_ram_decode (64-bit little-endian words; bit i of word w is
 * page 64 * w + i). */
struct snap_ram {
    uint64_t gpa;           /* page aligned */
    uint32_t npages;        /* 1..SNAP_RAM_MAX_PAGES */
    uint32_t present;       /* set bits in the bitmap */
    const uint8_t *bitmap;
};

struct snap_end {
    uint32_t nsections;     /* sections before END */
    uint64_t ram_pages;     /* present pages in all RAM sections */
};

/* 64 bytes into @buf. */
void snap_header_encode(void *buf, uint32_t flags, uint64_t ram_size);
/* @len bytes at @buf: checks size, magic, checksum, version (refuses a
 * newer one, naming both), required flags, reserved bytes. */
int snap_header_decode(const void *buf, size_t len, struct snap_header *h,
                       char *err, size_t errlen);

/* 32 bytes into @buf. */
void snap_section_encode(void *buf, const struct snap_section *s);
/* Checks the header checksum, that the index is @want_index, and the
 * length limits of the known types. */
int snap_section_decode(const void *buf, size_t len, uint32_t want_index,
                        struct snap_section *s, char *err, size_t errlen);
/* "state", "ram", "end", or "unknown". */
const char *snap_section_name(uint32_t type);

/* Bytes of the bitmap for @npages pages (multiple of 8). */
size_t snap_ram_bitmap_bytes(uint32_t npages);
/* Payload bytes of a RAM section with @npages pages, @present present. */
uint64_t snap_ram_length(uint32_t npages, uint32_t present);
/* Encode the fixed part (header + bitmap, SNAP_RAM_HEADER_SIZE +
 * snap_ram_bitmap_bytes(npages) bytes) into @buf. */
void snap_ram_encode(void *buf, uint64_t gpa, uint32_t npages,
                     const uint64_t *bitmap);
/* @buf holds at least the fixed part (@len bytes); @section_length is the
 * section's payload length, which must match the bitmap's page count. */
int snap_ram_decode(const void *buf, size_t len, uint64_t section_length,
                    struct snap_ram *r, char *err, size_t errlen);
/* Whether page @i of @r is present. */
int snap_ram_page_present(const struct snap_ram *r, uint32_t i);

void snap_end_encode(void *buf, const struct snap_end *e);
int snap_end_decode(const void *buf, size_t len, struct snap_end *e,
                    char *err, size_t errlen);

/* XXH3-64 of @len bytes with seed @index (one-shot). */
uint64_t snap_checksum(const void *buf, size_t len, uint32_t index);

/* Whole-file parse of an in-memory snapshot (tests, fuzzing, tools):
 * header, exactly one STATE first (fdt_check_full), RAM sections (each
 * checksummed; pages inside [0, ram_size)), END last with matching counts,
 * nothing after it. Callbacks may be NULL; a negative return stops the
 * parse and is returned. */
struct snap_visitor {
    int (*state)(void *opaque, const void *fdt, size_t len);
    int (*ram)(void *opaque, const struct snap_ram *r, const uint8_t *pages);
    void *opaque;
};
int snap_parse_buffer(const void *buf, size_t len,
                      const struct snap_visitor *v, char *err,
                      size_t errlen);

/* Checks a STATE payload: a valid flattened device tree (fdt_check_full)
 * of exactly @len bytes. */
int snap_state_check(const void *fdt, size_t len, char *err, size_t errlen);

#endif
