/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: snapshots and migration. The client-side state
 * (config space, MSI-X, IOMMU layout, server identity) plus the server's
 * own migration data stream, in the device's node of the VM state tree.
 * See pci_dev.h. Spec: vfio-user.rst "VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE",
 * "VFIO_USER_MIG_DATA_READ", "VFIO_USER_MIG_DATA_WRITE". */
#include "vfio/pci/pci_dev_state.h"

#include <errno.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci.h"
#include "vfio/client/client.h"
#include "vfio/client/client_mig.h"
#include "vfio/pci/pci_dev_mig_v1.h"
#include "vfio/proto/migration.h"
#include "vfio/proto/proto.h"
#include "vmm/state.h"

#define STATE_VERSION 1u
#define MAX_WINDOWS   64u

/* Node properties:
 *   version         u32, STATE_VERSION
 *   device-info     u32[3]: flags, num_regions, num_irqs
 *   region-sizes    u64[num_regions]     region-flags  u32[num_regions]
 *   irq-counts      u32[num_irqs]        irq-flags     u32[num_irqs]
 *   iommu-windows   struct vfio_client_window[] (iova, size, prot, fd)
 *   config, intx-level   (devices/pci.c pci_dev_save)
 *   msix-table, msix-pba (with an MSI-X capability)
 *   server-state    bytes: the server's STOP_COPY stream
 */

#define say(d, ...) vpd_say((d)->ctx, LOG_ERROR, __VA_ARGS__)

void vpd_state_init(struct vpd_state *d, struct vpd_ctx *ctx,
                    struct vpd_irq *irq)
{
    d->ctx = ctx;
    d->irq = irq;
    d->mig.ctx = ctx;
}

/* ---- identity encoding (pure) -------------------------------------------- */

/* The identity's arrays as state properties: one table read by save and
 * load alike (name, array, element size, count: regions or IRQs). */
struct id_arrays {
    uint64_t sizes[VFIO_CLIENT_MAX_REGIONS];
    uint32_t rfl[VFIO_CLIENT_MAX_REGIONS];
    uint32_t cnt[VFIO_CLIENT_MAX_IRQS];
    uint32_t ifl[VFIO_CLIENT_MAX_IRQS];
};

struct id_prop {
    const char *name;
    void *data;
    size_t size; /* bytes: element size times regions or IRQs */
};

static void id_props(struct id_arrays *a, uint32_t nr, uint32_t ni,
                     struct id_prop p[4])
{
    p[0] = (struct id_prop){ "region-sizes", a->sizes, (size_t)nr * 8 };
    p[1] = (struct id_prop){ "region-flags", a->rfl, (size_t)nr * 4 };
    p[2] = (struct id_prop){ "irq-counts", a->cnt, (size_t)ni * 4 };
    p[3] = (struct id_prop){ "irq-flags", a->ifl, (size_t)ni * 4 };
}

int vpd_identity_save(void *fdt, int node,
                      const struct vfio_client_identity *id)
{
    uint32_t info[3] = {id->flags, id->num_regions, id->num_irqs};
    uint32_t nr = id->num_regions, ni = id->num_irqs;
    struct id_arrays a;
    struct id_prop p[4];
    int r;

    if (nr > VFIO_CLIENT_MAX_REGIONS || ni > VFIO_CLIENT_MAX_IRQS)
        return -EINVAL;
    for (uint32_t i = 0; i < nr; i++) {
        a.sizes[i] = id->region[i].size;
        a.rfl[i] = id->region[i].flags;
    }
    for (uint32_t i = 0; i < ni; i++) {
        a.cnt[i] = id->irq[i].count;
        a.ifl[i] = id->irq[i].flags;
    }
    id_props(&a, nr, ni, p);
    r = state_put_bytes(fdt, node, "device-info", info, sizeof(info));
    for (int i = 0; r == 0 && i < 4; i++)
        r = state_put_bytes(fdt, node, p[i].name, p[i].data, p[i].size);
    return r;
}

int vpd_identity_load(const void *fdt, int node,
                      struct vfio_client_identity *id)
{
    uint32_t info[3], nr, ni;
    struct id_arrays a;
    struct id_prop p[4];
    int r;

