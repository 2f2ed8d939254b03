/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: snapshots and migration. The client-side state
 * (config space, MSI-X, IOMMU layout, server identity) plus the server's
 * own migration data stream, in the device's node of the VM state tree.
 * See pci_dev.h. Spec: vfio-user.rst "VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE",
 * "VFIO_USER_MIG_DATA_READ", "VFIO_USER_MIG_DATA_WRITE". */
#include "vfio/pci/pci_dev_priv.h"

#include <errno.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void say(const struct vfio_pci *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(const struct vfio_pci *d, const char *fmt, ...)
{
    char buf[320];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fprintf(stderr, "minivmm: vfio-user %s: %s\n", d->name, buf);
}

void vpd_state_free(struct vfio_pci *d)
{
    free(d->mig_data);
    d->mig_data = NULL;
    d->mig_len = 0;
    d->mig_saved = false;
}

/* ---- identity encoding (pure) -------------------------------------------- */

int vpd_identity_save(void *fdt, int node,
                      const struct vfio_client_identity *id)
{
    uint32_t info[3] = {id->flags, id->num_regions, id->num_irqs};
    uint64_t sizes[VFIO_CLIENT_MAX_REGIONS];
    uint32_t rfl[VFIO_CLIENT_MAX_REGIONS], cnt[VFIO_CLIENT_MAX_IRQS],
        ifl[VFIO_CLIENT_MAX_IRQS];
    uint32_t nr = id->num_regions, ni = id->num_irqs;
    int r;

    if (nr > VFIO_CLIENT_MAX_REGIONS || ni > VFIO_CLIENT_MAX_IRQS)
        return -EINVAL;
    for (uint32_t i = 0; i < nr; i++) {
        sizes[i] = id->region[i].size;
        rfl[i] = id->region[i].flags;
    }
    for (uint32_t i = 0; i < ni; i++) {
        cnt[i] = id->irq[i].count;
        ifl[i] = id->irq[i].flags;
    }
    r = state_put_bytes(fdt, node, "device-info", info, sizeof(info));
    if (r == 0)
        r = state_put_bytes(fdt, node, "region-sizes", sizes, nr * 8);
    if (r == 0)
        r = state_put_bytes(fdt, node, "region-flags", rfl, nr * 4);
    if (r == 0)
        r = state_put_bytes(fdt, node, "irq-counts", cnt, ni * 4);
    if (r == 0)
        r = state_put_bytes(fdt, node, "irq-flags", ifl, ni * 4);
    return r;
}

int vpd_identity_load(const void *fdt, int node,
                      struct vfio_client_identity *id)
{
    uint32_t info[3], nr, ni;
    uint64_t sizes[VFIO_CLIENT_MAX_REGIONS];
    uint32_t rfl[VFIO_CLIENT_MAX_REGIONS], cnt[VFIO_CLIENT_MAX_IRQS],
        ifl[VFIO_CLIENT_MAX_IRQS];
    int r;

    memset(id, 0, sizeof(*id));
    r = state_get_bytes(fdt, node, "device-info", info, sizeof(info));
    if (r)
        return r;
    nr = info[1];
    ni = info[2];
    if (nr > VFIO_CLIENT_MAX_REGIONS || ni > VFIO_CLIENT_MAX_IRQS)
        return -EINVAL;
    r = state_get_bytes(fdt, node, "region-sizes", sizes, nr * 8);
    if (r == 0)
        r = state_get_bytes(fdt, node, "region-flags", rfl, nr * 4);
    if (r == 0)
        r = state_get_bytes(fdt, node, "irq-counts", cnt, ni * 4);
    if (r == 0)
        r = state_get_bytes(fdt, node, "irq-flags", ifl, ni * 4);
    if (r)
        return r;
    id->flags = info[0];
    id->num_regions = nr;
    id->num_irqs = ni;
    for (uint32_t i = 0; i < nr; i++) {
        id->region[i].size = sizes[i];
        id->region[i].flags = rfl[i];
    }
    for (uint32_t i = 0; i < ni; i++) {
        id->irq[i].count = cnt[i];
        id->irq[i].flags = ifl[i];
    }
    return 0;
}

/* ---- the server's migration state ---------------------------------------- */

int vfio_pci_mig_flags(struct vfio_pci *d, uint64_t *flags)
{
    uint64_t f = 0;
    int r;

    if (!d->mig_probed) {
        r = vpd_v1_probe(d); /* v1 when offered, see docs/migration.md */
        if (r)
            return r;
    }
    if (!d->mig_probed) {
        r = vfio_client_mig_flags(d->client, &f);
        if (r == -ENODEV || r == -ETIMEDOUT || r == -EPROTO)
            return r;
        d->mig_flags = r == 0 ? f : 0;
        d->mig_probed = true;
    }
    *flags = d->mig_flags;
    return 0;
}

