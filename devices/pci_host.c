/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI host bridge and config mechanisms (see pci_host.h). */
#include "devices/pci_host.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CF8_ENABLE    0x80000000u
#define CF8_WRITABLE  0x80FFFFFCu /* reserved bits 30:24, 1:0 read 0 */
#define CF9_OFFSET    1
#define CFC_OFFSET    4

struct pci_host {
    struct pci_dev dev;  /* 00:00.0 */
    struct pci_bus *bus;
    const struct bus_ops *cf9_ops;
    void *cf9_opaque;
    uint32_t config_address; /* atomic */
};

int pci_host_create(const struct pci_host_config *cfg, struct pci_host **out)
{
    const struct pci_dev_info info = {
        .vendor_id = PCI_HOST_VENDOR,
        .device_id = PCI_HOST_DEVICE,
        .class_code = PCI_HOST_CLASS,
    };
    struct pci_host *h = calloc(1, sizeof(*h));
    int r;

    if (!h)
        return -ENOMEM;
    h->bus = cfg->bus;
    h->cf9_ops = cfg->cf9_ops;
    h->cf9_opaque = cfg->cf9_opaque;
    r = pci_dev_init(&h->dev, &info, NULL, h);
    if (r == 0)
        r = pci_register_slot(h->bus, &h->dev, 0);
    if (r < 0) {
        free(h);
        return r;
    }
    *out = h;
    return 0;
}

void pci_host_destroy(struct pci_host *h)
{
    if (!h)
        return;
    pci_unregister(&h->dev);
    free(h);
}

/* An access at 0xCFC + @reg of @len bytes. */
static void pci_host_data(struct pci_host *h, uint32_t reg, void *data,
                          uint32_t len, bool is_write)
{
    uint32_t addr = __atomic_load_n(&h->config_address, __ATOMIC_ACQUIRE);
    uint16_t bdf = (uint16_t)(addr >> 8);
    uint32_t off = (addr & 0xFC) + reg;

    if (!(addr & CF8_ENABLE) || (len != 1 && len != 2 && len != 4) ||
        (reg & (len - 1))) {
        if (!is_write)
            memset(data, 0xFF, len);
        return;
    }
    if (is_write)
        pci_cfg_write(h->bus, bdf, off, data, len);
    else
        pci_cfg_read(h->bus, bdf, off, data, len);
}

static void pci_host_pio_read(void *opaque, uint64_t offset, void *data,
                              uint32_t len)
{
    struct pci_host *h = opaque;
    uint32_t v;

    if (offset >= CFC_OFFSET) {
        pci_host_data(h, (uint32_t)offset - CFC_OFFSET, data, len, false);
    } else if (offset == 0 && len == 4) {
        v = __atomic_load_n(&h->config_address, __ATOMIC_ACQUIRE);
        memcpy(data, &v, 4);
    } else if (offset == CF9_OFFSET && len == 1 && h->cf9_ops) {
        h->cf9_ops->read(h->cf9_opaque, 0, data, 1);
    } else {
        memset(data, 0xFF, len);
    }
}

static void pci_host_pio_write(void *opaque, uint64_t offset,
                               const void *data, uint32_t len)
{
    struct pci_host *h = opaque;
    uint32_t v;

    if (offset >= CFC_OFFSET) {
        pci_host_data(h, (uint32_t)offset - CFC_OFFSET, (void *)data, len,
                      true);
    } else if (offset == 0 && len == 4) {
        memcpy(&v, data, 4);
        __atomic_store_n(&h->config_address, v & CF8_WRITABLE,
                         __ATOMIC_RELEASE);
    } else if (offset == CF9_OFFSET && len == 1 && h->cf9_ops) {
        h->cf9_ops->write(h->cf9_opaque, 0, data, 1);
    }
}

const struct bus_ops pci_host_pio_ops = {
    .read = pci_host_pio_read,
    .write = pci_host_pio_write,
};

static void pci_host_ecam(struct pci_host *h, uint64_t offset, void *data,
                          uint32_t len, bool is_write)
{
    uint16_t bdf = (uint16_t)(offset >> 12);
    uint32_t reg = offset & 0xFFF;

    if (len == 8 && !(offset & 7)) {
        pci_host_ecam(h, offset, data, 4, is_write);
        pci_host_ecam(h, offset + 4, (uint8_t *)data + 4, 4, is_write);
        return;
    }
    if (offset >> 28) { /* beyond bus 255: not ECAM */
        if (!is_write)
            memset(data, 0xFF, len);
        return;
    }
    if (is_write)
        pci_cfg_write(h->bus, bdf, reg, data, len);
    else
        pci_cfg_read(h->bus, bdf, reg, data, len);
}

static void pci_host_ecam_read(void *opaque, uint64_t offset, void *data,
                               uint32_t len)
{
    pci_host_ecam(opaque, offset, data, len, false);
}

static void pci_host_ecam_write(void *opaque, uint64_t offset,
                                const void *data, uint32_t len)
{
    pci_host_ecam(opaque, offset, (void *)data, len, true);
}

const struct bus_ops pci_host_ecam_ops = {
    .read = pci_host_ecam_read,
    .write = pci_host_ecam_write,
};

static int pci_host_save(void *opaque, void *fdt, int node)
{
    struct pci_host *h = opaque;
    uint32_t v = __atomic_load_n(&h->config_address, __ATOMIC_ACQUIRE);
    int r = state_put_u32(fdt, node, "config-address", v);

    return r ? r : pci_dev_save(&h->dev, fdt, node);
}

static int pci_host_load(void *opaque, const void *fdt, int node)
{
    struct pci_host *h = opaque;
    uint32_t v;
    int r = state_get_u32(fdt, node, "config-address", &v);

    if (r < 0)
        return r;
    if (v & ~CF8_WRITABLE)
        return -EINVAL;
    r = pci_dev_load(&h->dev, fdt, node);
    if (r == 0)
        __atomic_store_n(&h->config_address, v, __ATOMIC_RELEASE);
    return r;
}

const struct state_ops pci_host_state_ops = {
    .save = pci_host_save,
    .load = pci_host_load,
};
