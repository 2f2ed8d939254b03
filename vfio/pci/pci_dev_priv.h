/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals shared by vfio/pci_dev*.c; not for other modules. */
#ifndef MINIVMM_VFIO_PCI_DEV_PRIV_H
#define MINIVMM_VFIO_PCI_DEV_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include "devices/msix.h"
#include "devices/pci.h"
#include "vfio/client/client.h"
#include "vfio/client/client_mig.h"
#include "vfio/client/client_mig_v1.h"
#include "vfio/pci/pci_dev.h"

#define VPD_NR_BARS   PCI_NR_BAR_SLOTS   /* 0-5 and the ROM (region 6) */
#define VPD_MAX_AREAS (VFIO_CLIENT_MAX_SPARSE + 8)
#define VPD_MSI_MAX   32

/* epoll tags of the device's poll fd. */
#define VPD_EV_CLIENT  0u
#define VPD_EV_FAIL    1u
#define VPD_EV_TIMER   2u
#define VPD_EV_VEC     0x100u  /* + MSI-X vector */
#define VPD_EV_MSI     0x10000u /* + MSI vector */

struct vfio_pci;

struct vpd_bar {
    struct vfio_pci *d;
    unsigned int idx;              /* BAR slot == region index */
    struct vfio_client_region ri;  /* ri.size 0: no BAR */
    uint64_t size;                 /* BAR size (power of two) */
    bool io;                       /* I/O space BAR */
    void *map;                     /* mmap of the region, NULL if none */
    unsigned int nareas;           /* memslot areas (page aligned) */
    struct vfio_client_area areas[VPD_MAX_AREAS];
    uint32_t slots[VPD_MAX_AREAS];
    bool slotted;                  /* memslots in place */
    struct vfio_client_iofds io_fds;
    bool io_on;                    /* ioeventfds registered */
    bool mapped;                   /* guest decodes it (bar_map seen) */
    uint64_t addr;                 /* guest address while mapped */
};

/* One interrupt vector: the eventfd the server signals. */
struct vpd_vec {
    int efd;
    uint32_t gsi;
    bool has_gsi;
    bool irqfd;                    /* attached to KVM */
    bool polled;                   /* in the device's epoll (masked) */
};

struct vfio_pci {
    struct pci_dev pci;
    struct vfio_pci_env env;
    struct vfio_pci_opts opts;
    char name[32];
    char socket[108];
    struct vfio_client *client;
    pthread_mutex_t map_lock;      /* BAR mappings, vectors, liveness */
    struct vpd_bar bars[VPD_NR_BARS];
    uint32_t cfg_size;             /* config region bytes (256 / 4096) */
    uint8_t emu[PCI_CFG_SPACE_EXP_SIZE]; /* 1: byte virtualised here */
    /* MSI-X */
    int msix_cap;                  /* config offset, -1: none */
    struct msix msix;
    unsigned int msix_bar;
    uint64_t table_off, pba_off;
    unsigned int nvec;             /* vectors given to the server */
    struct vpd_vec *vec;
    bool msix_on;                  /* eventfds handed to the server */
    /* MSI */
    int msi_cap;
    unsigned int msi_nvec;
    struct vpd_vec msi[VPD_MSI_MAX];
    bool msi_on;
    /* INTx */
    int intx_efd, intx_rfd;
    uint32_t intx_gsi;
    bool intx_on;
    /* Failure and reconnect */
    int epfd;
    int fail_efd;
    int timer_fd;
    atomic_bool dead;              /* torn down; reads all-ones */
    atomic_uint io_errors;         /* BAR accesses the server failed */
    atomic_llong io_err_sec;       /* when the last one was logged */
    /* Snapshots and migration (pci_dev_state.c), event loop only */
    bool mig_probed;
    uint64_t mig_flags;            /* VFIO_MIGRATION_*, 0: none */
    bool mig_saved;                /* the fields below are this pause's */
    void *mig_data;                /* the server's STOP_COPY stream */
    size_t mig_len;
    struct vfio_client_identity ident;
    /* Pre-copy (live migration, VFIO_MIGRATION_PRE_COPY): set and read on
     * the migration thread; quiesce/save (event loop) run while it waits */
    atomic_bool pre_active;        /* we moved the server to PRE_COPY */
    bool pre_in_stream;            /* this quiesce left PRE_COPY: pre_data
                                      leads the saved stream */
    void *pre_data;                /* MIG_DATA_READ in PRE_COPY */
    size_t pre_len;
    /* Region-based migration v1 (pci_dev_mig_v1.c): chosen at probe */
    bool mig_v1;
    struct vfio_client_mig_v1 v1;
};

