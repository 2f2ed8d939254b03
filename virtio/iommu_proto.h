/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-iommu wire format: virtio 1.2 section 5.13 ("IOMMU device"),
 * device ID 23. Only what the spec defines; little-endian (x86 hosts).
 * Shared by the device model (virtio/iommu*.c), the fuzz target and the
 * test payload's driver. */
#ifndef MINIVMM_VIRTIO_IOMMU_PROTO_H
#define MINIVMM_VIRTIO_IOMMU_PROTO_H

#include <stdint.h>

#define VIOMMU_DEVICE_ID 23u

/* Feature bits (5.13.3) */
#define VIOMMU_F_INPUT_RANGE   0
#define VIOMMU_F_DOMAIN_RANGE  1
#define VIOMMU_F_MAP_UNMAP     2
#define VIOMMU_F_BYPASS        3
#define VIOMMU_F_PROBE         4
#define VIOMMU_F_MMIO          5
#define VIOMMU_F_BYPASS_CONFIG 6

/* Device configuration layout (5.13.4), 40 bytes. */
struct viommu_config {
    uint64_t page_size_mask;
    uint64_t input_start, input_end;
    uint32_t domain_start, domain_end;
    uint32_t probe_size;
    uint8_t bypass;
    uint8_t reserved[3];
} __attribute__((packed));

/* Request types and status (5.13.6) */
#define VIOMMU_T_ATTACH 1
#define VIOMMU_T_DETACH 2
#define VIOMMU_T_MAP    3
#define VIOMMU_T_UNMAP  4
#define VIOMMU_T_PROBE  5

#define VIOMMU_S_OK     0
#define VIOMMU_S_IOERR  1
#define VIOMMU_S_UNSUPP 2
#define VIOMMU_S_DEVERR 3
#define VIOMMU_S_INVAL  4
#define VIOMMU_S_RANGE  5
#define VIOMMU_S_NOENT  6
#define VIOMMU_S_FAULT  7
#define VIOMMU_S_NOMEM  8

struct viommu_req_head {
    uint8_t type;
    uint8_t reserved[3];
} __attribute__((packed));

struct viommu_req_tail {
    uint8_t status;
    uint8_t reserved[3];
} __attribute__((packed));

#define VIOMMU_ATTACH_F_BYPASS 1u

/* The device-readable part of each request (the tail is writable). */
struct viommu_req_attach {
    struct viommu_req_head head;
    uint32_t domain;
    uint32_t endpoint;
    uint32_t flags;
    uint8_t reserved[4];
} __attribute__((packed));

struct viommu_req_detach {
    struct viommu_req_head head;
    uint32_t domain;
    uint32_t endpoint;
    uint8_t reserved[8];
} __attribute__((packed));

#define VIOMMU_MAP_F_READ  1u
#define VIOMMU_MAP_F_WRITE 2u
#define VIOMMU_MAP_F_MMIO  4u

struct viommu_req_map {
    struct viommu_req_head head;
    uint32_t domain;
    uint64_t virt_start;
    uint64_t virt_end;   /* inclusive */
    uint64_t phys_start;
    uint32_t flags;
} __attribute__((packed));

struct viommu_req_unmap {
    struct viommu_req_head head;
    uint32_t domain;
    uint64_t virt_start;
    uint64_t virt_end;   /* inclusive */
    uint8_t reserved[4];
} __attribute__((packed));

struct viommu_req_probe {
    struct viommu_req_head head;
    uint32_t endpoint;
    uint8_t reserved[64];
} __attribute__((packed));

/* Probe properties (5.13.6.8): length excludes the 4-byte header. */
#define VIOMMU_PROBE_T_NONE     0
#define VIOMMU_PROBE_T_RESV_MEM 1
#define VIOMMU_RESV_MEM_T_RESERVED 0
#define VIOMMU_RESV_MEM_T_MSI      1

struct viommu_probe_resv_mem {
    uint16_t type;
    uint16_t length;     /* 20 */
    uint8_t subtype;
    uint8_t reserved[3];
    uint64_t start;
    uint64_t end;        /* inclusive */
} __attribute__((packed));

/* Fault reports on the event queue (5.13.6.9) */
#define VIOMMU_FAULT_R_UNKNOWN 0
#define VIOMMU_FAULT_R_DOMAIN  1
#define VIOMMU_FAULT_R_MAPPING 2
#define VIOMMU_FAULT_F_READ    1u
#define VIOMMU_FAULT_F_WRITE   2u
#define VIOMMU_FAULT_F_ADDRESS 0x100u

struct viommu_fault {
    uint8_t reason;
    uint8_t reserved[3];
    uint32_t flags;
    uint32_t endpoint;
    uint8_t reserved2[4];
    uint64_t address;
} __attribute__((packed));

/* The x86 MSI doorbell window, reported as RESV_MEM type MSI. */
#define VIOMMU_MSI_START 0xfee00000ULL
#define VIOMMU_MSI_END   0xfeefffffULL

_Static_assert(sizeof(struct viommu_config) == 40, "config layout");
_Static_assert(sizeof(struct viommu_req_attach) == 20, "attach layout");
_Static_assert(sizeof(struct viommu_req_detach) == 20, "detach layout");
_Static_assert(sizeof(struct viommu_req_map) == 36, "map layout");
_Static_assert(sizeof(struct viommu_req_unmap) == 28, "unmap layout");
_Static_assert(sizeof(struct viommu_req_probe) == 72, "probe layout");
_Static_assert(sizeof(struct viommu_probe_resv_mem) == 24, "resv layout");
_Static_assert(sizeof(struct viommu_fault) == 24, "fault layout");

#endif
