/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-console device model (see console.h; spec 5.3). */
#include "virtio/console.h"

#include <endian.h>
#include <errno.h>
#include <libfdt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#define CON_RX       0
#define CON_TX       1
#define CON_MAX_SEGS 16
#define CON_TX_CHUNK 4096u

struct virtio_console {
    struct virtio_dev vdev;
    struct virtq queues[2];
    struct virtio_mem mem;
    struct virtio_console_params p;
    struct virtio_console_config cfg;   /* little-endian */
    bool watching;
    bool eof;
    uint32_t backlog_len;
    uint8_t backlog[VIRTIO_CONSOLE_BACKLOG];
    uint8_t txbuf[CON_TX_CHUNK];
};

static void want_input(struct virtio_console *con, bool on)
{
    if (con->p.in_fd < 0 || !con->p.want_input || on == con->watching)
        return;
    if (on && (con->eof || con->backlog_len == sizeof(con->backlog)))
        return;
    con->watching = on;
    con->p.want_input(con->p.opaque, on);
}

static void write_all(int fd, const uint8_t *buf, size_t len)
{
    while (fd >= 0 && len) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;     /* output gone: drop, like a disconnected tty */
        buf += n;
        len -= (size_t)n;
    }
}

/* Move backlog bytes into posted receive buffers. */
static int flush_rx(struct virtio_console *con)
{
    struct virtq *q = &con->queues[CON_RX];
    struct virtq_seg segs[CON_MAX_SEGS];
    struct virtq_elem e = { .segs = segs, .max_segs = CON_MAX_SEGS };
    uint64_t n;
    int r = 0;

    while (con->backlog_len && q->enabled &&
           (r = virtq_pop(q, &e)) == 1) {
        n = e.in_bytes < con->backlog_len ? e.in_bytes : con->backlog_len;
        r = e.truncated ? -EINVAL
                        : virtq_elem_write(q, &e, 0, con->backlog, n);
        if (r < 0)
            n = 0;
        memmove(con->backlog, con->backlog + n, con->backlog_len - n);
        con->backlog_len -= (uint32_t)n;
        r = virtq_push(q, e.head, (uint32_t)n);
        if (r < 0)
            break;
    }
    if (r < 0 && q->broken)
        virtio_dev_queue_failed(&con->vdev, q);
    virtio_dev_notify_queue(&con->vdev, CON_RX);
    return r < 0 ? r : 0;
}

static int drain_tx(struct virtio_console *con)
{
    struct virtq *q = &con->queues[CON_TX];
    struct virtq_seg segs[CON_MAX_SEGS];
    struct virtq_elem e = { .segs = segs, .max_segs = CON_MAX_SEGS };
    uint64_t off, n;
    int r;

    while ((r = virtq_pop(q, &e)) == 1) {
        for (off = 0; off < e.out_bytes; off += n) {
            n = e.out_bytes - off;
            if (n > sizeof(con->txbuf))
                n = sizeof(con->txbuf);
            if (virtq_elem_read(q, &e, off, con->txbuf, n) < 0)
                break;
            write_all(con->p.out_fd, con->txbuf, n);
        }
        r = virtq_push(q, e.head, 0);
        if (r < 0)
            break;
    }
    if (r < 0 && q->broken)
        virtio_dev_queue_failed(&con->vdev, q);
    virtio_dev_notify_queue(&con->vdev, CON_TX);
    return r < 0 ? r : 0;
}

void virtio_console_handle_input(struct virtio_console *con)
{
    uint32_t space = sizeof(con->backlog) - con->backlog_len;
    ssize_t n = 0;

    if (space && con->p.in_fd >= 0)
        n = read(con->p.in_fd, con->backlog + con->backlog_len, space);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        con->eof = space != 0;
        want_input(con, false);
        return;
    }
    if (n > 0)
        con->backlog_len += (uint32_t)n;
    if (virtio_dev_driver_ok(&con->vdev))
        flush_rx(con);
    if (con->backlog_len == sizeof(con->backlog))
        want_input(con, false);
}

/* --- virtio_dev_ops ------------------------------------------------------ */

