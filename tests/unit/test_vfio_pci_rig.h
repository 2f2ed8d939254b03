/* SPDX-License-Identifier: BSD-3-Clause */
/* The rig of the vfio-user PCI unit tests (test_vfio_pci.c,
 * test_vfio_state.c, test_vfio_crash.c): a vfio-user PCI device on a PCI
 * bus over MMIO/PIO buses, connected to the socketpair fake server
 * (test_vfio_client_fake.h), with a fake hypervisor (vmm/hv.h ops) that
 * only counts memslots, ioeventfds, MSI routes and irqfds and remembers
 * the last ioeventfd address and irqfd, so a test can assert what the
 * device registered and that it all went away. Included by one test file
 * each. */
#ifndef TEST_VFIO_PCI_RIG_H
#define TEST_VFIO_PCI_RIG_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "devices/pci.h"
#include "vfio/pci/pci_dev.h"
#include "vmm/bus.h"
#include "vmm/hv.h"
#include "test_vfio_client_fake.h"

struct fake_hv {
    int ioev, ioev_pio, memslots, routes, irqfds;
    uint64_t last_ioev_addr;
    int last_irqfd;
};

static inline int h_msi_add(void *o, uint64_t a, uint32_t d, uint32_t *gsi)
{
    struct fake_hv *h = o;

    (void)a, (void)d;
    *gsi = 24 + (uint32_t)h->routes++;
    return 0;
}

static inline int h_msi_update(void *o, uint32_t gsi, uint64_t a, uint32_t d)
{
    (void)o, (void)gsi, (void)a, (void)d;
    return 0;
}

static inline int h_msi_del(void *o, uint32_t gsi)
{
    (void)gsi;
    ((struct fake_hv *)o)->routes--;
    return 0;
}

static inline int h_irqfd(void *o, int fd, uint32_t gsi, int rfd,
                          bool assign)
{
    struct fake_hv *h = o;

    (void)gsi, (void)rfd;
    h->irqfds += assign ? 1 : -1;
    h->last_irqfd = fd;
    return 0;
}

static inline int h_ioeventfd(void *o, int fd, uint64_t addr, uint32_t len,
                              bool pio, bool dm, uint64_t data, bool assign)
{
    struct fake_hv *h = o;

    (void)fd, (void)len, (void)dm, (void)data;
    h->ioev += assign ? 1 : -1;
    h->ioev_pio += pio;
    if (assign)
        h->last_ioev_addr = addr;
    return 0;
}

static inline int h_slot_add(void *o, uint64_t gpa, uint64_t size,
                             void *hva, bool ro, uint32_t *slot)
{
    (void)gpa, (void)size, (void)hva, (void)ro;
    *slot = (uint32_t)((struct fake_hv *)o)->memslots++;
    return 0;
}

static inline int h_slot_del(void *o, uint32_t slot)
{
    (void)slot;
    ((struct fake_hv *)o)->memslots--;
    return 0;
}

static const struct hv_ops fake_hv_ops = {
    h_msi_add, h_msi_update, h_msi_del, h_irqfd, h_ioeventfd, h_slot_add,
    h_slot_del, NULL,
};

/* Little-endian 32-bit store/load into test buffers. */
static inline void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static inline uint32_t get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

#define VFIO_RIG_IOFDS_LEN (16 + 40) /* one ioeventfd sub-region */

/* fake_init() @f as a virtio-pci-like device: BAR0 MSI-X (4 vectors, PBA
 * at 0x800), BAR2 64-bit @bar2 bytes with an ioeventfd at 0x3000 whose
 * GET_REGION_IO_FDS reply is built in @iofds (VFIO_RIG_IOFDS_LEN bytes,
 * the caller keeps them). */
static inline void vfio_rig_virtio_like(struct fake *f, uint64_t bar2,
                                        uint8_t *iofds)
{
    uint8_t *cfg = f->mem[VFIO_PCI_CONFIG_REGION_INDEX];
    struct vfio_user_region_io_fds_reply h = {VFIO_RIG_IOFDS_LEN, 0, 2, 1};
    struct vfio_user_sub_region_ioeventfd e = {
        0x3000, 0, 0, VFIO_USER_IO_FD_TYPE_IOEVENTFD, 0, 0, 0};

    fake_init(f);
    f->rsize[VFIO_PCI_CONFIG_REGION_INDEX] = 256;
    f->rsize[2] = bar2;
    f->rflags[2] = f->rflags[0];
    put32(cfg, 0x10421af4);
    put32(cfg + 8, 0x01800001);
    cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
    put32(cfg + PCI_BASE_ADDRESS_2, PCI_BASE_ADDRESS_MEM_TYPE_64);
    cfg[PCI_CAPABILITY_LIST] = 0x40;
    cfg[0x40] = PCI_CAP_ID_MSIX;
    cfg[0x42] = 3;
    put32(cfg + 0x48, 0x800);
    memcpy(iofds, &h, 16);
    memcpy(iofds + 16, &e, 40);
    f->iofds = iofds;
    f->iofds_len = VFIO_RIG_IOFDS_LEN;
    f->iofd_efd = eventfd(0, EFD_CLOEXEC);
}

/* The device and what it stands on. */
struct vfio_rig {
    struct fake_hv hv;
    struct bus *mmio, *pio;
    struct pci_bus *bus;
    struct vfio_pci *d;
};

/* Create the buses and device @o->name over fake server @f (started
 * here), guest RAM @mem (may be NULL): vfio_pci_create()'s result, with a
 * sentence in @err. */
static inline int vfio_rig_create(struct vfio_rig *v, struct fake *f,
                                  struct vfio_pci_opts *o,
                                  const struct guest_memory *mem, char *err,
                                  size_t errlen)
{
    struct pci_bus_config bc;
    struct vfio_pci_env env;

    assert_int_equal(bus_create("mmio", &v->mmio), 0);
    assert_int_equal(bus_create("pio", &v->pio), 0);
    bc = (struct pci_bus_config){.mmio = v->mmio, .pio = v->pio,
                                 .intx_gsi_base = 16};
    assert_int_equal(pci_bus_create(&bc, &v->bus), 0);
    env = (struct vfio_pci_env){.bus = v->bus,
                                .hv = {&fake_hv_ops, &v->hv}, .mem = mem};
    o->sock_fd = f->cfd;
    fake_start(f);
    return vfio_pci_create(&env, o, &v->d, err, errlen);
}

/* Destroy the device, stop @f, free the buses. */
static inline void vfio_rig_destroy(struct vfio_rig *v, struct fake *f)
{
    vfio_pci_destroy(v->d);
    fake_stop(f);
    pci_bus_destroy(v->bus);
    bus_destroy(v->mmio);
    bus_destroy(v->pio);
}

/* Config-space access of device @bdf through the PCI bus. */
static inline uint32_t vfio_rig_cfg_rd(struct vfio_rig *v, uint32_t bdf,
                                       uint32_t off, uint32_t len)
{
    uint32_t val = 0;

    pci_cfg_read(v->bus, bdf, off, &val, len);
    return val;
}

static inline void vfio_rig_cfg_wr(struct vfio_rig *v, uint32_t bdf,
                                   uint32_t off, uint32_t len, uint32_t val)
{
    pci_cfg_write(v->bus, bdf, off, &val, len);
}


#endif
