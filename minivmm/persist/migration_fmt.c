/* SPDX-License-Identifier: BSD-3-Clause */
/* Live-migration stream validation (see migration_fmt.h). */
#include "minivmm/persist/migration_fmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/devreg.h"
#include "vmm/endian.h"
#include "vmm/memory.h"

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -EINVAL;
}

static int sec_fail(char *err, size_t errlen, const struct snap_section *s,
                    const char *why)
{
    snprintf(err, errlen, "section %u (%s): %s", s->index,
             mig_section_name(s->type), why);
    return -EINVAL;
}

const char *mig_section_name(uint32_t type)
{
    if (type == MIG_SEC_RAM_DIRTY)
        return "ram-dirty";
    if (type == MIG_SEC_DEVICE)
        return "device";
    if (type == MIG_SEC_CONFIG)
        return "config";
    return snap_section_name(type);
}

int mig_rx_header(struct mig_rx *rx, const void *buf, size_t len, char *err,
                  size_t errlen)
{
    struct snap_header h;
    char why[160];

    memset(rx, 0, sizeof(*rx));
    if (snap_header_decode(buf, len, &h, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "stream %s", why);
        return -EINVAL;
    }
    if (!(h.flags & MIG_F_STREAM))
        return fail(err, errlen, "stream header: not a migration stream");
    rx->ram_size = h.ram_size;
    rx->phase = MIG_RX_CONFIG;
    return 0;
}

/* Whether a section of @type may come in phase @p; the phase after it. */
static int order_ok(enum mig_rx_phase p, uint32_t type,
                    enum mig_rx_phase *next)
{
    static const uint8_t allowed[MIG_RX_DONE + 1] = {
        [MIG_RX_CONFIG] = 1u << 5,
        [MIG_RX_RAM] = 1u << 0 | 1u << 1 | 1u << 2 | 1u << 3,
        [MIG_RX_DIRTY] = 1u << 1 | 1u << 2 | 1u << 3,
        [MIG_RX_STATE_SEEN] = 1u << 4,
    };
    static const struct {
        uint32_t type;
        enum mig_rx_phase next;
    } kinds[] = {
        { SNAP_SEC_RAM, MIG_RX_RAM },
        { MIG_SEC_RAM_DIRTY, MIG_RX_DIRTY },
        { MIG_SEC_DEVICE, MIG_RX_DIRTY },
        { SNAP_SEC_STATE, MIG_RX_STATE_SEEN },
        { SNAP_SEC_END, MIG_RX_DONE },
        { MIG_SEC_CONFIG, MIG_RX_RAM },
    };

    for (unsigned int k = 0; k < 6; k++) {
        if (kinds[k].type != type)
            continue;
        if (!(allowed[p] >> k & 1))
            return -EINVAL;
        *next = kinds[k].next;
        return 0;
    }
    return -ENOENT;
}

int mig_rx_section(struct mig_rx *rx, const void *buf,
                   struct snap_section *s, char *err, size_t errlen)
{
    enum mig_rx_phase next;
    uint64_t max;
    int r;

    if (rx->phase == MIG_RX_HEADER || rx->phase == MIG_RX_DONE)
        return fail(err, errlen, "stream: section outside the stream");
    if (snap_section_decode(buf, SNAP_SECTION_HEADER_SIZE, rx->next_index,
                            s, err, errlen) < 0)
        return -EINVAL;
    r = order_ok(rx->phase, s->type, &next);
    if (r == -ENOENT)
        return sec_fail(err, errlen, s, "unknown section type");
    if (r < 0)
        return sec_fail(err, errlen, s, "not allowed here (out of order)");
    max = s->type == MIG_SEC_DEVICE ?
          MIG_DEVICE_ID_SIZE + (uint64_t)MIG_DEVICE_DATA_MAX :
          snap_ram_length(SNAP_RAM_MAX_PAGES, SNAP_RAM_MAX_PAGES);
    if (s->type == MIG_SEC_RAM_DIRTY &&
        s->length < SNAP_RAM_HEADER_SIZE + 8)
        return sec_fail(err, errlen, s, "bad length");
    if ((s->type == MIG_SEC_RAM_DIRTY || s->type == MIG_SEC_DEVICE) &&
        s->length > max)
        return sec_fail(err, errlen, s, "bad length");
    if (s->type == MIG_SEC_DEVICE && s->length < MIG_DEVICE_ID_SIZE)
        return sec_fail(err, errlen, s, "bad length");
    if (s->type == MIG_SEC_CONFIG && s->length != MIG_CONFIG_SIZE)
        return sec_fail(err, errlen, s, "bad length");
    rx->phase = next;
    rx->next_index++;
    return 0;
}

