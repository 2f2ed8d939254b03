/* SPDX-License-Identifier: BSD-3-Clause */
/* In-process virtio devices of the VM (see virtio_devs.h). */
#include "minivmm/virtio_devs.h"
#include "vmm/log.h"
#include "vmm/stats.h"

#include <errno.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>

#include "devices/pci.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/guest_mem.h"
#include "virtio/net.h"
#include "virtio/pci.h"
#include "virtio/pci_host.h"
#include "virtio/rng.h"
#include "virtio/iommu.h"
#include "virtio/iommu_proto.h"
#include "minivmm/viommu.h"
#include "minivmm/virtio_viommu.h"
#include "minivmm/config_types.h"
#include "vmm/devreg.h"
#include "vmm/evloop.h"
#include "minivmm/platform.h"

#define VD_MAX_DEVS  (CONFIG_MAX_DISKS + CONFIG_MAX_NETS + 3)
#define VD_BLK_MAX_QUEUES 4

/* What sets one kind of in-VMM device apart; the rest is the vd_*()
 * plumbing every kind goes through. */
struct vd_kind {
    struct virtio_pci_params pci;   /* its function (hv: the VM's) */
    const char *kind;               /* "blk", ...: stats, "virtio-blk@id" */
    const char *what;               /* "virtio-blk disk": vIOMMU messages */
    void (*destroy)(void *model);
    const struct state_ops *st;     /* the model's snapshot state */
    const struct virtio_host_model *hooks;  /* quiesce/resume, or NULL */
};

/* One device: its transport, its model, and the host that runs them on
 * the event loop (virtio/pci_host.h: locking, pausing). */
struct vd {
    struct virtio_devs *owner;
    struct virtio_pci *vp;
    struct virtio_host *host;       /* NULL until vd_finish() */
    void *model;
    const struct vd_kind *type;
    int own_fd;                     /* closed at destroy, or -1 */
    bool registered;                /* on the PCI bus */
    unsigned int slot;              /* wanted PCI slot, 0: first free */
    bool hotplug;                   /* added at run time: BARs must fit */
    char state_id[DEVREG_ID_MAX];   /* "" unless in the device registry */
    const char *kind;               /* "blk", ... (stats) */
    char id[CONFIG_ID_MAX];         /* "disk0", "hvc0", ... (stats) */
    struct virtio_viommu_mem vmem;  /* behind --viommu: IOVA -> GPA */
    struct virtio_mem mem;          /* what the model uses */
    bool behind_viommu;
    struct virtio_dev *vdev;        /* the model's, once attached */
};

struct virtio_devs {
    const struct platform_env *env;
    struct pci_bus *pci;
    struct virtio_mem mem;
    struct vd devs[VD_MAX_DEVS];
    unsigned int ndevs;
};

/* --- generic plumbing -------------------------------------------------- */

/* The entry the next device takes: a removed device's, or a new one. */
static unsigned int vd_free_index(const struct virtio_devs *ds)
{
    unsigned int i = 0;

    while (i < ds->ndevs && ds->devs[i].vp)
        i++;
    return i;
}

/* Reserve an entry for a device of kind @type and create its transport
 * (with @num_queues queues, 0: the kind's); *@irq: its interrupts, for
 * the model. */
static int vd_begin(struct virtio_devs *ds, const struct vd_kind *type,
                    uint16_t num_queues, struct vd **out,
                    struct virtio_irq *irq)
{
    unsigned int i = vd_free_index(ds);
    struct virtio_pci_params p = type->pci;
    struct vd *vd;
    int r;

    if (i >= VD_MAX_DEVS)
        return -ENOSPC;
    vd = &ds->devs[i];
    memset(vd, 0, sizeof(*vd));
    vd->owner = ds;
    vd->own_fd = -1;
    vd->type = type;
    p.hv = ds->env->hv;
    if (num_queues)
        p.num_queues = num_queues;
    r = virtio_pci_create(&p, &vd->vp);
    if (r < 0)
        return r;
    if (i == ds->ndevs)
        ds->ndevs++;
    *irq = virtio_pci_irq(vd->vp);
    *out = vd;
    return 0;
}