/* Move the server to @to (the server walks the path). */
static int mig_set(struct vfio_pci *d, uint32_t to)
{
    uint32_t cur = VFIO_DEVICE_STATE_ERROR;
    int r;

    if (d->mig_v1)
        return vpd_v1_set(d, to);
    r = vfio_client_mig_get_state(d->client, &cur);

    if (r == 0 && cur != to)
        r = vfio_client_mig_set_state(d->client, to);
    if (r)
        say(d, "migration state %s -> %s: %s", vfio_user_mig_state_name(cur),
            vfio_user_mig_state_name(to), strerror(-r));
    return r;
}

/* ---- pre-copy ------------------------------------------------------------ */

int vpd_precopy_more(struct vfio_pci *d)
{
    void *buf = NULL, *nb;
    size_t len = 0;
    int r;

    if (!atomic_load(&d->pre_active))
        return 0;
    r = vfio_client_mig_read_all(d->client,
                                 VFIO_CLIENT_MIG_DATA_MAX - d->pre_len, &buf,
                                 &len);
    if (r) {
        say(d, "MIG_DATA_READ in PRE_COPY: %s", strerror(-r));
        return r;
    }
    if (!len)
        return 0;
    nb = realloc(d->pre_data, d->pre_len + len);
    if (!nb) {
        free(buf);
        return -ENOMEM;
    }
    memcpy((uint8_t *)nb + d->pre_len, buf, len);
    d->pre_data = nb;
    d->pre_len += len;
    free(buf);
    return 0;
}

int vpd_precopy_start(struct vfio_pci *d)
{
    uint64_t f = 0;
    int r;

    vpd_precopy_end(d);
    r = vfio_pci_mig_flags(d, &f);
    if (r || !(f & VFIO_MIGRATION_PRE_COPY))
        return r;
    r = mig_set(d, VFIO_DEVICE_STATE_PRE_COPY);
    if (r == 0) {
        atomic_store(&d->pre_active, true);
        r = vpd_precopy_more(d);
    }
    return r;
}

void vpd_precopy_end(struct vfio_pci *d)
{
    uint32_t cur;

    if (d->mig_v1) {
        vpd_v1_precopy_end(d);
        return;
    }
    if (atomic_exchange(&d->pre_active, false) && vfio_pci_alive(d) &&
        vfio_client_mig_get_state(d->client, &cur) == 0 &&
        cur == VFIO_DEVICE_STATE_PRE_COPY)
        mig_set(d, VFIO_DEVICE_STATE_RUNNING);
    free(d->pre_data);
    d->pre_data = NULL;
    d->pre_len = 0;
    d->pre_in_stream = false;
}

int vfio_pci_quiesce(struct vfio_pci *d)
{
    uint32_t cur;
    uint64_t f;
    int r;

    vpd_state_free(d);
    if (!vfio_pci_alive(d))
        return 0; /* nothing runs there; save refuses it */
    r = vfio_pci_mig_flags(d, &f);
    if (r || !f)
        return r;
    d->pre_in_stream = false;
    if (d->mig_v1)
        return vpd_v1_quiesce(d);
    r = vfio_client_mig_get_state(d->client, &cur);
    if (r == 0 && cur == VFIO_DEVICE_STATE_PRE_COPY) {
        /* What we read in PRE_COPY leads this stream (save_prepare). */
        d->pre_in_stream = atomic_exchange(&d->pre_active, false);
        r = mig_set(d, VFIO_DEVICE_STATE_STOP_COPY);
    } else if (r == 0 && cur == VFIO_DEVICE_STATE_RUNNING) {
        r = mig_set(d, VFIO_DEVICE_STATE_STOP);
    }
    return r;
}

int vfio_pci_resume(struct vfio_pci *d)
{
    vpd_state_free(d);
    if (!vfio_pci_alive(d) || !d->mig_flags)
        return 0;
    return mig_set(d, VFIO_DEVICE_STATE_RUNNING);
}

/* The stream the destination gets: the pre-copy data, then STOP_COPY's
 * (the server continues its stream where PRE_COPY left it). */
static int prepend_precopy(struct vfio_pci *d)
{
    size_t n = d->pre_len + d->mig_len;
    uint8_t *buf;

    say(d, "migration stream: %zu bytes in pre-copy, %zu bytes at "
        "stop-copy", d->pre_len, d->mig_len);
    if (!d->pre_len)
        return 0;
    if (n > VFIO_CLIENT_MIG_DATA_MAX)
        return -EFBIG;
    buf = malloc(n);
    if (!buf)
        return -ENOMEM;
    memcpy(buf, d->pre_data, d->pre_len);
    if (d->mig_len)
        memcpy(buf + d->pre_len, d->mig_data, d->mig_len);
    free(d->mig_data);
    d->mig_data = buf;
    d->mig_len = n;
    return 0;
}