bool mig_ram_range_ok(uint64_t ram_size, uint64_t gpa, uint64_t len)
{
    uint64_t low = ram_size < GUEST_MEM_LOW_LIMIT ? ram_size :
                   GUEST_MEM_LOW_LIMIT;

    if (len == 0 || gpa + len < gpa)
        return false;
    if (gpa + len <= low)
        return true;
    return gpa >= GUEST_MEM_HIGH_START &&
           gpa + len <= GUEST_MEM_HIGH_START + (ram_size - low);
}

size_t mig_ram_fixed_len(const void *ram_header)
{
    uint32_t n = le32_load((const uint8_t *)ram_header + 8);

    if (n == 0 || n > SNAP_RAM_MAX_PAGES)
        return SNAP_RAM_HEADER_SIZE;
    return SNAP_RAM_HEADER_SIZE + snap_ram_bitmap_bytes(n);
}

int mig_rx_ram(struct mig_rx *rx, const struct snap_section *s,
               const void *buf, size_t len, struct snap_ram *r, char *err,
               size_t errlen)
{
    uint64_t bytes;
    char why[96];

    if (snap_ram_decode(buf, len, s->length, r, why, sizeof(why)) < 0)
        return sec_fail(err, errlen, s, why);
    bytes = (uint64_t)r->npages * SNAP_PAGE_SIZE;
    if (!mig_ram_range_ok(rx->ram_size, r->gpa, bytes))
        return sec_fail(err, errlen, s, "pages outside guest RAM");
    if (s->type == SNAP_SEC_RAM) {
        /* Absent pages are zero only in fresh RAM: each page once. */
        if (r->gpa < rx->ram_next)
            return sec_fail(err, errlen, s, "first-pass pages sent twice");
        rx->ram_next = r->gpa + bytes;
    }
    rx->pages += r->present;
    return 0;
}

int mig_rx_device(const void *buf, size_t len, char *id,
                  const uint8_t **data, size_t *dlen, char *err,
                  size_t errlen)
{
    const uint8_t *p = buf;

    if (len < MIG_DEVICE_ID_SIZE || !memchr(p, 0, DEVREG_ID_MAX))
        return fail(err, errlen, "device section: bad id");
    memcpy(id, p, DEVREG_ID_MAX);
    if (!devreg_valid_id(id))
        return fail(err, errlen, "device section: bad id");
    for (size_t i = strlen(id); i < MIG_DEVICE_ID_SIZE; i++)
        if (p[i])
            return fail(err, errlen, "device section: id not NUL-padded");
    *data = p + MIG_DEVICE_ID_SIZE;
    *dlen = len - MIG_DEVICE_ID_SIZE;
    return 0;
}

int mig_rx_end(struct mig_rx *rx, const struct snap_section *s,
               const void *buf, size_t len, char *err, size_t errlen)
{
    struct snap_end e;
    char why[96];

    if (snap_end_decode(buf, len, &e, why, sizeof(why)) < 0)
        return sec_fail(err, errlen, s, why);
    if (e.nsections != s->index || e.ram_pages != rx->pages)
        return sec_fail(err, errlen, s, "counts do not match the stream "
                        "(sections lost)");
    return 0;
}

void mig_config_encode(void *buf, uint32_t cpus)
{
    memset(buf, 0, MIG_CONFIG_SIZE);
    le32_store(buf, cpus);
}

int mig_rx_config(const void *buf, size_t len, uint32_t *cpus, char *err,
                  size_t errlen)
{
    const uint8_t *p = buf;
    uint32_t v;

    if (len != MIG_CONFIG_SIZE)
        return fail(err, errlen, "config section: bad length");
    for (size_t i = 4; i < MIG_CONFIG_SIZE; i++)
        if (p[i])
            return fail(err, errlen, "config section: reserved bytes set");
    v = le32_load(p);
    if (v == 0 || v > 255)
        return fail(err, errlen, "config section: bad vCPU count");
    *cpus = v;
    return 0;
}

void mig_device_id_encode(void *buf, const char *id)
{
    memset(buf, 0, MIG_DEVICE_ID_SIZE);
    memcpy(buf, id, strnlen(id, DEVREG_ID_MAX - 1));
}