/* pci_dev.c */
/* Write the emulated BAR (and ROM BAR) registers and Command to the
 * server, as if the guest wrote them now: after a reconnect or a restore,
 * for servers that decode BAR accesses by them (docs/interop.md). */
void vpd_config_replay(struct vfio_pci *d);

/* pci_dev_bar.c */
extern const struct bus_ops vpd_bar_ops;
int vpd_bars_setup(struct vfio_pci *d, char *err, size_t errlen);
int vpd_bars_declare(struct vfio_pci *d);
void vpd_bars_free(struct vfio_pci *d);
int vpd_bar_map(struct pci_dev *pdev, unsigned int bar, uint64_t addr,
                uint64_t size);
void vpd_bar_unmap(struct pci_dev *pdev, unsigned int bar, uint64_t addr,
                   uint64_t size);
/* Tear down / rebuild every mapping of the BARs (map_lock held). */
void vpd_bars_detach(struct vfio_pci *d);
int vpd_bars_reattach(struct vfio_pci *d);
/* Recompute memslot areas once the MSI-X table location is known. */
void vpd_bars_carve(struct vfio_pci *d);

/* pci_dev_irq.c */
int vpd_irq_setup(struct vfio_pci *d, char *err, size_t errlen);
void vpd_irq_free(struct vfio_pci *d);
/* Wire INTx (after pci_register: the GSI is known then). */
int vpd_irq_start(struct vfio_pci *d);
/* Config write hook for the MSI/MSI-X capabilities (bus lock held). */
void vpd_irq_cfg_write(struct vfio_pci *d, uint32_t off, uint32_t len);
/* A masked vector's eventfd fired (event loop). */
void vpd_irq_vec_ready(struct vfio_pci *d, uint32_t tag);
void vpd_irq_detach(struct vfio_pci *d);
int vpd_irq_reattach(struct vfio_pci *d);
void vpd_irq_reset(struct vfio_pci *d);

/* pci_dev_state.c */
void vpd_state_free(struct vfio_pci *d);
/* Live migration's pre-copy phase (from pci_dev_dirty.c, migration
 * thread). start: RUNNING -> PRE_COPY if the server offers it, and read
 * what it has; more: read what it has now (while still in PRE_COPY); end:
 * back to RUNNING if still in PRE_COPY (migration failed before the stop),
 * drop the data. 0 or -errno (logged). */
int vpd_precopy_start(struct vfio_pci *d);
int vpd_precopy_more(struct vfio_pci *d);
void vpd_precopy_end(struct vfio_pci *d);
/* The identity properties of a device node (tests use these too). */
int vpd_identity_save(void *fdt, int node,
                      const struct vfio_client_identity *id);
int vpd_identity_load(const void *fdt, int node,
                      struct vfio_client_identity *id);

/* pci_dev_mig_v1.c: migration v1 (spec 0.9.1), dispatched to from
 * pci_dev_state.c / pci_dev_dirty.c when d->mig_v1. @to and states are
 * v2 numbers (enum vfio_device_mig_state), mapped to the v1 bit sets. */
int vpd_v1_probe(struct vfio_pci *d);
int vpd_v1_set(struct vfio_pci *d, uint32_t to);
int vpd_v1_quiesce(struct vfio_pci *d);
int vpd_v1_save_prepare(struct vfio_pci *d);
int vpd_v1_load_server(struct vfio_pci *d, const void *data, size_t n,
                       char *why, size_t len);
int vpd_v1_dirty_start(struct vfio_pci *d);
int vpd_v1_dirty_sync(struct vfio_pci *d, uint64_t *bits, uint64_t npages,
                      uint64_t *count);
int vpd_v1_dirty_stop(struct vfio_pci *d);
/* Leave pre-copy if still there (back to RUNNING), drop its data. */
void vpd_v1_precopy_end(struct vfio_pci *d);

#endif
