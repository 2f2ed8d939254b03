/* Platform devices and firmware tables (see platform.h). */
#include "vmm/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "arch/x86/acpi.h"
#include "arch/x86/boot.h"
#include "arch/x86/e820.h"
#include "arch/x86/mptable.h"
#include "arch/x86/platform.h"
#include "devices/serial.h"
#include "vmm/bus.h"
#include "vmm/config.h"
#include "vmm/console.h"
#include "vmm/evloop.h"
#include "vmm/memory.h"

#define INPUT_BACKLOG 4096     /* bytes of stdin kept while the FIFO is full */
#define INPUT_RETRY_NS 5000000 /* 5 ms between retries to feed the FIFO */

struct platform {
    const struct platform_env *env;
    struct console console;
    struct serial *serial;
    uint8_t backlog[INPUT_BACKLOG];
    size_t backlog_len;
    int retry_fd;              /* timerfd armed while backlog_len > 0 */
    bool input_watched;
};

/* TEMPORARY bring-up exit port until devices/sysctl lands. */
static void tmp_exit_read(void *opaque, uint64_t off, void *data,
                          uint32_t len)
{
    (void)opaque, (void)off;
    memset(data, 0xff, len);
}

static void tmp_exit_write(void *opaque, uint64_t off, const void *data,
                           uint32_t len)
{
    struct platform *p = opaque;
    uint32_t v = 0;

    (void)off;
    memcpy(&v, data, len < 4 ? len : 4);
    p->env->stop.request_stop(p->env->stop.opaque, VM_STOP_TEST_EXIT,
                              (int)(v & 0xff));
}

static const struct bus_ops tmp_exit_ops = { tmp_exit_read, tmp_exit_write };

static void feed_backlog(struct platform *p)
{
    size_t n = (size_t)serial_input(p->serial, p->backlog, p->backlog_len);
    struct itimerspec its = { .it_value.tv_nsec = INPUT_RETRY_NS };

    memmove(p->backlog, p->backlog + n, p->backlog_len - n);
    p->backlog_len -= n;
    if (p->backlog_len == 0)
        its.it_value.tv_nsec = 0; /* disarm */
    timerfd_settime(p->retry_fd, 0, &its, NULL);
}

static void on_input(void *opaque, int fd, uint32_t events)
{
    struct platform *p = opaque;
    ssize_t n;

    if (p->backlog_len == INPUT_BACKLOG)
        return; /* full: the retry timer drains it first */
    n = read(fd, p->backlog + p->backlog_len, INPUT_BACKLOG - p->backlog_len);
    if (n <= 0 || (events & (EPOLLHUP | EPOLLERR))) {
        if (n <= 0) {
            /* EOF on stdin: stop watching; the guest keeps running. */
            evloop_del(p->env->loop, fd);
            p->input_watched = false;
            return;
        }
    }
    p->backlog_len += (size_t)n;
    feed_backlog(p);
}

static void on_retry(void *opaque, int fd, uint32_t events)
{
    struct platform *p = opaque;
    uint64_t ticks;

    (void)events;
    if (read(fd, &ticks, sizeof(ticks)) < 0) {
        /* nothing to do: feed anyway */
    }
    feed_backlog(p);
}

static int create_serial(struct platform *p, char *err, size_t errlen)
{
    const struct platform_env *env = p->env;
    struct serial_config sc = { .irq = env->irq, .gsi = SERIAL_COM1_GSI };
    int r;

    r = console_open(&p->console, env->cfg->serial, env->cfg->serial_path,
                     err, errlen);
    if (r < 0)
        return r;
    sc.out_fd = p->console.out_fd;
    r = serial_create(&sc, &p->serial);
    if (r == 0)
        r = bus_register(env->pio, SERIAL_COM1_BASE, SERIAL_NR_REGS,
                         &serial_bus_ops, p->serial);
    if (r == 0 && p->console.in_fd >= 0) {
        p->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        r = p->retry_fd < 0 ? -errno : 0;
        if (r == 0)
            r = evloop_add(env->loop, p->retry_fd, EPOLLIN, on_retry, p);
        /* stdin may be /dev/null or a file, which epoll refuses: then the
         * guest simply gets no input. */
        if (r == 0 && evloop_add(env->loop, p->console.in_fd, EPOLLIN,
                                 on_input, p) == 0)
            p->input_watched = true;
    }
    if (r < 0)
        snprintf(err, errlen, "serial port: %s", strerror(-r));
    return r;
}

int platform_create(const struct platform_env *env, struct platform **out,
                    char *err, size_t errlen)
{
    struct platform *p = calloc(1, sizeof(*p));
    int r;

    if (!p)
        return -ENOMEM;
    p->env = env;
    p->retry_fd = -1;
    p->console.out_fd = p->console.in_fd = -1;
    *out = p;
    r = create_serial(p, err, errlen);
    if (r < 0)
        return r;
    r = bus_register(env->pio, 0xf4, 4, &tmp_exit_ops, p);
    if (r < 0)
        snprintf(err, errlen, "registering platform devices: %s",
                 strerror(-r));
    return r;
}

/* Build one firmware table set into its reserved window of guest RAM. */
static int put_table(struct guest_memory *mem, uint64_t gpa, size_t max,
                     int (*build)(const struct x86_platform_desc *,
                                  uint8_t *, size_t, uint64_t, size_t *),
                     const struct x86_platform_desc *d)
{
    uint8_t *dst = guest_memory_hva(mem, gpa, max);
    size_t used;

    if (!dst)
        return -ENOSPC;
    return build(d, dst, max, gpa, &used);
}

int platform_load(struct platform *p, const struct boot_image *img,
                  struct boot_entry *entry, char *err, size_t errlen)
{
    struct x86_platform_desc d;
    struct e820_map map;
    int r;

    x86_platform_desc_init(&d, p->env->cfg->cpus);
    r = put_table(p->env->mem, X86_ACPI_GPA, X86_ACPI_MAX_SIZE, acpi_build,
                  &d);
    if (r == 0)
        r = put_table(p->env->mem, X86_MPTABLE_GPA, X86_MPTABLE_MAX_SIZE,
                      mptable_build, &d);
    if (r < 0) {
        snprintf(err, errlen, "building ACPI/MP tables: %s%s", strerror(-r),
                 r == -ENOSPC ? " (guest RAM below 1 MiB missing?)" : "");
        return r;
    }
    e820_build(p->env->mem, &map);
    return boot_image_load(img, p->env->mem, &map, X86_ACPI_GPA, entry, err,
                           errlen);
}

void platform_flush(struct platform *p)
{
    (void)p;
}

void platform_destroy(struct platform *p)
{
    if (!p)
        return;
    if (p->input_watched)
        evloop_del(p->env->loop, p->console.in_fd);
    if (p->retry_fd >= 0) {
        evloop_del(p->env->loop, p->retry_fd);
        close(p->retry_fd);
    }
    serial_destroy(p->serial);
    console_close(&p->console);
    free(p);
}
