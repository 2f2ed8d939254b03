/* SPDX-License-Identifier: BSD-3-Clause */
/* The few string functions the payload needs (gcc may call mem*). */
#ifndef GUEST_LIB_STRING_H
#define GUEST_LIB_STRING_H

#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/*
 * Parse an unsigned number (decimal, or hex with 0x) from s, up to the
 * first non-digit; *end (if not NULL) gets that position. Returns 0 or
 * -EINVAL if no digit was found.
 */
int str_to_u64(const char *s, const char **end, uint64_t *out);

#endif
