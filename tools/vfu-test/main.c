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

#include "vtest.h"

void check(struct env *e, bool ok, const char *what)
{
    printf("%s - %s\n", ok ? "ok" : "not ok", what);
    fflush(stdout);
    if (!ok)
        e->failures++;
}

void fill(uint8_t *p, size_t n, uint8_t seed)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[i] = (uint8_t)((i * 7 + (i >> 12) + seed) ^ (i >> 20));
}

/* ---- processes -------------------------------------------------------------- */

int start(struct env *e, struct proc *p, const char *name,
                 const char *disk)
{
    char sarg[320], *argv[6];
    int i, fd;

    snprintf(p->sock, sizeof(p->sock), "%s/%s.sock", e->dir, name);
    snprintf(p->log, sizeof(p->log), "%s/%s.log", e->dir, name);
    snprintf(sarg, sizeof(sarg), "--socket-path=%s", p->sock);
    argv[0] = (char *)e->vfu_blk;
    argv[1] = sarg;
    argv[2] = "--disk";
    argv[3] = (char *)disk;
    argv[4] = NULL;
    unlink(p->sock);
    p->pid = fork();
    if (p->pid < 0)
        return -errno;
    if (!p->pid) {
        fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        if (fd < 0)
            _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    for (i = 0; i < 500 && access(p->sock, F_OK); i++)
        usleep(10000);
    return access(p->sock, F_OK) ? -ETIMEDOUT : 0;
}

int stop(struct proc *p)
{
    int st = 0;

    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    waitpid(p->pid, &st, 0);
    p->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Counter @key from the last counters line vfu-blk printed (SIGUSR1). */
long long counter(struct proc *p, const char *key)
{
    char line[1024], last[1024] = "", pat[64], *s;
    FILE *f;
    int i;

    if (p->pid > 0)
        kill(p->pid, SIGUSR1);
    for (i = 0; i < 50; i++) {
        usleep(20000);
        f = fopen(p->log, "r");
        if (!f)
            continue;
        while (fgets(line, sizeof(line), f))
            if (!strncmp(line, "vfu-blk: requests=", 18))
                snprintf(last, sizeof(last), "%s", line);
        fclose(f);
        if (*last)
            break;
    }
    snprintf(pat, sizeof(pat), " %s=", key);
    s = strstr(last, pat);
    if (!s && !strncmp(key, "requests", 8))
        s = strstr(last, "requests=") - 1;
    return s ? atoll(strchr(s, '=') + 1) : -1;
}

int make_disk(struct env *e, const char *name, char *path, size_t n)
{
    int fd;

    snprintf(path, n, "%s/%s", e->dir, name);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, DISK_SZ)) {
        if (fd >= 0)
            close(fd);
        return -errno;
    }
    close(fd);
    return 0;
}

bool disk_has(const char *path, uint64_t off, const uint8_t *want,
                     size_t n)
{
    uint8_t *buf = malloc(n);
    bool ok = false;
    int fd = open(path, O_RDONLY);

    if (buf && fd >= 0 && pread(fd, buf, n, (off_t)off) == (ssize_t)n)
        ok = !memcmp(buf, want, n);
    if (fd >= 0)
        close(fd);
    free(buf);
    return ok;
}

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
            fprintf(stderr, "usage: vfu-test [--vfu-blk=PATH] [--dir=DIR]\n");
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
