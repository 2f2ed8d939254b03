/* SPDX-License-Identifier: BSD-3-Clause */
/* Tiny AML encoder (see aml.h). Encodings: ACPI 6.5 §20.2 (AML grammar)
 * and §6.4 (resource descriptors). Little-endian host assumed (x86_64). */
#include "arch/x86/aml.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* AML opcodes and prefixes (ACPI 6.5 §20.2.3 - §20.2.5). */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0A
#define AML_WORD_PREFIX 0x0B
#define AML_DWORD_PREFIX 0x0C
#define AML_QWORD_PREFIX 0x0E
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_METHOD_OP 0x14
#define AML_DUAL_NAME 0x2E
#define AML_MULTI_NAME 0x2F
#define AML_EXT_OP_PREFIX 0x5B
#define AML_DEVICE_OP 0x82 /* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR '\\'
#define AML_PARENT_CHAR '^'

/* Resource descriptor tags (ACPI 6.5 §6.4.2, §6.4.3). */
#define AML_RES_IRQ_NOFLAGS 0x22 /* small, 2 data bytes */
#define AML_RES_IO 0x47          /* small, 7 data bytes */
#define AML_RES_END_TAG 0x79     /* small, 1 data byte */
#define AML_RES_MEM32_FIXED 0x86
#define AML_RES_DWORD_ADDR 0x87
#define AML_RES_WORD_ADDR 0x88
#define AML_RES_EXT_IRQ 0x89
#define AML_RES_QWORD_ADDR 0x8A

/* Address space resource types and flags (ACPI 6.5 §6.4.3.5). */
#define AML_ADDR_MEM 0
#define AML_ADDR_IO 1
#define AML_ADDR_BUS 2
#define AML_ADDR_PRODUCER_FIXED 0x0C /* _MIF | _MAF, PosDecode, producer */
#define AML_MEM_RW_NONCACHE 0x01
#define AML_IO_ENTIRE_RANGE 0x03

#define AML_MAX_SEGS 8
#define AML_NAME_MAX (AML_MAX_SEGS + 2 + 4 * AML_MAX_SEGS)

enum aml_kind {
    AML_K_SCOPE,
    AML_K_DEVICE,
    AML_K_METHOD,
    AML_K_PACKAGE,
    AML_K_RESTEMP,
};

static void fail(struct aml *a, int err)
{
    if (!a->err)
        a->err = err;
}

static void emit(struct aml *a, const void *p, size_t n)
{
    if (a->err)
        return;
    if (a->size - a->len < n) {
        fail(a, -ENOSPC);
        return;
    }
    memcpy(a->buf + a->len, p, n);
    a->len += n;
}

static void emit8(struct aml *a, uint8_t v)
{
    emit(a, &v, 1);
}

/* Innermost open construct, or -1 at the top level. */
static int cur_kind(const struct aml *a)
{
    return a->depth ? a->kind[a->depth - 1] : -1;
}

/* Before a term (Name, Device, Scope, Method): not in a package/buffer. */
static bool term_ok(struct aml *a)
{
    int k = cur_kind(a);

    if (k == AML_K_PACKAGE || k == AML_K_RESTEMP)
        fail(a, -EINVAL);
    return !a->err;
}

/* Before a data object: counts package elements; none in a buffer. */
static bool object_ok(struct aml *a)
{
    int k = cur_kind(a);

    if (k == AML_K_RESTEMP)
        fail(a, -EINVAL);
    else if (k == AML_K_PACKAGE)
        a->count[a->depth - 1]++;
    return !a->err;
}

static bool resource_ok(struct aml *a)
{
    if (cur_kind(a) != AML_K_RESTEMP)
        fail(a, -EINVAL);
    return !a->err;
}

void aml_init(struct aml *a, uint8_t *buf, size_t size)
{
    memset(a, 0, sizeof(*a));
    a->buf = buf;
    a->size = size;
}

int aml_finish(const struct aml *a, size_t *len)
{
    if (a->err)
        return a->err;
    if (a->depth)
        return -EINVAL;
    *len = a->len;
    return 0;
}

