/* SPDX-License-Identifier: BSD-3-Clause */
/* The one iovec helper: consume bytes from the front of an iovec array, as
 * after a short readv/writev/preadv/pwritev or a partial copy. */
#ifndef MINIVMM_VMM_IOV_H
#define MINIVMM_VMM_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/* Advances *IOV / *CNT past N bytes: whole entries are dropped, a partly
 * consumed entry is trimmed in place. N beyond the total leaves *CNT 0.
 * Returns the bytes actually skipped. */
static inline size_t iov_advance(struct iovec **iov, int *cnt, size_t n)
{
    size_t done = 0;
    while (*cnt > 0 && n > 0) {
        struct iovec *v = *iov;
        size_t step = n < v->iov_len ? n : v->iov_len;
        v->iov_base = (char *)v->iov_base + step;
        v->iov_len -= step;
        n -= step;
        done += step;
        if (v->iov_len == 0) {
            (*iov)++;
            (*cnt)--;
        }
    }
    while (*cnt > 0 && (*iov)->iov_len == 0) {
        (*iov)++;
        (*cnt)--;
    }
    return done;
}

/* Total bytes of CNT entries. */
static inline size_t iov_total(const struct iovec *iov, int cnt)
{
    size_t t = 0;
    for (int i = 0; i < cnt; i++)
        t += iov[i].iov_len;
    return t;
}

#endif
