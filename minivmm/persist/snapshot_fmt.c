/* SPDX-License-Identifier: BSD-3-Clause */
/* Snapshot encoding (see snapshot_fmt.h, docs/snapshot-format.md). */
#include "minivmm/persist/snapshot_fmt.h"

#include <endian.h>
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "vmm/endian.h"

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -EINVAL;
}

uint64_t snap_checksum(const void *buf, size_t len, uint32_t index)
{
    return XXH3_64bits_withSeed(buf, len, index);
}

void snap_header_encode(void *buf, uint32_t flags, uint64_t ram_size)
{
    uint8_t *p = buf;

    memset(p, 0, SNAP_HEADER_SIZE);
    memcpy(p, SNAP_MAGIC, 8);
    le32_store(p + 8, SNAP_VERSION);
    le32_store(p + 12, flags);
    le32_store(p + 16, SNAP_HEADER_SIZE);
    le32_store(p + 20, (uint32_t)SNAP_PAGE_SIZE);
    le64_store(p + 24, ram_size);
    le64_store(p + 56, XXH3_64bits(p, 56));
}

int snap_header_decode(const void *buf, size_t len, struct snap_header *h,
                       char *err, size_t errlen)
{
    const uint8_t *p = buf;

    if (len < SNAP_HEADER_SIZE)
        return fail(err, errlen, "file header: truncated (file too short)");
    if (memcmp(p, SNAP_MAGIC, 8))
        return fail(err, errlen, "file header: not a minivmm snapshot "
                    "(bad magic)");
    h->version = le32_load(p + 8);
    if (h->version == 0 || h->version > SNAP_VERSION) {
        snprintf(err, errlen, "file header: format version %u is not "
                 "supported (this minivmm reads versions 1 to %u)",
                 h->version, SNAP_VERSION);
        return -EINVAL;
    }
    if (le64_load(p + 56) != XXH3_64bits(p, 56))
        return fail(err, errlen, "file header: checksum mismatch "
                    "(corrupt)");
    h->flags = le32_load(p + 12);
    if (h->flags & SNAP_F_REQUIRED_MASK) {
        snprintf(err, errlen, "file header: unknown required flags %#x",
                 h->flags & SNAP_F_REQUIRED_MASK);
        return -EINVAL;
    }
    if (le32_load(p + 16) != SNAP_HEADER_SIZE ||
        le32_load(p + 20) != SNAP_PAGE_SIZE)
        return fail(err, errlen, "file header: bad header or page size");
    for (unsigned int i = 32; i < 56; i++)
        if (p[i])
            return fail(err, errlen, "file header: reserved bytes set");
    h->ram_size = le64_load(p + 24);
    if (h->ram_size == 0 || h->ram_size % SNAP_PAGE_SIZE ||
        h->ram_size > (1ULL << 46))
        return fail(err, errlen, "file header: bad guest RAM size");
    return 0;
}

void snap_section_encode(void *buf, const struct snap_section *s)
{
    uint8_t *p = buf;

    le32_store(p, s->type);
    le32_store(p + 4, s->flags);
    le64_store(p + 8, s->length);
    le64_store(p + 16, s->check);
    le32_store(p + 24, s->index);
    le32_store(p + 28, (uint32_t)XXH3_64bits(p, 28));
}

const char *snap_section_name(uint32_t type)
{
    switch (type) {
    case SNAP_SEC_STATE:
        return "state";
    case SNAP_SEC_RAM:
        return "ram";
    case SNAP_SEC_END:
        return "end";
    default:
        return "unknown";
    }
}

static int length_ok(const struct snap_section *s)
{
    switch (s->type) {
    case SNAP_SEC_STATE:
        return s->length > 0 && s->length <= SNAP_STATE_MAX;
    case SNAP_SEC_RAM:
        return s->length >= SNAP_RAM_HEADER_SIZE + 8 &&
               s->length <= snap_ram_length(SNAP_RAM_MAX_PAGES,
                                            SNAP_RAM_MAX_PAGES);
    case SNAP_SEC_END:
        return s->length == SNAP_END_SIZE;
    default:
        return s->length <= (1ULL << 40);
    }
}

int snap_section_decode(const void *buf, size_t len, uint32_t want_index,
                        struct snap_section *s, char *err, size_t errlen)
{
    const uint8_t *p = buf;

