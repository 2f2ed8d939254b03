/* SPDX-License-Identifier: BSD-3-Clause */
/* The whole-VM state tree, walked over the device registry (see
 * vmstate.h). */
#include "minivmm/persist/vmstate.h"

#include <errno.h>
#include <libfdt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/persist/snapshot_fmt.h"
#include "vmm/devreg.h"
#include "vmm/state.h"

#define TREE_START (256u << 10)

static int fdt_errno(int r)
{
    return r == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

/* Subnode @name of @parent: its offset or -errno. */
static int add_node(void *fdt, int parent, const char *name)
{
    int n = fdt_add_subnode(fdt, parent, name);

    return n < 0 ? fdt_errno(n) : n;
}

/* Save the entries that are (@root) or are not DEVREG_F_ROOT, each into
 * a new node @id under @parent. */
static int save_entries(struct devreg *devs, bool root, void *fdt,
                        int parent, char *err, size_t errlen)
{
    unsigned int n = devreg_count(devs);
    char id[DEVREG_ID_MAX];
    struct devreg_entry e;
    int r = 0;

    for (unsigned int i = 0; r == 0 && i < n; i++) {
        int node;

        if (devreg_get(devs, i, &e, id) < 0 ||
            !!(e.flags & DEVREG_F_ROOT) != root)
            continue;
        node = add_node(fdt, parent, id);
        r = node < 0 ? node : e.state->save(e.opaque, fdt, node);
        if (r < 0 && r != -ENOSPC)
            snprintf(err, errlen, "saving %s%s: %s", root ? "" : "device ",
                     id, strerror(-r));
    }
    return r;
}

static int save_all(struct devreg *devs, unsigned int cpus, uint64_t memory,
                    void *fdt, char *err, size_t errlen)
{
    int cn, dn, r = fdt_setprop_string(fdt, 0, "compatible",
                                       VMSTATE_COMPATIBLE);

    if (r < 0)
        return fdt_errno(r);
    cn = add_node(fdt, 0, "config");
    if (cn < 0)
        return cn;
    if ((r = fdt_setprop_u32(fdt, cn, "cpus", cpus)) < 0 ||
        (r = fdt_setprop_u64(fdt, cn, "memory", memory)) < 0)
        return fdt_errno(r);
    r = save_entries(devs, true, fdt, 0, err, errlen);
    if (r < 0)
        return r;
    dn = add_node(fdt, 0, "devices");
    return dn < 0 ? dn : save_entries(devs, false, fdt, dn, err, errlen);
}

int vmstate_build(struct devreg *devs, unsigned int cpus, uint64_t memory,
                  void **out, size_t *len, char *err, size_t errlen)
{
    for (size_t size = TREE_START; size <= SNAP_STATE_MAX; size *= 2) {
        void *fdt = malloc(size);
        int r;

        if (!fdt)
            return -ENOMEM;
        err[0] = 0;
        r = fdt_create_empty_tree(fdt, (int)size);
        if (r == 0)
            r = save_all(devs, cpus, memory, fdt, err, errlen);
        if (r == 0) {
            fdt_pack(fdt);
            *out = fdt;
            *len = fdt_totalsize(fdt);
            return 0;
        }
        free(fdt);
        if (r != -ENOSPC)
            return r;
    }
    snprintf(err, errlen, "state tree larger than %u MiB",
             SNAP_STATE_MAX >> 20);
    return -ENOSPC;
}

/* Load one entry from its node (@node < 0: the tree has none). */
static int load_entry(const struct devreg_entry *e, const void *fdt,
                      int node, char *err, size_t errlen)
{
    bool root = e->flags & DEVREG_F_ROOT;
    int r;

    if (node < 0 && (e->flags & DEVREG_F_OPTIONAL))
        return 0;
    if (node < 0 && root) {
        snprintf(err, errlen, "state tree has no /%s", e->id);
        return -EINVAL;
    }
    if (node < 0) {
        snprintf(err, errlen, "the snapshot has no state for device %s (a "
                 "device not in the snapshot?)", e->id);
        return -EINVAL;
    }
    r = e->state->load(e->opaque, fdt, node);
    if (r < 0)
        snprintf(err, errlen, "%s%s refused its state: %s",
                 root ? "" : "device ", e->id, strerror(-r));
    return r;
}

/* Every node under /devices (@dn) has an entry. */
static int check_extra(struct devreg *devs, const void *fdt, int dn,
                       char *err, size_t errlen)
{
    unsigned int n = devreg_count(devs);
    char id[DEVREG_ID_MAX];
    struct devreg_entry e;
    int node;

    fdt_for_each_subnode(node, fdt, dn) {
        const char *name = fdt_get_name(fdt, node, NULL);
        bool known = false;

        for (unsigned int i = 0; !known && i < n; i++)
            known = devreg_get(devs, i, &e, id) == 0 &&
                    !(e.flags & DEVREG_F_ROOT) && name && !strcmp(name, id);
        if (!known) {
            snprintf(err, errlen, "the snapshot has device %s, which this "
                     "VM lacks (missing on the command line?)",
                     name ? name : "?");
            return -EINVAL;
        }
    }
    return 0;
}

int vmstate_load(struct devreg *devs, const void *fdt, char *err,
                 size_t errlen)
{
    int dn = fdt_subnode_offset(fdt, 0, "devices");
    unsigned int n = devreg_count(devs);
    char id[DEVREG_ID_MAX];
    struct devreg_entry e;
    int r = vmstate_compatible(fdt, err, errlen);

    /* The VM's own parts first (vCPUs, irqchip), then the devices. */
    for (int pass = 0; r == 0 && pass < 2; pass++) {
        for (unsigned int i = 0; r == 0 && i < n; i++) {
            bool root;

            if (devreg_get(devs, i, &e, id) < 0)
                continue;
            root = e.flags & DEVREG_F_ROOT;
            if (root != (pass == 0))
                continue;
            r = load_entry(&e, fdt, root ? fdt_subnode_offset(fdt, 0, id) :
                           dn < 0 ? -1 : fdt_subnode_offset(fdt, dn, id),
                           err, errlen);
        }
    }
    return r == 0 && dn >= 0 ? check_extra(devs, fdt, dn, err, errlen) : r;
}

int vmstate_compatible(const void *fdt, char *err, size_t errlen)
{
    const char *compat = fdt_getprop(fdt, 0, "compatible", NULL);

    if (!compat || strcmp(compat, VMSTATE_COMPATIBLE)) {
        snprintf(err, errlen, "state tree is not '%s'", VMSTATE_COMPATIBLE);
        return -EINVAL;
    }
    return 0;
}

int vmstate_config(const void *fdt, unsigned int *cpus, uint64_t *memory,
                   char *err, size_t errlen)
{
    int cn = fdt_subnode_offset(fdt, 0, "config");
    uint32_t n;

    if (vmstate_compatible(fdt, err, errlen) < 0)
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