static bool name_char_ok(char c, bool lead)
{
    if ((c >= 'A' && c <= 'Z') || c == '_')
        return true;
    return !lead && c >= '0' && c <= '9';
}

/* One NameSeg from *@p into @seg (padded with '_'); advances *@p past it
 * and a following '.'. 0 or -EINVAL. */
static int name_seg(const char **p, uint8_t seg[4])
{
    const char *s = *p;
    size_t i;

    for (i = 0; i < 4 && *s && *s != '.'; i++, s++) {
        if (!name_char_ok(*s, i == 0))
            return -EINVAL;
        seg[i] = (uint8_t)*s;
    }
    if (i == 0 || (*s && *s != '.'))
        return -EINVAL;
    for (; i < 4; i++)
        seg[i] = '_';
    if (*s == '.' && !*++s)
        return -EINVAL;
    *p = s;
    return 0;
}

/* ASL path -> NameString (ACPI 6.5 §20.2.2). Bytes written or -EINVAL. */
static int name_encode(const char *p, uint8_t out[AML_NAME_MAX])
{
    uint8_t segs[AML_MAX_SEGS][4];
    size_t n = 0, nseg = 0;

    if (*p == AML_ROOT_CHAR)
        out[n++] = (uint8_t)*p++;
    while (*p == AML_PARENT_CHAR && n < AML_MAX_SEGS)
        out[n++] = (uint8_t)*p++;
    while (*p) {
        if (nseg == AML_MAX_SEGS || name_seg(&p, segs[nseg]) < 0)
            return -EINVAL;
        nseg++;
    }
    if (nseg == 0) {
        out[n++] = 0; /* NullName */
    } else if (nseg == 2) {
        out[n++] = AML_DUAL_NAME;
    } else if (nseg > 2) {
        out[n++] = AML_MULTI_NAME;
        out[n++] = (uint8_t)nseg;
    }
    memcpy(out + n, segs, 4 * nseg);
    return (int)(n + 4 * nseg);
}

static void emit_name(struct aml *a, const char *path)
{
    uint8_t enc[AML_NAME_MAX];
    int n = name_encode(path, enc);

    if (n < 0)
        fail(a, n);
    else
        emit(a, enc, (size_t)n);
}

void aml_name(struct aml *a, const char *name)
{
    if (!term_ok(a))
        return;
    emit8(a, AML_NAME_OP);
    emit_name(a, name);
}

void aml_name_ref(struct aml *a, const char *path)
{
    if (object_ok(a))
        emit_name(a, path);
}

/* Shortest ComputationalData encoding of @v into @out; returns length. */
static size_t int_encode(uint64_t v, uint8_t out[9])
{
    size_t n;

    if (v <= 1) {
        out[0] = v ? AML_ONE_OP : AML_ZERO_OP;
        return 1;
    }
    if (v <= 0xFF) {
        out[0] = AML_BYTE_PREFIX;
        n = 1;
    } else if (v <= 0xFFFF) {
        out[0] = AML_WORD_PREFIX;
        n = 2;
    } else if (v <= 0xFFFFFFFF) {
        out[0] = AML_DWORD_PREFIX;
        n = 4;
    } else {
        out[0] = AML_QWORD_PREFIX;
        n = 8;
    }
    memcpy(out + 1, &v, n);
    return n + 1;
}

