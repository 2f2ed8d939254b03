/* SPDX-License-Identifier: BSD-3-Clause */
/* The one PCI configuration-space model of a type 0 function: a pure
 * register file (no bus, no locking, no I/O), used by the VMM's PCI core
 * (devices/pci.c, which adds BAR mapping and INTx around it) and by
 * vfu-blk (tools/vfu-blk/regions.c, config space served over vfio-user).
 *
 * The image is up to 4 KiB of config space plus, per byte, a write mask
 * (bits the guest may change) and a write-1-to-clear mask, following
 * QEMU's hw/pci/pci.c. pcfg_init() sets the header (PCI Local Bus 3.0
 * §6.1-6.2): Command (I/O, Memory, Bus Master, Parity, SERR, INTx Disable
 * writable), Status (error bits W1C, Capabilities List), Cache Line Size,
 * Latency Timer and Interrupt Line writable, everything else read-only
 * until a device opens it with pcfg_set_wmask().
 *
 * BARs (§6.2.5): pcfg_set_bar() declares a BAR's type and size; sizing
 * (write all-ones, read back ~(size - 1) | flags) then works through the
 * write mask. pcfg_bar_decoded() says whether and where a BAR decodes: its
 * space enabled in Command (and, for the Expansion ROM, its enable bit),
 * its address non-zero and fitting the space with room to spare (the
 * all-ones sizing pattern and the top slot of the 32-bit memory space
 * never decode; an I/O BAR decodes anywhere inside the 64 KiB port space).
 *
 * Capabilities (§6.7; PCIe Base 4.0 §7.6): appended from 0x40 (and 0x100
 * for extended ones), dword aligned; walks are bounded so a malformed list
 * (e.g. copied from a remote server) cannot loop. pcfg_add_msix() adds the
 * MSI-X capability (§6.8.2) with Enable and Function Mask writable; the
 * table and PBA themselves are devices/msix.c.
 *
 * Offsets are bytes into config space; values cross the API as host
 * integers (the low @len bytes significant); the image is little-endian.
 */
#ifndef MINIVMM_PCI_CFG_H
#define MINIVMM_PCI_CFG_H

#include <linux/pci_regs.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/endian.h"

#define PCI_ROM_BAR      PCI_STD_NUM_BARS /* bar index of the ROM */
#define PCI_NR_BAR_SLOTS (PCI_STD_NUM_BARS + 1)
#define PCI_CAP_FIRST    0x40  /* first byte after the type 0 header */

/* pcfg_set_bar() types, optionally | PCI_BAR_PREFETCH (memory only). */
#define PCI_BAR_NONE     0
#define PCI_BAR_IO       1
#define PCI_BAR_MEM32    2
#define PCI_BAR_MEM64    3 /* uses index and index + 1 */
#define PCI_BAR_ROM      4 /* only at PCI_ROM_BAR */
#define PCI_BAR_TYPE     0xFF
#define PCI_BAR_PREFETCH 0x100

/* What a pcfg_write() touched (bits of its return value). */
#define PCFG_CHG_DECODE 0x1u /* Command, a BAR or the ROM BAR: re-decode */
#define PCFG_CHG_INTX   0x2u /* Command.INTx Disable flipped */
#define PCFG_CHG_MSIX   0x4u /* MSI-X Message Control (pcfg_add_msix) */

struct pci_dev_info {
    uint16_t vendor_id;
    uint16_t device_id;
    uint16_t subsys_vendor_id;
    uint16_t subsys_id;
    uint32_t class_code;    /* base << 16 | sub-class << 8 | prog-if */
    uint8_t revision;
    uint8_t irq_pin;        /* 0: none, 1..4: INTA..INTD */
    bool ext_cfg;           /* 4 KiB (PCIe) config space, else 256 bytes */
};

struct pcfg_bar {
    unsigned int type;      /* PCI_BAR_*; MEM64 high half: NONE */
    uint64_t size;          /* bytes, a power of two */
};

struct pcfg {
    uint8_t cfg[PCI_CFG_SPACE_EXP_SIZE];     /* the image */
    uint8_t wmask[PCI_CFG_SPACE_EXP_SIZE];   /* guest-writable bits */
    uint8_t w1cmask[PCI_CFG_SPACE_EXP_SIZE]; /* write-1-to-clear bits */
    uint32_t size;                           /* 256 or 4096 */
    struct pcfg_bar bar[PCI_NR_BAR_SLOTS];
    uint16_t cap_end;                        /* next free capability byte */
    uint16_t ext_cap_end;
    uint16_t msix_cap;                       /* 0: none added */
};

