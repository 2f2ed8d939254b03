/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-test: protocol test client for vfu-blk (tests/integration/
 * payload_vfu_proto.sh runs it).
 *
 *   vfu-test [--vfu-blk=PATH] [--dir=DIR]
 *
 * Starts real build/vfu-blk processes on sockets in DIR and drives them
 * through every client->server command of the vfio-user spec: VERSION
 * (twin socket on and off, malformed JSON), device/region/IRQ info,
 * GET_REGION_IO_FDS, SET_IRQS, REGION_READ/WRITE/WRITE_MULTI, DMA_MAP with
 * and without fds (the latter served as DMA_READ/WRITE), DMA_UNMAP,
 * DEVICE_FEATURE (migration, states, DMA logging), MIG_DATA_READ/WRITE and
 * DEVICE_RESET. A 4 MiB pattern goes through the virtqueue both fd-backed
 * and message-based and is checked on disk; a device with a queue in use
 * and requests pending is migrated to a second vfu-blk process and
 * continues there. Prints one "ok"/"not ok" line per check; exit 0 when
 * all pass.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_pci.h>

#include "tools/vfu-test/phases.h"
#include "vmm/log.h"
#include "tools/vfu-test/vtest.h"

int main(int argc, char **argv)
{
    static char self[512], bin[600];
    struct env e = {0};
    int i;

    snprintf(self, sizeof(self), "%s", argv[0]);
    snprintf(bin, sizeof(bin), "%s/vfu-blk", dirname(self));
    e.vfu_blk = bin;
    for (i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--vfu-blk=", 10))
            e.vfu_blk = argv[i] + 10;
        else if (!strncmp(argv[i], "--dir=", 6))
            snprintf(e.dir, sizeof(e.dir), "%s", argv[i] + 6);
        else {
            log_err("usage: vfu-test [--vfu-blk=PATH] [--dir=DIR]");
            return 2;
        }
    }
    if (!*e.dir) {
        snprintf(e.dir, sizeof(e.dir), "/tmp/vfu-test.XXXXXX");
        if (!mkdtemp(e.dir))
            return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    e.memfd = memfd_create("guest", MFD_CLOEXEC);
    if (e.memfd < 0 || ftruncate(e.memfd, TD_MEM_SIZE))
        return 2;
    e.mem = mmap(NULL, TD_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                 e.memfd, 0);
    if (e.mem == MAP_FAILED)
        return 2;
    run_all(&e);
    printf("%s: %d failure%s\n", e.failures ? "FAIL" : "PASS", e.failures,
           e.failures == 1 ? "" : "s");
    return e.failures ? 1 : 0;
}
