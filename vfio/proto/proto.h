/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user wire format: messages, commands, flags and capabilities.
 *
 * Only what the protocol specification defines (shared/spec/vfio-user.rst,
 * "Protocol Specification"), plus the region-based migration v1 layout and
 * the DIRTY_PAGES command of the older 0.9.1 revision
 * (shared/spec/vfio-user-0.9.1.rst, "VFIO Device Migration Info"). No client
 * or server logic: the client, the server core and the fuzzers share this.
 *
 * All integers are in host byte order (spec: "all data is in the endianness
 * of the host system"); sizes are in bytes. Every fixed-size structure is
 * packed and its size is checked against the spec's table below it. Offsets
 * in the spec are relative to the end of the 16-byte header.
 *
 * Structures that <linux/vfio.h> already defines with the same layout
 * (struct vfio_region_info, vfio_irq_info, vfio_irq_set, vfio_info_cap_header,
 * vfio_region_info_cap_sparse_mmap, vfio_region_info_cap_type) are used as
 * is; the spec names them. Constants newer than Debian 12's linux-libc-dev
 * (6.1) are defined here once, guarded by #ifndef.
 */
#ifndef MINIVMM_VFIO_PROTO_H
#define MINIVMM_VFIO_PROTO_H

#include <stdint.h>
#include <linux/vfio.h>

/* ------------------------------------------------------------------------
 * Constants newer than the 6.1 UAPI headers.
 * PRE_COPY (flag and the two states) came with Linux 6.2 in one commit, so
 * VFIO_MIGRATION_PRE_COPY guards all three (enum members are invisible to
 * the preprocessor).
 */
#ifndef VFIO_MIGRATION_PRE_COPY
#define VFIO_MIGRATION_PRE_COPY        (1 << 2)
#define VFIO_DEVICE_STATE_PRE_COPY     6
#define VFIO_DEVICE_STATE_PRE_COPY_P2P 7
#endif

/* Feature indexes (spec "Device Features"); all present in 6.1. */
#ifndef VFIO_DEVICE_FEATURE_MIGRATION
#define VFIO_DEVICE_FEATURE_MIGRATION 1
#endif
#ifndef VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE
#define VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE 2
#endif
#ifndef VFIO_DEVICE_FEATURE_DMA_LOGGING_START
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_START  6
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP   7
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT 8
#endif

/* 0.9.1 migration region type/subtype (spec 0.9.1 "VFIO region info type
 * cap"); the kernel renamed them *_DEPRECATED and may drop them. */
#ifndef VFIO_REGION_TYPE_MIGRATION_DEPRECATED
#define VFIO_REGION_TYPE_MIGRATION_DEPRECATED (3)
#endif
#ifndef VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED
#define VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED (1)
#endif
#define VFIO_USER_REGION_TYPE_MIGRATION    VFIO_REGION_TYPE_MIGRATION_DEPRECATED
#define VFIO_USER_REGION_SUBTYPE_MIGRATION \
    VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED

/* ------------------------------------------------------------------------
 * Protocol version (spec "VFIO_USER_VERSION"): the reply's major must equal
 * the proposal's, its minor must be <= the proposal's.
 */
#define VFIO_USER_VERSION_MAJOR 0
#define VFIO_USER_VERSION_MINOR 1

/* Commands (spec "Commands"). 14 is the 0.9.1 DIRTY_PAGES command, gone from
 * the current spec (replaced by DEVICE_FEATURE DMA logging). */
enum vfio_user_command {
    VFIO_USER_VERSION = 1,
    VFIO_USER_DMA_MAP = 2,
    VFIO_USER_DMA_UNMAP = 3,
    VFIO_USER_DEVICE_GET_INFO = 4,
    VFIO_USER_DEVICE_GET_REGION_INFO = 5,
    VFIO_USER_DEVICE_GET_REGION_IO_FDS = 6,
    VFIO_USER_DEVICE_GET_IRQ_INFO = 7,
    VFIO_USER_DEVICE_SET_IRQS = 8,
    VFIO_USER_REGION_READ = 9,
    VFIO_USER_REGION_WRITE = 10,
    VFIO_USER_DMA_READ = 11,
    VFIO_USER_DMA_WRITE = 12,
    VFIO_USER_DEVICE_RESET = 13,
    VFIO_USER_DIRTY_PAGES = 14, /* 0.9.1 only */
    VFIO_USER_REGION_WRITE_MULTI = 15,
    VFIO_USER_DEVICE_FEATURE = 16,
    VFIO_USER_MIG_DATA_READ = 17,
    VFIO_USER_MIG_DATA_WRITE = 18,
    VFIO_USER_MAX_COMMAND = 19, /* one past the last command number */
};

/* ------------------------------------------------------------------------
 * Header (spec "Header"): precedes every command and reply.
 */
#define VFIO_USER_F_TYPE_MASK    0xfu      /* bits 0-3 */
#define VFIO_USER_F_TYPE_COMMAND 0x0u
#define VFIO_USER_F_TYPE_REPLY   0x1u
#define VFIO_USER_F_NO_REPLY     (1u << 4) /* command: no reply wanted */
#define VFIO_USER_F_ERROR        (1u << 5) /* reply: @error is valid */
#define VFIO_USER_F_DEFINED                                                  \
    (VFIO_USER_F_TYPE_MASK | VFIO_USER_F_NO_REPLY | VFIO_USER_F_ERROR)

struct vfio_user_header {
    uint16_t msg_id;   /* chosen by the sender, echoed in the reply */
    uint16_t cmd;      /* enum vfio_user_command, also set in the reply */
    uint32_t msg_size; /* whole message including this header */
    uint32_t flags;    /* VFIO_USER_F_* */
    uint32_t error;    /* errno of a failed command (reply, F_ERROR) */
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_header) == 16, "spec: Header");

