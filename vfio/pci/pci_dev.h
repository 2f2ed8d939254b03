/* SPDX-License-Identifier: BSD-3-Clause */
/* A vfio-user device presented on the guest's PCI bus: the only KVM glue
 * of the vfio-user client (docs/architecture.md, "vfio-user devices").
 *
 * Config space comes from the server (VFIO_PCI_CONFIG_REGION_INDEX) and is
 * virtualised where the VMM must own it: BARs (sizes from region info,
 * 32/64-bit, prefetch, I/O, ROM), Command decode bits, Interrupt Line, the
 * MSI and MSI-X capabilities; everything else is read from and written to
 * the server. mmap-able regions and sparse areas become KVM memslots at
 * the BAR's guest address, ioeventfds from GET_REGION_IO_FDS are
 * registered there, both follow the BAR when the guest moves it and go
 * away when decoding is off; the rest is trapped and forwarded with
 * REGION_READ/WRITE. MSI-X/MSI vectors are irqfds on MSI routes whose
 * eventfds the server signals directly; a masked vector's irqfd is
 * detached and its eventfd polled by the event loop to keep the PBA.
 * INTx is an irqfd with a resample eventfd the server gets as UNMASK.
 *
 * Guest RAM is DMA-mapped with its memfd (dma=fd) or without fds
 * (dma=message: the server uses DMA_READ/WRITE, served by the client's
 * software IOMMU). The server's DMA capabilities are checked against the
 * VM before the guest starts.
 *
 * When the server fails (disconnect, timeout, protocol violation) only
 * this device dies: memslots, ioeventfds and irqfds go away, reads return
 * all-ones, writes are dropped. With reconnect > 0 the event loop retries
 * every @reconnect seconds and, once the server is back, replays DMA maps,
 * IRQ eventfds, ioeventfds and BAR mappings.
 *
 * Threads: config accesses arrive under the PCI bus lock, BAR accesses on
 * vCPU threads, vfio_pci_handle_ready() on the event loop. All return 0
 * or -errno.
 */
#ifndef MINIVMM_VFIO_PCI_DEV_H
#define MINIVMM_VFIO_PCI_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/pci/pci_dev_ctx.h"   /* struct vfio_pci_env, _opts */

struct vfio_client;
struct vfio_pci;

/* Connect, discover, check, DMA-map guest RAM and register on the bus.
 * 0 or -errno with a sentence naming the device and the cause in @err. */
int vfio_pci_create(const struct vfio_pci_env *env,
                    const struct vfio_pci_opts *o, struct vfio_pci **out,
                    char *err, size_t errlen);

/* Unregister and free. NULL is a no-op. */
void vfio_pci_destroy(struct vfio_pci *d);

/* Event-loop integration: an epoll fd (server sockets, masked vectors,
 * failure and reconnect timers); call _handle_ready() when readable. */
int vfio_pci_poll_fd(const struct vfio_pci *d);
void vfio_pci_handle_ready(struct vfio_pci *d);

/* ---- snapshots and migration (pci_dev_state.c, pci_dev_mig*.c) --------
 * The device's node in the VM state tree (vmm/devreg.h): the config space
 * as the guest sees it (BAR addresses, decode bits, MSI/MSI-X), the MSI-X
 * table and PBA, the IOMMU windows, the server's identity (device, region
 * and IRQ info, taken at setup and reconnect while the device runs: some
 * servers refuse those queries in STOP) and its migration data stream
 * ("server-state": what was read in PRE_COPY during a live migration, then
 * STOP_COPY's). All on the event-loop thread with the vCPUs stopped.
 *
 * quiesce: RUNNING -> STOP (PRE_COPY -> STOP_COPY); nothing for a server
 * without migration support (its save then fails with -EOPNOTSUPP, naming
 * the device on stderr). resume: back to RUNNING. save may run several
 * times per quiesce (the state tree grows): the stream is read once.
 * load (restore / incoming migration, on a device just created from the
 * command line): refuses a server whose identity differs (-EINVAL, the
 * field named on stderr), then config space (BARs mapped: memslots,
 * ioeventfds), MSI-X table (routes, irqfds) and SET_IRQS while the fresh
 * device runs, then RESUMING + MIG_DATA_WRITE + STOP, and RUNNING (only
 * region access, DEVICE_FEATURE and MIG_DATA_* are sent in STOP,
 * STOP_COPY and RESUMING, as libvfio-user requires; docs/interop.md).
 * opaque = struct vfio_pci *. */
struct state_ops;
extern const struct state_ops vfio_pci_state_ops;
int vfio_pci_quiesce(struct vfio_pci *d);
int vfio_pci_resume(struct vfio_pci *d);
/* The server's VFIO_MIGRATION_* flags (asked once), 0 if it cannot
 * migrate; -errno if the device failed. */
int vfio_pci_mig_flags(struct vfio_pci *d, uint64_t *flags);

/* Live migration: the server's DMA dirty logging over every DMA window
 * (guest RAM), pci_dev_dirty.c. start logs at 4 KiB; sync ORs the pages
 * the server wrote since the last sync (read and clear) into @bits, one
 * bit per 4 KiB page of the guest RAM memfd as vmm/dirty.h numbers them
 * (@npages of them), and counts them in *@count; stop ends logging. With
 * a server offering VFIO_MIGRATION_PRE_COPY, start also moves it to
 * PRE_COPY and start and sync read its pre-copy data (kept for save);
 * stop returns it to RUNNING if the migration ended before quiesce. Any
 * thread; 0 or -errno (-ENOTSUP etc. from a server without logging). */
int vfio_pci_dirty_start(struct vfio_pci *d);
int vfio_pci_dirty_sync(struct vfio_pci *d, uint64_t *bits, uint64_t npages,
                        uint64_t *count);
int vfio_pci_dirty_stop(struct vfio_pci *d);

/* True while the server is usable. */
bool vfio_pci_alive(const struct vfio_pci *d);
/* The client (tests, bench statistics). */
struct vfio_client *vfio_pci_client(struct vfio_pci *d);
/* The function's bus/device/function number on bus 0 (its vIOMMU
 * endpoint ID). */
uint16_t vfio_pci_bdf(const struct vfio_pci *d);

#endif