/* Join the snapshot registry as "virtio-<kind>@<id>": the state is the
 * whole function (config space, MSI-X, transport, then the model), the
 * quiesce/resume ops virtio's own (virtio_pci_devreg_ops()). */
static int vd_join(struct vd *vd, const char *id)
{
    struct devreg *devs = vd->owner->env->devs;
    struct devreg_entry e = { .id = vd->state_id };
    const char *kind = vd->type->kind;
    int r;

    vd->kind = kind;
    snprintf(vd->id, sizeof(vd->id), "%s", id);
    if (!devs)
        return 0;
    snprintf(vd->state_id, sizeof(vd->state_id), "virtio-%s@%s", kind, id);
    virtio_pci_devreg_ops(vd->host, &e);
    r = devreg_add(devs, &e);
    if (r < 0)
        vd->state_id[0] = 0;
    return r;
}

/* Take the model (destroyed with the device from now on), attach it, put
 * the function on the bus, and hand both to a virtio host (doorbells
 * watched; the kind's hooks: the model's quiesce/resume). */
static int vd_finish(struct vd *vd, void *model, struct virtio_dev *vdev)
{
    const struct vd_kind *type = vd->type;
    int r;

    vd->model = model;
    vd->vdev = vdev;
    r = virtio_pci_attach(vd->vp, vdev, type->st, model);
    if (r == 0)
        r = pci_hotplug_register(vd->owner->pci, virtio_pci_pci_dev(vd->vp),
                                 vd->slot, vd->hotplug);
    vd->registered = r == 0;
    if (r == 0)
        r = virtio_host_create(vd->owner->env->loop, vd->vp, type->hooks,
                               model, &vd->host);
    return r;
}

static void vd_destroy(struct vd *vd)
{
    if (vd->state_id[0])
        devreg_del(vd->owner->env->devs, vd->state_id);
    if (vd->registered)
        pci_unregister(virtio_pci_pci_dev(vd->vp));
    virtio_host_destroy(vd->host);
    if (vd->model && vd->type)
        vd->type->destroy(vd->model);
    virtio_pci_destroy(vd->vp);
    if (vd->own_fd >= 0)
        close(vd->own_fd);
    memset(vd, 0, sizeof(*vd)); /* free for reuse */
}

/* --- virtio-blk -------------------------------------------------------- */

/* Under the transport lock (virtio/pci_host.c). */
static void blk_ready(void *model)
{
    virtio_blk_handle_ready(model);
}

static int blk_quiesce(void *model)
{
    return virtio_blk_quiesce(model);
}

static int blk_resume(void *model)
{
    return virtio_blk_resume(model);
}

static const struct virtio_host_model blk_hooks = {
    .quiesce = blk_quiesce,
    .resume = blk_resume,
};

static void blk_destroy(void *model)
{
    virtio_blk_destroy(model);
}

static const struct vd_kind blk_kind = {
    .pci = { .device_type = VIRTIO_ID_BLOCK, .class_code = 0x018000,
             .num_queues = 1,       /* create_disk: one per vCPU, up to 4 */
             .config_size = sizeof(struct virtio_blk_config) },
    .kind = "blk", .what = "virtio-blk disk", .destroy = blk_destroy,
    .st = &virtio_blk_state_ops, .hooks = &blk_hooks,
};

/* Open (and lock: shared if read-only, else exclusive) the disk file.
 * The destination of a live migration (@incoming) shares the file with
 * its source, which holds the lock until it hands over and exits (its
 * device is quiesced by then): it goes on unlocked if it must. */