    if (len < SNAP_SECTION_HEADER_SIZE) {
        snprintf(err, errlen, "section %u: truncated (file ends in its "
                 "header)", want_index);
        return -EINVAL;
    }
    if (le32_load(p + 28) != (uint32_t)XXH3_64bits(p, 28)) {
        snprintf(err, errlen, "section %u: header checksum mismatch "
                 "(corrupt)", want_index);
        return -EINVAL;
    }
    s->type = le32_load(p);
    s->flags = le32_load(p + 4);
    s->length = le64_load(p + 8);
    s->check = le64_load(p + 16);
    s->index = le32_load(p + 24);
    if (s->index != want_index) {
        snprintf(err, errlen, "section %u: carries index %u (sections out "
                 "of order)", want_index, s->index);
        return -EINVAL;
    }
    if (!length_ok(s)) {
        snprintf(err, errlen, "section %u (%s): bad length %llu",
                 want_index, snap_section_name(s->type),
                 (unsigned long long)s->length);
        return -EINVAL;
    }
    return 0;
}

size_t snap_ram_bitmap_bytes(uint32_t npages)
{
    return ((size_t)npages + 63) / 64 * 8;
}

uint64_t snap_ram_length(uint32_t npages, uint32_t present)
{
    return SNAP_RAM_HEADER_SIZE + snap_ram_bitmap_bytes(npages) +
           (uint64_t)present * SNAP_PAGE_SIZE;
}

void snap_ram_encode(void *buf, uint64_t gpa, uint32_t npages,
                     const uint64_t *bitmap)
{
    uint8_t *p = buf;
    size_t words = snap_ram_bitmap_bytes(npages) / 8;

    le64_store(p, gpa);
    le32_store(p + 8, npages);
    le32_store(p + 12, 0);
    for (size_t i = 0; i < words; i++)
        le64_store(p + SNAP_RAM_HEADER_SIZE + 8 * i, bitmap[i]);
}

int snap_ram_decode(const void *buf, size_t len, uint64_t section_length,
                    struct snap_ram *r, char *err, size_t errlen)
{
    const uint8_t *p = buf;
    size_t words;
    uint32_t present = 0;

    if (len < SNAP_RAM_HEADER_SIZE)
        return fail(err, errlen, "ram header truncated");
    r->gpa = le64_load(p);
    r->npages = le32_load(p + 8);
    if (r->gpa % SNAP_PAGE_SIZE || r->npages == 0 ||
        r->npages > SNAP_RAM_MAX_PAGES || le32_load(p + 12) != 0 ||
        r->gpa > UINT64_MAX - (uint64_t)r->npages * SNAP_PAGE_SIZE)
        return fail(err, errlen, "bad ram chunk header");
    words = snap_ram_bitmap_bytes(r->npages) / 8;
    if (len < SNAP_RAM_HEADER_SIZE + words * 8)
        return fail(err, errlen, "ram bitmap truncated");
    r->bitmap = p + SNAP_RAM_HEADER_SIZE;
    for (size_t i = 0; i < words; i++) {
        uint64_t w;

        memcpy(&w, r->bitmap + 8 * i, 8); /* one load, not 8 byte loads */
        w = le64toh(w);
        if (i == words - 1 && r->npages % 64 &&
            (w >> (r->npages % 64)) != 0)
            return fail(err, errlen, "ram bitmap has bits past its end");
        if (w) /* a libgcc call without -mpopcnt: not for zero words */
            present += (uint32_t)__builtin_popcountll(w);
    }
    r->present = present;
    if (section_length != snap_ram_length(r->npages, present))
        return fail(err, errlen, "ram length does not match its bitmap");
    return 0;
}

int snap_ram_page_present(const struct snap_ram *r, uint32_t i)
{
    return i < r->npages && ((r->bitmap[i / 8] >> (i % 8)) & 1);
}

void snap_end_encode(void *buf, const struct snap_end *e)
{
    uint8_t *p = buf;

    le32_store(p, e->nsections);
    le32_store(p + 4, 0);
    le64_store(p + 8, e->ram_pages);
}

int snap_end_decode(const void *buf, size_t len, struct snap_end *e,
                    char *err, size_t errlen)
{
    const uint8_t *p = buf;

    if (len != SNAP_END_SIZE || le32_load(p + 4) != 0)
        return fail(err, errlen, "bad end record");
    e->nsections = le32_load(p);
    e->ram_pages = le64_load(p + 8);
    return 0;
}

