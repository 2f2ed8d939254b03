/* SPDX-License-Identifier: BSD-3-Clause */
/* Platform devices and firmware tables (see platform.h). */
#include "minivmm/platform.h"

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
#include "devices/pci.h"
#include "devices/pci_host.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "devices/sysctl.h"
#include "devices/vtd.h"
#include "vmm/bus.h"
#include "minivmm/config_types.h"
#include "minivmm/console.h"
#include "vmm/devreg.h"
#include "vmm/evloop.h"
#include "vmm/memory.h"

#define INPUT_BACKLOG 4096     /* bytes of stdin kept while the FIFO is full */
#define INPUT_RETRY_NS 5000000 /* 5 ms between retries to feed the FIFO */

struct platform {
    const struct platform_env *env;
    struct console console;
    struct serial *serial;
    struct sysctl *sysctl;
    struct rtc *rtc;
    struct pci_bus *pci;
    struct pci_host *pci_host;
    bool pci_pio_registered;
    bool pci_ecam_registered;
    bool rtc_registered;
    bool sysctl_attached;
    uint8_t backlog[INPUT_BACKLOG];
    size_t backlog_len;
    int retry_fd;              /* timerfd armed while backlog_len > 0 */
    bool input_watched;
    unsigned int nstate;       /* entries joined to env->devs */
};

/* Snapshot ids of the platform devices, in save/load order. */
static const char *const state_ids[] = { "serial0", "sysctl", "rtc",
                                         "pci-host" };