    memset(id, 0, sizeof(*id));
    r = state_get_bytes(fdt, node, "device-info", info, sizeof(info));
    if (r)
        return r;
    nr = info[1];
    ni = info[2];
    if (nr > VFIO_CLIENT_MAX_REGIONS || ni > VFIO_CLIENT_MAX_IRQS)
        return -EINVAL;
    id_props(&a, nr, ni, p);
    for (int i = 0; r == 0 && i < 4; i++)
        r = state_get_bytes(fdt, node, p[i].name, p[i].data, p[i].size);
    if (r)
        return r;
    id->flags = info[0];
    id->num_regions = nr;
    id->num_irqs = ni;
    for (uint32_t i = 0; i < nr; i++) {
        id->region[i].size = a.sizes[i];
        id->region[i].flags = a.rfl[i];
    }
    for (uint32_t i = 0; i < ni; i++) {
        id->irq[i].count = a.cnt[i];
        id->irq[i].flags = a.ifl[i];
    }
    return 0;
}

/* ---- the server's migration state ---------------------------------------- */

int vpd_state_mig_flags(struct vpd_state *d, uint64_t *flags)
{
    uint64_t f = 0;
    int r;

    if (!d->mig.probed) {
        r = vpd_v1_probe(&d->mig); /* v1 when offered, see docs/migration.md */
        if (r)
            return r;
    }
    if (!d->mig.probed) {
        r = vfio_client_mig_flags(d->ctx->client, &f);
        if (r == -ENODEV || r == -ETIMEDOUT || r == -EPROTO)
            return r;
        d->mig.flags = r == 0 ? f : 0;
        d->mig.probed = true;
    }
    *flags = d->mig.flags;
    return 0;
}

/* Move the server to @to (the server walks the path). */
static int mig_set(struct vpd_state *d, uint32_t to)
{
    uint32_t cur = VFIO_DEVICE_STATE_ERROR;
    int r;

    if (d->mig.v1)
        return vpd_v1_set(&d->mig, to);
    r = vfio_client_mig_get_state(d->ctx->client, &cur);

    if (r == 0 && cur != to)
        r = vfio_client_mig_set_state(d->ctx->client, to);
    if (r)
        say(d, "migration state %s -> %s: %s", vfio_user_mig_state_name(cur),
            vfio_user_mig_state_name(to), strerror(-r));
    return r;
}

/* ---- pre-copy ------------------------------------------------------------ */

int vpd_precopy_more(struct vpd_state *d)
{
    void *buf = NULL;
    size_t len = 0;
    int r;

    if (!atomic_load(&d->mig.pre_active))
        return 0;
    r = vfio_client_mig_read_all(d->ctx->client,
                                 VFIO_CLIENT_MIG_DATA_MAX - d->mig.pre_len,
                                 &buf, &len);
    if (r) {
        say(d, "MIG_DATA_READ in PRE_COPY: %s", strerror(-r));
        return r;
    }
    return vpd_mig_pre_append(&d->mig, buf, len);
}

int vpd_precopy_start(struct vpd_state *d)
{
    uint64_t f = 0;
    int r;

    vpd_precopy_end(d);
    r = vpd_state_mig_flags(d, &f);
    if (r || !(f & VFIO_MIGRATION_PRE_COPY))
        return r;
    r = mig_set(d, VFIO_DEVICE_STATE_PRE_COPY);
    if (r == 0) {
        atomic_store(&d->mig.pre_active, true);
        r = vpd_precopy_more(d);
    }
    return r;
}

void vpd_precopy_end(struct vpd_state *d)
{
    uint32_t cur;

    if (d->mig.v1) {
        vpd_v1_precopy_end(&d->mig);
        return;
    }
    if (atomic_exchange(&d->mig.pre_active, false) && vpd_alive(d->ctx) &&
        vfio_client_mig_get_state(d->ctx->client, &cur) == 0 &&
        cur == VFIO_DEVICE_STATE_PRE_COPY)
        mig_set(d, VFIO_DEVICE_STATE_RUNNING);
    vpd_mig_free_pre(&d->mig);
}

int vpd_state_quiesce(struct vpd_state *d)
{
    uint32_t cur;
    uint64_t f;
    int r;

    vpd_mig_free_saved(&d->mig);
    if (!vpd_alive(d->ctx))
        return 0; /* nothing runs there; save refuses it */
    r = vpd_state_mig_flags(d, &f);
    if (r || !f)
        return r;
    d->mig.pre_in_stream = false;
    if (d->mig.v1)
        return vpd_v1_quiesce(&d->mig);
    r = vfio_client_mig_get_state(d->ctx->client, &cur);
    if (r == 0 && cur == VFIO_DEVICE_STATE_PRE_COPY) {
        /* What we read in PRE_COPY leads this stream (save_prepare). */
        d->mig.pre_in_stream = atomic_exchange(&d->mig.pre_active, false);
        r = mig_set(d, VFIO_DEVICE_STATE_STOP_COPY);
    } else if (r == 0 && cur == VFIO_DEVICE_STATE_RUNNING) {
        r = mig_set(d, VFIO_DEVICE_STATE_STOP);
    }
    return r;
}

