/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: snapshots and live migration with a server that
 * speaks the region-based migration "v1" of spec 0.9.1
 * (shared/spec/vfio-user-0.9.1.rst "VFIO Device Migration Info",
 * "VFIO_USER_DIRTY_PAGES"). pci_dev_state.c and pci_dev_dirty.c call these
 * when the probe chose v1 (pci_dev_mig_v1.h; docs/migration.md, "v1 or
 * v2").
 *
 * Mapping onto the device life cycle (v1 has no STOP -> STOP_COPY arc, and
 * libvfio-user 2022 refuses every command but REGION_READ/WRITE and
 * DIRTY_PAGES once the device is stopped or saving):
 *   quiesce: RUNNING (or PRE_COPY) -> STOP_COPY (_SAVING: the device
 *            stops and saves; its identity was taken at setup);
 *   live migration: at dirty-log start RUNNING -> PRE_COPY
 *            (_RUNNING|_SAVING) and the data the server has, more at each
 *            sync; it leads the stream saved at the stop;
 *   save:    the save iterations until pending_bytes is 0, then -> STOP;
 *   resume:  -> RUNNING (from STOP_COPY, STOP or RESUMING);
 *   load:    RUNNING -> RESUMING, the records, stays RESUMING until the
 *            final -> RUNNING of vpd_state_load.
 * Dirty pages: DIRTY_PAGES START / GET_BITMAP per DMA window / STOP; a
 * window without an fd (written through DMA_WRITE messages, served by
 * vfio/client_dma.c) may be refused by the server (libvfio-user cannot
 * report it) without failing the sync. */
#include "vfio/pci/pci_dev_mig_v1.h"

#include "vfio/client/client.h"
#include "vfio/client/client_mig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfio/proto/migration.h"
#include "vfio/proto/proto.h"
#include "vmm/dirty.h"
#include "vmm/log.h"

#define PG          4096ull

#define V1_RUNNING   VFIO_USER_MIG_V1_STATE_RUNNING
#define V1_STOP      VFIO_USER_MIG_V1_STATE_STOP
#define V1_STOP_COPY VFIO_USER_MIG_V1_STATE_STOP_COPY
#define V1_PRE_COPY  VFIO_USER_MIG_V1_STATE_PRE_COPY
#define V1_RESUMING  VFIO_USER_MIG_V1_STATE_RESUMING

static void say(const struct vpd_mig *m, const char *what, int r)
{
    vpd_say(m->ctx, LOG_ERROR, "migration v1: %s: %s", what, strerror(-r));
}

int vpd_v1_probe(struct vpd_mig *m)
{
    struct vfio_client_dev_info di;
    int r;

    if (!vfio_client_caps(m->ctx->client)->migration)
        return 0;
    r = vfio_client_device_info(m->ctx->client, &di);
    if (r == 0)
        r = vfio_client_mig_v1_find(m->ctx->client, di.num_regions, &m->v1r);
    if (r == -ENODEV || r == -EPROTO || r == -ETIMEDOUT)
        return r;
    if (r == 0) {
        m->v1 = true;
        m->flags = VFIO_MIGRATION_STOP_COPY;
        m->probed = true;
    }
    return 0;
}

/* v2 state number -> v1 bit set; -1 for states v1 lacks. */
static int to_v1(uint32_t s)
{
    switch (s) {
    case VFIO_DEVICE_STATE_STOP: return V1_STOP;
    case VFIO_DEVICE_STATE_RUNNING: return V1_RUNNING;
    case VFIO_DEVICE_STATE_STOP_COPY: return V1_STOP_COPY;
    case VFIO_DEVICE_STATE_RESUMING: return V1_RESUMING;
    case VFIO_DEVICE_STATE_PRE_COPY: return V1_PRE_COPY;
    default: return -1;
    }
}

/* One legal v1 transition (checked against the spec's table first). */
static int v1_step(struct vpd_mig *m, uint32_t from, uint32_t to)
{
    uint32_t now = from;
    char what[96];
    int r = vfio_user_mig_v1_transition(from, to);

    if (r == 0 && from != to)
        r = vfio_client_mig_v1_set_state(m->ctx->client, &m->v1r, to, &now);
    if (r == 0 && now != to)
        r = -EPROTO;
    if (r) {
        snprintf(what, sizeof(what), "device_state %s -> %s (now %s)",
                 vfio_user_mig_v1_state_name(from),
                 vfio_user_mig_v1_state_name(to),
                 vfio_user_mig_v1_state_name(now));
        say(m, what, r);
    }
    return r;
}

int vpd_v1_set(struct vpd_mig *m, uint32_t to2)
{
    int to = to_v1(to2);
    uint32_t cur = 0;
    int r;

    if (to < 0)
        return -EINVAL;
    r = vfio_client_mig_v1_get_state(m->ctx->client, &m->v1r, &cur);
    if (r || cur == (uint32_t)to)
        return r;
    if (vfio_user_mig_v1_transition(cur, (uint32_t)to) == 0)
        return v1_step(m, cur, (uint32_t)to);
    /* Indirect: PRE_COPY leaves through STOP_COPY; everything else can
     * reach RUNNING, which reaches every state. */
    if (cur == V1_PRE_COPY) {
        r = v1_step(m, cur, V1_STOP_COPY);
        cur = V1_STOP_COPY;
    }
    if (r == 0 && cur != V1_RUNNING && (uint32_t)to != cur) {
        r = v1_step(m, cur, V1_RUNNING);
        cur = V1_RUNNING;
    }
    if (r == 0 && (uint32_t)to != cur)
        r = v1_step(m, cur, (uint32_t)to);
    return r;
}

int vpd_v1_quiesce(struct vpd_mig *m)
{
    uint32_t cur = 0;
    int r;

    /* The identity was taken at setup (pci_dev.c): nothing but region access
     * may be needed once the device is stopped. */
    r = vfio_client_mig_v1_get_state(m->ctx->client, &m->v1r, &cur);
    /* What we read in pre-copy leads this stream (save_prepare). */
    if (r == 0 && cur == V1_PRE_COPY)
        m->pre_in_stream = atomic_exchange(&m->pre_active, false);
    if (r == 0 && (cur == V1_RUNNING || cur == V1_PRE_COPY))
        r = v1_step(m, cur, V1_STOP_COPY);
    return r;
}

int vpd_v1_save_prepare(struct vpd_mig *m)
{
    int r;

    if (!vpd_alive(m->ctx)) {
        say(m, "the device is dead (its server is gone)", -ENODEV);
        return -ENODEV;
    }
    r = vpd_v1_set(m, VFIO_DEVICE_STATE_STOP_COPY);
    if (r == 0) {
        r = vfio_client_mig_v1_save(m->ctx->client, &m->v1r,
                                    VFIO_CLIENT_MIG_DATA_MAX, &m->data,
                                    &m->len);
        if (r)
            say(m, "reading the device state", r);
    }
    if (r == 0 && m->pre_in_stream)
        r = vpd_mig_join(m, " (v1)");
    if (r == 0)
        r = vpd_v1_set(m, VFIO_DEVICE_STATE_STOP);
    m->saved = r == 0;
    return r;
}

int vpd_v1_load_server(struct vpd_mig *m, const void *data, size_t n,
                       char *why, size_t len)
{
    int r = vpd_v1_set(m, VFIO_DEVICE_STATE_RESUMING);

    if (r) {
        snprintf(why, len, "entering RESUMING (v1): %s", strerror(-r));
        return r;
    }
    r = vfio_client_mig_v1_load(m->ctx->client, &m->v1r, data, n);
    if (r)
        snprintf(why, len, "writing %zu bytes of device state into the "
                 "migration region (v1): %s", n, strerror(-r));
    return r;
}

/* ---- pre-copy (live migration) ----------------------------------------- */

/* Read what the server has in pre-copy now, appended to m->pre_data. */
static int precopy_more(struct vpd_mig *m)
{
    void *buf = NULL;
    size_t len = 0;
    int r;

    if (!atomic_load(&m->pre_active))
        return 0;
    r = vfio_client_mig_v1_save(m->ctx->client, &m->v1r,
                                VFIO_CLIENT_MIG_DATA_MAX - m->pre_len, &buf,
                                &len);
    if (r) {
        say(m, "reading pre-copy data", r);
        return r;
    }
    return vpd_mig_pre_append(m, buf, len);
}

/* RUNNING -> PRE_COPY (_RUNNING|_SAVING) and its first data. The spec
 * makes the state optional for the client: a server refusing it (an
 * error reply) migrates without. */
static int precopy_start(struct vpd_mig *m)
{
    int r;

    vpd_v1_precopy_end(m);
    r = vpd_v1_set(m, VFIO_DEVICE_STATE_PRE_COPY);
    if (r)
        return vfio_client_failed(m->ctx->client) ? r : 0;
    atomic_store(&m->pre_active, true);
    return precopy_more(m);
}

void vpd_v1_precopy_end(struct vpd_mig *m)
{
    uint32_t cur = 0;

    /* Still in pre-copy (the migration failed before the stop): back to
     * RUNNING, through _SAVING (v1 has no PRE_COPY -> RUNNING arc). */
    if (atomic_exchange(&m->pre_active, false) && vpd_alive(m->ctx) &&
        vfio_client_mig_v1_get_state(m->ctx->client, &m->v1r, &cur) == 0 &&
        cur == V1_PRE_COPY)
        vpd_v1_set(m, VFIO_DEVICE_STATE_RUNNING);
    vpd_mig_free_pre(m);
}

/* ---- dirty pages ------------------------------------------------------- */

int vpd_v1_dirty_start(struct vpd_mig *m)
{
    uint64_t ps = vfio_client_caps(m->ctx->client)->mig_pgsize;
    int r;

    if (ps != PG) {
        vpd_say(m->ctx, LOG_WARN, "migration v1: dirty page size %llu, "
                "minivmm tracks 4096-byte pages", (unsigned long long)ps);
        return -ENOTSUP;
    }
    r = vfio_client_dirty_pages(m->ctx->client,
                                VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
    /* Pre-copy: the server's early state moves now. */
    return r ? r : precopy_start(m);
}

int vpd_v1_dirty_sync(struct vpd_mig *m, uint64_t *bits, uint64_t npages,
                      uint64_t *count)
{
    int r = vpd_mig_sync_windows(m->ctx, vfio_client_dirty_bitmap, true,
                                 bits, npages, count);

    return r ? r : precopy_more(m);
}

int vpd_v1_dirty_stop(struct vpd_mig *m)
{
    int r = vfio_client_dirty_pages(m->ctx->client,
                                    VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP);

    vpd_v1_precopy_end(m);
    return r;
}
