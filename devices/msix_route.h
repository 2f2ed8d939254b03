/* SPDX-License-Identifier: BSD-3-Clause */
/* MSI-X / MSI vectors as KVM fast paths: the one engine turning a
 * function's interrupt vectors into MSI routes and irqfds, used by the
 * in-VMM virtio-pci transport and by vfio-user devices alike (and by the
 * latter's MSI vectors too). Built on the hypervisor services of
 * vmm/hv.h; devices/msix.c keeps the table and PBA.
 *
 * Each vector has an eventfd; signalling it raises the vector. Whoever
 * signals it (this engine for a device model in the VMM, a vfio-user
 * server directly), the masking semantics are the same, those of PCI
 * Local Bus 3.0 §6.8.2 ("MSI-X Table", "Pending Bit Array"):
 * - an unmasked vector's eventfd is an irqfd on an MSI route carrying the
 *   message the guest programmed: a signal is one interrupt, with no exit
 *   to the VMM. The route is made on the first unmask and follows the
 *   guest's table (updated when an unmask finds the message changed).
 * - a masked vector is never signalled into the guest: its irqfd is
 *   detached and its eventfd watched (msix_route_poll_fd()); a signal
 *   that arrives while masked is reported by msix_route_take_pending(),
 *   whose callback sets the vector's pending bit (msix_notify() on a
 *   masked vector sets its PBA bit).
 * - on unmask the irqfd is attached again; devices/msix.c then fires a
 *   pending vector (msix_route_signal()), and a signal KVM had not seen
 *   is injected at attach.
 * With hv.ops NULL (tests, no KVM) vectors only signal their eventfds.
 *
 * Thread-safe: one mutex, taken inside the MSI-X model's lock when used
 * through msix_route_msix_ops (lock order: msix → msix_route). Functions
 * return 0 or -errno unless said otherwise. */
#ifndef MINIVMM_DEVICES_MSIX_ROUTE_H
#define MINIVMM_DEVICES_MSIX_ROUTE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/msix.h"
#include "vmm/hv.h"

struct msix_route_vec {
    int efd;                /* signalled to raise the vector */
    uint32_t gsi;           /* the MSI route's GSI, if has_gsi */
    bool has_gsi;           /* MSI route exists */
    bool irqfd;             /* efd bound to gsi in KVM */
    bool polled;            /* efd in the engine's epoll (masked) */
    bool masked;            /* last state given to msix_route_set() */
    uint64_t addr;          /* last message given */
    uint32_t data;
    uint64_t raddr;         /* message of the route */
    uint32_t rdata;
};

struct msix_route {
    pthread_mutex_t lock;
    struct hv hv;
    char name[48];          /* log prefix: "virtio-pci", "vfio-user x" */
    unsigned int nvec;
    struct msix_route_vec *vec;     /* [nvec] */
    int epfd;               /* masked vectors' eventfds, data.u32 = vector */
    bool suspended;         /* msix_route_suspend(): nothing in KVM */
};

/* @nvec (1..MSIX_MAX_VECTORS) vectors, each with a new nonblocking
 * eventfd, all masked (no route, no irqfd; eventfds watched). @hv is
 * copied (ops NULL: no KVM). @name prefixes log lines ("minivmm: @name:
 * MSI route: ..."). 0, -EINVAL, -ENOMEM or eventfd/epoll errors (then
 * nothing is left to free). */
int msix_route_init(struct msix_route *r, const struct hv *hv,
                    unsigned int nvec, const char *name);
/* Detach every irqfd, delete every route, close the eventfds. A zeroed
 * or failed-init @r is a no-op. */
void msix_route_fini(struct msix_route *r);

/* Vector @vec now carries (@addr, @data) and is (un)masked: bring KVM in
 * line (see above). Out-of-range vectors are ignored. Route or irqfd
 * failures are logged (warn) and leave the vector signalling nothing but
 * its eventfd; the next unmask retries. */
void msix_route_set(struct msix_route *r, unsigned int vec, uint64_t addr,
                    uint32_t data, bool masked);
/* Raise @vec: one eventfd signal (an attached irqfd injects it). Callers
 * raise only unmasked vectors (msix_notify() does that check). */
void msix_route_signal(struct msix_route *r, unsigned int vec);
/* Vector @vec's eventfd (to hand to a vfio-user server), -1 if none. */
int msix_route_fd(const struct msix_route *r, unsigned int vec);

/* An epoll fd, readable when a masked vector's eventfd was signalled. */
int msix_route_poll_fd(const struct msix_route *r);
/* Consume those signals: @pending(@opaque, vec) once per signalled
 * masked vector (called without the engine's lock). Returns how many. */
unsigned int msix_route_take_pending(struct msix_route *r,
                                     void (*pending)(void *opaque,
                                                     unsigned int vec),
                                     void *opaque);

/* The device failed: detach every irqfd and stop watching (routes are
 * kept). msix_route_set() then only records messages and masks. Both are
 * no-ops on a zeroed @r (never initialised). */
void msix_route_suspend(struct msix_route *r);
/* Back in KVM: every vector as last set. */
void msix_route_resume(struct msix_route *r);

/* Callbacks for devices/msix.h with opaque = struct msix_route *: a table
 * change is msix_route_set(), a fire is msix_route_signal(). Vectors of
 * the table beyond the engine's nvec are ignored. */
extern const struct msix_ops msix_route_msix_ops;

#endif
