/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-blk's pre-copy migration part and stream framing; see precopy.h. */
#include "precopy.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The identity fields, by property name, as u64 in the FDT. */
#define FIELDS(X)                                                             \
    X(features) X(capacity) X(blk_size) X(size_max) X(seg_max) X(queues)  \
    X(queue_size) X(vectors)

static int put_fields(void *fdt, const struct vfu_blk_ident *id)
{
    int r = 0;

#define PUT(f)                                                                \
    if (r == 0)                                                               \
        r = fdt_setprop_u64(fdt, 0, #f, (uint64_t)id->f);
    FIELDS(PUT)
#undef PUT
    return r ? -ENOSPC : 0;
}

int vfu_blk_precopy_encode(const struct vfu_blk_ident *id, void **buf,
                           size_t *len)
{
    const int cap = 4096;
    void *fdt = malloc(cap);
    int r;

    if (!fdt)
        return -ENOMEM;
    r = fdt_create_empty_tree(fdt, cap) ? -ENOSPC : 0;
    if (r == 0 && fdt_setprop_u32(fdt, 0, "vfu-blk-precopy",
                                  VFU_BLK_PRECOPY_VERSION))
        r = -ENOSPC;
    if (r == 0)
        r = put_fields(fdt, id);
    if (r) {
        free(fdt);
        return r;
    }
    fdt_pack(fdt);
    *buf = fdt;
    *len = fdt_totalsize(fdt);
    return 0;
}

static int get_u64(const void *fdt, const char *name, uint64_t *v)
{
    const void *p;
    fdt64_t raw;
    int n;

    p = fdt_getprop(fdt, 0, name, &n);
    if (!p || n != 8)
        return -EINVAL;
    /* FDT property data is only 4-byte aligned. */
    memcpy(&raw, p, sizeof(raw));
    *v = fdt64_to_cpu(raw);
    return 0;
}

int vfu_blk_precopy_check(const void *buf, size_t len,
                          const struct vfu_blk_ident *own, char *why,
                          size_t wlen)
{
    const fdt32_t *ver;
    uint64_t v;
    int n;

    if (len < FDT_V17_SIZE || len > VFU_BLK_STREAM_MAX ||
        fdt_check_full(buf, len) || fdt_totalsize(buf) != len) {
        snprintf(why, wlen, "pre-copy part: not a valid FDT");
        return -EINVAL;
    }
    ver = fdt_getprop(buf, 0, "vfu-blk-precopy", &n);
    if (!ver || n != 4 || fdt32_to_cpu(*ver) != VFU_BLK_PRECOPY_VERSION) {
        snprintf(why, wlen, "pre-copy part: no vfu-blk-precopy version %u",
                 VFU_BLK_PRECOPY_VERSION);
        return -EINVAL;
    }
#define CHECK(f)                                                              \
    if (get_u64(buf, #f, &v)) {                                               \
        snprintf(why, wlen, "pre-copy part: no " #f);                         \
        return -EINVAL;                                                       \
    }                                                                         \
    if (v != (uint64_t)own->f) {                                              \
        snprintf(why, wlen, #f " is %#llx here, the source had %#llx",        \
                 (unsigned long long)own->f, (unsigned long long)v);          \
        return -EINVAL;                                                       \
    }
    FIELDS(CHECK)
#undef CHECK
    return 0;
}

/* Size of the FDT at @p (at most @left bytes there), 0 if implausible. */
static size_t blob_size(const uint8_t *p, size_t left)
{
    struct fdt_header h;
    size_t n;

    if (left < sizeof(h))
        return 0;
    memcpy(&h, p, sizeof(h));
    if (fdt32_to_cpu(h.magic) != FDT_MAGIC)
        return 0;
    n = fdt32_to_cpu(h.totalsize);
    return n >= sizeof(h) && n <= left && n <= VFU_BLK_STREAM_MAX ? n : 0;
}

int vfu_blk_stream_split(const void *buf, size_t len, const void **pre,
                         size_t *pre_len, const void **fin, size_t *fin_len)
{
    const uint8_t *p = buf;
    size_t a = buf ? blob_size(p, len) : 0, b;

    *pre = *fin = NULL;
    *pre_len = *fin_len = 0;
    if (!a)
        return -EINVAL;
    if (a == len) {
        *fin = p;
        *fin_len = len;
        return 0;
    }
    b = blob_size(p + a, len - a);
    if (!b || a + b != len)
        return -EINVAL;
    *pre = p;
    *pre_len = a;
    *fin = p + a;
    *fin_len = b;
    return 0;
}