/* ------------------------------------------------------------------------
 * VFIO_USER_VERSION (spec "VFIO_USER_VERSION"), request and reply. @data is
 * optional UTF-8 JSON {"capabilities": {...}} including its NUL.
 */
struct vfio_user_version {
    uint16_t major;
    uint16_t minor;
    uint8_t data[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_version) == 4, "spec: VERSION");

/* JSON capability names (spec "Capabilities" table). */
#define VFIO_USER_CAP_ROOT               "capabilities"
#define VFIO_USER_CAP_MAX_MSG_FDS        "max_msg_fds"
#define VFIO_USER_CAP_MAX_DATA_XFER_SIZE "max_data_xfer_size"
#define VFIO_USER_CAP_MAX_DMA_MAPS       "max_dma_maps"
#define VFIO_USER_CAP_PGSIZES            "pgsizes"
#define VFIO_USER_CAP_TWIN_SOCKET        "twin_socket"
#define VFIO_USER_CAP_TWIN_SUPPORTED     "supported"
#define VFIO_USER_CAP_TWIN_FD_INDEX      "fd_index"
#define VFIO_USER_CAP_WRITE_MULTIPLE     "write_multiple"
/* 0.9.1 "migration" object; max_bitmap_size as sent by libvfio-user. */
#define VFIO_USER_CAP_MIGRATION          "migration"
#define VFIO_USER_CAP_MIG_PGSIZE         "pgsize"
#define VFIO_USER_CAP_MIG_MAX_BITMAP     "max_bitmap_size"

/* Defaults when a capability is absent (spec "Capabilities"). */
#define VFIO_USER_DEFAULT_MAX_MSG_FDS        1u
#define VFIO_USER_DEFAULT_MAX_DATA_XFER_SIZE (1024u * 1024u)
#define VFIO_USER_DEFAULT_MAX_DMA_MAPS       65535u
#define VFIO_USER_DEFAULT_PGSIZES            4096ull

/* ------------------------------------------------------------------------
 * VFIO_USER_DMA_MAP (spec "VFIO_USER_DMA_MAP"). Optional fd in SCM_RIGHTS.
 */
#define VFIO_USER_F_DMA_REGION_READ  (1u << 0)
#define VFIO_USER_F_DMA_REGION_WRITE (1u << 1)

struct vfio_user_dma_map {
    uint32_t argsz;   /* sizeof(struct vfio_user_dma_map) */
    uint32_t flags;   /* VFIO_USER_F_DMA_REGION_* */
    uint64_t offset;  /* file offset in the passed fd, 0 if none */
    uint64_t address; /* DMA (IO virtual) address */
    uint64_t size;
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_dma_map) == 32, "spec: DMA_MAP");

/* VFIO_USER_DMA_UNMAP (spec "VFIO_USER_DMA_UNMAP"); reply echoes it. In
 * 0.9.1, flag bit 0 asked for a struct vfio_user_bitmap to follow. */
#define VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP (1u << 0) /* 0.9.1 only */

struct vfio_user_dma_unmap {
    uint32_t argsz; /* max reply payload */
    uint32_t flags;
    uint64_t address;
    uint64_t size;
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_dma_unmap) == 24, "spec: DMA_UNMAP");

