/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: what every part of the device shares, at the
 * bottom of vfio/pci/ (see pci_dev.h for the device): its options, its
 * name, its client connection, the hypervisor services, the PCI function
 * and its liveness. The parts (pci_dev_bar.c, pci_dev_irq.c,
 * pci_dev_mig.c, pci_dev_mig_v1.c, pci_dev_state.c, pci_dev_dirty.c) each
 * get a pointer to the one struct vpd_ctx of their device; pci_dev.c owns
 * it and wires the parts. */
#ifndef MINIVMM_VFIO_PCI_DEV_CTX_H
#define MINIVMM_VFIO_PCI_DEV_CTX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "vmm/hv.h"
#include "vmm/log.h"

struct guest_memory;
struct pci_bus;
struct pci_dev;
struct vfio_client;

struct vfio_pci_env {
    struct pci_bus *bus;
    struct hv hv;
    const struct guest_memory *mem; /* guest RAM to DMA-map */
};

struct vfio_pci_opts {
    const char *name;        /* "vfio0" */
    const char *socket;      /* server socket path */
    int sock_fd;             /* >= 0: already connected (tests) */
    bool dma_message;        /* dma=message: no fds, DMA_READ/WRITE */
    unsigned int reconnect;  /* seconds between retries, 0: never */
    unsigned int timeout_ms; /* per reply, 0: client default */
    bool posted_writes;      /* trapped MMIO writes without a reply */
    /* Behind a vIOMMU (minivmm/viommu.h): the client proposes every page
     * size and @check_dma, called once the server's capabilities are
     * known and before guest RAM is DMA-mapped, replaces the 1:1 check
     * (0, or -errno with one line in @err). NULL: the 1:1 check. */
    int (*check_dma)(void *opaque, struct vfio_client *c, char *err,
                     size_t errlen);
    void *check_opaque;
    /* Optional: the server's DMA_READ/WRITE hit no window (client_core.h
     * on_dma_fault), with @check_opaque. */
    void (*on_dma_fault)(void *opaque, uint64_t iova, uint64_t len,
                         bool write);
};

struct vpd_ctx {
    char name[32];                 /* the device's name, in log lines */
    struct vfio_client *client;    /* set once connected */
    struct hv hv;
    struct pci_dev *pci;           /* the function (config image) */
    bool posted_writes;            /* opts.posted_writes */
    pthread_mutex_t map_lock;      /* BAR mappings, MSI config, liveness */
    atomic_bool dead;              /* torn down; reads all-ones */
};

/* True while the server is usable: not torn down, client not failed. */
bool vpd_alive(const struct vpd_ctx *c);

/* One log line "minivmm: vfio-user <name>: <message>\n" at @level. */
void vpd_say(const struct vpd_ctx *c, enum log_level level,
             const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