/* Little-endian accessors of the image (@off + @len <= 4096, @len 1-4). */
static inline uint32_t pcfg_get(const struct pcfg *c, uint32_t off,
                                uint32_t len)
{
    return (uint32_t)le_load(c->cfg + off, len);
}

static inline void pcfg_set(struct pcfg *c, uint32_t off, uint32_t len,
                            uint32_t v)
{
    le_store(c->cfg + off, len, v);
}

/* Set the guest-writable bits of the @len (1-4) bytes at @off. */
static inline void pcfg_set_wmask(struct pcfg *c, uint32_t off, uint32_t len,
                                  uint32_t mask)
{
    le_store(c->wmask + off, len, mask);
}

/* Whether [@off, @off + @len) overlaps [@start, @start + @size). */
static inline bool pcfg_overlaps(uint32_t off, uint32_t len, uint32_t start,
                                 uint32_t size)
{
    return off < start + size && start < off + len;
}

/* Config offset of BAR @idx (0-5, PCI_ROM_BAR). */
static inline uint32_t pcfg_bar_reg(unsigned int idx)
{
    return idx == PCI_ROM_BAR ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * idx;
}

/* Header from @info, masks; no BARs, no capabilities. 0 or -EINVAL (pin
 * above 4). */
int pcfg_init(struct pcfg *c, const struct pci_dev_info *info);

/* Whether an access of @len bytes at @off is one the model takes: 1, 2 or
 * 4 bytes, naturally aligned, inside the function's config space. */
bool pcfg_access_ok(const struct pcfg *c, uint32_t off, uint32_t len);

/* The @len (1-4) bytes at @off as the guest reads them (the image). */
uint32_t pcfg_read(const struct pcfg *c, uint32_t off, uint32_t len);

/* A guest write of the low @len (1-4) bytes of @val at @off: writable bits
 * take the new value, W1C bits written 1 clear. Returns PCFG_CHG_* bits
 * for what the owner must act on. */
unsigned int pcfg_write(struct pcfg *c, uint32_t off, uint32_t len,
                        uint32_t val);

/* Reset (§6.2.2): Command 0, error Status bits clear, BAR and ROM
 * addresses 0, MSI-X Enable and Function Mask clear. */
void pcfg_reset(struct pcfg *c);

/* Declare BAR @idx (0-5, or PCI_ROM_BAR with PCI_BAR_ROM) of @size bytes,
 * a power of two (I/O: 4 B..64 KiB; MEM32, ROM: 16 B / 2 KiB..2 GiB;
 * MEM64: 16 B..2^63). 0, -EINVAL (bad type/size/index), -EBUSY (taken,
 * also by a 64-bit neighbour). */
int pcfg_set_bar(struct pcfg *c, unsigned int idx, unsigned int type,
                 uint64_t size);

/* Whether BAR @idx decodes now; if so *@addr gets its bus address. */
bool pcfg_bar_decoded(const struct pcfg *c, unsigned int idx,
                      uint64_t *addr);

/* Append a capability of @size bytes (>= 2, header included) with @id.
 * Returns its offset, or -ENOSPC / -EINVAL. Its body is zero and
 * read-only until set. */
int pcfg_add_cap(struct pcfg *c, uint8_t id, uint8_t size);
/* Offset of the first capability @id, or -ENOENT. */
int pcfg_find_cap(const struct pcfg *c, uint8_t id);
/* Same for PCIe extended capabilities (from 0x100; needs ext_cfg). */
int pcfg_add_ext_cap(struct pcfg *c, uint16_t id, uint8_t version,
                     uint16_t size);
int pcfg_find_ext_cap(const struct pcfg *c, uint16_t id);

/* Append the MSI-X capability (§6.8.2): @nvec vectors (1-2048), table at
 * @table_off of BAR @table_bar, PBA at @pba_off of BAR @pba_bar (offsets
 * 8-byte aligned). Enable and Function Mask are writable, Table Size and
 * the BIR/offset registers read-only. Returns its offset or -errno. */
int pcfg_add_msix(struct pcfg *c, unsigned int nvec, unsigned int table_bar,
                  uint32_t table_off, unsigned int pba_bar, uint32_t pba_off);
/* MSI-X Message Control of that capability (0 without one). */
uint16_t pcfg_msix_control(const struct pcfg *c);

/* Whether @img (a config image of c->size bytes, e.g. from a snapshot)
 * describes the same device: IDs, revision, class, header type, subsystem
 * IDs, interrupt pin. */
bool pcfg_same_identity(const struct pcfg *c, const uint8_t *img);
/* Take @img into the image, keeping the BAR type bits (read-only bits of
 * the BAR registers) and dropping Status.Interrupt Status (the owner
 * keeps it outside the image). */
void pcfg_take_image(struct pcfg *c, const uint8_t *img);

#endif