/* ------------------------------------------------------------------------
 * VFIO_USER_DEVICE_GET_INFO (spec "VFIO_USER_DEVICE_GET_INFO"). Flags are
 * VFIO_DEVICE_FLAGS_RESET / VFIO_DEVICE_FLAGS_PCI.
 */
struct vfio_user_device_info {
    uint32_t argsz;
    uint32_t flags;
    uint32_t num_regions;
    uint32_t num_irqs;
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_device_info) == 16,
               "spec: DEVICE_GET_INFO");

/* VFIO_USER_DEVICE_GET_REGION_INFO: struct vfio_region_info (32 bytes),
 * followed in the reply by the capability chain at @cap_offset (relative to
 * the start of the struct): struct vfio_info_cap_header (8), sparse mmap
 * (VFIO_REGION_INFO_CAP_SPARSE_MMAP) and, in 0.9.1, the region type cap
 * (VFIO_REGION_INFO_CAP_TYPE). An MMAP region's reply carries one fd. */
_Static_assert(sizeof(struct vfio_region_info) == 32,
               "spec: DEVICE_GET_REGION_INFO");
_Static_assert(sizeof(struct vfio_info_cap_header) == 8, "spec: cap header");
_Static_assert(sizeof(struct vfio_region_info_cap_sparse_mmap) == 16,
               "spec: sparse mmap cap (header + nr_areas + reserved)");
_Static_assert(sizeof(struct vfio_region_sparse_mmap_area) == 16,
               "spec: sparse mmap area");
_Static_assert(sizeof(struct vfio_region_info_cap_type) == 16,
               "spec 0.9.1: region type cap");

/* ------------------------------------------------------------------------
 * VFIO_USER_DEVICE_GET_REGION_IO_FDS (spec same name). The spec puts entry i
 * at i * ((argsz - 32) / count), but argsz covers the 16-byte fixed part
 * and the entries (libvfio-user: 16 + 40 * count), so entry i starts at
 * 16 + i * ((argsz - 16) / count); currently each entry is 40 bytes.
 */
#define VFIO_USER_IO_FD_TYPE_IOEVENTFD  0u
#define VFIO_USER_IO_FD_TYPE_IOREGIONFD 1u

struct vfio_user_region_io_fds_request {
    uint32_t argsz;
    uint32_t flags; /* must be 0 */
    uint32_t index;
    uint32_t count; /* must be 0 */
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_region_io_fds_request) == 16,
               "spec: GET_REGION_IO_FDS request");

struct vfio_user_sub_region_ioeventfd {
    uint64_t offset;    /* within the region */
    uint64_t size;      /* 0: any access size */
    uint32_t fd_index;  /* index into the reply's fd array */
    uint32_t type;      /* VFIO_USER_IO_FD_TYPE_IOEVENTFD */
    uint32_t flags;     /* KVM_IOEVENTFD_FLAG_* */
    uint32_t padding;
    uint64_t datamatch;
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_sub_region_ioeventfd) == 40,
               "spec: Sub-Region IO FD info (ioeventfd)");

/* libvfio-user's entry (since its shadow ioeventfds, 2023): 48 bytes, not
 * in the spec; the 40-byte padding became shadow_mem_fd_index and
 * shadow_offset was inserted, so datamatch moved from 32 to 40. A client
 * tells the two apart by the reply's entry size ((argsz - 16) / count);
 * see docs/interop.md. */
struct vfio_user_sub_region_ioeventfd_shadow {
    uint64_t offset;
    uint64_t size;
    uint32_t fd_index;
    uint32_t type;      /* IOEVENTFD; libvfio-user's shadow type is other */
    uint32_t flags;
    uint32_t shadow_mem_fd_index;
    uint64_t shadow_offset;
    uint64_t datamatch;
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_sub_region_ioeventfd_shadow) == 48,
               "libvfio-user: vfio_user_sub_region_ioeventfd");

struct vfio_user_sub_region_ioregionfd {
    uint64_t offset;
    uint64_t size;
    uint32_t fd_index;
    uint32_t type;      /* VFIO_USER_IO_FD_TYPE_IOREGIONFD */
    uint32_t flags;     /* KVM_IOREGION_* */
    uint32_t padding;
    uint64_t user_data;
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_sub_region_ioregionfd) == 40,
               "spec: Sub-Region IO FD info (ioregionfd)");

