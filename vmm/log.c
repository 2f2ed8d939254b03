/* SPDX-License-Identifier: BSD-3-Clause */
/* The log module (vmm/log.h). */
#include "vmm/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The process-wide setting: written by main() before threads start (level
 * may also change later, hence atomics), read by every message. */
static struct {
    _Atomic int level;
    _Atomic int fd;
} log_cfg = { LOG_INFO, STDERR_FILENO };

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int log_set_level_name(const char *name)
{
    for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
        if (strcasecmp(name, level_names[i]) == 0) {
            log_set_level((enum log_level)i);
            return 0;
        }
    return -EINVAL;
}

void log_set_level(enum log_level level)
{
    atomic_store(&log_cfg.level, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&log_cfg.level);
}

int log_open_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                  0600);
    if (fd < 0)
        return -errno;
    int old = atomic_exchange(&log_cfg.fd, fd);
    if (old > STDERR_FILENO)
        close(old);
    return 0;
}

bool log_enabled(enum log_level level)
{
    return (int)level <= atomic_load(&log_cfg.level);
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    if (!log_enabled(level))
        return;
    int saved = errno;
    char buf[4096];
    int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    if (n == 0 || buf[n - 1] != '\n')
        buf[n++] = '\n';
    ssize_t w = write(atomic_load(&log_cfg.fd), buf, (size_t)n);
    (void)w; /* nowhere left to report a failed log write */
    errno = saved;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}
