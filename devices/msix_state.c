/* SPDX-License-Identifier: BSD-3-Clause */
/* MSI-X table and PBA in the state tree (see msix_state.h). */
#include "devices/msix_state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/state.h"

int msix_state_save(struct msix *m, void *fdt, int node)
{
    uint32_t tsize = msix_table_size(m);
    uint32_t psize = msix_pba_size(m);
    uint8_t *buf = malloc(tsize + psize);
    int r;

    if (!buf)
        return -ENOMEM;
    for (uint32_t o = 0; o < tsize; o += 4)
        msix_table_read(m, o, buf + o, 4);
    for (uint32_t o = 0; o < psize; o += 8)
        msix_pba_read(m, o, buf + tsize + o, 8);
    r = state_put_bytes(fdt, node, "msix-table", buf, tsize);
    if (r == 0)
        r = state_put_bytes(fdt, node, "msix-pba", buf + tsize, psize);
    free(buf);
    return r;
}

int msix_state_load(struct msix *m, const void *fdt, int node)
{
    uint32_t tsize = msix_table_size(m);
    uint32_t psize = msix_pba_size(m);
    uint8_t *buf = malloc(tsize + psize);
    uint64_t bits;
    int r;

    if (!buf)
        return -ENOMEM;
    r = state_get_bytes(fdt, node, "msix-table", buf, tsize);
    if (r == 0)
        r = state_get_bytes(fdt, node, "msix-pba", buf + tsize, psize);
    if (r == 0) {
        msix_reset(m);
        for (uint32_t o = 0; o < tsize; o += 4)
            msix_table_write(m, o, buf + o, 4);
        for (unsigned int v = 0; v < m->nvec; v++) {
            memcpy(&bits, buf + tsize + v / 64 * 8, 8);
            if ((bits >> (v % 64)) & 1)
                msix_notify(m, v);
        }
    }
    free(buf);
    return r;
}
