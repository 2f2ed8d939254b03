/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI hotplug and GED registers (see hotplug.h). */
#include "devices/hotplug.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_MASK 0xFFFFFFFEu /* slots 1..31 */

struct hotplug {
    struct hotplug_config cfg;
    pthread_mutex_t lock;
    uint32_t pciu, pcid, pres, ged, ejects;
    bool line;                  /* the GSI's level as last driven */
};

int hotplug_create(const struct hotplug_config *cfg, struct hotplug **out)
{
    struct hotplug *hp = calloc(1, sizeof(*hp));

    if (!hp)
        return -ENOMEM;
    hp->cfg = *cfg;
    pthread_mutex_init(&hp->lock, NULL);
    *out = hp;
    return 0;
}

void hotplug_destroy(struct hotplug *hp)
{
    if (!hp)
        return;
    pthread_mutex_destroy(&hp->lock);
    free(hp);
}

/* The GED's line follows its event register: asserted while an event is
 * pending (level-triggered: an event raised while the guest's handler
 * runs with the line masked is not lost). Lock held. */
static void update_line(struct hotplug *hp)
{
    bool want = hp->ged != 0;

    if (want == hp->line || !hp->cfg.irq.ops)
        return;
    hp->line = want;
    irq_set_level(&hp->cfg.irq, hp->cfg.gsi, want);
}

static uint32_t slot_bit(unsigned int slot)
{
    return slot >= 1 && slot <= 31 ? 1u << slot : 0;
}

void hotplug_set_present(struct hotplug *hp, unsigned int slot, bool on)
{
    pthread_mutex_lock(&hp->lock);
    hp->pres = on ? hp->pres | slot_bit(slot) : hp->pres & ~slot_bit(slot);
    pthread_mutex_unlock(&hp->lock);
}

void hotplug_notify_added(struct hotplug *hp, unsigned int slot)
{
    pthread_mutex_lock(&hp->lock);
    hp->pres |= slot_bit(slot);
    hp->pciu |= slot_bit(slot);
    hp->pcid &= ~slot_bit(slot);
    hp->ged |= HOTPLUG_GED_PCI;
    update_line(hp);
    pthread_mutex_unlock(&hp->lock);
}

void hotplug_request_eject(struct hotplug *hp, unsigned int slot)
{
    pthread_mutex_lock(&hp->lock);
    hp->pcid |= slot_bit(slot);
    hp->pciu &= ~slot_bit(slot);
    hp->ged |= HOTPLUG_GED_PCI;
    update_line(hp);
    pthread_mutex_unlock(&hp->lock);
}

uint32_t hotplug_take_ejects(struct hotplug *hp)
{
    uint32_t v;

    pthread_mutex_lock(&hp->lock);
    v = hp->ejects;
    hp->ejects = 0;
    hp->pres &= ~v;
    pthread_mutex_unlock(&hp->lock);
    return v;
}

void hotplug_power_button(struct hotplug *hp)
{
    pthread_mutex_lock(&hp->lock);
    hp->ged |= HOTPLUG_GED_POWER;
    update_line(hp);
    pthread_mutex_unlock(&hp->lock);
}

/* The register at @reg (a multiple of 4); read-clear ones are cleared. */
static uint32_t reg_read(struct hotplug *hp, uint64_t reg)
{
    uint32_t v = 0;

    switch (reg) {
    case HOTPLUG_REG_PCIU:
        v = hp->pciu;
        hp->pciu = 0;
        break;
    case HOTPLUG_REG_PCID:
        v = hp->pcid;
        hp->pcid = 0;
        break;
    case HOTPLUG_REG_PRES:
        v = hp->pres;
        break;
    case HOTPLUG_REG_GED:
        v = hp->ged;
        hp->ged = 0;
        update_line(hp);
        break;
    default: /* B0EJ is write-only */
        break;
    }
    return v;
}

static void hp_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
    struct hotplug *hp = opaque;
    uint32_t v;

    if (off >= HOTPLUG_LEN || len > 4 || (off & 3) + len > 4) {
        memset(data, 0xFF, len);
        return;
    }
    pthread_mutex_lock(&hp->lock);
    v = reg_read(hp, off & ~3ull);
    pthread_mutex_unlock(&hp->lock);
    v >>= 8 * (off & 3);
    memcpy(data, &v, len);
}

static void hp_write(void *opaque, uint64_t off, const void *data,
                     uint32_t len)
{
    struct hotplug *hp = opaque;
    uint32_t v = 0;
    bool eject;

    if ((off & ~3ull) != HOTPLUG_REG_B0EJ || len > 4 || (off & 3) + len > 4)
        return;
    memcpy(&v, data, len);
    v = (v << 8 * (off & 3)) & SLOT_MASK;
    pthread_mutex_lock(&hp->lock);
    eject = v & hp->pres;
    hp->ejects |= v & hp->pres;
    pthread_mutex_unlock(&hp->lock);
    if (eject && hp->cfg.eject)
        hp->cfg.eject(hp->cfg.opaque);
}

const struct bus_ops hotplug_bus_ops = {
    .read = hp_read,
    .write = hp_write,
};