void aml_integer(struct aml *a, uint64_t v)
{
    uint8_t enc[9];

    if (object_ok(a))
        emit(a, enc, int_encode(v, enc));
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void aml_eisaid(struct aml *a, const char *id)
{
    uint32_t v = 0;

    if (strlen(id) != 7) {
        fail(a, -EINVAL);
        return;
    }
    for (int i = 0; i < 3; i++) {
        if (id[i] < 'A' || id[i] > 'Z') {
            fail(a, -EINVAL);
            return;
        }
        v = v << 5 | (uint32_t)(id[i] - 0x40);
    }
    for (int i = 3; i < 7; i++) {
        int h = hex_digit(id[i]);

        if (h < 0) {
            fail(a, -EINVAL);
            return;
        }
        v = v << 4 | (uint32_t)h;
    }
    /* The compressed ID is stored big-endian in the 32-bit integer. */
    aml_integer(a, __builtin_bswap32(v));
}

static void open_construct(struct aml *a, enum aml_kind kind, const uint8_t *op,
                           size_t oplen)
{
    if (a->err)
        return;
    if (a->depth == AML_MAX_DEPTH) {
        fail(a, -EINVAL);
        return;
    }
    emit(a, op, oplen);
    if (a->err)
        return;
    a->start[a->depth] = a->len;
    a->kind[a->depth] = (uint8_t)kind;
    a->count[a->depth] = 0;
    a->depth++;
}

void aml_scope_begin(struct aml *a, const char *path)
{
    static const uint8_t op[] = {AML_SCOPE_OP};

    if (!term_ok(a))
        return;
    open_construct(a, AML_K_SCOPE, op, sizeof(op));
    emit_name(a, path);
}

void aml_device_begin(struct aml *a, const char *name)
{
    static const uint8_t op[] = {AML_EXT_OP_PREFIX, AML_DEVICE_OP};

    if (!term_ok(a))
        return;
    open_construct(a, AML_K_DEVICE, op, sizeof(op));
    emit_name(a, name);
}

void aml_method_begin(struct aml *a, const char *name, unsigned int nargs)
{
    static const uint8_t op[] = {AML_METHOD_OP};

    if (nargs > 7)
        fail(a, -EINVAL);
    if (!term_ok(a))
        return;
    open_construct(a, AML_K_METHOD, op, sizeof(op));
    emit_name(a, name);
    emit8(a, (uint8_t)nargs); /* MethodFlags: NotSerialized, SyncLevel 0 */
}

void aml_package_begin(struct aml *a)
{
    static const uint8_t op[] = {AML_PACKAGE_OP};

    if (object_ok(a))
        open_construct(a, AML_K_PACKAGE, op, sizeof(op));
}

void aml_restemp_begin(struct aml *a)
{
    static const uint8_t op[] = {AML_BUFFER_OP};

    if (object_ok(a))
        open_construct(a, AML_K_RESTEMP, op, sizeof(op));
}

/* PkgLength for @content bytes that follow it (ACPI 6.5 §20.2.4); the
 * encoded value includes the PkgLength bytes. Length, or 0 if too big. */
static size_t pkglen_encode(size_t content, uint8_t out[4])
{
    size_t n, total;

    if (content + 1 <= 0x3F) {
        out[0] = (uint8_t)(content + 1);
        return 1;
    }
    for (n = 2; n <= 4; n++) {
        total = content + n;
        if (total < (size_t)1 << (4 + 8 * (n - 1)))
            break;
    }
    if (n > 4)
        return 0;
    out[0] = (uint8_t)((n - 1) << 6 | (total & 0x0F));
    for (size_t i = 1; i < n; i++)
        out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
    return n;
}

/* Insert @n bytes at offset @at, moving what follows. */
static void insert(struct aml *a, size_t at, const uint8_t *p, size_t n)
{
    if (a->size - a->len < n) {
        fail(a, -ENOSPC);
        return;
    }
    memmove(a->buf + at + n, a->buf + at, a->len - at);
    memcpy(a->buf + at, p, n);
    a->len += n;
}

void aml_end(struct aml *a)
{
    static const uint8_t end_tag[] = {AML_RES_END_TAG, 0};
    uint8_t pre[4 + 9];
    size_t extra = 0, pl, start;
    unsigned int d;

    if (a->err)
        return;
    if (!a->depth) {
        fail(a, -EINVAL);
        return;
    }
    d = a->depth - 1;
    start = a->start[d];
    if (a->kind[d] == AML_K_PACKAGE) {
        if (a->count[d] > 0xFF) {
            fail(a, -EINVAL);
            return;
        }
        pre[4] = (uint8_t)a->count[d]; /* NumElements */
        extra = 1;
    } else if (a->kind[d] == AML_K_RESTEMP) {
        emit(a, end_tag, sizeof(end_tag));           /* checksum 0: "valid" */
        extra = int_encode(a->len - start, pre + 4); /* BufferSize */
    }
    pl = pkglen_encode(a->len - start + extra, pre);
    if (!pl) {
        fail(a, -EINVAL);
        return;
    }
    memmove(pre + pl, pre + 4, extra);
    insert(a, start, pre, pl + extra);
    a->depth--;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
    if (term_ok(a))
        emit(a, p, n);
}

void aml_error(struct aml *a, int err)
{
    fail(a, err);
}

void aml_block_begin(struct aml *a, const uint8_t *op, size_t oplen)
{
    if (term_ok(a))
        open_construct(a, AML_K_SCOPE, op, oplen);
}

void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
    uint8_t d[8] = {AML_RES_IO, 0x01 /* Decode16 */};

    memcpy(d + 2, &base, 2); /* _MIN */
    memcpy(d + 4, &base, 2); /* _MAX */
    d[6] = 1;                /* _ALN */
    d[7] = len;              /* _LEN */
    if (resource_ok(a))
        emit(a, d, sizeof(d));
}

