/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-test shared declarations (vtest.c): environment, vfu-blk processes,
 * checks. The phases: phases.h, phases_mig.h. */
#ifndef VFU_TEST_VTEST_H
#define VFU_TEST_VTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tools/vfu-test/tdrv.h"

#define IOVA    0x40000000ull
#define DISK_SZ (16u << 20)

struct env {
    const char *vfu_blk;
    char dir[256];
    int failures;
    uint8_t *mem;      /* guest memory: TD_MEM_SIZE bytes of a memfd */
    int memfd;
};

struct proc {
    pid_t pid;
    char sock[300];
    char log[300];
};

/* One vfu-blk with its client and driver. */
struct dev {
    struct proc p;
    struct tc tc;
    struct tdrv d;
    char disk[300];
};

/* Print "ok - @what" or "not ok - @what" (counted as a failure). */
void check(struct env *e, bool ok, const char *what);
/* Deterministic test pattern of @n bytes. */
void fill(uint8_t *p, size_t n, uint8_t seed);
/* Start vfu-blk on DIR/@name.sock over @disk, output to DIR/@name.log;
 * returns once the socket exists. 0 or -errno. */
int start(struct env *e, struct proc *p, const char *name, const char *disk);
/* SIGTERM and reap; the exit status (128: killed by a signal). */
int stop(struct proc *p);
/* SIGUSR1, then the named counter from the log's last counters line; -1
 * if absent. */
long long counter(struct proc *p, const char *key);
/* DIR/@name, DISK_SZ bytes of zeroes. 0 or -errno. */
int make_disk(struct env *e, const char *name, char *path, size_t n);
/* True if @path holds @want at @off. */
bool disk_has(const char *path, uint64_t off, const uint8_t *want, size_t n);

#endif
