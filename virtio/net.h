/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-net device model on a tap device (virtio 1.x section 5.1): one
 * receive queue (0) and one transmit queue (1), no control queue, no
 * multiqueue. Frames cross the tap with a 12-byte struct virtio_net_hdr_v1
 * (TUNSETVNETHDRSZ), so checksum/segmentation offloads pass through:
 * HOST_* (guest → tap) features are offered always (a vnet-header tap
 * accepts GSO frames); GUEST_* (tap → guest: CSUM, TSO4, TSO6) only when
 * the tap accepted TUNSETOFFLOAD, and the negotiated subset is programmed
 * into the tap at FEATURES_OK. MAC (given or generated) and STATUS (link
 * up) are in config space. Without MRG_RXBUF each frame fills one receive
 * chain; num_buffers is set to 1.
 *
 * No threads: the owner watches virtio_net_tap_fd() edge-triggered
 * (EPOLLIN | EPOLLET) and calls virtio_net_handle_tap(), which reads
 * frames until the tap is empty or the guest has no receive buffers left;
 * in the latter case reading resumes when the guest posts buffers (the rx
 * doorbell). Transmit runs in the tx doorbell. Calls for one device come
 * from one thread at a time (the transport's lock).
 */
#ifndef MINIVMM_VIRTIO_NET_H
#define MINIVMM_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/device.h"
#include "virtio/guest_mem.h"
#include "vmm/state.h"

#define VIRTIO_NET_QUEUE_SIZE 256u
#define VIRTIO_NET_HDR_LEN    12u      /* struct virtio_net_hdr_v1 */

struct virtio_net;

struct virtio_net_params {
    int tap_fd;             /* from virtio_net_tap_open(); not closed */
    bool tap_offloads;      /* TUNSETOFFLOAD works on it */
    uint8_t mac[6];
};

/* Attach to tap @name (created if absent and we may): IFF_TAP |
 * IFF_NO_PI | IFF_VNET_HDR, 12-byte headers, nonblocking. *@offloads says
 * whether the tap takes TUNSETOFFLOAD. 0 or -errno with the reason in
 * @err. */
int virtio_net_tap_open(const char *name, int *fd, bool *offloads,
                        char *err, size_t errlen);

/* 0, -EINVAL or -ENOMEM. */
int virtio_net_create(const struct virtio_net_params *p,
                      const struct virtio_mem *mem,
                      const struct virtio_irq *irq, struct virtio_net **out);
void virtio_net_destroy(struct virtio_net *net);
struct virtio_dev *virtio_net_vdev(struct virtio_net *net);

int virtio_net_tap_fd(const struct virtio_net *net);
/* The tap became readable: move frames into receive buffers. */
void virtio_net_handle_tap(struct virtio_net *net);

struct virtio_net_stats {
    uint64_t rx_frames, rx_dropped, tx_frames, tx_errors;
};
void virtio_net_get_stats(const struct virtio_net *net,
                          struct virtio_net_stats *st);

/* virtio_dev state plus config (MAC must match). Opaque: struct
 * virtio_net. */
extern const struct state_ops virtio_net_state_ops;

#endif