static int register_state(struct platform *p)
{
    const struct state_ops *ops[] = { &serial_state_ops, &sysctl_state_ops,
                                      &rtc_state_ops, &pci_host_state_ops };
    void *opaque[] = { p->serial, p->sysctl, p->rtc, p->pci_host };
    int r = 0;

    for (unsigned int i = 0; r == 0 && p->env->devs && i < 4; i++) {
        struct devreg_entry e = { .id = state_ids[i], .state = ops[i],
                                  .opaque = opaque[i] };

        r = devreg_add(p->env->devs, &e);
        if (r == 0)
            p->nstate++;
    }
    return r;
}


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
                     env->loop, err, errlen);
    if (r < 0)
        return r;
    sc.out_fd = p->console.out_fd;
    r = serial_create(&sc, &p->serial);
    if (r == 0)
        r = bus_register(env->pio, SERIAL_COM1_BASE, SERIAL_NR_REGS,
                         &serial_bus_ops, p->serial);
    /* With --console, stdin belongs to virtio-console (vmm/virtio_devs.c)
     * and COM1 is output-only. */
    if (r == 0 && p->console.in_fd >= 0 && !env->cfg->virtio_console) {
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

/* i8042, test-exit and ACPI sleep ports; 0xCF9 goes through the host
 * bridge, which owns 0xCF8-0xCFF. */
static int create_sysctl(struct platform *p)
{
    struct sysctl_config sc = { .stop = p->env->stop };
    int r = sysctl_create(&sc, &p->sysctl);

    if (r == 0)
        r = sysctl_attach(p->sysctl, p->env->pio, false);
    p->sysctl_attached = r == 0;
    return r;
}

static int create_rtc(struct platform *p)
{
    const struct guest_memory *mem = p->env->mem;
    uint64_t low = guest_memory_low_size(mem);
    struct rtc_config rc = { .ram_below_4g = low,
                             .ram_above_4g = mem->ram_size - low };
    int r = rtc_create(&rc, &p->rtc);

    if (r == 0)
        r = bus_register(p->env->pio, RTC_PORT_BASE, RTC_PORT_LEN,
                         &rtc_bus_ops, p->rtc);
    p->rtc_registered = r == 0;
    return r;
}

/* Where the VMM places BARs (docs/platform.md "PCI"), and what no memory
 * BAR may cover: guest RAM, ECAM, the IOAPIC and the LAPIC. */
static void pci_layout(const struct guest_memory *mem,
                       struct pci_bus_config *bc)
{
    static const struct pci_reserved fixed[] = {
        { X86_ECAM_BASE, X86_ECAM_SIZE, "ECAM" },
        { X86_IOAPIC_ADDR, 0x1000, "the IOAPIC" },
        { X86_LAPIC_ADDR, 0x1000, "the LAPIC" },
    };
    uint64_t ram_end = 0;

    bc->assign_bars = true;
    bc->windows = (struct pci_alloc_config){
        .io = { X86_PCI_IO_BASE, X86_PCI_IO_SIZE },
        .mem32 = { X86_MMIO32_BASE, X86_MMIO32_SIZE },
        .mem64 = { X86_MMIO64_BASE, X86_MMIO64_SIZE },
    };
    for (unsigned int i = 0; i < 3; i++)
        bc->reserved[bc->nreserved++] = fixed[i];
    for (unsigned int i = 0; mem && i < mem->nregions; i++) {
        const struct guest_region *g = &mem->regions[i];

        if (bc->nreserved < PCI_MAX_RESERVED)
            bc->reserved[bc->nreserved++] =
                (struct pci_reserved){ g->gpa, g->size, "guest RAM" };
        if (g->gpa + g->size > ram_end)
            ram_end = g->gpa + g->size;
    }
    if (ram_end > X86_MMIO64_BASE) /* 64-bit BARs only past RAM */
        bc->windows.mem64.size = 0;
}

static int create_pci(struct platform *p)
{
    const struct platform_env *env = p->env;
    struct pci_bus_config bc = { .mmio = env->mmio, .pio = env->pio,
                                 .irq = env->irq,
                                 .intx_gsi_base = X86_PCI_INTX_GSI_BASE };
    struct pci_host_config hc = { .cf9_ops = &sysctl_reset_ops };
    int r;

    pci_layout(env->mem, &bc);
    r = pci_bus_create(&bc, &p->pci);

    if (r < 0)
        return r;
    hc.bus = p->pci;
    hc.cf9_opaque = p->sysctl;
    r = pci_host_create(&hc, &p->pci_host);
    if (r < 0)
        return r;
    r = bus_register(env->pio, PCI_HOST_PIO_BASE, PCI_HOST_PIO_LEN,
                     &pci_host_pio_ops, p->pci_host);
    p->pci_pio_registered = r == 0;
    if (r == 0)
        r = bus_register(env->mmio, X86_ECAM_BASE, X86_ECAM_SIZE,
                         &pci_host_ecam_ops, p->pci_host);
    p->pci_ecam_registered = r == 0;
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
    r = create_sysctl(p);
    if (r == 0)
        r = create_rtc(p);
    if (r == 0)
        r = create_pci(p);
    if (r == 0)
        r = register_state(p);
    if (r < 0)
        snprintf(err, errlen, "creating platform devices: %s",
                 strerror(-r));
    return r;
}

struct pci_bus *platform_pci_bus(struct platform *p)
{
    return p->pci;
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

/* The platform description for the firmware tables: with --viommu intel,
 * a DMAR for the VT-d unit (minivmm/viommu_vtd.c) at VTD_MMIO_BASE. */
static void desc_init(const struct platform *p, struct x86_platform_desc *d,
                      struct x86_dmar *dmar)
{
    const struct config_viommu *v = &p->env->cfg->viommu;

    x86_platform_desc_init(d, p->env->cfg->cpus);
    if (v->on && v->model == CONFIG_VIOMMU_INTEL) {
        *dmar = (struct x86_dmar){ .aw_bits = v->aw_bits,
                                   .drhd_base = VTD_MMIO_BASE };
        d->dmar = dmar;
    }
}

int platform_write_viot(struct platform *p, const struct x86_viot *viot,
                        char *err, size_t errlen)
{
    struct x86_platform_desc d;
    struct x86_dmar dmar;
    int r;

    desc_init(p, &d, &dmar);
    d.viot = viot;
    r = put_table(p->env->mem, X86_ACPI_GPA, X86_ACPI_MAX_SIZE, acpi_build,
                  &d);
    if (r < 0)
        snprintf(err, errlen, "building ACPI tables with the VIOT: %s",
                 strerror(-r));
    return r;
}

int platform_load(struct platform *p, const struct boot_image *img,
                  struct boot_entry *entry, char *err, size_t errlen)
{
    struct x86_platform_desc d;
    struct x86_dmar dmar;
    struct e820_map map;
    int r;

    desc_init(p, &d, &dmar);
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
    for (unsigned int i = 0; i < p->nstate; i++)
        devreg_del(p->env->devs, state_ids[i]);
    if (p->input_watched)
        evloop_del(p->env->loop, p->console.in_fd);
    if (p->retry_fd >= 0) {
        evloop_del(p->env->loop, p->retry_fd);
        close(p->retry_fd);
    }
    if (p->pci_ecam_registered)
        bus_unregister(p->env->mmio, X86_ECAM_BASE);
    if (p->pci_pio_registered)
        bus_unregister(p->env->pio, PCI_HOST_PIO_BASE);
    pci_host_destroy(p->pci_host);
    pci_bus_destroy(p->pci);
    if (p->rtc_registered)
        bus_unregister(p->env->pio, RTC_PORT_BASE);
    rtc_destroy(p->rtc);
    if (p->sysctl_attached)
        sysctl_detach(p->sysctl, p->env->pio);
    sysctl_destroy(p->sysctl);
    serial_destroy(p->serial);
    console_close(&p->console);
    free(p);
}
