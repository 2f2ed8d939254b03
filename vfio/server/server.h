/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user server core: serves one device, described by tables, to one
 * client at a time over an AF_UNIX stream socket. (This header: the
 * server's life and loop; the device's tables: server_types.h; IRQs:
 * server_io.h; client DMA: server_dma.h.)
 *
 * Spec: shared/spec/vfio-user.rst, "Protocol Specification" (every
 * client->server command), "Socket Disconnection Behavior" ("Client
 * Disconnection"), "Read and Write Operations" (DMA_READ/DMA_WRITE to the
 * client for memory mapped without an fd) and "VFIO_USER_VERSION" (JSON
 * capabilities, twin socket).
 *
 * Library style, like libvfio-user's vfu_get_poll_fd()/vfu_run_ctx(): the
 * server owns no thread and no loop. vfio_srv_poll_fd() is an epoll fd
 * that becomes readable when the listening socket, the client socket or
 * one of the server's ioeventfds has something; the owner then calls
 * vfio_srv_handle_ready(). Everything for one server must be called from
 * one thread at a time, device callbacks included.
 *
 * The device supplies regions (size, flags, optional mmap fd, sparse-mmap
 * areas, ioeventfd sub-regions to offer, a region type), IRQ counts per
 * VFIO_PCI_*_IRQ_INDEX, migration flags, and a const ops table. Region
 * VFIO_PCI_CONFIG_REGION_INDEX is the PCI configuration space; the device
 * emulates it through region_access like any other region.
 *
 * Trust: every length, index, offset and flag of a client message is
 * checked before use; malformed commands get an error reply (or the
 * connection is dropped when the stream cannot be resynchronised). Never
 * crashes on input.
 *
 * Errors: 0 or a negative errno everywhere.
 */
#ifndef MINIVMM_VFIO_SERVER_H
#define MINIVMM_VFIO_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/proto/caps.h"
#include "vfio/proto/proto.h"
#include "vfio/server/server_dma.h"
#include "vfio/server/server_io.h"
#include "vfio/server/server_types.h"

/* The capabilities a server offers when vfio_srv_create() gets no @own:
 * the spec's defaults (vfio_user_caps_default()) plus 16 fds per message,
 * twin socket and write_multiple. A server presenting tighter DMA limits
 * (vfu-blk --pgsizes/--max-dma-maps/--iova-bits) starts from these. */
void vfio_srv_default_caps(struct vfio_user_caps *c);

/* Create a server for @dev (tables copied; ops/opaque/fds referenced).
 * @own: capabilities to advertise (NULL: defaults plus twin_socket and
 * write_multiple). @listen_fd: a listening AF_UNIX socket the server
 * accepts clients on (owned from then on), or -1 (use vfio_srv_attach()).
 * Creates the ioeventfds. 0, -EINVAL (bad tables), -ENOMEM, or errno. */
int vfio_srv_create(const struct vfio_srv_dev *dev,
                    const struct vfio_user_caps *own, int listen_fd,
                    struct vfio_srv **out);

/* How long the server waits for the client's reply to one DMA_READ or
 * DMA_WRITE it sent (milliseconds; 0: no deadline, for a debugger).
 * Default VFIO_SRV_DEFAULT_TIMEOUT_MS. A client that lets it pass is
 * disconnected ("Socket Disconnection Behavior"): a client that keeps a
 * twin socket open without answering must not hang the server. Takes
 * effect for the next client. */
#define VFIO_SRV_DEFAULT_TIMEOUT_MS 5000
void vfio_srv_set_timeout(struct vfio_srv *s, uint32_t ms);

/* Close every fd, unmap all DMA, free. NULL is a no-op. */
void vfio_srv_destroy(struct vfio_srv *s);

/* Serve an already connected socket @fd (ownership passes on success).
 * -EBUSY if a client is connected. */
int vfio_srv_attach(struct vfio_srv *s, int fd);

/* The fd to poll for readability (level-triggered). */
int vfio_srv_poll_fd(const struct vfio_srv *s);

/* Handle whatever is ready: accept a client, serve its commands, deliver
 * ioeventfds. Never blocks waiting for new input (it may block for the
 * reply to a DMA message it sends, up to vfio_srv_set_timeout()). 0; -ENOTCONN once a client attached
 * with vfio_srv_attach() has gone (nothing left to serve); -errno for a
 * local failure (epoll). A client that misbehaves is disconnected. */
int vfio_srv_handle_ready(struct vfio_srv *s);

/* Take the device's ioeventfds (its regions' ioeventfds, in table order)
 * out of vfio_srv_poll_fd()'s set, so that the owner polls them in its
 * own loop: a doorbell then costs one epoll_wait instead of two (the
 * nested epoll). Fills @fds with up to @max of them (the first @max;
 * any others stay in the server's set) and returns how many it took.
 * Call once, after vfio_srv_create(); the fds stay the server's. When
 * @fds[i] is readable, call vfio_srv_handle_ioeventfd(s, i). */
uint32_t vfio_srv_take_ioeventfds(struct vfio_srv *s, int *fds,
                                  uint32_t max);

/* @fds[@idx] of vfio_srv_take_ioeventfds() is readable: consume it and
 * deliver the doorbell to the device (ops->ioeventfd), as
 * vfio_srv_handle_ready() does for the ioeventfds it polls. */
void vfio_srv_handle_ioeventfd(struct vfio_srv *s, uint32_t idx);

/* True while a client is connected and has completed VERSION. */
bool vfio_srv_connected(const struct vfio_srv *s);

/* Current migration state (enum vfio_device_mig_state); RUNNING for a
 * device without migration. */
uint32_t vfio_srv_mig_state(const struct vfio_srv *s);

void vfio_srv_get_stats(const struct vfio_srv *s,
                        struct vfio_srv_stats *st);

#endif
