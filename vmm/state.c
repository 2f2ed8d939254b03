/* SPDX-License-Identifier: BSD-3-Clause */
/* Device-state tree helpers over libfdt (see state.h). */
#include "vmm/state.h"

#include <errno.h>
#include <libfdt.h>
#include <string.h>

static int fdt_err(int r)
{
    switch (r) {
    case 0:
        return 0;
    case -FDT_ERR_NOSPACE:
        return -ENOSPC;
    case -FDT_ERR_NOTFOUND:
        return -ENOENT;
    default:
        return -EINVAL;
    }
}

int state_put_u32(void *fdt, int node, const char *name, uint32_t v)
{
    return fdt_err(fdt_setprop_u32(fdt, node, name, v));
}

int state_put_u64(void *fdt, int node, const char *name, uint64_t v)
{
    return fdt_err(fdt_setprop_u64(fdt, node, name, v));
}

int state_put_bytes(void *fdt, int node, const char *name, const void *buf,
                    size_t len)
{
    if (len > INT32_MAX)
        return -EINVAL;
    return fdt_err(fdt_setprop(fdt, node, name, buf, (int)len));
}

int state_get_bytes(const void *fdt, int node, const char *name, void *buf,
                    size_t len)
{
    int plen;
    const void *p = fdt_getprop(fdt, node, name, &plen);

    if (!p)
        return fdt_err(plen);
    if (plen < 0 || (size_t)plen != len)
        return -EINVAL;
    memcpy(buf, p, len);
    return 0;
}

int state_get_u32(const void *fdt, int node, const char *name, uint32_t *v)
{
    fdt32_t be = 0;
    int r = state_get_bytes(fdt, node, name, &be, sizeof(be));

    if (r == 0)
        *v = fdt32_to_cpu(be);
    return r;
}

int state_get_u64(const void *fdt, int node, const char *name, uint64_t *v)
{
    fdt64_t be = 0;
    int r = state_get_bytes(fdt, node, name, &be, sizeof(be));

    if (r == 0)
        *v = fdt64_to_cpu(be);
    return r;
}
