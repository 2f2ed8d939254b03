/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * printf-like formatting: %d %i %u %x %X %p %s %c %%, with the flags
 * '-' '0' '#', a width, and the 'l'/'ll'/'z' length modifiers.
 */
#ifndef GUEST_LIB_PRINTF_H
#define GUEST_LIB_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* Format into buf (always NUL-terminated if len > 0); returns the length
 * the full output would have had. */
int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
int snprintf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Format to the serial console (COM1). */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);

#endif