void aml_res_irq(struct aml *a, unsigned int irq)
{
    uint8_t d[3] = {AML_RES_IRQ_NOFLAGS};
    uint16_t mask;

    if (irq > 15) {
        fail(a, -EINVAL);
        return;
    }
    mask = (uint16_t)(1u << irq);
    memcpy(d + 1, &mask, 2);
    if (resource_ok(a))
        emit(a, d, sizeof(d));
}

void aml_res_ext_irq(struct aml *a, uint32_t gsi, unsigned int flags)
{
    uint8_t d[9] = {AML_RES_EXT_IRQ, 6, 0};

    d[3] = (uint8_t)(0x01 /* consumer */ | (flags & 0x0E));
    d[4] = 1; /* interrupt table length */
    memcpy(d + 5, &gsi, 4);
    if (resource_ok(a))
        emit(a, d, sizeof(d));
}

void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len)
{
    uint8_t d[12] = {AML_RES_MEM32_FIXED, 9, 0, 0x01 /* ReadWrite */};

    memcpy(d + 4, &base, 4);
    memcpy(d + 8, &len, 4);
    if (resource_ok(a))
        emit(a, d, sizeof(d));
}

/* Word/DWord/QWord Address Space descriptor (ACPI 6.5 §6.4.3.5.1-3) with
 * fields of @width bytes: _GRA 0, _MIN, _MAX, _TRA 0, _LEN. */
static void res_addr(struct aml *a, uint8_t tag, size_t width, uint8_t type,
                     uint8_t tflags, uint64_t min, uint64_t max)
{
    uint8_t d[3 + 3 + 5 * 8] = {tag};
    uint16_t dlen = (uint16_t)(3 + 5 * width);
    uint64_t len = max - min + 1;

    if (max < min)
        fail(a, -EINVAL);
    memcpy(d + 1, &dlen, 2);
    d[3] = type;
    d[4] = AML_ADDR_PRODUCER_FIXED;
    d[5] = tflags;
    memcpy(d + 6 + 1 * width, &min, width);
    memcpy(d + 6 + 2 * width, &max, width);
    memcpy(d + 6 + 4 * width, &len, width);
    if (resource_ok(a))
        emit(a, d, 3 + dlen);
}

void aml_res_bus_range(struct aml *a, uint16_t min, uint16_t max)
{
    res_addr(a, AML_RES_WORD_ADDR, 2, AML_ADDR_BUS, 0, min, max);
}

void aml_res_io_range(struct aml *a, uint16_t min, uint16_t max)
{
    res_addr(a, AML_RES_WORD_ADDR, 2, AML_ADDR_IO, AML_IO_ENTIRE_RANGE, min,
             max);
}

void aml_res_mem32_range(struct aml *a, uint32_t min, uint32_t max)
{
    res_addr(a, AML_RES_DWORD_ADDR, 4, AML_ADDR_MEM, AML_MEM_RW_NONCACHE, min,
             max);
}

void aml_res_mem64_range(struct aml *a, uint64_t min, uint64_t max)
{
    res_addr(a, AML_RES_QWORD_ADDR, 8, AML_ADDR_MEM, AML_MEM_RW_NONCACHE, min,
             max);
}
