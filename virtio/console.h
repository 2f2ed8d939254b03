/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-console device model (virtio 1.x section 5.3), single port, no
 * MULTIPORT: receiveq0 (queue 0, host → guest) and transmitq0 (queue 1,
 * guest → host). EMERG_WRITE is offered: a config write of emerg_wr
 * outputs one byte.
 *
 * No threads: the owner watches virtio_console_in_fd() while the model
 * asks for input (params.want_input callback) and calls
 * virtio_console_handle_input() when it is readable. Input is read into a
 * backlog of VIRTIO_CONSOLE_BACKLOG bytes and copied into receive buffers
 * as the guest posts them; while the backlog is full (or after EOF) the
 * model asks the owner to stop watching. Transmitted bytes are written to
 * the output fd as they come (blocking). Calls for one device come from
 * one thread at a time (the transport's lock).
 */
#ifndef MINIVMM_VIRTIO_CONSOLE_H
#define MINIVMM_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/device.h"
#include "virtio/guest_mem.h"
#include "vmm/state.h"

#define VIRTIO_CONSOLE_BACKLOG 4096u
#define VIRTIO_CONSOLE_QUEUE_SIZE 128u

struct virtio_console;

struct virtio_console_params {
    int in_fd;      /* -1: no input; not closed by destroy */
    int out_fd;     /* -1: output discarded; not closed by destroy */
    /* Start (true) or stop (false) watching in_fd. Called only from
     * virtio_dev_queue_notify() and virtio_console_handle_input(), so an
     * owner that runs those on its event loop may touch the loop here;
     * may be NULL when in_fd is -1. */
    void (*want_input)(void *opaque, bool on);
    void *opaque;
};

/* 0, -EINVAL or -ENOMEM. Watching starts off: the model asks for input
 * once the driver posts receive buffers. */
int virtio_console_create(const struct virtio_console_params *p,
                          const struct virtio_mem *mem,
                          const struct virtio_irq *irq,
                          struct virtio_console **out);
void virtio_console_destroy(struct virtio_console *con);
struct virtio_dev *virtio_console_vdev(struct virtio_console *con);

int virtio_console_in_fd(const struct virtio_console *con);
/* in_fd is readable (or hung up): read once, deliver what fits. */
void virtio_console_handle_input(struct virtio_console *con);

/* virtio_dev state plus undelivered input. Opaque: struct
 * virtio_console. */
extern const struct state_ops virtio_console_state_ops;

#endif
