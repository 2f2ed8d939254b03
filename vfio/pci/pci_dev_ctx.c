/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: the shared context (see pci_dev_ctx.h). */
#include "vfio/pci/pci_dev_ctx.h"

#include <stdarg.h>
#include <stdio.h>

#include "vfio/client/client.h"

bool vpd_alive(const struct vpd_ctx *c)
{
    return !atomic_load(&c->dead) && !vfio_client_failed(c->client);
}

void vpd_say(const struct vpd_ctx *c, enum log_level level,
             const char *fmt, ...)
{
    char buf[320];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_msg(level, "minivmm: vfio-user %s: %s\n", c->name, buf);
}
