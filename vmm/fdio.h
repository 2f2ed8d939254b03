/* SPDX-License-Identifier: BSD-3-Clause */
/* The one whole-buffer positioned read: pread(2) until LEN bytes are in,
 * retrying EINTR and short reads. */
#ifndef MINIVMM_VMM_FDIO_H
#define MINIVMM_VMM_FDIO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

/* Reads LEN bytes at byte offset OFF of FD into BUF. Returns 0, -EIO at
 * end of file before LEN bytes, or negative errno from pread(2). */
static inline int fd_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

#endif
