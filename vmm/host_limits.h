/* SPDX-License-Identifier: BSD-3-Clause */
/* What this host can give a VM, checked before anything is built: for
 * --kernel (the command line), --restore (a snapshot file) and --incoming
 * (a migration stream) alike, so a file or a network peer cannot make
 * minivmm build a VM the host cannot hold. */
#ifndef MINIVMM_HOST_LIMITS_H
#define MINIVMM_HOST_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* 0 when @bytes of guest RAM fit in this host's physical RAM
 * (sysconf(_SC_PHYS_PAGES) x page size); otherwise -EINVAL with a reason
 * naming @what (e.g. "--memory", "the snapshot", "the migration stream")
 * in @err. */
int host_check_memory(uint64_t bytes, const char *what, char *err,
                      size_t errlen);

#endif