void mig_reply_encode(void *buf, uint32_t status, const char *why)
{
    uint8_t *p = buf;

    memset(p, 0, MIG_REPLY_SIZE);
    memcpy(p, MIG_REPLY_MAGIC, 8);
    le32_store(p + 8, status);
    snprintf((char *)p + 16, MIG_REPLY_SIZE - 16, "%s", why ? why : "");
}

int mig_reply_decode(const void *buf, uint32_t *status, char *why,
                     size_t whylen)
{
    const uint8_t *p = buf;

    if (memcmp(p, MIG_REPLY_MAGIC, 8) ||
        !memchr(p + 16, 0, MIG_REPLY_SIZE - 16))
        return -EINVAL;
    *status = le32_load(p + 8);
    snprintf(why, whylen, "%s", (const char *)p + 16);
    return 0;
}

/* libfdt wants the tree 8-byte aligned: copy it if it is not. */
static int parse_state(const struct snap_section *s, const uint8_t *pl,
                       const struct mig_visitor *v, char *err,
                       size_t errlen)
{
    void *copy = NULL;
    char why[96];
    int r = 0;

    if ((uintptr_t)pl % 8) {
        copy = malloc(s->length);
        if (!copy)
            return -ENOMEM;
        memcpy(copy, pl, s->length);
        pl = copy;
    }
    if (snap_state_check(pl, s->length, why, sizeof(why)))
        r = sec_fail(err, errlen, s, why);
    else if (v && v->state)
        r = v->state(v->opaque, pl, s->length);
    free(copy);
    return r;
}

/* One section's payload @pl (checksum verified). */
static int parse_payload(struct mig_rx *rx, const struct snap_section *s,
                         const uint8_t *pl, const struct mig_visitor *v,
                         char *err, size_t errlen)
{
    char id[DEVREG_ID_MAX], why[96];
    const uint8_t *data;
    struct snap_ram r;
    uint32_t cpus;
    size_t dlen;

    switch (s->type) {
    case SNAP_SEC_RAM:
    case MIG_SEC_RAM_DIRTY:
        if (mig_rx_ram(rx, s, pl, s->length, &r, err, errlen) < 0)
            return -EINVAL;
        return v && v->ram ? v->ram(v->opaque, s->type, &r, pl +
                                    SNAP_RAM_HEADER_SIZE +
                                    snap_ram_bitmap_bytes(r.npages)) : 0;
    case MIG_SEC_DEVICE:
        if (mig_rx_device(pl, s->length, id, &data, &dlen, why,
                          sizeof(why)) < 0)
            return sec_fail(err, errlen, s, why);
        return v && v->device ? v->device(v->opaque, id, data, dlen) : 0;
    case SNAP_SEC_STATE:
        return parse_state(s, pl, v, err, errlen);
    case MIG_SEC_CONFIG:
        if (mig_rx_config(pl, s->length, &cpus, why, sizeof(why)) < 0)
            return sec_fail(err, errlen, s, why);
        return 0;
    default:
        return mig_rx_end(rx, s, pl, s->length, err, errlen);
    }
}

int mig_parse_buffer(const void *buf, size_t len, const struct mig_visitor *v,
                     char *err, size_t errlen)
{
    const uint8_t *p = buf;
    struct snap_section s;
    struct mig_rx rx;
    size_t off = SNAP_HEADER_SIZE;
    int r = mig_rx_header(&rx, p, len, err, errlen);

    while (r == 0 && rx.phase != MIG_RX_DONE) {
        if (rx.next_index >= SNAP_MAX_SECTIONS)
            return fail(err, errlen, "stream: too many sections");
        if (len - off < SNAP_SECTION_HEADER_SIZE)
            return fail(err, errlen, "stream: cut short (no end record)");
        r = mig_rx_section(&rx, p + off, &s, err, errlen);
        if (r < 0)
            return r;
        off += SNAP_SECTION_HEADER_SIZE;
        if (s.length > len - off)
            return sec_fail(err, errlen, &s, "cut short in its payload");
        if (snap_checksum(p + off, s.length, s.index) != s.check)
            return sec_fail(err, errlen, &s, "checksum mismatch (corrupt)");
        r = parse_payload(&rx, &s, p + off, v, err, errlen);
        off += s.length;
    }
    if (r == 0 && off != len)
        return fail(err, errlen, "stream: data after the end record");
    return r;
}
