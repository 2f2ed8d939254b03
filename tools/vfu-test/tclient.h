/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-test's minimal vfio-user client over vfio/conn: just enough to drive
 * a server through every command and to serve its DMA_READ/WRITE from a
 * local buffer ("guest memory"). Independent of vfio/client.c on purpose:
 * the protocol test must not share the code it checks against.
 * Functions return 0 or -errno (a server error reply: -(its errno)).
 */
#ifndef VFU_TEST_TCLIENT_H
#define VFU_TEST_TCLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vfio/proto/endpoint.h"

#define TC_REPLY_MAX (1u << 21)

struct tc {
    struct vfio_user_ep *ep;        /* the engine the VMM's client uses */
    struct vfio_user_conn *conn;    /* ep's connection */
    struct vfio_user_caps eff;
    bool twin;
    uint8_t *mem;           /* served for DMA_READ/WRITE */
    uint64_t mem_iova, mem_size;
    uint64_t dma_reads, dma_writes;
    uint64_t served;        /* server commands handled */
    pthread_t thr;
    bool thr_on;
    int stop_efd;
    uint8_t *rbuf;          /* reply payloads */
    uint8_t *sbuf;          /* served command payloads */
    struct vfio_user_msg reply;
};

/* Connect to @path and negotiate (twin socket if @twin). @mem/@iova/@size
 * back message-based DMA. 0 or -errno. */
int tc_connect(struct tc *t, const char *path, bool twin, uint8_t *mem,
               uint64_t iova, uint64_t size);
/* Raw VERSION with @json (NULL: none) on a fresh connection, for
 * negative tests; returns the reply's result. The connection is freed. */
int tc_raw_version(const char *path, const char *json);
void tc_close(struct tc *t);

/* Request/reply: reply payload lands in t->rbuf (t->reply). */
int tc_call(struct tc *t, uint16_t cmd, const void *pl, size_t len,
            const int *fds, unsigned int nfds);
/* Serve one server->client command if the main socket has one (no twin
 * socket), waiting up to @ms. True if one was served. */
bool tc_poll_serve(struct tc *t, int ms);

int tc_region_read(struct tc *t, uint32_t region, uint64_t off, void *buf,
                   uint32_t len);
int tc_region_write(struct tc *t, uint32_t region, uint64_t off,
                    const void *buf, uint32_t len);
uint32_t tc_rd(struct tc *t, uint32_t region, uint64_t off, uint32_t len);
int tc_wr(struct tc *t, uint32_t region, uint64_t off, uint64_t v,
          uint32_t len);
int tc_dma_map(struct tc *t, uint64_t iova, uint64_t size, int fd,
               uint64_t off);
int tc_dma_unmap(struct tc *t, uint64_t iova, uint64_t size);
int tc_set_irq_fds(struct tc *t, uint32_t index, uint32_t start,
                   uint32_t count, const int *fds);
/* DEVICE_FEATURE: @flags, @data of @len; reply feature data (after the
 * 8-byte header) copied to @out (room @cap), length in *@outlen. */
int tc_feature(struct tc *t, uint32_t flags, const void *data, size_t len,
               uint32_t argsz, void *out, size_t cap, size_t *outlen);
int tc_mig_state(struct tc *t, uint32_t *get, uint32_t set);
/* Drain MIG_DATA_READ into a malloc'd buffer; write one back. */
int tc_mig_read_all(struct tc *t, uint8_t **buf, size_t *len);
int tc_mig_write_all(struct tc *t, const uint8_t *buf, size_t len);

#endif
