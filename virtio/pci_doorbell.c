/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci doorbells (see pci_doorbell.h; spec 4.1.4.4). */
#include "virtio/pci_doorbell.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "virtio/pci_model.h"
#include "vmm/log.h"
#include "vmm/stats.h"

int vp_db_init(struct vp_doorbells *db, uint16_t n, const struct hv *hv)
{
    memset(db, 0, sizeof(*db));
    db->hv = *hv;
    db->q = calloc(n ? n : 1, sizeof(*db->q));
    if (!db->q)
        return -ENOMEM;
    db->n = n;
    for (uint16_t i = 0; i < n; i++)
        db->q[i].efd = -1;
    for (uint16_t i = 0; i < n; i++) {
        db->q[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (db->q[i].efd < 0) {
            int r = -errno;

            vp_db_fini(db);
            return r;
        }
    }
    return 0;
}

void vp_db_fini(struct vp_doorbells *db)
{
    for (uint16_t i = 0; db->q && i < db->n; i++)
        if (db->q[i].efd >= 0)
            close(db->q[i].efd);
    free(db->q);
    db->q = NULL;
    db->n = 0;
}

int vp_db_fd(const struct vp_doorbells *db, uint16_t qidx)
{
    return qidx < db->n ? db->q[qidx].efd : -1;
}

void vp_db_ring(struct vp_doorbells *db, uint16_t qidx)
{
    if (qidx >= db->n)
        return;
    stats_inc(&db->st_trapped);
    if (eventfd_write(db->q[qidx].efd, 1) < 0) {
        /* Counter saturated: a notification is pending anyway. */
    }
}

void vp_db_consume(struct vp_doorbells *db, uint16_t qidx)
{
    uint64_t v;

    if (qidx >= db->n)
        return;
    if (read(db->q[qidx].efd, &v, sizeof(v)) < 0) {
        /* EAGAIN: someone else consumed it; process anyway. */
    } else {
        stats_add(&db->st_consumed, v);
    }
}

static int assign(struct vp_doorbells *db, uint16_t i, uint64_t base,
                  bool on)
{
    uint64_t addr = base + VIRTIO_PCI_NOTIFY_OFF +
                    (uint64_t)i * VIRTIO_PCI_NOTIFY_MULT;

    return db->hv.ops->ioeventfd(db->hv.opaque, db->q[i].efd, addr, 2,
                                 false, false, 0, on);
}

void vp_db_map(struct vp_doorbells *db, uint64_t base)
{
    int r;

    if (!db->hv.ops)
        return;
    for (uint16_t i = 0; i < db->n; i++) {
        r = assign(db, i, base, true);
        if (r < 0) {
            /* Still works through the trapped doorbell, just slower. */
            log_warn("minivmm: virtio-pci: ioeventfd at %#llx: %s\n",
                     (unsigned long long)base, strerror(-r));
            continue;
        }
        db->q[i].ioeventfd = true;
    }
}

void vp_db_unmap(struct vp_doorbells *db, uint64_t base)
{
    if (!db->hv.ops)
        return;
    for (uint16_t i = 0; i < db->n; i++) {
        if (db->q[i].ioeventfd)
            assign(db, i, base, false);
        db->q[i].ioeventfd = false;
    }
}

void vp_db_counts(const struct vp_doorbells *db, uint64_t *ioeventfd,
                  uint64_t *trapped)
{
    uint64_t all = stats_get(&db->st_consumed);
    uint64_t t = stats_get(&db->st_trapped);

    /* Kicks consumed while the device was paused are not counted in all:
     * clamp rather than wrap. */
    *trapped = t;
    *ioeventfd = all > t ? all - t : 0;
}