/* Once per quiesce: identity and the STOP_COPY stream, then STOP. */
static int save_prepare(struct vfio_pci *d)
{
    uint64_t f = 0;
    int r;

    if (d->mig_saved)
        return 0;
    if (d->mig_v1)
        return vpd_v1_save_prepare(d);
    if (!vfio_pci_alive(d)) {
        say(d, "the device is dead (its server is gone): cannot save it");
        return -ENODEV;
    }
    r = vfio_pci_mig_flags(d, &f);
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
        r = vfio_client_mig_read_all(d->client, VFIO_CLIENT_MIG_DATA_MAX,
                                     &d->mig_data, &d->mig_len);
        if (r)
            say(d, "MIG_DATA_READ: %s", strerror(-r));
    }
    if (r == 0 && d->pre_in_stream)
        r = prepend_precopy(d);
    if (r == 0)
        r = mig_set(d, VFIO_DEVICE_STATE_STOP);
    d->mig_saved = r == 0;
    return r;
}

/* ---- save ------------------------------------------------------------- */

/* Interrupts that arrived for masked vectors go to the PBA now. */
static void drain_masked(struct vfio_pci *d)
{
    for (unsigned int i = 0; i < d->nvec; i++)
        if (d->vec[i].polled)
            vpd_irq_vec_ready(d, VPD_EV_VEC + i);
    for (unsigned int i = 0; i < d->msi_nvec; i++)
        if (d->msi[i].polled)
            vpd_irq_vec_ready(d, VPD_EV_MSI + i);
}

static int save_msix(struct vfio_pci *d, void *fdt, int node)
{
    uint32_t tsize = msix_table_size(&d->msix);
    uint32_t psize = msix_pba_size(&d->msix);
    uint8_t *buf = malloc(tsize + psize);
    int r;

    if (!buf)
        return -ENOMEM;
    for (uint32_t o = 0; o < tsize; o += 4)
        msix_table_read(&d->msix, o, buf + o, 4);
    for (uint32_t o = 0; o < psize; o += 8)
        msix_pba_read(&d->msix, o, buf + tsize + o, 8);
    r = state_put_bytes(fdt, node, "msix-table", buf, tsize);
    if (r == 0)
        r = state_put_bytes(fdt, node, "msix-pba", buf + tsize, psize);
    free(buf);
    return r;
}

static int save_windows(struct vfio_pci *d, void *fdt, int node)
{
    struct vfio_client_window w[MAX_WINDOWS];
    size_t n;

    vfio_client_dma_windows(d->client, w, MAX_WINDOWS, &n);
    if (n > MAX_WINDOWS)
        return -E2BIG;
    return state_put_bytes(fdt, node, "iommu-windows", w, n * sizeof(w[0]));
}

static int vpd_state_save(void *opaque, void *fdt, int node)
{
    struct vfio_pci *d = opaque;
    int r = save_prepare(d);

    if (r)
        return r;
    drain_masked(d);
    r = state_put_u32(fdt, node, "version", STATE_VERSION);
    if (r == 0)
        r = vpd_identity_save(fdt, node, &d->ident);
    if (r == 0)
        r = save_windows(d, fdt, node);
    if (r == 0 && d->msix_cap >= 0)
        r = save_msix(d, fdt, node);
    if (r == 0)
        r = pci_dev_save(&d->pci, fdt, node);
    if (r == 0)
        r = state_put_bytes(fdt, node, "server-state",
                            d->mig_data ? d->mig_data : "", d->mig_len);
    return r;
}

/* ---- load ------------------------------------------------------------- */