struct vfio_user_region_io_fds_reply {
    uint32_t argsz; /* full size incl. all sub-regions */
    uint32_t flags; /* 0 */
    uint32_t index;
    uint32_t count; /* number of sub-regions */
    uint8_t sub_regions[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_region_io_fds_reply) == 16,
               "spec: GET_REGION_IO_FDS reply");

/* ------------------------------------------------------------------------
 * VFIO_USER_DEVICE_GET_IRQ_INFO: struct vfio_irq_info (16 bytes).
 * VFIO_USER_DEVICE_SET_IRQS: struct vfio_irq_set (20 bytes) + data (bools
 * for DATA_BOOL; eventfds travel as SCM_RIGHTS for DATA_EVENTFD).
 */
_Static_assert(sizeof(struct vfio_irq_info) == 16, "spec: GET_IRQ_INFO");
_Static_assert(sizeof(struct vfio_irq_set) == 20, "spec: SET_IRQS");

/* ------------------------------------------------------------------------
 * VFIO_USER_REGION_READ / VFIO_USER_REGION_WRITE (spec same names). READ
 * request and WRITE reply are this struct alone; READ reply and WRITE request
 * append @count bytes of data. count <= the receiver's max_data_xfer_size.
 */
struct vfio_user_region_access {
    uint64_t offset; /* within the region */
    uint32_t region; /* region index */
    uint32_t count;  /* bytes of data */
    uint8_t data[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_region_access) == 16,
               "spec: REGION_READ/WRITE");

/* VFIO_USER_DMA_READ / VFIO_USER_DMA_WRITE (server -> client; on the twin
 * socket when negotiated). The spec's DMA_WRITE reply table gives @count 4
 * bytes (reply size 12); libvfio-user sends and expects this 16-byte struct.
 * Send 16, accept >= VFIO_USER_DMA_WRITE_REPLY_MIN. */
struct vfio_user_dma_access {
    uint64_t address; /* client DMA address */
    uint64_t count;   /* bytes of data */
    uint8_t data[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_dma_access) == 16,
               "spec: DMA_READ/WRITE");
#define VFIO_USER_DMA_WRITE_REPLY_MIN 12u

/* ------------------------------------------------------------------------
 * VFIO_USER_REGION_WRITE_MULTI (spec same name): only if both sides
 * negotiated write_multiple. Each write carries <= 8 bytes inline.
 */
#define VFIO_USER_WRITE_MULTI_DATA_MAX 8u

struct vfio_user_write_multi_entry {
    uint64_t offset;
    uint32_t region;
    uint32_t count; /* <= VFIO_USER_WRITE_MULTI_DATA_MAX */
    uint8_t data[VFIO_USER_WRITE_MULTI_DATA_MAX];
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_write_multi_entry) == 24,
               "spec: Single Device Write Format");

struct vfio_user_write_multi {
    uint64_t wr_cnt; /* request: writes that follow; reply: completed */
    struct vfio_user_write_multi_entry wrs[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_write_multi) == 8,
               "spec: REGION_WRITE_MULTI");

/* ------------------------------------------------------------------------
 * VFIO_USER_DEVICE_FEATURE (spec same name). @flags: feature index in bits
 * 0-15 (VFIO_DEVICE_FEATURE_MASK) | VFIO_DEVICE_FEATURE_GET/SET/PROBE.
 */
struct vfio_user_device_feature {
    uint32_t argsz; /* max reply payload */
    uint32_t flags;
    uint8_t data[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_device_feature) == 8,
               "spec: DEVICE_FEATURE");

/* VFIO_DEVICE_FEATURE_MIGRATION GET reply data: VFIO_MIGRATION_* flags. */
struct vfio_user_device_feature_migration {
    uint64_t flags; /* VFIO_MIGRATION_STOP_COPY | _P2P | _PRE_COPY */
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_device_feature_migration) == 8,
               "spec: VFIO_DEVICE_FEATURE_MIGRATION");

/* VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE data (GET reply, SET request). */
struct vfio_user_device_feature_mig_state {
    uint32_t device_state; /* enum vfio_device_mig_state */
    uint32_t data_fd;      /* unused in vfio-user */
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_device_feature_mig_state) == 8,
               "spec: VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE");

/* VFIO_DEVICE_FEATURE_DMA_LOGGING_START data: ranges inline (unlike the
 * kernel's pointer). num_ranges 0: log all writes. */
struct vfio_user_dma_logging_range {
    uint64_t iova;
    uint64_t length;
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_dma_logging_range) == 16,
               "spec: dma_logging_range");

