/* SPDX-License-Identifier: BSD-3-Clause */
/* Host limits (see host_limits.h). */
#include "vmm/host_limits.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int host_check_memory(uint64_t bytes, const char *what, char *err,
                      size_t errlen)
{
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    uint64_t host = (uint64_t)pages * (uint64_t)psize;

    if (pages > 0 && psize > 0 && bytes > host) {
        snprintf(err, errlen, "%s asks for %llu MiB of guest RAM, more than "
                 "this host's %llu MiB", what,
                 (unsigned long long)(bytes >> 20),
                 (unsigned long long)(host >> 20));
        return -EINVAL;
    }
    return 0;
}
