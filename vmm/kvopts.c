/* SPDX-License-Identifier: BSD-3-Clause */
/* The key=value option parser (see kvopts.h). */
#include "vmm/kvopts.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Close the item being built (its text ends at @out->buf[*@w]; @val is
 * where its value starts, NULL for a flag): 0 or -EINVAL when its key is
 * empty. */
static int end_item(struct kvopts *out, size_t *w, char *val)
{
    struct kvopt *it = &out->item[out->n];

    out->buf[(*w)++] = 0;
    if (!it->key[0])
        return -EINVAL;
    it->val = val;
    out->n++;
    return 0;
}

int kvopts_split(const char *s, struct kvopts *out)
{
    size_t len = strnlen(s, KVOPTS_MAX_LEN + 1), w = 0;
    char *val = NULL;
    bool open = false;

    out->n = 0;
    if (len > KVOPTS_MAX_LEN)
        return -E2BIG;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!open) {
            if (out->n == KVOPTS_MAX_ITEMS)
                return -E2BIG;
            out->item[out->n].key = &out->buf[w];
            val = NULL;
            open = true;
        }
        if (c == ',' && s[i + 1] == ',') {
            out->buf[w++] = ',';
            i++;
        } else if (c == ',') {
            if (end_item(out, &w, val) < 0)
                return -EINVAL;
            open = false;
        } else if (c == '=' && !val) {
            out->buf[w++] = 0;
            val = &out->buf[w];
        } else {
            out->buf[w++] = c;
        }
    }
    if (open && end_item(out, &w, val) < 0)
        return -EINVAL;
    return 0;
}

static const struct kvopt_spec *find_spec(const struct kvopt_spec *spec,
                                          const char *key)
{
    for (; spec->key; spec++)
        if (!strcmp(spec->key, key))
            return spec;
    return NULL;
}

/* A decimal number in [min, max] (max fits an unsigned int, so x * 10 + 9
 * never overflows an unsigned long long): 0 or -EINVAL. */
static int parse_uint(const char *v, unsigned long min, unsigned long max,
                      unsigned int *out)
{
    unsigned long long x = 0;

    if (!*v || max > 0xffffffffUL)
        return -EINVAL;
    for (; *v; v++) {
        if (!isdigit((unsigned char)*v))
            return -EINVAL;
        x = x * 10 + (unsigned)(*v - '0');
        if (x > max)
            return -EINVAL;
    }
    if (x < min)
        return -EINVAL;
    *out = (unsigned int)x;
    return 0;
}

static int apply_one(const struct kvopt_spec *sp, const struct kvopt *it,
                     char *dst)
{
    void *field = dst + sp->off;

    switch (sp->kind) {
    case KVOPT_STR:
        if (!it->val || !it->val[0] || strlen(it->val) >= sp->size)
            return -EINVAL;
        memcpy(field, it->val, strlen(it->val) + 1);
        return 0;
    case KVOPT_FLAG:
        if (it->val)
            return -EINVAL;
        *(int *)field = 1;
        return 0;
    case KVOPT_UINT:
        return it->val ? parse_uint(it->val, sp->min, sp->max, field) :
                         -EINVAL;
    case KVOPT_FN:
        return sp->fn ? sp->fn(it->val, field) : -EINVAL;
    }
    return -EINVAL;
}

int kvopts_apply(const struct kvopts *kv, const struct kvopt_spec *spec,
                 void *dst, unsigned int flags, const struct kvopt **bad)
{
    for (unsigned int i = 0; i < kv->n; i++) {
        const struct kvopt *it = &kv->item[i];
        const struct kvopt_spec *sp = find_spec(spec, it->key);
        int r = sp ? 0 : -ENOENT;

        for (unsigned int j = 0; r == 0 && !(flags & KVOPTS_LAST_WINS) &&
                                 j < i; j++)
            if (!strcmp(kv->item[j].key, it->key))
                r = -EEXIST;
        if (r == 0)
            r = apply_one(sp, it, dst);
        if (r < 0) {
            if (bad)
                *bad = it;
            return r;
        }
    }
    return 0;
}

int kvopts_escape(const char *s, char *out, size_t outlen)
{
    size_t w = 0;

    for (; *s; s++) {
        size_t need = *s == ',' ? 2 : 1;

        if (w + need >= outlen)
            return -E2BIG;
        out[w++] = *s;
        if (*s == ',')
            out[w++] = ',';
    }
    if (w >= outlen)
        return -E2BIG;
    out[w] = 0;
    return (int)w;
}