int vpd_state_resume(struct vpd_state *d)
{
    vpd_mig_free_saved(&d->mig);
    if (!vpd_alive(d->ctx) || !d->mig.flags)
        return 0;
    return mig_set(d, VFIO_DEVICE_STATE_RUNNING);
}

/* Once per quiesce: identity and the STOP_COPY stream, then STOP. */
static int save_prepare(struct vpd_state *d)
{
    uint64_t f = 0;
    int r;

    if (d->mig.saved)
        return 0;
    if (d->mig.v1)
        return vpd_v1_save_prepare(&d->mig);
    if (!vpd_alive(d->ctx)) {
        say(d, "the device is dead (its server is gone): cannot save it");
        return -ENODEV;
    }
    r = vpd_state_mig_flags(d, &f);
    if (r == 0 && !f) {
        say(d, "the server does not support migration (no VFIO_DEVICE_"
            "FEATURE_MIGRATION): its state cannot be saved");
        return -EOPNOTSUPP;
    }
    /* d->ident was taken at setup (pci_dev.c): no GET_INFO here, the
     * device may be in STOP already. */
    if (r == 0)
        r = mig_set(d, VFIO_DEVICE_STATE_STOP_COPY);
    if (r == 0) {
        r = vfio_client_mig_read_all(d->ctx->client, VFIO_CLIENT_MIG_DATA_MAX,
                                     &d->mig.data, &d->mig.len);
        if (r)
            say(d, "MIG_DATA_READ: %s", strerror(-r));
    }
    if (r == 0 && d->mig.pre_in_stream)
        r = vpd_mig_join(&d->mig, "");
    if (r == 0)
        r = mig_set(d, VFIO_DEVICE_STATE_STOP);
    d->mig.saved = r == 0;
    return r;
}

/* ---- save ------------------------------------------------------------- */

static int save_windows(struct vpd_state *d, void *fdt, int node)
{
    struct vfio_client_window w[MAX_WINDOWS];
    size_t n;

    vfio_client_dma_windows(d->ctx->client, w, MAX_WINDOWS, &n);
    if (n > MAX_WINDOWS)
        return -E2BIG;
    return state_put_bytes(fdt, node, "iommu-windows", w, n * sizeof(w[0]));
}

int vpd_state_save(struct vpd_state *d, void *fdt, int node)
{
    int r = save_prepare(d);

    if (r)
        return r;
    r = state_put_u32(fdt, node, "version", STATE_VERSION);
    if (r == 0)
        r = vpd_identity_save(fdt, node, &d->ident);
    if (r == 0)
        r = save_windows(d, fdt, node);
    if (r == 0)
        r = vpd_irq_save(d->irq, fdt, node); /* drains masked vectors */
    if (r == 0)
        r = pci_dev_save(d->ctx->pci, fdt, node);
    if (r == 0)
        r = state_put_bytes(fdt, node, "server-state",
                            d->mig.data ? d->mig.data : "", d->mig.len);
    return r;
}

/* ---- load ------------------------------------------------------------- */

static int check_windows(struct vpd_state *d, const void *fdt, int node,
                         char *why, size_t len)
{
    struct vfio_client_window now[MAX_WINDOWS], was;
    const uint8_t *p;
    size_t n;
    int plen;

    p = fdt_getprop(fdt, node, "iommu-windows", &plen);
    vfio_client_dma_windows(d->ctx->client, now, MAX_WINDOWS, &n);
    if (!p || plen % (int)sizeof(was) ||
        (size_t)plen / sizeof(was) != n || n > MAX_WINDOWS) {
        snprintf(why, len, "%zu DMA windows, the snapshot has %d", n,
                 p ? plen / (int)sizeof(was) : -1);
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(&was, p + i * sizeof(was), sizeof(was));
        if (was.iova != now[i].iova || was.size != now[i].size ||
            was.prot != now[i].prot) {
            snprintf(why, len, "DMA window %zu is [%#llx, +%#llx), the "
                     "snapshot has [%#llx, +%#llx)", i,
                     (unsigned long long)now[i].iova,
                     (unsigned long long)now[i].size,
                     (unsigned long long)was.iova,
                     (unsigned long long)was.size);
            return -EINVAL;
        }
    }
    return 0;
}

