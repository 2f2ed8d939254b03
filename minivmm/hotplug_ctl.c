/* SPDX-License-Identifier: BSD-3-Clause */
/* Devices added and removed at run time (see hotplug_ctl.h). */
#include "minivmm/hotplug_ctl.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/platform.h"
#include "devices/hotplug.h"
#include "minivmm/config.h"
#include "minivmm/config_devices.h"
#include "minivmm/vfio_devs.h"
#include "minivmm/virtio_devs.h"
#include "vmm/bus.h"
#include "vmm/clock.h"
#include "vmm/evloop.h"
#include "vmm/log.h"

#define NSLOTS 32
#define RETRY_MS 100

struct pending {
    bool on;
    char id[CONFIG_ID_MAX];
    uint64_t deadline_ms;
    unsigned int timeout_ms;
};

struct hpctl {
    struct hpctl_env env;
    struct vmctl *ctl;
    struct hotplug *hp;
    bool registered;
    int efd;                    /* the guest ejected a slot */
    int tfd;                    /* removal deadlines, deferred ejects */
    bool efd_watched, tfd_watched;
    struct pending pend[NSLOTS];
    uint32_t deferred;          /* ejects waiting for the vCPUs */
};

/* {"event": @name, "id": @id, "slot": @slot} (+ "type" / "error"). */
static void send_event(struct hpctl *h, const char *name, const char *id,
                       unsigned int slot, const char *key, const char *val)
{
    struct json_object *ev = json_object_new_object();

    json_object_object_add(ev, "event", json_object_new_string(name));
    json_object_object_add(ev, "id", json_object_new_string(id));
    json_object_object_add(ev, "slot", json_object_new_int((int)slot));
    if (key)
        json_object_object_add(ev, key, json_object_new_string(val));
    vmctl_event(h->ctl, ev);
    json_object_put(ev);
}

/* Arm the timer at the earliest deadline (or RETRY_MS for deferred
 * ejects); disarm when nothing waits. */
static void arm_timer(struct hpctl *h)
{
    uint64_t next = h->deferred ? clock_now_ms() + RETRY_MS : 0, now = clock_now_ms();
    struct itimerspec its = { { 0, 0 }, { 0, 0 } };

    for (unsigned int s = 0; s < NSLOTS; s++)
        if (h->pend[s].on && (!next || h->pend[s].deadline_ms < next))
            next = h->pend[s].deadline_ms;
    if (next) {
        uint64_t in = next > now ? next - now : 1;

        its.it_value.tv_sec = (time_t)(in / 1000);
        its.it_value.tv_nsec = (long)(in % 1000) * 1000000;
    }
    timerfd_settime(h->tfd, 0, &its, NULL);
}

/* The disk or vfio-user entry of the configuration in @slot: its index
 * in cfg->disks (*@disk true) or cfg->vfio; -ENOENT. */
static int cfg_at_slot(const struct vm_config *cfg, unsigned int slot,
                       bool *disk)
{
    for (unsigned int i = 0; i < cfg->ndisks; i++)
        if (cfg->disks[i].slot == slot)
            return *disk = true, (int)i;
    for (unsigned int i = 0; i < cfg->nvfio; i++)
        if (cfg->vfio[i].slot == slot)
            return *disk = false, (int)i;
    return -ENOENT;
}

static void cfg_drop(struct vm_config *cfg, bool disk, unsigned int i)
{
    if (disk) {
        memmove(&cfg->disks[i], &cfg->disks[i + 1],
                (cfg->ndisks - i - 1) * sizeof(cfg->disks[0]));
        cfg->ndisks--;
    } else {
        memmove(&cfg->vfio[i], &cfg->vfio[i + 1],
                (cfg->nvfio - i - 1) * sizeof(cfg->vfio[0]));
        cfg->nvfio--;
    }
}

/* The guest released @slot: tear its device down with the vCPUs
 * stopped. -EBUSY: not now (snapshot/migration), retried later. */
static int remove_slot(struct hpctl *h, unsigned int slot)
{
    struct vm_config *cfg = h->env.cfg;
    char id[CONFIG_ID_MAX];
    bool disk;
    int i = cfg_at_slot(cfg, slot, &disk), held;

    if (i < 0) {
        log_warn("minivmm: the guest ejected PCI slot %u, which holds no "
                 "removable device\n", slot);
        return 0;
    }
    if (!h->ctl)
        return -EBUSY;
    held = vmctl_vcpus_hold(h->ctl);
    if (held < 0)
        return held == -EBUSY ? -EBUSY : 0;
    snprintf(id, sizeof(id), "%s", disk ? cfg->disks[i].id
                                        : cfg->vfio[i].id);
    if (disk)
        virtio_devs_remove_disk(h->env.virtio, id);
    else
        vfio_devs_remove(h->env.vfio, id);
    cfg_drop(cfg, disk, (unsigned int)i);
    vmctl_vcpus_release(h->ctl, held);
    h->pend[slot].on = false;
    log_info("minivmm: device %s removed from PCI slot %u\n", id, slot);
    send_event(h, "device-removed", id, slot, NULL, NULL);
    return 0;
}

