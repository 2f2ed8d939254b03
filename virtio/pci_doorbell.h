/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci doorbells (virtio 1.x 4.1.4.4 "Notification structure
 * layout"): one eventfd per queue, registered as a KVM ioeventfd on the
 * queue's 2-byte doorbell (BAR 2 offset VIRTIO_PCI_NOTIFY_OFF + 4 * N)
 * while the guest maps BAR 2, so a notify costs no exit to userspace; a
 * trapped doorbell write (other width, or no ioeventfd) signals the same
 * eventfd. The owner watches the eventfds and consumes them.
 * Functions return 0 or -errno unless said otherwise. */
#ifndef MINIVMM_VIRTIO_PCI_DOORBELL_H
#define MINIVMM_VIRTIO_PCI_DOORBELL_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/hv.h"

struct vp_doorbell {
    int efd;                /* doorbell eventfd (nonblocking) */
    bool ioeventfd;         /* registered with KVM (bus lock) */
};

struct vp_doorbells {
    struct hv hv;           /* ops NULL: trapped doorbells only */
    uint16_t n;
    struct vp_doorbell *q;  /* [n] */
    uint64_t st_consumed;   /* eventfd signals consumed, any kind */
    uint64_t st_trapped;    /* of which rung by vp_db_ring() */
};

/* @n queues' eventfds. On error nothing is left to free. */
int vp_db_init(struct vp_doorbells *db, uint16_t n, const struct hv *hv);
/* Removes nothing from KVM (vp_db_unmap() first); closes the eventfds.
 * A zeroed @db is a no-op. */
void vp_db_fini(struct vp_doorbells *db);

/* Queue @qidx's eventfd, -1 for a bad index. */
int vp_db_fd(const struct vp_doorbells *db, uint16_t qidx);
/* A trapped doorbell write for @qidx (< n): signal its eventfd. */
void vp_db_ring(struct vp_doorbells *db, uint16_t qidx);
/* Consume @qidx's eventfd (it was readable, or maybe someone else took
 * it: EAGAIN is fine) and count the signals. */
void vp_db_consume(struct vp_doorbells *db, uint16_t qidx);

/* BAR 2 is now decoded at @base / no longer: ioeventfds follow it. A
 * failed registration is logged (warn) and leaves that doorbell trapped. */
void vp_db_map(struct vp_doorbells *db, uint64_t base);
void vp_db_unmap(struct vp_doorbells *db, uint64_t base);

/* Doorbells that came through an ioeventfd and through a trap. */
void vp_db_counts(const struct vp_doorbells *db, uint64_t *ioeventfd,
                  uint64_t *trapped);

#endif
