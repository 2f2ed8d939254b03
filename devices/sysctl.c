/* SPDX-License-Identifier: BSD-3-Clause */
/* System control ports (see sysctl.h). */
#include "devices/sysctl.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define I8042_CMD_RESET 0xFE

#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04
#define RCR_FULL_RST 0x08
#define RCR_KEEP (RCR_SYS_RST | RCR_FULL_RST)

#define SLP_TYP_SHIFT 2
#define SLP_TYP_MASK 0x1C
#define SLP_EN 0x20
#define WAK_STS 0x80

struct sysctl {
    pthread_mutex_t lock;
    struct vm_stop_ctl stop;
    uint8_t rcr;          /* reset control bits kept (RCR_KEEP) */
    uint8_t sleep_status; /* WAK_STS or 0 */
    bool attached;
    bool with_reset_port;
};

int sysctl_create(const struct sysctl_config *cfg, struct sysctl **out)
{
    struct sysctl *sc;
    int r;

    if (!cfg->stop.request_stop)
        return -EINVAL;
    sc = calloc(1, sizeof(*sc));
    if (!sc)
        return -ENOMEM;
    r = pthread_mutex_init(&sc->lock, NULL);
    if (r) {
        free(sc);
        return -r;
    }
    sc->stop = cfg->stop;
    sc->sleep_status = WAK_STS;
    *out = sc;
    return 0;
}

void sysctl_destroy(struct sysctl *sc)
{
    if (!sc)
        return;
    pthread_mutex_destroy(&sc->lock);
    free(sc);
}

static void sysctl_stop(struct sysctl *sc, enum vm_stop_reason why,
                        int status)
{
    sc->stop.request_stop(sc->stop.opaque, why, status);
}

/* Reads of ports with nothing to say. */
static void sysctl_read_zero(void *opaque, uint64_t offset, void *data,
                             uint32_t len)
{
    (void)opaque, (void)offset;
    memset(data, 0, len);
}

static void sysctl_read_ones(void *opaque, uint64_t offset, void *data,
                             uint32_t len)
{
    (void)opaque, (void)offset;
    memset(data, 0xff, len);
}

static void sysctl_ignore(void *opaque, uint64_t offset, const void *data,
                          uint32_t len)
{
    (void)opaque, (void)offset, (void)data, (void)len;
}

static void i8042_cmd_write(void *opaque, uint64_t offset, const void *data,
                            uint32_t len)
{
    if (offset == 0 && len == 1 && *(const uint8_t *)data == I8042_CMD_RESET)
        sysctl_stop(opaque, VM_STOP_RESET, 0);
}

const struct bus_ops sysctl_i8042_data_ops = {
    .read = sysctl_read_zero,
    .write = sysctl_ignore,
};

const struct bus_ops sysctl_i8042_cmd_ops = {
    .read = sysctl_read_zero,
    .write = i8042_cmd_write,
};

static void reset_read(void *opaque, uint64_t offset, void *data,
                       uint32_t len)
{
    struct sysctl *sc = opaque;

    if (offset != 0 || len != 1) {
        memset(data, 0xff, len);
        return;
    }
    pthread_mutex_lock(&sc->lock);
    *(uint8_t *)data = sc->rcr;
    pthread_mutex_unlock(&sc->lock);
}

static void reset_write(void *opaque, uint64_t offset, const void *data,
                        uint32_t len)
{
    struct sysctl *sc = opaque;
    uint8_t v = *(const uint8_t *)data;

    if (offset != 0 || len != 1)
        return;
    pthread_mutex_lock(&sc->lock);
    sc->rcr = v & RCR_KEEP;
    pthread_mutex_unlock(&sc->lock);
    if (v & RCR_RST_CPU)
        sysctl_stop(sc, VM_STOP_RESET, 0);
}

const struct bus_ops sysctl_reset_ops = {
    .read = reset_read,
    .write = reset_write,
};

static void test_exit_write(void *opaque, uint64_t offset, const void *data,
                            uint32_t len)
{
    if (offset != 0 || (len != 1 && len != 2 && len != 4))
        return;
    /* Little-endian: the low byte of V comes first at any width. */
    sysctl_stop(opaque, VM_STOP_TEST_EXIT, *(const uint8_t *)data);
}

const struct bus_ops sysctl_test_exit_ops = {
    .read = sysctl_read_ones,
    .write = test_exit_write,
};

static void acpi_sleep_read(void *opaque, uint64_t offset, void *data,
                            uint32_t len)
{
    struct sysctl *sc = opaque;
    uint8_t *p = data;

    pthread_mutex_lock(&sc->lock);
    for (uint32_t i = 0; i < len; i++)
        p[i] = offset + i == 1 ? sc->sleep_status : 0;
    pthread_mutex_unlock(&sc->lock);
}