/* The PCI IDs and class of the saved config against the server's. */
static int check_ids(struct vpd_state *d, const void *fdt, int node,
                     char *why, size_t len)
{
    const struct pci_dev *pci = d->ctx->pci;
    const uint8_t *cfg, *now = pci->cs.cfg;
    int n;

    cfg = fdt_getprop(fdt, node, "config", &n);
    if (!cfg || n != (int)pci->cs.size) {
        snprintf(why, len, "config space of %u bytes, the snapshot has %d",
                 pci->cs.size, cfg ? n : -1);
        return -EINVAL;
    }
    if (memcmp(cfg, now, 4) ||
        memcmp(cfg + PCI_CLASS_REVISION, now + PCI_CLASS_REVISION, 4)) {
        snprintf(why, len, "PCI ID %02x%02x:%02x%02x class %02x%02x%02x, "
                 "the snapshot has %02x%02x:%02x%02x class %02x%02x%02x",
                 now[1], now[0], now[3], now[2], now[11], now[10], now[9],
                 cfg[1], cfg[0], cfg[3], cfg[2], cfg[11], cfg[10], cfg[9]);
        return -EINVAL;
    }
    return 0;
}

/* Everything that must match before the server is touched. */
static int load_check(struct vpd_state *d, const void *fdt, int node,
                      char *why, size_t len)
{
    struct vfio_client_identity saved;
    uint32_t ver = 0;
    uint64_t f = 0;
    int r;

    r = state_get_u32(fdt, node, "version", &ver);
    if (r || ver != STATE_VERSION) {
        snprintf(why, len, "state version %u, this minivmm reads %u", ver,
                 STATE_VERSION);
        return -EINVAL;
    }
    if (vpd_identity_load(fdt, node, &saved)) {
        snprintf(why, len, "no valid device identity in the snapshot");
        return -EINVAL;
    }
    r = vfio_client_identity_diff(&saved, &d->ident, why, len);
    if (r == 0)
        r = check_ids(d, fdt, node, why, len);
    if (r == 0)
        r = check_windows(d, fdt, node, why, len);
    if (r == 0 && (r = vpd_state_mig_flags(d, &f)) == 0 && !f) {
        snprintf(why, len, "the server does not support migration");
        r = -EINVAL;
    }
    return r;
}

/* RESUMING, the stream, STOP (the server loads it there). */
static int load_server(struct vpd_state *d, const void *fdt, int node,
                       char *why, size_t len)
{
    const void *data;
    int n, r;

    data = fdt_getprop(fdt, node, "server-state", &n);
    if (!data || n < 0) {
        snprintf(why, len, "no server-state in the snapshot");
        return -EINVAL;
    }
    if (d->mig.v1)
        return vpd_v1_load_server(&d->mig, data, (size_t)n, why, len);
    r = mig_set(d, VFIO_DEVICE_STATE_RESUMING);
    if (r == 0 && (r = vfio_client_mig_write(d->ctx->client, data,
                                             (size_t)n)) != 0)
        snprintf(why, len, "MIG_DATA_WRITE of %d bytes: %s", n,
                 strerror(-r));
    if (r == 0 && (r = mig_set(d, VFIO_DEVICE_STATE_STOP)) != 0)
        snprintf(why, len, "the server refused its migration data (%d "
                 "bytes): %s", n, strerror(-r));
    if (r && !why[0])
        snprintf(why, len, "entering RESUMING: %s", strerror(-r));
    return r;
}

int vpd_state_load(struct vpd_state *d, const void *fdt, int node)
{
    char why[256] = "";
    int r;

    vpd_mig_free_saved(&d->mig);
    r = vpd_alive(d->ctx) ? load_check(d, fdt, node, why, sizeof(why))
                          : -ENODEV;
    /* Config and interrupts (SET_IRQS) while the fresh device still
     * runs: libvfio-user refuses SET_IRQS in STOP and RESUMING. The
     * device has no state yet, so it raises nothing before the load. */
    if (r == 0 && (r = pci_dev_load(d->ctx->pci, fdt, node)) != 0)
        snprintf(why, sizeof(why), "config space: %s", strerror(-r));
    if (r == 0 && (r = vpd_irq_load(d->irq, fdt, node)) != 0)
        snprintf(why, sizeof(why), "interrupts: %s", strerror(-r));
    if (r == 0)
        r = load_server(d, fdt, node, why, sizeof(why));
    if (r == 0 && (r = mig_set(d, VFIO_DEVICE_STATE_RUNNING)) != 0)
        snprintf(why, sizeof(why), "RUNNING: %s", strerror(-r));
    if (r)
        say(d, "cannot restore its state: %s",
            why[0] ? why : strerror(-r));
    return r;
}
