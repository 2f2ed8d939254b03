/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI configuration-space model (see pci_cfg.h). Header layout per PCI
 * Local Bus 3.0 §6.1-6.2, BARs §6.2.5.1-6.2.5.2, capabilities §6.7 and
 * PCIe Base 4.0 §7.6, MSI-X capability §6.8.2; the write-mask model
 * follows QEMU's hw/pci/pci.c. */
#include "devices/pci_cfg.h"

#include <errno.h>
#include <string.h>

/* Status bits the guest clears by writing 1 (§6.2.3). */
#define PCI_STATUS_W1C                                                        \
    (PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |                        \
     PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT |              \
     PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)
#define PCI_COMMAND_WMASK                                                     \
    (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |               \
     PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)
#define PCI_CAP_MAX_WALK 48      /* (256 - 64) / 4 */
#define PCI_EXT_CAP_MAX_WALK 960 /* (4096 - 256) / 4 */
#define MSIX_CAP_SIZE 12
#define MSIX_NVEC_MAX 2048

int pcfg_init(struct pcfg *c, const struct pci_dev_info *info)
{
    if (info->irq_pin > 4)
        return -EINVAL;
    memset(c, 0, sizeof(*c));
    c->size = info->ext_cfg ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE;
    pcfg_set(c, PCI_VENDOR_ID, 2, info->vendor_id);
    pcfg_set(c, PCI_DEVICE_ID, 2, info->device_id);
    pcfg_set(c, PCI_REVISION_ID, 1, info->revision);
    pcfg_set(c, PCI_CLASS_PROG, 3, info->class_code);
    pcfg_set(c, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL);
    pcfg_set(c, PCI_SUBSYSTEM_VENDOR_ID, 2, info->subsys_vendor_id);
    pcfg_set(c, PCI_SUBSYSTEM_ID, 2, info->subsys_id);
    pcfg_set(c, PCI_INTERRUPT_PIN, 1, info->irq_pin);
    pcfg_set_wmask(c, PCI_COMMAND, 2, PCI_COMMAND_WMASK);
    pcfg_set_wmask(c, PCI_CACHE_LINE_SIZE, 1, 0xFF);
    pcfg_set_wmask(c, PCI_LATENCY_TIMER, 1, 0xFF);
    pcfg_set_wmask(c, PCI_INTERRUPT_LINE, 1, 0xFF);
    le_store(c->w1cmask + PCI_STATUS, 2, PCI_STATUS_W1C);
    return 0;
}

bool pcfg_access_ok(const struct pcfg *c, uint32_t off, uint32_t len)
{
    return (len == 1 || len == 2 || len == 4) && !(off & (len - 1)) &&
           off < c->size && len <= c->size - off;
}

uint32_t pcfg_read(const struct pcfg *c, uint32_t off, uint32_t len)
{
    return pcfg_get(c, off, len);
}

unsigned int pcfg_write(struct pcfg *c, uint32_t off, uint32_t len,
                        uint32_t val)
{
    uint32_t old_cmd = pcfg_get(c, PCI_COMMAND, 2);
    unsigned int chg = 0;

    for (uint32_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint32_t o = off + i;

        c->cfg[o] = (c->cfg[o] & ~c->wmask[o]) | (b & c->wmask[o]);
        c->cfg[o] &= ~(b & c->w1cmask[o]);
    }
    if (pcfg_overlaps(off, len, PCI_COMMAND, 2) ||
        pcfg_overlaps(off, len, PCI_BASE_ADDRESS_0, 4 * PCI_STD_NUM_BARS) ||
        pcfg_overlaps(off, len, PCI_ROM_ADDRESS, 4))
        chg |= PCFG_CHG_DECODE;
    if ((old_cmd ^ pcfg_get(c, PCI_COMMAND, 2)) & PCI_COMMAND_INTX_DISABLE)
        chg |= PCFG_CHG_INTX;
    if (c->msix_cap &&
        pcfg_overlaps(off, len, c->msix_cap + PCI_MSIX_FLAGS, 2))
        chg |= PCFG_CHG_MSIX;
    return chg;
}