/* Returns true if the write asks for S5. */
static bool acpi_sleep_write_byte(struct sysctl *sc, uint64_t reg, uint8_t v)
{
    if (reg == 1) {
        sc->sleep_status &= ~(v & WAK_STS);
        return false;
    }
    if (!(v & SLP_EN))
        return false;
    if (((v & SLP_TYP_MASK) >> SLP_TYP_SHIFT) == SYSCTL_SLP_TYP_S5)
        return true;
    sc->sleep_status |= WAK_STS; /* unsupported state: wake at once */
    return false;
}

static void acpi_sleep_write(void *opaque, uint64_t offset, const void *data,
                             uint32_t len)
{
    struct sysctl *sc = opaque;
    const uint8_t *p = data;
    bool poweroff = false;

    pthread_mutex_lock(&sc->lock);
    for (uint32_t i = 0; i < len; i++)
        poweroff |= acpi_sleep_write_byte(sc, offset + i, p[i]);
    pthread_mutex_unlock(&sc->lock);
    if (poweroff)
        sysctl_stop(sc, VM_STOP_POWEROFF, 0);
}

const struct bus_ops sysctl_acpi_sleep_ops = {
    .read = acpi_sleep_read,
    .write = acpi_sleep_write,
};

struct sysctl_port {
    uint16_t port;
    uint16_t len;
    const struct bus_ops *ops;
};

static const struct sysctl_port sysctl_ports[] = {
    { SYSCTL_I8042_DATA_PORT, 1, &sysctl_i8042_data_ops },
    { SYSCTL_I8042_CMD_PORT, 1, &sysctl_i8042_cmd_ops },
    { SYSCTL_TEST_EXIT_PORT, SYSCTL_TEST_EXIT_LEN, &sysctl_test_exit_ops },
    { SYSCTL_ACPI_SLEEP_PORT, SYSCTL_ACPI_SLEEP_LEN, &sysctl_acpi_sleep_ops },
    { SYSCTL_RESET_PORT, 1, &sysctl_reset_ops }, /* keep last */
};
#define SYSCTL_NR_PORTS (sizeof(sysctl_ports) / sizeof(sysctl_ports[0]))

static size_t sysctl_nr_ports(bool with_reset_port)
{
    return with_reset_port ? SYSCTL_NR_PORTS : SYSCTL_NR_PORTS - 1;
}

int sysctl_attach(struct sysctl *sc, struct bus *pio, bool with_reset_port)
{
    size_t n = sysctl_nr_ports(with_reset_port), i;
    int r = 0;

    for (i = 0; i < n; i++) {
        const struct sysctl_port *p = &sysctl_ports[i];

        r = bus_register(pio, p->port, p->len, p->ops, sc);
        if (r < 0)
            goto unwind;
    }
    sc->attached = true;
    sc->with_reset_port = with_reset_port;
    return 0;
unwind:
    while (i-- > 0)
        bus_unregister(pio, sysctl_ports[i].port);
    return r;
}

void sysctl_detach(struct sysctl *sc, struct bus *pio)
{
    if (!sc->attached)
        return;
    for (size_t i = 0; i < sysctl_nr_ports(sc->with_reset_port); i++)
        bus_unregister(pio, sysctl_ports[i].port);
    sc->attached = false;
}

static int sysctl_save(void *opaque, void *fdt, int node)
{
    struct sysctl *sc = opaque;
    uint8_t rcr, sts;
    int r;

    pthread_mutex_lock(&sc->lock);
    rcr = sc->rcr;
    sts = sc->sleep_status;
    pthread_mutex_unlock(&sc->lock);
    r = state_put_u32(fdt, node, "reset-control", rcr);
    if (r == 0)
        r = state_put_u32(fdt, node, "sleep-status", sts);
    return r;
}

static int sysctl_load(void *opaque, const void *fdt, int node)
{
    struct sysctl *sc = opaque;
    uint32_t rcr, sts;
    int r;

    r = state_get_u32(fdt, node, "reset-control", &rcr);
    if (r == 0)
        r = state_get_u32(fdt, node, "sleep-status", &sts);
    if (r < 0)
        return r;
    if ((rcr & ~(uint32_t)RCR_KEEP) || (sts & ~(uint32_t)WAK_STS))
        return -EINVAL;
    pthread_mutex_lock(&sc->lock);
    sc->rcr = (uint8_t)rcr;
    sc->sleep_status = (uint8_t)sts;
    pthread_mutex_unlock(&sc->lock);
    return 0;
}

const struct state_ops sysctl_state_ops = {
    .save = sysctl_save,
    .load = sysctl_load,
};
