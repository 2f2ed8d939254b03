/* Platform devices and firmware tables (see platform.h). */
#include "vmm/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/boot.h"
#include "arch/x86/e820.h"
#include "vmm/bus.h"
#include "vmm/config.h"
#include "vmm/memory.h"

struct platform {
    const struct platform_env *env;
    int out_fd;
};

/* TEMPORARY bring-up console and exit port until devices/ lands. */
static void tmp_serial_read(void *opaque, uint64_t off, void *data,
                            uint32_t len)
{
    (void)opaque;
    memset(data, 0, len);
    if (off == 5)
        *(uint8_t *)data = 0x60;
}

static void tmp_serial_write(void *opaque, uint64_t off, const void *data,
                             uint32_t len)
{
    struct platform *p = opaque;

    (void)len;
    if (off == 0 && write(p->out_fd, data, 1) < 0) {
        /* dropped */
    }
}

static const struct bus_ops tmp_serial_ops = { tmp_serial_read,
                                               tmp_serial_write };

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

int platform_create(const struct platform_env *env, struct platform **out,
                    char *err, size_t errlen)
{
    struct platform *p = calloc(1, sizeof(*p));
    int r;

    if (!p)
        return -ENOMEM;
    p->env = env;
    p->out_fd = STDOUT_FILENO;
    *out = p;
    r = bus_register(env->pio, 0x3f8, 8, &tmp_serial_ops, p);
    if (r == 0)
        r = bus_register(env->pio, 0xf4, 4, &tmp_exit_ops, p);
    if (r < 0)
        snprintf(err, errlen, "registering platform devices: %s",
                 strerror(-r));
    return r;
}

int platform_load(struct platform *p, const struct boot_image *img,
                  struct boot_entry *entry, char *err, size_t errlen)
{
    struct e820_map map;

    e820_build(p->env->mem, &map);
    return boot_image_load(img, p->env->mem, &map, 0, entry, err, errlen);
}

void platform_flush(struct platform *p)
{
    (void)p;
}

void platform_destroy(struct platform *p)
{
    free(p);
}
