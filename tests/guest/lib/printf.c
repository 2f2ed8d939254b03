/* SPDX-License-Identifier: BSD-3-Clause */
/* A small vsnprintf and printf to COM1. */
#include "lib/printf.h"

#include <stdint.h>

#include "lib/serial.h"
#include "lib/string.h"

struct out {
    char *buf;
    size_t len, pos;
};

struct spec {
    int left, zero, alt;
    unsigned int width;
};

static void put(struct out *o, char c)
{
    if (o->pos + 1 < o->len)
        o->buf[o->pos] = c;
    o->pos++;
}

static void pad(struct out *o, char c, unsigned int n)
{
    while (n--)
        put(o, c);
}

static void put_str(struct out *o, const struct spec *sp, const char *s)
{
    size_t n = strlen(s);
    unsigned int fill = sp->width > n ? sp->width - (unsigned int)n : 0;

    if (!sp->left)
        pad(o, ' ', fill);
    while (*s)
        put(o, *s++);
    if (sp->left)
        pad(o, ' ', fill);
}

static void put_num(struct out *o, const struct spec *sp, uint64_t v,
                    unsigned int base, int neg, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    unsigned int n = 0, len, fill;

    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    len = n + (neg ? 1 : 0) + (sp->alt && base == 16 ? 2 : 0);
    fill = sp->width > len ? sp->width - len : 0;
    if (!sp->left && !sp->zero)
        pad(o, ' ', fill);
    if (neg)
        put(o, '-');
    if (sp->alt && base == 16) {
        put(o, '0');
        put(o, upper ? 'X' : 'x');
    }
    if (!sp->left && sp->zero)
        pad(o, '0', fill);
    while (n)
        put(o, tmp[--n]);
    if (sp->left)
        pad(o, ' ', fill);
}

static const char *parse_spec(const char *f, struct spec *sp, int *lng)
{
    *sp = (struct spec){ 0 };
    for (;; f++) {
        if (*f == '-')
            sp->left = 1;
        else if (*f == '0')
            sp->zero = 1;
        else if (*f == '#')
            sp->alt = 1;
        else
            break;
    }
    while (*f >= '0' && *f <= '9')
        sp->width = sp->width * 10 + (unsigned int)(*f++ - '0');
    *lng = 0;
    while (*f == 'l' || *f == 'z') {
        *lng = 1;
        f++;
    }
    return f;
}

static void convert(struct out *o, struct spec *sp, char c, int lng,
                    va_list *ap)
{
    int64_t s;

    switch (c) {
    case 'd':
    case 'i':
        s = lng ? va_arg(*ap, int64_t) : va_arg(*ap, int);
        put_num(o, sp, s < 0 ? -(uint64_t)s : (uint64_t)s, 10, s < 0, 0);
        break;
    case 'u':
        put_num(o, sp, lng ? va_arg(*ap, uint64_t) : va_arg(*ap, unsigned int),
                10, 0, 0);
        break;
    case 'x':
    case 'X':
        put_num(o, sp, lng ? va_arg(*ap, uint64_t) : va_arg(*ap, unsigned int),
                16, 0, c == 'X');
        break;
    case 'p':
        sp->alt = 1;
        put_num(o, sp, (uint64_t)(uintptr_t)va_arg(*ap, void *), 16, 0, 0);
        break;
    case 's': {
        const char *str = va_arg(*ap, const char *);

        put_str(o, sp, str ? str : "(null)");
        break;
    }
    case 'c':
        put(o, (char)va_arg(*ap, int));
        break;
    default:
        put(o, '%');
        put(o, c);
        break;
    }
}

int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
    struct out o = { buf, len, 0 };
    va_list aq;

    va_copy(aq, ap);
    while (*fmt) {
        struct spec sp;
        int lng;

        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        if (fmt[1] == '%') {
            put(&o, '%');
            fmt += 2;
            continue;
        }
        fmt = parse_spec(fmt + 1, &sp, &lng);
        if (!*fmt)
            break;
        convert(&o, &sp, *fmt++, lng, &aq);
    }
    va_end(aq);
    if (len)
        buf[o.pos < len ? o.pos : len - 1] = '\0';
    return (int)o.pos;
}

int snprintf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n;
}

int vprintf(const char *fmt, va_list ap)
{
    char buf[256];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);

    serial_write(buf);
    return n;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}