static int open_disk(const struct config_disk *cd, bool incoming, int *out,
                     char *err, size_t errlen)
{
    int fd = open(cd->path, (cd->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);

    if (fd < 0) {
        snprintf(err, errlen, "--disk path=%s: %s", cd->path,
                 strerror(errno));
        return -EINVAL;
    }
    if (flock(fd, (cd->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0 &&
        !(incoming && errno == EWOULDBLOCK)) {
        snprintf(err, errlen, "--disk path=%s: in use by another process "
                 "(%s)", cd->path, strerror(errno));
        close(fd);
        return -EINVAL;
    }
    *out = fd;
    return 0;
}

/* An in-VMM device behind the vIOMMU: the VMM does its DMA (any page size,
 * 64 bits), its addresses are IOVAs from now on (vd->vmem). */
static int attach_viommu(struct vd *vd, const char *id, char *err,
                         size_t errlen)
{
    struct host_iommu_dev h;
    uint16_t bdf = virtio_pci_pci_dev(vd->vp)->devfn;

    snprintf(h.name, sizeof(h.name), "%s '%s'", vd->type->what, id);
    host_iommu_caps_vmm(&h.caps);
    /* Its addresses are IOVAs: the driver must use the DMA API (virtio
     * 1.2 section 6.1, VIRTIO_F_ACCESS_PLATFORM). */
    vd->vdev->device_features |= 1ULL << VIRTIO_F_ACCESS_PLATFORM;
    virtio_viommu_mem_attach(&vd->vmem, bdf);
    return viommu_attach(vd->owner->env->viommu, bdf, &h, NULL, NULL, err,
                         errlen);
}

/* The guest memory a model of @vd uses: IOVAs behind the vIOMMU. */
static const struct virtio_mem *vd_mem(struct vd *vd, bool iommu)
{
    struct virtio_devs *ds = vd->owner;

    vd->mem = ds->mem;
    vd->behind_viommu = iommu && ds->env->viommu;
    if (vd->behind_viommu)
        virtio_viommu_mem_init(&vd->vmem, &ds->mem, ds->env->viommu,
                               &vd->mem);
    return &vd->mem;
}

/* After vd_finish(): attach it if vd_mem() put it behind the vIOMMU. */
static int vd_attach(struct vd *vd, const char *id)
{
    char err[256];
    int r;

    if (!vd->behind_viommu)
        return 0;
    r = attach_viommu(vd, id, err, sizeof(err));
    if (r)
        log_err("minivmm: %s", err);
    return r;
}

/* The last step of a device @id that needs nothing else: vd_attach(),
 * then vd_join(). */
static int vd_done(struct vd *vd, const char *id)
{
    int r = vd_attach(vd, id);

    return r == 0 ? vd_join(vd, id) : r;
}

static int create_disk(struct virtio_devs *ds, const struct config_disk *cd,
                       bool hotplug, char *err, size_t errlen)
{
    unsigned int cpus = ds->env->cfg->cpus;
    struct virtio_blk_params bp = {
        .readonly = cd->readonly, .discard = true, .write_zeroes = true,
        .num_queues = cpus < VD_BLK_MAX_QUEUES ? cpus : VD_BLK_MAX_QUEUES,
        .serial = cd->id,
    };
    struct virtio_irq irq;
    struct virtio_blk *blk;
    struct vd *vd;
    int fd, r;

    r = open_disk(cd, ds->env->cfg->incoming != NULL, &fd, err, errlen);
    if (r < 0)
        return r;
    r = vd_begin(ds, &blk_kind, bp.num_queues, &vd, &irq);
    if (r < 0) {
        close(fd);
        return r;
    }
    vd->own_fd = bp.fd = fd;
    vd->slot = cd->slot;
    vd->hotplug = hotplug;
    /* A hot-added disk is not put behind the vIOMMU: the VIOT, written
     * at start, does not name it, and an endpoint cannot be detached. */
    r = virtio_blk_create(&bp, vd_mem(vd, !cd->iommu_off && !hotplug), &irq,
                          &blk);
    if (r == -EINVAL)
        snprintf(err, errlen, "--disk path=%s: not a regular file or "
                 "block device", cd->path);
    if (r == 0)
        r = vd_finish(vd, blk, virtio_blk_vdev(blk));
    if (r == 0 && vd->behind_viommu)
        r = attach_viommu(vd, cd->id, err, errlen);
    if (r == 0)
        r = virtio_host_watch(vd->host, virtio_blk_poll_fd(blk), EPOLLIN,
                              blk_ready);
    return r == 0 ? vd_join(vd, cd->id) : r;
}

/* --- virtio-net -------------------------------------------------------- */

/* Under the transport lock; held while paused (virtio/pci_host.c). */
static void tap_ready(void *model)
{
    virtio_net_handle_tap(model);
}

static void net_destroy(void *model)
{
    virtio_net_destroy(model);
}

static const struct vd_kind net_kind = {
    .pci = { .device_type = VIRTIO_ID_NET, .class_code = 0x020000,
             .num_queues = 2, .config_size = 12 },
    .kind = "net", .what = "virtio-net", .destroy = net_destroy,
    .st = &virtio_net_state_ops,
};

/* A stable locally administered MAC from the tap name: 52:54:00:xx:xx:xx
 * like QEMU's prefix, the rest an FNV-1a hash. */
static void generate_mac(const char *tap, uint8_t mac[6])
{
    uint32_t h = 2166136261u;

    for (const char *c = tap; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    mac[0] = 0x52, mac[1] = 0x54, mac[2] = 0x00;
    mac[3] = (uint8_t)(h >> 16), mac[4] = (uint8_t)(h >> 8);
    mac[5] = (uint8_t)h;
}

static int create_net(struct virtio_devs *ds, const struct config_net *cn,
                      char *err, size_t errlen)
{
    struct virtio_net_params np = { .tap_fd = -1 };
    struct virtio_net *net;
    struct virtio_irq irq;
    struct vd *vd;
    int r;

    r = virtio_net_tap_open(cn->tap, &np.tap_fd, &np.tap_offloads, err,
                            errlen);
    if (r < 0)
        return -EINVAL;
    if (cn->has_mac)
        memcpy(np.mac, cn->mac, 6);
    else
        generate_mac(cn->tap, np.mac);
    r = vd_begin(ds, &net_kind, 0, &vd, &irq);
    if (r < 0) {
        close(np.tap_fd);
        return r;
    }
    vd->own_fd = np.tap_fd;
    r = virtio_net_create(&np, vd_mem(vd, true), &irq, &net);
    if (r == 0)
        r = vd_finish(vd, net, virtio_net_vdev(net));
    if (r == 0)
        r = vd_attach(vd, cn->id);
    if (r == 0)
        r = virtio_host_watch(vd->host, np.tap_fd, EPOLLIN | EPOLLET,
                              tap_ready);
    return r == 0 ? vd_join(vd, cn->id) : r;
}

/* --- virtio-rng -------------------------------------------------------- */

static void rng_destroy(void *model)
{
    virtio_rng_destroy(model);
}

static const struct vd_kind rng_kind = {
    .pci = { .device_type = VIRTIO_ID_RNG, .class_code = 0x00FF00,
             .num_queues = 1 },
    .kind = "rng", .what = "virtio-rng", .destroy = rng_destroy,
    .st = &virtio_rng_state_ops,
};

static int create_rng(struct virtio_devs *ds)
{
    struct virtio_irq irq;
    struct virtio_rng *rng;
    struct vd *vd;
    int r;

    r = vd_begin(ds, &rng_kind, 0, &vd, &irq);
    if (r == 0)
        r = virtio_rng_create(vd_mem(vd, true), &irq, &rng);
    if (r == 0)
        r = vd_finish(vd, rng, virtio_rng_vdev(rng));
    return r == 0 ? vd_done(vd, "rng0") : r;
}

/* --- virtio-iommu (--viommu; minivmm/viommu.h) --------------------------- */


static void iommu_destroy(void *model)
{
    virtio_iommu_destroy(model);
}

static const struct vd_kind iommu_kind = {
    .pci = { .device_type = VIOMMU_DEVICE_ID, .class_code = 0x088000,
             .num_queues = 2, .config_size = sizeof(struct viommu_config) },
    .kind = "iommu", .what = "virtio-iommu", .destroy = iommu_destroy,
    .st = &virtio_iommu_state_ops,
};

/* The first PCI function after the platform's, so the endpoints that
 * follow can attach to it. */
static int create_iommu(struct virtio_devs *ds)
{
    struct virtio_iommu_params ip;
    struct virtio_iommu *m;
    struct virtio_irq irq;
    struct vd *vd;
    int r;

    r = vd_begin(ds, &iommu_kind, 0, &vd, &irq);
    if (r < 0)
        return r;
    viommu_model_params(ds->env->viommu, &ip);
    r = virtio_iommu_create(&ip, &ds->mem, &irq, &m);
    if (r == 0)
        r = vd_finish(vd, m, virtio_iommu_vdev(m));
    if (r == 0)
        r = viommu_set_device(ds->env->viommu, m,
                              virtio_pci_pci_dev(vd->vp)->devfn);
    return r == 0 ? vd_join(vd, "viommu0") : r;
}

/* --- virtio-console ---------------------------------------------------- */

/* Under the transport lock; held while paused (virtio/pci_host.c). */
static void console_input(void *model)
{
    virtio_console_handle_input(model);
}

/* The model asks to start/stop reading stdin (transport lock held). stdin
 * may be a regular file or /dev/null, which epoll refuses: then the guest
 * gets no input. */
static void console_want_input(void *opaque, bool on)
{
    struct vd *vd = opaque;

    if (!vd->host)
        return;
    if (on)
        virtio_host_watch(vd->host, STDIN_FILENO, EPOLLIN, console_input);
    else
        virtio_host_unwatch(vd->host, STDIN_FILENO);
}

static void console_destroy(void *model)
{
    virtio_console_destroy(model);
}

static const struct vd_kind console_kind = {
    .pci = { .device_type = VIRTIO_ID_CONSOLE, .class_code = 0x078000,
             .num_queues = 2,
             .config_size = sizeof(struct virtio_console_config) },
    .kind = "console", .what = "virtio-console", .destroy = console_destroy,
    .st = &virtio_console_state_ops,
};

static int create_console(struct virtio_devs *ds)
{
    struct virtio_console_params cp = { .in_fd = STDIN_FILENO,
                                        .out_fd = STDOUT_FILENO,
                                        .want_input = console_want_input };
    struct virtio_console *con;
    struct virtio_irq irq;
    struct vd *vd;
    int r;

    r = vd_begin(ds, &console_kind, 0, &vd, &irq);
    if (r < 0)
        return r;
    cp.opaque = vd;
    r = virtio_console_create(&cp, vd_mem(vd, true), &irq, &con);
    if (r == 0)
        r = vd_finish(vd, con, virtio_console_vdev(con));
    return r == 0 ? vd_done(vd, "hvc0") : r;
}

/* --- all --------------------------------------------------------------- */

static int create_all(struct virtio_devs *ds, char *err, size_t errlen)
{
    const struct vm_config *cfg = ds->env->cfg;
    int r = 0;

    if (viommu_has_device(ds->env->viommu))
        r = create_iommu(ds);
    for (unsigned int i = 0; r == 0 && i < cfg->ndisks; i++)
        r = create_disk(ds, &cfg->disks[i], false, err, errlen);
    for (unsigned int i = 0; r == 0 && i < cfg->nnets; i++)
        r = create_net(ds, &cfg->nets[i], err, errlen);
    if (r == 0 && cfg->virtio_console)
        r = create_console(ds);
    if (r == 0 && cfg->virtio_rng)
        r = create_rng(ds);
    return r;
}

int virtio_devs_create(const struct platform_env *env, struct pci_bus *pci,
                       struct virtio_devs **out, char *err, size_t errlen)
{
    struct virtio_devs *ds = calloc(1, sizeof(*ds));
    int r;

    *out = ds;
    if (!ds)
        return -ENOMEM;
    ds->env = env;
    ds->pci = pci;
    virtio_mem_from_guest_memory(env->mem, &ds->mem);
    err[0] = 0;
    r = create_all(ds, err, errlen);
    if (r < 0 && !err[0])
        snprintf(err, errlen, "creating virtio devices: %s", strerror(-r));
    return r;
}

void virtio_devs_destroy(struct virtio_devs *ds)
{
    if (!ds)
        return;
    for (unsigned int i = ds->ndevs; i-- > 0;)
        if (ds->devs[i].vp)
            vd_destroy(&ds->devs[i]);
    free(ds);
}

/* The disk @id, or NULL. */
static struct vd *find_disk(const struct virtio_devs *ds, const char *id)
{
    for (unsigned int i = 0; ds && i < ds->ndevs; i++) {
        const struct vd *vd = &ds->devs[i];

        if (vd->vp && vd->kind && !strcmp(vd->kind, "blk") &&
            !strcmp(vd->id, id))
            return (struct vd *)vd;
    }
    return NULL;
}

int virtio_devs_find_disk(const struct virtio_devs *ds, const char *id,
                          unsigned int *slot)
{
    struct vd *vd = find_disk(ds, id);

    if (!vd || !vd->registered)
        return -ENOENT;
    *slot = virtio_pci_pci_dev(vd->vp)->devfn >> 3;
    return 0;
}

int virtio_devs_add_disk(struct virtio_devs *ds, const struct config_disk *cd,
                         unsigned int *slot, char *err, size_t errlen)
{
    unsigned int i = vd_free_index(ds);
    int r;

    err[0] = 0;
    r = create_disk(ds, cd, true, err, errlen);
    if (r < 0) {
        if (!err[0])
            snprintf(err, errlen, "disk %s: %s", cd->id,
                     r == -ENOSPC ? "no room (a BAR does not fit in the "
                     "free PCI window space, or no free slot)"
                     : r == -EBUSY ? "slot taken" : strerror(-r));
        if (i < ds->ndevs && ds->devs[i].vp)
            vd_destroy(&ds->devs[i]);
        return r;
    }
    return virtio_devs_find_disk(ds, cd->id, slot);
}

int virtio_devs_remove_disk(struct virtio_devs *ds, const char *id)
{
    struct vd *vd = find_disk(ds, id);

    if (!vd)
        return -ENOENT;
    vd_destroy(vd);
    return 0;
}

bool virtio_devs_attached(const struct virtio_devs *ds, const char *id)
{
    const struct vd *vd = find_disk(ds, id);

    return vd && vd->behind_viommu;
}

/* One device's counters (vmm/stats.h). */
static struct json_object *vd_stats(const struct vd *vd)
{
    struct json_object *o = json_object_new_object();
    struct json_object *db = json_object_new_object();
    struct virtio_pci_stats ps;
    char kind[32];

    virtio_pci_get_stats(vd->vp, &ps);
    snprintf(kind, sizeof(kind), "virtio-%s", vd->kind);
    json_object_object_add(o, "id", json_object_new_string(vd->id));
    json_object_object_add(o, "kind", json_object_new_string(kind));
    stats_put(db, "ioeventfd", ps.doorbells_ioeventfd);
    stats_put(db, "trapped", ps.doorbells_trapped);
    json_object_object_add(o, "doorbells", db);
    stats_put(o, "interrupts", ps.interrupts);
    if (vd->type == &blk_kind) {
        struct json_object *b = json_object_new_object();
        struct virtio_blk_stats bs;

        virtio_blk_get_stats(vd->model, &bs);
        stats_put(b, "requests", bs.requests);
        stats_put(b, "bytes_read", bs.bytes_read);
        stats_put(b, "bytes_written", bs.bytes_written);
        stats_put(b, "errors", bs.errors);
        json_object_object_add(o, "block", b);
    }
    if (vd->type == &iommu_kind) {
        struct json_object *b = json_object_new_object();
        struct virtio_iommu_stats is;

        virtio_iommu_get_stats(vd->model, &is);
        stats_put(b, "requests", is.requests);
        stats_put(b, "maps", is.maps);
        stats_put(b, "unmaps", is.unmaps);
        stats_put(b, "faults", is.faults);
        stats_put(b, "faults_dropped", is.faults_dropped);
        json_object_object_add(o, "iommu", b);
    }
    return o;
}

void virtio_devs_stats(const struct virtio_devs *ds, struct json_object *arr)
{
    for (unsigned int i = 0; ds && i < ds->ndevs; i++)
        if (ds->devs[i].vp && ds->devs[i].kind)
            json_object_array_add(arr, vd_stats(&ds->devs[i]));
}