static int check_windows(struct vfio_pci *d, const void *fdt, int node,
                         char *why, size_t len)
{
    struct vfio_client_window now[MAX_WINDOWS], was;
    const uint8_t *p;
    size_t n;
    int plen;

    p = fdt_getprop(fdt, node, "iommu-windows", &plen);
    vfio_client_dma_windows(d->client, now, MAX_WINDOWS, &n);
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
static int check_ids(struct vfio_pci *d, const void *fdt, int node,
                     char *why, size_t len)
{
    const uint8_t *cfg;
    int n;

    cfg = fdt_getprop(fdt, node, "config", &n);
    if (!cfg || n != (int)d->pci.cs.size) {
        snprintf(why, len, "config space of %u bytes, the snapshot has %d",
                 d->pci.cs.size, cfg ? n : -1);
        return -EINVAL;
    }
    if (memcmp(cfg, d->pci.cs.cfg, 4) ||
        memcmp(cfg + PCI_CLASS_REVISION, d->pci.cs.cfg + PCI_CLASS_REVISION,
               4)) {
        snprintf(why, len, "PCI ID %02x%02x:%02x%02x class %02x%02x%02x, "
                 "the snapshot has %02x%02x:%02x%02x class %02x%02x%02x",
                 d->pci.cs.cfg[1], d->pci.cs.cfg[0], d->pci.cs.cfg[3], d->pci.cs.cfg[2],
                 d->pci.cs.cfg[11], d->pci.cs.cfg[10], d->pci.cs.cfg[9], cfg[1],
                 cfg[0], cfg[3], cfg[2], cfg[11], cfg[10], cfg[9]);
        return -EINVAL;
    }
    return 0;
}

/* Everything that must match before the server is touched. */
static int load_check(struct vfio_pci *d, const void *fdt, int node,
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
    if (r == 0 && (r = vfio_pci_mig_flags(d, &f)) == 0 && !f) {
        snprintf(why, len, "the server does not support migration");
        r = -EINVAL;
    }
    return r;
}

/* RESUMING, the stream, STOP (the server loads it there). */
static int load_server(struct vfio_pci *d, const void *fdt, int node,
                       char *why, size_t len)
{
    const void *data;
    int n, r;

    data = fdt_getprop(fdt, node, "server-state", &n);
    if (!data || n < 0) {
        snprintf(why, len, "no server-state in the snapshot");
        return -EINVAL;
    }
    if (d->mig_v1)
        return vpd_v1_load_server(d, data, (size_t)n, why, len);
    r = mig_set(d, VFIO_DEVICE_STATE_RESUMING);
    if (r == 0 && (r = vfio_client_mig_write(d->client, data,
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

/* MSI-X table and PBA (routes and irqfds follow), then Message Control
 * (SET_IRQS when enabled); MSI from the config image. */
static int load_irqs(struct vfio_pci *d, const void *fdt, int node)
{
    uint32_t tsize, psize;
    uint64_t bits;
    uint8_t *buf;
    int r = 0;

    if (d->msix_cap >= 0) {
        tsize = msix_table_size(&d->msix);
        psize = msix_pba_size(&d->msix);
        buf = malloc(tsize + psize);
        r = buf ? state_get_bytes(fdt, node, "msix-table", buf, tsize)
                : -ENOMEM;
        if (r == 0)
            r = state_get_bytes(fdt, node, "msix-pba", buf + tsize, psize);
        if (r == 0) {
            msix_reset(&d->msix);
            for (uint32_t o = 0; o < tsize; o += 4)
                msix_table_write(&d->msix, o, buf + o, 4);
            for (unsigned int v = 0; v < d->msix.nvec; v++) {
                memcpy(&bits, buf + tsize + v / 64 * 8, 8);
                if ((bits >> (v % 64)) & 1)
                    msix_notify(&d->msix, v);
            }
            vpd_irq_cfg_write(d, (uint32_t)d->msix_cap + 2, 2);
        }
        free(buf);
    }
    if (r == 0 && d->msi_cap >= 0)
        vpd_irq_cfg_write(d, (uint32_t)d->msi_cap + 2, 2);
    if (r == 0 && vfio_client_failed(d->client))
        r = -ENODEV;
    return r;
}

static int vpd_state_load(void *opaque, const void *fdt, int node)
{
    struct vfio_pci *d = opaque;
    char why[256] = "";
    int r;

    vpd_state_free(d);
    r = vfio_pci_alive(d) ? load_check(d, fdt, node, why, sizeof(why))
                          : -ENODEV;
    /* Config and interrupts (SET_IRQS) while the fresh device still
     * runs: libvfio-user refuses SET_IRQS in STOP and RESUMING. The
     * device has no state yet, so it raises nothing before the load. */
    if (r == 0 && (r = pci_dev_load(&d->pci, fdt, node)) != 0)
        snprintf(why, sizeof(why), "config space: %s", strerror(-r));
    if (r == 0 && (r = load_irqs(d, fdt, node)) != 0)
        snprintf(why, sizeof(why), "interrupts: %s", strerror(-r));
    if (r == 0)
        r = load_server(d, fdt, node, why, sizeof(why));
    if (r == 0 && (r = mig_set(d, VFIO_DEVICE_STATE_RUNNING)) != 0)
        snprintf(why, sizeof(why), "RUNNING: %s", strerror(-r));
    if (r == 0)
        vpd_config_replay(d); /* the BARs the guest programmed */
    if (r)
        say(d, "cannot restore its state: %s",
            why[0] ? why : strerror(-r));
    return r;
}

const struct state_ops vfio_pci_state_ops = {
    .save = vpd_state_save,
    .load = vpd_state_load,
};