struct vfio_user_dma_logging_control {
    uint64_t page_size; /* hint in, chosen out */
    uint32_t num_ranges;
    uint32_t reserved;
    struct vfio_user_dma_logging_range ranges[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_dma_logging_control) == 16,
               "spec: DMA_LOGGING_START");

/* VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT GET request; the reply appends the
 * u64 bitmap at offset 24, one bit per @page_size (a power of two). */
struct vfio_user_dma_logging_report {
    uint64_t iova;
    uint64_t length;
    uint64_t page_size;
    uint64_t bitmap[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_dma_logging_report) == 24,
               "spec: DMA_LOGGING_REPORT");

/* ------------------------------------------------------------------------
 * VFIO_USER_MIG_DATA_READ / VFIO_USER_MIG_DATA_WRITE (spec same names).
 * READ request: no data; READ reply and WRITE request: @size bytes follow.
 * A READ reply with size < requested means the stream is drained.
 */
struct vfio_user_mig_data {
    uint32_t argsz; /* request: max reply payload; reply: full size */
    uint32_t size;  /* bytes of data */
    uint8_t data[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_mig_data) == 8, "spec: MIG_DATA");

/* ------------------------------------------------------------------------
 * 0.9.1: VFIO_USER_DIRTY_PAGES (spec 0.9.1 "VFIO_USER_DIRTY_PAGES"). Flags
 * are VFIO_IOMMU_DIRTY_PAGES_FLAG_START/STOP/GET_BITMAP (mutually
 * exclusive). GET_BITMAP appends a struct vfio_user_bitmap_range; its reply
 * appends the range and the bitmap. The 0.9.1 range table says 24 + 16 = 40
 * bytes, counting the kernel's vfio_bitmap data pointer; its own "VFIO
 * Bitmap Format" table (and libvfio-user) has a 16-byte bitmap header, used
 * here.
 */
struct vfio_user_dirty_pages {
    uint32_t argsz;
    uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_dirty_pages) == 8,
               "spec 0.9.1: DIRTY_PAGES");

struct vfio_user_bitmap {
    uint64_t pgsize; /* bytes per bit */
    uint64_t size;   /* bitmap bytes, excluding this header */
    uint8_t data[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_bitmap) == 16,
               "spec 0.9.1: VFIO Bitmap");

struct vfio_user_bitmap_range {
    uint64_t iova;
    uint64_t size;
    struct vfio_user_bitmap bitmap;
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_bitmap_range) == 32,
               "spec 0.9.1: VFIO Bitmap Range (16 + bitmap header)");

/* ------------------------------------------------------------------------
 * 0.9.1: region-based migration v1 (spec 0.9.1 "VFIO Device Migration
 * Info"). The migration region (type VFIO_USER_REGION_TYPE_MIGRATION)
 * begins with this struct, accessed with REGION_READ/WRITE; migration data
 * lives at @data_offset. device_state is a bit set; RESUMING|SAVING is the
 * error state, RESUMING with RUNNING is invalid.
 */
#define VFIO_USER_MIG_V1_STATE_STOP     0u
#define VFIO_USER_MIG_V1_STATE_RUNNING  (1u << 0)
#define VFIO_USER_MIG_V1_STATE_SAVING   (1u << 1)
#define VFIO_USER_MIG_V1_STATE_RESUMING (1u << 2)
#define VFIO_USER_MIG_V1_STATE_MASK     0x7u
#define VFIO_USER_MIG_V1_STATE_PRE_COPY                                      \
    (VFIO_USER_MIG_V1_STATE_SAVING | VFIO_USER_MIG_V1_STATE_RUNNING)
#define VFIO_USER_MIG_V1_STATE_STOP_COPY VFIO_USER_MIG_V1_STATE_SAVING
#define VFIO_USER_MIG_V1_STATE_ERROR                                         \
    (VFIO_USER_MIG_V1_STATE_SAVING | VFIO_USER_MIG_V1_STATE_RESUMING)

struct vfio_user_migration_info {
    uint32_t device_state;  /* VFIO_USER_MIG_V1_STATE_* bits */
    uint32_t reserved;
    uint64_t pending_bytes; /* read only */
    uint64_t data_offset;   /* read only, within the region */
    uint64_t data_size;
} __attribute__((packed));
_Static_assert(sizeof(struct vfio_user_migration_info) == 32,
               "spec 0.9.1: struct vfio_device_migration_info");

#endif