void pcfg_reset(struct pcfg *c)
{
    pcfg_set(c, PCI_COMMAND, 2, 0);
    pcfg_set(c, PCI_STATUS, 2, pcfg_get(c, PCI_STATUS, 2) & ~PCI_STATUS_W1C);
    for (unsigned int i = 0; i < PCI_NR_BAR_SLOTS; i++) {
        uint32_t reg = pcfg_bar_reg(i);

        for (uint32_t b = reg; b < reg + 4; b++)
            c->cfg[b] &= ~c->wmask[b];
    }
    if (c->msix_cap)
        pcfg_set(c, c->msix_cap + PCI_MSIX_FLAGS, 2,
                 pcfg_get(c, c->msix_cap + PCI_MSIX_FLAGS, 2) &
                     ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
}

/* --- BARs -------------------------------------------------------------- */

static bool pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* Size limits per type (§6.2.5.1: a 32-bit BAR is at most 2 GiB). */
static int bar_size_ok(unsigned int t, bool pf, uint64_t size)
{
    switch (t) {
    case PCI_BAR_IO:
        return !pf && size >= 4 && size <= 0x10000 ? 0 : -EINVAL;
    case PCI_BAR_MEM32:
        return size >= 16 && size <= (1ULL << 31) ? 0 : -EINVAL;
    case PCI_BAR_MEM64:
        return size >= 16 && size <= (1ULL << 63) ? 0 : -EINVAL;
    case PCI_BAR_ROM:
        return !pf && size >= 2048 && size <= (1ULL << 31) ? 0 : -EINVAL;
    default:
        return -EINVAL;
    }
}

static int bar_check(const struct pcfg *c, unsigned int idx,
                     unsigned int type, uint64_t size)
{
    unsigned int t = type & PCI_BAR_TYPE;

    if (idx >= PCI_NR_BAR_SLOTS || (idx == PCI_ROM_BAR) != (t == PCI_BAR_ROM))
        return -EINVAL;
    if (!pow2(size) || (type & ~(PCI_BAR_TYPE | PCI_BAR_PREFETCH)))
        return -EINVAL;
    if (c->bar[idx].type != PCI_BAR_NONE ||
        (idx > 0 && idx < PCI_ROM_BAR &&
         (c->bar[idx - 1].type & PCI_BAR_TYPE) == PCI_BAR_MEM64))
        return -EBUSY;
    if (t == PCI_BAR_MEM64 && idx + 1 >= PCI_STD_NUM_BARS)
        return -EINVAL;
    if (t == PCI_BAR_MEM64 && c->bar[idx + 1].type != PCI_BAR_NONE)
        return -EBUSY;
    return bar_size_ok(t, type & PCI_BAR_PREFETCH, size);
}

int pcfg_set_bar(struct pcfg *c, unsigned int idx, unsigned int type,
                 uint64_t size)
{
    uint32_t reg = pcfg_bar_reg(idx), flags = 0;
    uint64_t mask = ~(size - 1);
    int r = bar_check(c, idx, type, size);

    if (r < 0)
        return r;
    c->bar[idx] = (struct pcfg_bar){ .type = type, .size = size };
    if (type & PCI_BAR_PREFETCH)
        flags |= PCI_BASE_ADDRESS_MEM_PREFETCH;
    switch (type & PCI_BAR_TYPE) {
    case PCI_BAR_IO:
        pcfg_set(c, reg, 4, PCI_BASE_ADDRESS_SPACE_IO);
        pcfg_set_wmask(c, reg, 4, (uint32_t)mask & ~3u);
        break;
    case PCI_BAR_MEM32:
        pcfg_set(c, reg, 4, flags | PCI_BASE_ADDRESS_MEM_TYPE_32);
        pcfg_set_wmask(c, reg, 4, (uint32_t)mask & ~0xFu);
        break;
    case PCI_BAR_MEM64:
        pcfg_set(c, reg, 4, flags | PCI_BASE_ADDRESS_MEM_TYPE_64);
        pcfg_set_wmask(c, reg, 4, (uint32_t)mask & ~0xFu);
        pcfg_set(c, reg + 4, 4, 0);
        pcfg_set_wmask(c, reg + 4, 4, (uint32_t)(mask >> 32));
        break;
    default: /* ROM */
        pcfg_set(c, reg, 4, 0);
        pcfg_set_wmask(c, reg, 4,
                       ((uint32_t)mask & PCI_ROM_ADDRESS_MASK) |
                           PCI_ROM_ADDRESS_ENABLE);
        break;
    }
    return 0;
}

/* An I/O BAR decodes within the 64 KiB port space, the top slot included
 * (sizing leaves bits 31:16 set, so it cannot look like an address). */
static bool io_decoded(const struct pcfg *c, unsigned int idx, uint32_t cmd,
                       uint64_t *addr)
{
    uint64_t a = pcfg_get(c, pcfg_bar_reg(idx), 4) & PCI_BASE_ADDRESS_IO_MASK;

    if (!(cmd & PCI_COMMAND_IO) || a == 0 ||
        a + c->bar[idx].size > (1ULL << 16))
        return false;
    *addr = a;
    return true;
}

bool pcfg_bar_decoded(const struct pcfg *c, unsigned int idx, uint64_t *addr)
{
    const struct pcfg_bar *bar = &c->bar[idx];
    uint32_t cmd = pcfg_get(c, PCI_COMMAND, 2);
    uint32_t lo = pcfg_get(c, pcfg_bar_reg(idx), 4);
    uint64_t a, limit = 1ULL << 32; /* 0: 2^64 */

    switch (bar->type & PCI_BAR_TYPE) {
    case PCI_BAR_IO:
        return io_decoded(c, idx, cmd, addr);
    case PCI_BAR_MEM32:
    case PCI_BAR_MEM64:
        if (!(cmd & PCI_COMMAND_MEMORY))
            return false;
        a = lo & PCI_BASE_ADDRESS_MEM_MASK;
        if ((bar->type & PCI_BAR_TYPE) == PCI_BAR_MEM64) {
            a |= (uint64_t)pcfg_get(c, pcfg_bar_reg(idx) + 4, 4) << 32;
            limit = 0;
        }
        break;
    case PCI_BAR_ROM:
        if (!(cmd & PCI_COMMAND_MEMORY) || !(lo & PCI_ROM_ADDRESS_ENABLE))
            return false;
        a = lo & PCI_ROM_ADDRESS_MASK;
        break;
    default:
        return false;
    }
    /* Not 0, and ending strictly below the top of the space: that rules
     * out the all-ones sizing pattern. */
    if (a == 0 || a >= limit - bar->size)
        return false;
    *addr = a;
    return true;
}

/* --- capabilities -------------------------------------------------------- */

/* Offset of the "next" pointer to patch to append a capability. */
static uint32_t cap_tail(const struct pcfg *c)
{
    uint32_t link = PCI_CAPABILITY_LIST;
    uint8_t next = c->cfg[link] & ~3u;

    for (int n = 0; next >= PCI_CAP_FIRST && n < PCI_CAP_MAX_WALK; n++) {
        link = next + PCI_CAP_LIST_NEXT;
        next = c->cfg[link] & ~3u;
    }
    return link;
}

int pcfg_add_cap(struct pcfg *c, uint8_t id, uint8_t size)
{
    uint32_t off = c->cap_end ? c->cap_end : PCI_CAP_FIRST;

    if (size < 2)
        return -EINVAL;
    if (off + size > PCI_CFG_SPACE_SIZE)
        return -ENOSPC;
    c->cfg[cap_tail(c)] = (uint8_t)off;
    c->cfg[off + PCI_CAP_LIST_ID] = id;
    c->cfg[off + PCI_CAP_LIST_NEXT] = 0;
    pcfg_set(c, PCI_STATUS, 2,
             pcfg_get(c, PCI_STATUS, 2) | PCI_STATUS_CAP_LIST);
    c->cap_end = (uint16_t)((off + size + 3) & ~3u);
    return (int)off;
}

int pcfg_find_cap(const struct pcfg *c, uint8_t id)
{
    uint8_t off;

    if (!(pcfg_get(c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
        return -ENOENT;
    off = c->cfg[PCI_CAPABILITY_LIST] & ~3u;
    for (int n = 0; off >= PCI_CAP_FIRST && n < PCI_CAP_MAX_WALK; n++) {
        if (c->cfg[off + PCI_CAP_LIST_ID] == id)
            return off;
        off = c->cfg[off + PCI_CAP_LIST_NEXT] & ~3u;
    }
    return -ENOENT;
}

static uint32_t ext_cap_header(uint16_t id, uint8_t ver, uint32_t next)
{
    return id | ((uint32_t)(ver & 0xF) << 16) | (next << 20);
}

int pcfg_add_ext_cap(struct pcfg *c, uint16_t id, uint8_t version,
                     uint16_t size)
{
    uint32_t off = c->ext_cap_end ? c->ext_cap_end : PCI_CFG_SPACE_SIZE;
    uint32_t at = PCI_CFG_SPACE_SIZE, hdr;

    if (c->size != PCI_CFG_SPACE_EXP_SIZE || size < 4)
        return -EINVAL;
    if (off + size > PCI_CFG_SPACE_EXP_SIZE)
        return -ENOSPC;
    /* The first one lives at 0x100; later ones hang off the last. */
    if (off != PCI_CFG_SPACE_SIZE) {
        for (int n = 0; n < PCI_EXT_CAP_MAX_WALK; n++) {
            uint32_t next = PCI_EXT_CAP_NEXT(pcfg_get(c, at, 4));

            if (next < PCI_CFG_SPACE_SIZE)
                break;
            at = next;
        }
        hdr = pcfg_get(c, at, 4);
        pcfg_set(c, at, 4, (hdr & 0xFFFFF) | (off << 20));
    }
    pcfg_set(c, off, 4, ext_cap_header(id, version, 0));
    c->ext_cap_end = (uint16_t)((off + size + 3) & ~3u);
    return (int)off;
}

int pcfg_find_ext_cap(const struct pcfg *c, uint16_t id)
{
    uint32_t off = PCI_CFG_SPACE_SIZE;

    if (c->size != PCI_CFG_SPACE_EXP_SIZE)
        return -ENOENT;
    for (int n = 0; n < PCI_EXT_CAP_MAX_WALK; n++) {
        uint32_t hdr = pcfg_get(c, off, 4);

        if (hdr == 0 || hdr == 0xFFFFFFFF)
            return -ENOENT;
        if (PCI_EXT_CAP_ID(hdr) == id)
            return (int)off;
        off = PCI_EXT_CAP_NEXT(hdr);
        if (off < PCI_CFG_SPACE_SIZE)
            return -ENOENT;
    }
    return -ENOENT;
}

int pcfg_add_msix(struct pcfg *c, unsigned int nvec, unsigned int table_bar,
                  uint32_t table_off, unsigned int pba_bar, uint32_t pba_off)
{
    int at;

    if (nvec == 0 || nvec > MSIX_NVEC_MAX || table_bar >= PCI_STD_NUM_BARS ||
        pba_bar >= PCI_STD_NUM_BARS || (table_off & 7) || (pba_off & 7) ||
        c->msix_cap)
        return -EINVAL;
    at = pcfg_add_cap(c, PCI_CAP_ID_MSIX, MSIX_CAP_SIZE);
    if (at < 0)
        return at;
    pcfg_set(c, (uint32_t)at + PCI_MSIX_FLAGS, 2, nvec - 1);
    pcfg_set_wmask(c, (uint32_t)at + PCI_MSIX_FLAGS, 2,
                   PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    pcfg_set(c, (uint32_t)at + PCI_MSIX_TABLE, 4, table_off | table_bar);
    pcfg_set(c, (uint32_t)at + PCI_MSIX_PBA, 4, pba_off | pba_bar);
    c->msix_cap = (uint16_t)at;
    return at;
}

uint16_t pcfg_msix_control(const struct pcfg *c)
{
    return c->msix_cap ? (uint16_t)pcfg_get(c, c->msix_cap + PCI_MSIX_FLAGS,
                                            2)
                       : 0;
}

/* --- images (snapshots, migration) ---------------------------------------- */

bool pcfg_same_identity(const struct pcfg *c, const uint8_t *img)
{
    static const struct {
        uint8_t off, len;
    } ids[] = { { PCI_VENDOR_ID, 4 },       { PCI_REVISION_ID, 4 },
                { PCI_HEADER_TYPE, 1 },     { PCI_SUBSYSTEM_VENDOR_ID, 4 },
                { PCI_INTERRUPT_PIN, 1 } };

    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (memcmp(c->cfg + ids[i].off, img + ids[i].off, ids[i].len))
            return false;
    return true;
}

void pcfg_take_image(struct pcfg *c, const uint8_t *img)
{
    uint8_t old[4 * PCI_NR_BAR_SLOTS];

    for (unsigned int i = 0; i < PCI_NR_BAR_SLOTS; i++)
        memcpy(old + 4 * i, c->cfg + pcfg_bar_reg(i), 4);
    memcpy(c->cfg, img, c->size);
    for (unsigned int i = 0; i < PCI_NR_BAR_SLOTS; i++) {
        uint32_t reg = pcfg_bar_reg(i);

        for (uint32_t b = 0; b < 4; b++)
            c->cfg[reg + b] = (old[4 * i + b] & ~c->wmask[reg + b]) |
                              (img[reg + b] & c->wmask[reg + b]);
    }
    c->cfg[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
}
