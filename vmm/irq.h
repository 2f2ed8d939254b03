/* SPDX-License-Identifier: BSD-3-Clause */
/* Interrupt lines as devices see them: a GSI and a way to drive it. The
 * implementation (KVM_IRQ_LINE, an irqfd, a test fake) is passed in, so
 * devices/ needs no KVM headers. */
#ifndef MINIVMM_IRQ_H
#define MINIVMM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct irq_ops {
    /* Drive @gsi to @level (true = asserted). 0 or -errno. */
    int (*set_level)(void *opaque, uint32_t gsi, bool level);
};

struct irq_chip {
    const struct irq_ops *ops;
    void *opaque;
};

static inline int irq_set_level(const struct irq_chip *chip, uint32_t gsi,
                                bool level)
{
    return chip->ops->set_level(chip->opaque, gsi, level);
}

#endif
