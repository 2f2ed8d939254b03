/* SPDX-License-Identifier: BSD-3-Clause */
/* The one key=value option parser, for every --device-style option
 * (--disk, --net, --vfio-user, --memory's options; the API's device-add
 * builds the same strings). Syntax as QEMU's: items separated by ',';
 * an item is "key" (a flag) or "key=value"; ",," stands for one ',' inside
 * a key or a value (a path holding a comma: path=a,,b.img is "a,b.img").
 * Pure (no allocation, no I/O): unit-tested (tests/unit/test_kvopts.c).
 *
 * Two steps: kvopts_split() cuts a string into items; kvopts_apply() sets
 * the fields of a caller's struct from a table of keys (string, flag,
 * bounded number, or the caller's own conversion), refusing unknown and
 * repeated keys. Callers word their own messages from the item returned
 * in *@bad, so every option keeps its own error texts. */
#ifndef MINIVMM_VMM_KVOPTS_H
#define MINIVMM_VMM_KVOPTS_H

#include <stddef.h>

#define KVOPTS_MAX_ITEMS 16     /* items in one option string */
#define KVOPTS_MAX_LEN 2048     /* bytes of one option string */

struct kvopt {
    const char *key;            /* non-empty, ",," already unescaped */
    const char *val;            /* NULL: a flag ("readonly"); may be "" */
};

struct kvopts {
    unsigned int n;
    struct kvopt item[KVOPTS_MAX_ITEMS];
    char buf[KVOPTS_MAX_LEN + 2 * KVOPTS_MAX_ITEMS]; /* keys, values, NULs */
};

/* Split @s into @out (whose strings point into @out->buf). A trailing ','
 * is allowed ("path=a,"), an empty string gives no item. 0; -E2BIG (more
 * than KVOPTS_MAX_ITEMS items or longer than KVOPTS_MAX_LEN bytes);
 * -EINVAL (an empty item or key: ",x", "a,,,b" is fine but "a,=v" not). */
int kvopts_split(const char *s, struct kvopts *out);

enum kvopt_kind {
    KVOPT_STR,      /* non-empty value shorter than .size: char[.size] */
    KVOPT_FLAG,     /* no value: int set to 1 */
    KVOPT_UINT,     /* decimal digits in [.min, .max]: unsigned int */
    KVOPT_FN,       /* .fn(value or NULL, field): the caller's conversion */
};

/* One key of a table (ends with .key NULL): the field at byte .off of the
 * destination struct. */
struct kvopt_spec {
    const char *key;
    enum kvopt_kind kind;
    size_t off;
    size_t size;                /* KVOPT_STR: the char array's size */
    unsigned long min, max;     /* KVOPT_UINT bounds (inclusive) */
    int (*fn)(const char *val, void *field); /* KVOPT_FN: 0 or -EINVAL */
};

/* kvopts_apply() @flags. */
#define KVOPTS_LAST_WINS 1u     /* a key given twice: the later value */

/* Apply every item of @kv to @dst through @spec, in order. 0; else the
 * first failing item in *@bad (may be NULL) and -ENOENT (key not in
 * @spec), -EEXIST (key given twice, unless KVOPTS_LAST_WINS), -EINVAL
 * (value refused: empty, too long, out of range, a flag with a value, a
 * value missing). Fields of items before the failing one are already
 * set. */
int kvopts_apply(const struct kvopts *kv, const struct kvopt_spec *spec,
                 void *dst, unsigned int flags, const struct kvopt **bad);

/* Copy @s into @out (@outlen bytes with the NUL) with every ',' doubled,
 * so it reads back as one value. Length written, or -E2BIG (nothing
 * usable in @out). */
int kvopts_escape(const char *s, char *out, size_t outlen);

#endif
