/* SPDX-License-Identifier: BSD-3-Clause */
/* VM control: the pure helpers on a state tree (see vmctl.h), apart from
 * vmctl.c so that the fuzz targets reading snapshots and migration
 * streams link them without the VM (KVM, vCPUs, devices). */
#include "minivmm/vmctl.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "vmm/state.h"

int vmctl_state_compatible(const void *fdt, char *err, size_t errlen)
{
    const char *compat = fdt_getprop(fdt, 0, "compatible", NULL);

    if (!compat || strcmp(compat, VMCTL_STATE_COMPATIBLE)) {
        snprintf(err, errlen, "state tree is not '%s'",
                 VMCTL_STATE_COMPATIBLE);
        return -EINVAL;
    }
    return 0;
}

int vmctl_state_config(const void *fdt, unsigned int *cpus,
                       uint64_t *memory, char *err, size_t errlen)
{
    int cn = fdt_subnode_offset(fdt, 0, "config");
    uint32_t n;

    if (vmctl_state_compatible(fdt, err, errlen) < 0)
        return -EINVAL;
    if (cn < 0 || state_get_u32(fdt, cn, "cpus", &n) < 0 ||
        state_get_u64(fdt, cn, "memory", memory) < 0) {
        snprintf(err, errlen, "state tree: no /config cpus and memory");
        return -EINVAL;
    }
    if (n == 0 || n > 255 || *memory == 0 || *memory % 4096) {
        snprintf(err, errlen, "state tree: bad config (%u vCPUs, %llu "
                 "bytes of RAM)", n, (unsigned long long)*memory);
        return -EINVAL;
    }
    *cpus = n;
    return 0;
}
