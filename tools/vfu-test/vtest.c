/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-test's shared helpers (vtest.h): checks, test patterns, vfu-blk
 * processes and their counters, disk files. */
#include "tools/vfu-test/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
