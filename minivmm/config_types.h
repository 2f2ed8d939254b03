/* SPDX-License-Identifier: BSD-3-Clause */
/* The validated VM configuration (struct vm_config): types and limits
 * only, below every file that parses it (config*.c) or reads it (vm.c,
 * platform.c, the device builders). */
#ifndef MINIVMM_CONFIG_TYPES_H
#define MINIVMM_CONFIG_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpuid.h"
#include "vmm/seccomp.h"

struct json_object;

#define CONFIG_DEFAULT_MEMORY (512ULL << 20)
#define CONFIG_MAX_CPUS 255 /* xAPIC IDs, MADT/MP table limit */

enum serial_mode {
    SERIAL_STDIO,
    SERIAL_FILE,
    SERIAL_NONE,
    SERIAL_PTY,     /* a new pty, its path logged (info) */
    SERIAL_SOCKET,  /* UNIX socket serial_path, one attached client */
};

/* --disk / --net (minivmm/config_devices.c). */
#define CONFIG_MAX_DISKS 16
#define CONFIG_MAX_NETS 8
#define CONFIG_ID_MAX 21        /* id + NUL; the id is also the disk serial */
#define CONFIG_PATH_MAX 1024
#define CONFIG_TAP_MAX 16       /* IFNAMSIZ */

struct config_disk {
    char path[CONFIG_PATH_MAX];
    char id[CONFIG_ID_MAX];     /* given, or "diskN" */
    int readonly;
    int iommu_off;              /* iommu=off: not behind --viommu */
    unsigned int slot;          /* PCI slot 1-31; 0: the first free one
                                 * (the running VM's config records the
                                 * slot taken) */
};

struct config_net {
    char tap[CONFIG_TAP_MAX];
    char id[CONFIG_ID_MAX];     /* "netN" */
    uint8_t mac[6];
    int has_mac;                /* else generated from the tap name */
};

/* --vfio-user (minivmm/config_devices.c). */
#define CONFIG_MAX_VFIO 8

struct config_vfio {
    char socket[108];           /* sun_path */
    char id[CONFIG_ID_MAX];     /* given, or "vfioN" */
    int dma_message;            /* dma=message: no fds, DMA_READ/WRITE */
    unsigned int reconnect;     /* seconds between retries, 0: never */
    unsigned int timeout_ms;    /* reply timeout, 0: default (5 s) */
    int iommu_off;              /* iommu=off: not behind --viommu */
    unsigned int slot;          /* as config_disk.slot */
};

#define CONFIG_SLOT_MAX 31      /* slot=1..31 (0 is the host bridge) */

/* --viommu virtio[,input-bits=N][,page-size=SIZE] or
 * --viommu intel[,aw-bits=39|48][,caching-mode=on]
 * (minivmm/config_viommu.c, docs/viommu.md). */
#define CONFIG_VIOMMU_INPUT_BITS 48u
#define CONFIG_VIOMMU_AW_BITS 48u
enum config_viommu_model {
    CONFIG_VIOMMU_VIRTIO = 0,   /* virtio-iommu, ACPI VIOT */
    CONFIG_VIOMMU_INTEL,        /* VT-d remapping unit, ACPI DMAR */
};
struct config_viommu {
    bool on;
    enum config_viommu_model model;
    unsigned int input_bits;    /* virtio: 12..64, default 48 */
    uint64_t page_size;         /* virtio: bytes, power of 2, 4K..1G,
                                 * default 4K */
    unsigned int aw_bits;       /* intel: 39 or 48 (default) */
};

struct vm_config {
    const char *kernel;
    const char *initrd;
    const char *cmdline;
    unsigned int cpus;
    uint64_t memory;            /* bytes, multiple of 4 KiB */
    bool hugepages;             /* --memory ...,hugepages=on: 2 MiB pages */
    bool memory_given;          /* --memory SIZE was on the command line:
                                 * with --restore/--incoming, the size the
                                 * file/stream must have */
    enum serial_mode serial;
    const char *serial_path;    /* SERIAL_FILE, SERIAL_SOCKET */
    struct cpuid_policy cpuid;
    struct config_disk disks[CONFIG_MAX_DISKS];
    unsigned int ndisks;
    struct config_net nets[CONFIG_MAX_NETS];
    unsigned int nnets;
    int virtio_console;         /* --console: stdin goes to hvc0 */
    int virtio_rng;             /* --rng */
    struct config_vfio vfio[CONFIG_MAX_VFIO];
    unsigned int nvfio;
    struct config_viommu viommu; /* --viommu */
    const char *restore;        /* --restore FILE: snapshot to resume */
    bool restore_prefault;      /* --restore FILE,prefault=on: load all
                                 * RAM before the vCPUs start */
    char restore_buf[4096];     /* FILE when an option followed it */
    const char *incoming;       /* --incoming URI: migration destination */
    unsigned int migrate_downtime_ms; /* --migrate-downtime-ms, 0: 20 */
    unsigned int migrate_timeout_ms;  /* --migrate-timeout-ms, 0: 30000 */
    bool migrate_rt_boost_off;        /* --migrate-rt-boost off */
    const char *api_socket;     /* --api-socket PATH: control API */
    const char *event_log;      /* --event-log FILE: events appended */
    unsigned int shutdown_timeout; /* --shutdown-timeout SECONDS, 0: none */
    char cpu_features[256];     /* every --cpu-features text, ','-joined */
    const char *config_file;    /* --config FILE */
    struct json_object *file;   /* its parsed text: strings point into it
                                 * (config_free() releases it) */
    enum sc_mode seccomp;       /* --seccomp, default SC_ON */
    const char *log_level;      /* --log-level error|warn|info|debug (a
                                 * checked name, vmm/log.h), NULL: info */
    const char *log_file;       /* --log-file PATH, NULL: stderr */
    uint64_t start_ns;          /* CLOCK_MONOTONIC at main() entry: the
                                 * start-up timeline's zero (set by main
                                 * after parsing) */
    const char *user;           /* --user: drop root to this user */
    const char *group;          /* --group: and this group */
    int show_help;
    int show_version;
};

#endif