static void con_reset(struct virtio_dev *vdev)
{
    /* Nothing in flight; undelivered input waits for the next driver.
     * Input watching is left alone: want_input() is only ever called from
     * queue_notify and handle_input, which the owner runs on its event
     * loop thread (a reset comes from a vCPU). */
    (void)vdev;
}

static int con_config_read(struct virtio_dev *vdev, uint32_t off, void *buf,
                           uint32_t len)
{
    struct virtio_console *con = vdev->priv;

    if (off > sizeof(con->cfg) || len > sizeof(con->cfg) - off)
        return -EINVAL;
    memcpy(buf, (uint8_t *)&con->cfg + off, len);
    return 0;
}

static int con_config_write(struct virtio_dev *vdev, uint32_t off,
                            const void *buf, uint32_t len)
{
    struct virtio_console *con = vdev->priv;
    uint32_t at = offsetof(struct virtio_console_config, emerg_wr);
    uint8_t c;

    if (off > sizeof(con->cfg) || len > sizeof(con->cfg) - off)
        return -EINVAL;
    if (off == at && virtio_dev_has_feature(vdev,
                                            VIRTIO_CONSOLE_F_EMERG_WRITE)) {
        c = *(const uint8_t *)buf;
        write_all(con->p.out_fd, &c, 1);
    }
    return 0;
}

static int con_queue_notify(struct virtio_dev *vdev, uint16_t qidx)
{
    struct virtio_console *con = vdev->priv;
    int r;

    if (qidx == CON_TX)
        return drain_tx(con);
    r = flush_rx(con);
    want_input(con, true);
    return r;
}

static const struct virtio_dev_ops con_dev_ops = {
    .reset = con_reset,
    .config_read = con_config_read,
    .config_write = con_config_write,
    .queue_notify = con_queue_notify,
};

/* --- lifetime and state -------------------------------------------------- */

int virtio_console_create(const struct virtio_console_params *p,
                          const struct virtio_mem *mem,
                          const struct virtio_irq *irq,
                          struct virtio_console **out)
{
    struct virtio_console *con;
    uint64_t f = (1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE) |
                 (1ULL << VIRTIO_RING_F_EVENT_IDX) |
                 (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
    int r = 0;

    if (p->in_fd >= 0 && !p->want_input)
        return -EINVAL;
    con = calloc(1, sizeof(*con));
    if (!con)
        return -ENOMEM;
    con->p = *p;
    con->mem = *mem;
    con->cfg.max_nr_ports = htole32(1);
    for (int i = 0; r == 0 && i < 2; i++)
        r = virtq_init(&con->queues[i], &con->mem,
                       VIRTIO_CONSOLE_QUEUE_SIZE);
    if (r == 0)
        r = virtio_dev_init(&con->vdev, VIRTIO_ID_CONSOLE, f, con->queues,
                            2, &con_dev_ops, con, irq);
    if (r < 0) {
        free(con);
        return r;
    }
    *out = con;
    return 0;
}

void virtio_console_destroy(struct virtio_console *con)
{
    free(con);
}

struct virtio_dev *virtio_console_vdev(struct virtio_console *con)
{
    return &con->vdev;
}

int virtio_console_in_fd(const struct virtio_console *con)
{
    return con->p.in_fd;
}

static int con_save(void *opaque, void *fdt, int node)
{
    struct virtio_console *con = opaque;
    int r = virtio_dev_save(&con->vdev, fdt, node);

    if (r == 0)
        r = state_put_bytes(fdt, node, "input", con->backlog,
                            con->backlog_len);
    return r;
}

static int con_load(void *opaque, const void *fdt, int node)
{
    struct virtio_console *con = opaque;
    const void *in;
    int len, r;

    in = fdt_getprop(fdt, node, "input", &len);
    if (!in)
        return len == -FDT_ERR_NOTFOUND ? -ENOENT : -EINVAL;
    if (len < 0 || (uint32_t)len > sizeof(con->backlog))
        return -EINVAL;
    r = virtio_dev_load(&con->vdev, fdt, node);
    if (r < 0)
        return r;
    memcpy(con->backlog, in, (size_t)len);
    con->backlog_len = (uint32_t)len;
    return 0;
}

const struct state_ops virtio_console_state_ops = {
    .save = con_save,
    .load = con_load,
};
