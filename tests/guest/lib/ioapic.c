/* SPDX-License-Identifier: BSD-3-Clause */
/* IOAPIC: index register at +0x00, data window at +0x10. */
#include "lib/ioapic.h"

#include "lib/io.h"

uint32_t ioapic_read(uint32_t reg)
{
    mmio_write32(IOAPIC_BASE, reg);
    return mmio_read32(IOAPIC_BASE + 0x10);
}

void ioapic_write(uint32_t reg, uint32_t v)
{
    mmio_write32(IOAPIC_BASE, reg);
    mmio_write32(IOAPIC_BASE + 0x10, v);
}

unsigned int ioapic_pins(void)
{
    return ((ioapic_read(IOAPIC_REG_VER) >> 16) & 0xFF) + 1;
}

void ioapic_route(unsigned int pin, uint8_t vector, unsigned int dest,
                  uint32_t flags)
{
    ioapic_write(IOAPIC_REDTBL + 2 * pin, IOAPIC_MASKED);
    ioapic_write(IOAPIC_REDTBL + 2 * pin + 1, dest << 24);
    ioapic_write(IOAPIC_REDTBL + 2 * pin, flags | vector);
}

void ioapic_mask(unsigned int pin)
{
    ioapic_write(IOAPIC_REDTBL + 2 * pin,
                 ioapic_read(IOAPIC_REDTBL + 2 * pin) | IOAPIC_MASKED);
}