int snap_state_check(const void *fdt, size_t len, char *err, size_t errlen)
{
    int r;

    if (len < sizeof(struct fdt_header) || fdt_totalsize(fdt) != len)
        return fail(err, errlen, "state tree size does not match");
    r = fdt_check_full(fdt, len);
    if (r < 0) {
        snprintf(err, errlen, "state tree invalid: %s", fdt_strerror(r));
        return -EINVAL;
    }
    return 0;
}

/* Prefix "section N (type): " to the reason in @err. */
static int section_fail(char *err, size_t errlen, const struct snap_section *s,
                        const char *why)
{
    snprintf(err, errlen, "section %u (%s): %s", s->index,
             snap_section_name(s->type), why);
    return -EINVAL;
}

static int parse_ram(const uint8_t *pl, const struct snap_section *s,
                     uint64_t ram_size, const struct snap_visitor *v,
                     uint64_t *pages, char *err, size_t errlen)
{
    struct snap_ram r;
    char why[96];

    if (snap_ram_decode(pl, s->length, s->length, &r, why, sizeof(why)))
        return section_fail(err, errlen, s, why);
    if (r.gpa >= ram_size + (1ULL << 32) ||
        (uint64_t)r.npages * SNAP_PAGE_SIZE > ram_size + (1ULL << 32) - r.gpa)
        return section_fail(err, errlen, s, "pages outside guest RAM");
    *pages += r.present;
    if (v && v->ram)
        return v->ram(v->opaque, &r, pl + SNAP_RAM_HEADER_SIZE +
                                         snap_ram_bitmap_bytes(r.npages));
    return 0;
}

/* One section at @p (@avail bytes left). 1 after END, 0 to go on. */
static int parse_section(const uint8_t *p, size_t avail, uint32_t index,
                         const struct snap_header *h,
                         const struct snap_visitor *v, uint64_t *pages,
                         char *err, size_t errlen, uint64_t *used)
{
    struct snap_section s;
    const uint8_t *pl = p + SNAP_SECTION_HEADER_SIZE;
    struct snap_end e;
    char why[96];
    int r = snap_section_decode(p, avail, index, &s, err, errlen);

    if (r < 0)
        return r;
    if (s.length > avail - SNAP_SECTION_HEADER_SIZE)
        return section_fail(err, errlen, &s, "truncated (file ends in "
                            "its payload)");
    if (snap_checksum(pl, s.length, index) != s.check)
        return section_fail(err, errlen, &s, "checksum mismatch (corrupt)");
    *used = SNAP_SECTION_HEADER_SIZE + s.length;
    if ((index == 0) != (s.type == SNAP_SEC_STATE))
        return section_fail(err, errlen, &s, index == 0 ?
                            "the first section must be the state" :
                            "a second state section");
    switch (s.type) {
    case SNAP_SEC_STATE:
        if (snap_state_check(pl, s.length, why, sizeof(why)))
            return section_fail(err, errlen, &s, why);
        return v && v->state ? v->state(v->opaque, pl, s.length) : 0;
    case SNAP_SEC_RAM:
        return parse_ram(pl, &s, h->ram_size, v, pages, err, errlen);
    case SNAP_SEC_END:
        if (snap_end_decode(pl, s.length, &e, why, sizeof(why)))
            return section_fail(err, errlen, &s, why);
        if (e.nsections != index || e.ram_pages != *pages)
            return section_fail(err, errlen, &s, "counts do not match "
                                "the file (sections lost)");
        return 1;
    default:
        if (!(s.flags & SNAP_SEC_F_OPTIONAL))
            return section_fail(err, errlen, &s, "unknown required "
                                "section type (newer minivmm?)");
        return 0;
    }
}

int snap_parse_buffer(const void *buf, size_t len,
                      const struct snap_visitor *v, char *err,
                      size_t errlen)
{
    const uint8_t *p = buf;
    struct snap_header h;
    uint64_t off = SNAP_HEADER_SIZE, pages = 0, used = 0;
    int r = snap_header_decode(p, len, &h, err, errlen);

    for (uint32_t i = 0; r == 0; i++) {
        if (i >= SNAP_MAX_SECTIONS)
            return fail(err, errlen, "too many sections");
        if (off == len) {
            snprintf(err, errlen, "truncated: file ends before section %u "
                     "(no end record)", i);
            return -EINVAL;
        }
        r = parse_section(p + off, len - off, i, &h, v, &pages, err, errlen,
                          &used);
        off += used;
    }
    if (r < 0)
        return r;
    if (off != len)
        return fail(err, errlen, "trailing data after the end record");
    return 0;
}