static void process_ejects(struct hpctl *h, uint32_t mask)
{
    for (unsigned int s = 1; s < NSLOTS; s++) {
        if (!(mask & (1u << s)))
            continue;
        if (remove_slot(h, s) == -EBUSY)
            h->deferred |= 1u << s;
    }
}

static void on_eject(void *opaque, int fd, uint32_t events)
{
    struct hpctl *h = opaque;
    uint64_t v;

    (void)events;
    if (read(fd, &v, sizeof(v)) < 0) {
        /* EAGAIN: the mask below is what counts */
    }
    process_ejects(h, hotplug_take_ejects(h->hp));
    arm_timer(h);
}

static void on_timer(void *opaque, int fd, uint32_t events)
{
    struct hpctl *h = opaque;
    uint64_t v, now = clock_now_ms();
    uint32_t again = h->deferred;
    char why[96];

    (void)events;
    if (read(fd, &v, sizeof(v)) < 0) {
        /* spurious */
    }
    h->deferred = 0;
    process_ejects(h, again);
    for (unsigned int s = 1; s < NSLOTS; s++) {
        struct pending *p = &h->pend[s];

        if (!p->on || p->deadline_ms > now)
            continue;
        p->on = false;
        snprintf(why, sizeof(why), "the guest did not release it within "
                 "%u ms; the device stays", p->timeout_ms);
        log_warn("minivmm: removing device %s: %s\n", p->id, why);
        send_event(h, "device-remove-failed", p->id, s, "error", why);
    }
    arm_timer(h);
}

static void eject_cb(void *opaque)
{
    struct hpctl *h = opaque;
    uint64_t one = 1;

    if (write(h->efd, &one, sizeof(one)) < 0) {
        /* the counter cannot overflow */
    }
}

/* Whether a disk or vfio-user device @id exists; its slot in *@slot. */
static bool find_dev(const struct hpctl *h, const char *id,
                     unsigned int *slot)
{
    return virtio_devs_find_disk(h->env.virtio, id, slot) == 0 ||
           vfio_devs_find(h->env.vfio, id, slot) == 0;
}

/* "id=" given in @args (a device added at run time needs a name). */
static bool has_id(const char *args)
{
    return !strncmp(args, "id=", 3) || strstr(args, ",id=");
}

/* Parse @args into the configuration and create the device; its slot in
 * *@slot and its id in @id. */
static int add_dev(struct hpctl *h, bool disk, const char *args,
                   unsigned int *slot, char id[CONFIG_ID_MAX], char *err,
                   size_t errlen)
{
    struct vm_config *cfg = h->env.cfg;
    int r;

    if (disk) {
        r = config_add_disk(args, cfg, err, errlen);
        if (r < 0)
            return r;
        snprintf(id, CONFIG_ID_MAX, "%s", cfg->disks[cfg->ndisks - 1].id);
        r = find_dev(h, id, slot) ? -EEXIST :
            virtio_devs_add_disk(h->env.virtio, &cfg->disks[cfg->ndisks - 1],
                                 slot, err, errlen);
        if (r == 0)
            cfg->disks[cfg->ndisks - 1].slot = *slot;
        else
            cfg->ndisks--;
    } else {
        r = config_add_vfio(args, cfg, err, errlen);
        if (r < 0)
            return r;
        snprintf(id, CONFIG_ID_MAX, "%s", cfg->vfio[cfg->nvfio - 1].id);
        r = find_dev(h, id, slot) ? -EEXIST :
            vfio_devs_add(h->env.vfio, &cfg->vfio[cfg->nvfio - 1], slot,
                          err, errlen);
        if (r == 0)
            cfg->vfio[cfg->nvfio - 1].slot = *slot;
        else
            cfg->nvfio--;
    }
    if (r == -EEXIST)
        snprintf(err, errlen, "a device with id '%s' exists", id);
    return r;
}

/* --viommu intel: no device is outside the unit (docs/viommu.md). */
static bool vtd_on(const struct hpctl *h)
{
    return h->env.cfg->viommu.on &&
           h->env.cfg->viommu.model == CONFIG_VIOMMU_INTEL;
}

static int hp_add(void *opaque, const char *type, const char *args,
                  struct json_object *reply, char *err, size_t errlen)
{
    struct hpctl *h = opaque;
    bool disk = !strcmp(type, "disk");
    char id[CONFIG_ID_MAX];
    unsigned int slot = 0;
    int r;

    if (!disk && strcmp(type, "vfio-user")) {
        snprintf(err, errlen, "device-add: type '%s' cannot be added (disk, "
                 "vfio-user)", type);
        return -EINVAL;
    }
    if (!has_id(args)) {
        snprintf(err, errlen, "device-add: \"id\" is required");
        return -EINVAL;
    }
    if (vtd_on(h)) {
        snprintf(err, errlen, "device-add: not with --viommu intel: its "
                 "DMAR puts every PCI device behind the VT-d unit "
                 "(INCLUDE_PCI_ALL), and a device added while the VM runs "
                 "cannot become one of its endpoints");
        return -EOPNOTSUPP;
    }
    r = add_dev(h, disk, args, &slot, id, err, errlen);
    if (r < 0)
        return r;
    hotplug_notify_added(h->hp, slot);
    log_info("minivmm: device %s (%s) added at PCI slot %u\n", id, type,
             slot);
    json_object_object_add(reply, "slot", json_object_new_int((int)slot));
    send_event(h, "device-added", id, slot, "type", type);
    return 0;
}

