/* SPDX-License-Identifier: BSD-3-Clause */
/* MSI-X table and PBA of one PCI function (PCI Local Bus spec 3.0, 6.8.2;
 * PCIe base spec, "MSI-X Capability and Table Structure").
 *
 * Pure state plus two callbacks, so the same model serves in-VMM virtio
 * devices and vfio-user devices (whose interrupts are irqfds driven by the
 * server): vector_changed() tells the owner a vector's message or
 * effective mask changed (update the MSI route / attach or detach the
 * irqfd), fire() delivers a pending vector on unmask. A vector raised while
 * masked (entry mask, function mask, or MSI-X disabled) sets its PBA bit;
 * unmasking clears the bit and fires it. Thread-safe (one mutex); callbacks
 * run with it held and must not call back into this module.
 */
#ifndef MINIVMM_MSIX_H
#define MINIVMM_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define MSIX_MAX_VECTORS 2048
#define MSIX_ENTRY_SIZE 16
#define MSIX_CTRL_ENABLE (1u << 15)
#define MSIX_CTRL_FMASK (1u << 14)
#define MSIX_ENTRY_MASKED 1u

struct msix_ops {
    void (*vector_changed)(void *opaque, unsigned int vec, uint64_t addr,
                           uint32_t data, bool masked);
    void (*fire)(void *opaque, unsigned int vec, uint64_t addr,
                 uint32_t data);
};

struct msix_entry {
    uint32_t addr_lo, addr_hi, data, ctrl;
};

struct msix {
    pthread_mutex_t lock;
    unsigned int nvec;
    struct msix_entry *table;
    uint64_t *pba;       /* bitmap, (nvec + 63) / 64 words */
    bool enabled;
    bool fmask;
    const struct msix_ops *ops;
    void *opaque;
};

/* @nvec 1..MSIX_MAX_VECTORS vectors, all masked, MSI-X disabled (reset
 * state). 0, -EINVAL, -ENOMEM. */
int msix_init(struct msix *m, unsigned int nvec, const struct msix_ops *ops,
              void *opaque);
void msix_fini(struct msix *m);

/* Back to reset state (all entries masked, address/data 0, PBA clear,
 * disabled); vector_changed() for every vector. */
void msix_reset(struct msix *m);

/* Guest access to the table (@off bytes into it; 4- or 8-byte aligned
 * accesses; others read as 0 / are ignored, as the spec allows) and to the
 * PBA (read-only; writes ignored). Out-of-range reads return zeros. */
void msix_table_read(struct msix *m, uint64_t off, void *data, uint32_t len);
void msix_table_write(struct msix *m, uint64_t off, const void *data,
                      uint32_t len);
void msix_pba_read(struct msix *m, uint64_t off, void *data, uint32_t len);

/* Message Control as the guest wrote it (enable, function mask bits). */
void msix_set_control(struct msix *m, uint16_t ctrl);
/* Message Control bits this model owns: enable, function mask, and the
 * table size field (nvec - 1). */
uint16_t msix_control(struct msix *m);

/* The device raises @vec: fire() if it may inject, else set its PBA bit.
 * -EINVAL for a bad vector. */
int msix_notify(struct msix *m, unsigned int vec);

/* Whether @vec is effectively masked; its current message. */
bool msix_masked(struct msix *m, unsigned int vec, uint64_t *addr,
                 uint32_t *data);

/* Table size in bytes, PBA size in bytes (multiple of 8). */
uint32_t msix_table_size(const struct msix *m);
uint32_t msix_pba_size(const struct msix *m);

#endif
