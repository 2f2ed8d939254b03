/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user VERSION negotiation: capabilities as JSON (json-c).
 *
 * Spec: shared/spec/vfio-user.rst, "VFIO_USER_VERSION" (capabilities table,
 * twin_socket rules); the "migration" object is from vfio-user-0.9.1.rst.
 *
 * Each side's capabilities describe what the SENDER can handle (fds it can
 * receive, transfer size it accepts, page sizes it maps). The server replies
 * with the consistent subset (minimum of limits, intersection of page
 * sizes, features both offer); the client checks that reply and both sides
 * then use the same effective set (struct vfio_user_caps) for their
 * transport limits. Every parser here takes untrusted peer bytes: malformed
 * input returns -EINVAL with a sentence in @err, never crashes.
 *
 * All functions return 0 or a negative errno. @err/@errlen may be NULL/0.
 */
#ifndef MINIVMM_VFIO_CAPS_H
#define MINIVMM_VFIO_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on what we accept from a peer. */
#define VFIO_USER_CAPS_JSON_MAX  65536u /* bytes of version data */
#define VFIO_USER_CAPS_MAX_DEPTH 8      /* JSON nesting */
#define VFIO_USER_CAPS_FD_INDEX_MAX 252 /* fd arrays hold <= 253 (SCM_MAX_FD) */

struct vfio_user_caps {
    uint32_t max_msg_fds;        /* fds receivable per message */
    uint32_t max_data_xfer_size; /* bytes per data transfer, >= 1 */
    uint32_t max_dma_maps;       /* simultaneous DMA windows, >= 1 */
    uint64_t pgsizes;            /* OR of DMA page sizes, all >= 4096 */
    bool twin_socket;            /* twin_socket.supported */
    int32_t twin_fd_index;       /* twin_socket.fd_index (reply), -1: none */
    bool write_multiple;         /* REGION_WRITE_MULTI supported */
    bool migration;              /* 0.9.1 "migration" object present */
    uint64_t mig_pgsize;         /* dirty bitmap page size, power of 2 */
    uint64_t mig_max_bitmap_size; /* bytes; 0: not stated */
    uint64_t iova_bits;          /* IOVA width handled, 12..64; 0: not
                                    stated (64). Extension, see below */
};

/* minivmm extension (docs/viommu.md, docs/interop.md): a server states the
 * IOVA width its DMA path handles as "x_iova_bits" (12..64) in its VERSION
 * capabilities; the spec has no such field. Sent only when stated; peers
 * that do not know it ignore it (unknown keys are ignored). */
#define VFIO_USER_CAP_X_IOVA_BITS "x_iova_bits"

/* Fill @caps with the spec's defaults for absent capabilities: 1 fd, 1 MiB
 * transfers, 65535 DMA maps, 4 KiB pages, no twin socket, no write_multiple,
 * no migration, twin_fd_index -1. */
void vfio_user_caps_default(struct vfio_user_caps *caps);

/* Encode @caps as {"capabilities":{...}} into a malloc'd NUL-terminated
 * string at *@json (caller frees). twin_socket is written only if offered,
 * fd_index only if >= 0, migration only if @caps->migration.
 * 0 or -ENOMEM. */
int vfio_user_caps_to_json(const struct vfio_user_caps *caps, char **json);

/* Parse @len bytes of version data (JSON; a trailing NUL is allowed, an
 * embedded one is not) into @caps; absent fields take the defaults.
 * Strict JSON, unknown keys ignored, numbers must be non-negative integers
 * within each field's range. 0 or -EINVAL (+ @err). */
int vfio_user_caps_parse(const char *json, size_t len,
                         struct vfio_user_caps *caps, char *err,
                         size_t errlen);

/* Server side: the reply capabilities for a client that proposed @client,
 * given what this server supports (@server). Limits are the minimum of
 * both, pgsizes the intersection, migration pgsize the smaller,
 * twin_socket/write_multiple/migration only if both offer them;
 * twin_fd_index is left -1 (the caller sets it when it attaches the fd).
 * 0, or -ENOTSUP (+ @err) if no page size is common. */
int vfio_user_caps_negotiate_server(const struct vfio_user_caps *server,
                                    const struct vfio_user_caps *client,
                                    struct vfio_user_caps *reply, char *err,
                                    size_t errlen);

/* Client side: check the server's @reply to our @proposed capabilities,
 * received with @nfds fds, and compute the effective set into @eff (same
 * rules as the server; features we did not propose are dropped, as
 * libvfio-user always sends "migration"). twin_socket claimed with a
 * missing or out-of-range fd_index, or without our proposing it, is an
 * inconsistent reply (spec "Reply"): -EPROTO (+ @err). No common page size:
 * -ENOTSUP. On success @eff->twin_socket says whether twin-socket mode is
 * on and @eff->twin_fd_index which received fd is the socket. */
int vfio_user_caps_check_reply(const struct vfio_user_caps *proposed,
                               const struct vfio_user_caps *reply,
                               unsigned int nfds, struct vfio_user_caps *eff,
                               char *err, size_t errlen);

/* Build a VERSION payload (struct vfio_user_version + JSON incl. NUL) for
 * @major.@minor and @caps into a malloc'd buffer *@payload of *@len bytes
 * (caller frees). 0 or -ENOMEM. */
int vfio_user_version_encode(uint16_t major, uint16_t minor,
                             const struct vfio_user_caps *caps,
                             void **payload, size_t *len);

/* Decode a VERSION payload of @len bytes: version numbers and capabilities
 * (defaults when the JSON part is absent). 0 or -EINVAL (+ @err). */
int vfio_user_version_decode(const void *payload, size_t len, uint16_t *major,
                             uint16_t *minor, struct vfio_user_caps *caps,
                             char *err, size_t errlen);

/* Server side: accept a client's @major.@minor if the major is ours
 * (VFIO_USER_VERSION_MAJOR); *@minor_out = min(client, ours).
 * 0 or -ENOTSUP (+ @err). */
int vfio_user_version_choose(uint16_t major, uint16_t minor,
                             uint16_t *minor_out, char *err, size_t errlen);

/* Client side: the reply's major must equal the proposed one and its minor
 * must not exceed it (spec "VFIO_USER_VERSION"). 0 or -EPROTO (+ @err). */
int vfio_user_version_check_reply(uint16_t prop_major, uint16_t prop_minor,
                                  uint16_t major, uint16_t minor, char *err,
                                  size_t errlen);

#endif