static int hp_remove(void *opaque, const char *id, unsigned int timeout_ms,
                     char *err, size_t errlen)
{
    struct hpctl *h = opaque;
    unsigned int slot;
    struct pending *p;

    if (!find_dev(h, id, &slot) || slot == 0 || slot >= NSLOTS) {
        snprintf(err, errlen, "no removable device '%s' (disk, vfio-user)",
                 id);
        return -ENOENT;
    }
    if (vfio_devs_attached(h->env.vfio, id) ||
        virtio_devs_attached(h->env.virtio, id)) {
        snprintf(err, errlen, "%s is an endpoint of the vIOMMU (--viommu), "
                 "which cannot be detached%s", id, vtd_on(h) ? " (with "
                 "--viommu intel every PCI device is one)" : ": give it "
                 "iommu=off to make it removable");
        return -EBUSY;
    }
    p = &h->pend[slot];
    if (p->on) {
        snprintf(err, errlen, "removal of %s already requested", id);
        return -EBUSY;
    }
    *p = (struct pending){ .on = true,
                           .timeout_ms = timeout_ms ? timeout_ms
                                                    : HPCTL_EJECT_TIMEOUT_MS };
    snprintf(p->id, sizeof(p->id), "%s", id);
    p->deadline_ms = clock_now_ms() + p->timeout_ms;
    arm_timer(h);
    hotplug_request_eject(h->hp, slot);
    return 0;
}

static void hp_powerdown(void *opaque)
{
    struct hpctl *h = opaque;

    hotplug_power_button(h->hp);
}

const struct vmctl_hotplug_ops hpctl_ops = {
    .add = hp_add,
    .remove = hp_remove,
    .powerdown = hp_powerdown,
};

/* Slots of the devices built from the command line: present, and
 * recorded in the configuration. */
static void mark_cold(struct hpctl *h)
{
    struct vm_config *cfg = h->env.cfg;
    unsigned int slot;

    for (unsigned int i = 0; i < cfg->ndisks; i++)
        if (virtio_devs_find_disk(h->env.virtio, cfg->disks[i].id,
                                  &slot) == 0)
            cfg->disks[i].slot = slot;
    for (unsigned int i = 0; i < cfg->nvfio; i++)
        if (vfio_devs_find(h->env.vfio, cfg->vfio[i].id, &slot) == 0)
            cfg->vfio[i].slot = slot;
    for (unsigned int i = 0; i < cfg->ndisks; i++)
        hotplug_set_present(h->hp, cfg->disks[i].slot, true);
    for (unsigned int i = 0; i < cfg->nvfio; i++)
        hotplug_set_present(h->hp, cfg->vfio[i].slot, true);
}

static int setup(struct hpctl *h)
{
    struct hotplug_config hc = { .irq = h->env.irq, .gsi = X86_GED_GSI,
                                 .eject = eject_cb, .opaque = h };
    int r = hotplug_create(&hc, &h->hp);

    if (r < 0)
        return r;
    h->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    h->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (h->efd < 0 || h->tfd < 0)
        return -errno;
    r = evloop_add(h->env.loop, h->efd, EPOLLIN, on_eject, h);
    h->efd_watched = r == 0;
    if (r == 0)
        r = evloop_add(h->env.loop, h->tfd, EPOLLIN, on_timer, h);
    h->tfd_watched = r == 0;
    if (r == 0)
        r = bus_register(h->env.pio, X86_HOTPLUG_PORT, HOTPLUG_LEN,
                         &hotplug_bus_ops, h->hp);
    h->registered = r == 0;
    return r;
}

int hpctl_create(const struct hpctl_env *env, struct hpctl **out,
                 char *err, size_t errlen)
{
    struct hpctl *h = calloc(1, sizeof(*h));
    int r;

    if (!h)
        return -ENOMEM;
    h->env = *env;
    h->efd = h->tfd = -1;
    r = setup(h);
    if (r < 0) {
        snprintf(err, errlen, "PCI hotplug registers: %s", strerror(-r));
        hpctl_destroy(h);
        return r;
    }
    mark_cold(h);
    *out = h;
    return 0;
}

void hpctl_set_ctl(struct hpctl *h, struct vmctl *ctl)
{
    if (h)
        h->ctl = ctl;
}

void hpctl_destroy(struct hpctl *h)
{
    if (!h)
        return;
    if (h->registered)
        bus_unregister(h->env.pio, X86_HOTPLUG_PORT);
    if (h->efd_watched)
        evloop_del(h->env.loop, h->efd);
    if (h->tfd_watched)
        evloop_del(h->env.loop, h->tfd);
    if (h->efd >= 0)
        close(h->efd);
    if (h->tfd >= 0)
        close(h->tfd);
    hotplug_destroy(h->hp);
    free(h);
}
