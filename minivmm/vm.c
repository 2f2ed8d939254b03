/* SPDX-License-Identifier: BSD-3-Clause */
/* VM construction and run (see vm.h). */
#include "minivmm/vm.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "arch/x86/boot.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/irqchip.h"
#include "arch/x86/pvm_quirks.h"
#include "vmm/bus.h"
#include "minivmm/bgcall.h"
#include "minivmm/config_types.h"
#include "vmm/devreg.h"
#include "vmm/evloop.h"
#include "minivmm/hv_kvm.h"
#include "minivmm/kvm_early.h"
#include "minivmm/machine_state.h"
#include "vmm/kvm.h"
#include "vmm/log.h"
#include "vmm/rt_boost.h"
#include "vmm/memory.h"
#include "minivmm/platform.h"
#include "minivmm/persist/snapshot_lazy.h"
#include "minivmm/privdrop.h"
#include "minivmm/startup.h"
#include "vmm/seccomp.h"
#include "minivmm/vcpu.h"
#include "minivmm/vmctl.h"
#include "minivmm/vmctl_api.h"
#include "vmm/stats.h"
#include "minivmm/virtio_devs.h"
#include "minivmm/vfio_devs.h"
#include "minivmm/viommu.h"
#include "arch/x86/platform.h"
#include "minivmm/hotplug_ctl.h"

struct vm {
    struct vm_config cfgm;       /* the running VM's, devices follow hotplug */
    struct vm_config *cfg;       /* = &cfgm */
    struct hpctl *hotplug;       /* device-add/remove, power button */
    struct kvm kvm;
    struct guest_memory mem;
    struct bus *pio;
    struct bus *mmio;
    struct irqchip *irqchip;
    struct vmm_hv *hv;
    struct evloop *loop;
    struct platform_env penv;  /* outlives the platform */
    struct platform *platform;
    struct virtio_devs *virtio;  /* --disk, --net, --console, --rng */
    struct vfio_devs *vfio;      /* --vfio-user */
    struct viommu *viommu;       /* --viommu, or NULL */
    struct vcpu_env env;
    struct devreg *devs;       /* devices in snapshots (devreg.h) */
    struct vcpu_sync vsync;    /* pause/resume of the vCPUs */
    struct vmctl *ctl;         /* run state, snapshots, migration */
    struct vmctl_api *api;     /* --api-socket */
    struct machine_state mstate; /* vCPUs and irqchip in the state tree */
    const struct vm_restore *restore; /* vm_restore(): what to load */
    struct snap_lazy *lazy;    /* on-demand restore still loading RAM */
    struct kvm_early *early;   /* restore: KVM VM + memslots on a thread */
    bool slots_in;             /* memslots registered by that thread */
    struct bgcall *routing;    /* the base GSI routing going in, or NULL */
    struct vcpu *vcpus;
    unsigned int nvcpus;
    int stop_efd;
    int signal_fd;
    int stopping;          /* atomic */
    int stop_reason;       /* atomic: enum vm_stop_reason, first wins */
    int stop_status;
    int stop_signal;
    int pending_signal;    /* --shutdown-timeout: power button pressed */
    int shutdown_tfd;      /* its deadline */
};

static void request_stop(void *opaque, enum vm_stop_reason reason,
                         int status)
{
    struct vm *vm = opaque;
    int none = VM_STOP_NONE;
    uint64_t one = 1;

    if (__atomic_compare_exchange_n(&vm->stop_reason, &none, (int)reason,
                                    false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        vm->stop_status = status;
    __atomic_store_n(&vm->stopping, 1, __ATOMIC_RELEASE);
    if (write(vm->stop_efd, &one, sizeof(one)) < 0) {
        /* The counter cannot overflow from a handful of requests. */
    }
}

static int setup_memory(struct vm *vm, char *err, size_t errlen)
{
    int r = 0;

    if (vm->restore) { /* RAM already loaded: take it over */
        vm->mem = *vm->restore->mem;
        memset(vm->restore->mem, 0, sizeof(*vm->restore->mem));
        vm->restore->mem->fd = -1;
    } else {
        struct guest_memory_opts mo = { .hugepages = vm->cfg->hugepages };

        r = guest_memory_create_opts(vm->cfg->memory, &mo, &vm->mem, err,
                                     errlen);
    }
    if (r < 0 || vm->slots_in)
        return r;
    return vm_kvm_memslots(&vm->kvm, &vm->mem, err, errlen);
}

/* The CPUID policy: the user's edits, plus on kvm_pvm hosts (software CPL0
 * emulation without xsave/xrstor, cmpxchg16b, and the fnclex/emms/fild
 * FXSAVE-leak workaround) hiding those features unless the user said
 * otherwise. */
static void cpuid_policy_for_host(const struct vm *vm,
                                  struct cpuid_policy *pol)
{
    static const char *const pvm_edits[] = { "-xsave", "-cx16",
                                             "+xsaveerptr" };
    char err[64];

    *pol = vm->cfg->cpuid;
    if (!vm->kvm.pvm)
        return;
    for (unsigned int i = 0; i < 3; i++)
        if (!cpuid_policy_mentions(&vm->cfg->cpuid, pvm_edits[i] + 1))
            cpuid_policy_parse(pol, pvm_edits[i], err, sizeof(err));
}

static int setup_vcpus(struct vm *vm, const struct boot_entry *entry,
                       char *err, size_t errlen)
{
    struct kvm_cpuid2 *supported, *c;
    struct cpuid_policy pol;
    size_t sz;
    int r;

    cpuid_policy_for_host(vm, &pol);
    r = kvm_get_supported_cpuid(&vm->kvm, &supported);
    if (r < 0) {
        snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(-r));
        return r;
    }
    sz = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
    c = malloc(sz);
    vm->vcpus = calloc(vm->cfg->cpus, sizeof(*vm->vcpus));
    r = (!c || !vm->vcpus) ? -ENOMEM : 0;
    for (unsigned int i = 0; r == 0 && i < vm->cfg->cpus; i++) {
        memcpy(c, supported, sz);
        cpuid_apply(c, &pol, i, vm->cfg->cpus);
        r = vcpu_create(&vm->vcpus[i], (int)i, &vm->env);
        if (r == 0)
            vm->nvcpus++;
        if (r == 0)
            r = x86_vcpu_setup(vm->vcpus[i].fd, c);
        if (r == 0 && i == 0 && !vm->restore)
            r = x86_vcpu_boot(vm->vcpus[0].fd, entry, &vm->mem);
        if (r < 0)
            snprintf(err, errlen, "setting up vCPU %u: %s", i, strerror(-r));
    }
    free(c);
    free(supported);
    return r;
}

static void on_stop(void *opaque, int fd, uint32_t events)
{
    struct vm *vm = opaque;
    uint64_t v;

    (void)events;
    if (read(fd, &v, sizeof(v)) < 0) {
        /* Spurious wakeup: the flag below is what counts. */
    }
    if (__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE))
        evloop_quit(vm->loop);
}

/* First SIGTERM/SIGINT with --shutdown-timeout while the guest runs:
 * press the ACPI power button and arm the deadline. false: stop now
 * (no timeout, not running, or the second signal). */
static bool press_power_button(struct vm *vm, int sig)
{
    struct itimerspec its = { { 0, 0 }, { vm->cfg->shutdown_timeout, 0 } };

    if (!vm->cfg->shutdown_timeout || vm->pending_signal || !vm->ctl ||
        !vm->hotplug || strcmp(vmctl_state_name(vm->ctl), "running") ||
        timerfd_settime(vm->shutdown_tfd, 0, &its, NULL) < 0)
        return false;
    vm->pending_signal = sig;
    hpctl_ops.powerdown(vm->hotplug);
    log_info("minivmm: %s: pressed the ACPI power button; the guest has "
             "%u s to power off (the same signal again stops it at once)",
             strsignal(sig), vm->cfg->shutdown_timeout);
    return true;
}

static void on_signal(void *opaque, int fd, uint32_t events)
{
    struct vm *vm = opaque;
    struct signalfd_siginfo si;

    (void)events;
    if (read(fd, &si, sizeof(si)) != sizeof(si))
        return;
    if (si.ssi_signo != SIGHUP && press_power_button(vm, (int)si.ssi_signo))
        return;
    log_info("minivmm: %s: stopping the VM", strsignal((int)si.ssi_signo));
    vm->stop_signal = (int)si.ssi_signo;
    request_stop(vm, VM_STOP_ERROR, 0);
}

/* --shutdown-timeout: the guest did not power off in time. */
static void on_shutdown_timer(void *opaque, int fd, uint32_t events)
{
    struct vm *vm = opaque;
    uint64_t v;

    (void)events;
    if (read(fd, &v, sizeof(v)) < 0)
        return;
    log_warn("minivmm: the guest did not power off within %u s: stopping "
             "it", vm->cfg->shutdown_timeout);
    vm->stop_signal = vm->pending_signal;
    request_stop(vm, VM_STOP_ERROR, 0);
}

static int setup_loop(struct vm *vm, char *err, size_t errlen)
{
    sigset_t set;
    int r;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by vCPU threads */
    vm->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    vm->shutdown_tfd = timerfd_create(CLOCK_MONOTONIC,
                                      TFD_CLOEXEC | TFD_NONBLOCK);
    if (vm->signal_fd < 0 || vm->stop_efd < 0 || vm->shutdown_tfd < 0) {
        snprintf(err, errlen, "eventfd/signalfd: %s", strerror(errno));
        return -errno;
    }
    r = evloop_create(&vm->loop);
    if (r == 0)
        r = evloop_add(vm->loop, vm->stop_efd, EPOLLIN, on_stop, vm);
    if (r == 0)
        r = evloop_add(vm->loop, vm->signal_fd, EPOLLIN, on_signal, vm);
    if (r == 0)
        r = evloop_add(vm->loop, vm->shutdown_tfd, EPOLLIN,
                       on_shutdown_timer, vm);
    if (r < 0)
        snprintf(err, errlen, "event loop: %s", strerror(-r));
    return r;
}

/* On-demand restore: the loader ended. A corrupt section or a read error
 * found while the guest ran stops the VM with exit status 2 / 1. */
static void on_ram_loaded(void *opaque, int fd, uint32_t events)
{
    struct vm *vm = opaque;
    struct snap_lazy_stats st;
    char why[256];
    int r = snap_lazy_wait(vm->lazy, why, sizeof(why));

    (void)events;
    evloop_del(vm->loop, fd);
    if (r < 0) {
        log_err("minivmm: %s: %s, found while the guest ran",
                vm->cfg->restore, why);
        request_stop(vm, VM_STOP_ERROR, r == -EBADMSG ? 2 : 1);
        return;
    }
    snap_lazy_stats(vm->lazy, &st);
    log_debug("minivmm: restore: guest RAM loaded in %.1f ms (%llu pages "
              "by the loader, %llu faults served, %llu pages)", st.load_ms,
              (unsigned long long)st.load_pages,
              (unsigned long long)st.faults,
              (unsigned long long)st.fault_pages);
}

/* vmctl: snapshots and migrations read guest RAM whole (and skip holes):
 * wait for the on-demand load first. */
static int ram_ready(void *opaque, char *err, size_t errlen)
{
    struct vm *vm = opaque;

    return vm->lazy ? snap_lazy_wait(vm->lazy, err, errlen) : 0;
}

/* The KVM VM: made here, or on restore joined from the thread that made
 * it and registered the memslots (kvm_early.h). */
static int setup_kvm(struct vm *vm, char *err, size_t errlen)
{
    struct kvm_early *e = vm->early;
    int r;

    vm->early = NULL;
    r = e ? kvm_early_join(e, &vm->kvm, &vm->slots_in, err, errlen) :
            vm_kvm_open(&vm->kvm, err, errlen);
    if (r < 0)
        return r;
    if (vm->cfg->cpus > (unsigned int)vm->kvm.max_vcpus) {
        snprintf(err, errlen, "--cpus %u: KVM allows at most %d vCPUs",
                 vm->cfg->cpus, vm->kvm.max_vcpus);
        return -EINVAL;
    }
    return 0;
}

static int commit_routing(void *ic)
{
    return irqchip_commit(ic);
}

/* The in-kernel irqchip and PIT, after the memslots (see create_base);
 * the GSI routing goes in on a thread (its ioctl sleeps for a grace
 * period) while the devices and vCPUs are made: join_routing(). */
static int setup_irqchip(struct vm *vm, char *err, size_t errlen)
{
    int r = irqchip_create_chip(&vm->kvm, &vm->irqchip);

    if (r == 0 && bgcall_start(commit_routing, vm->irqchip,
                               &vm->routing) < 0)
        r = irqchip_commit(vm->irqchip);
    if (r < 0)
        snprintf(err, errlen, "in-kernel irqchip: %s", strerror(-r));
    return r;
}

/* Before anything raises a line or adds an MSI route (the state load). */
static int join_routing(struct vm *vm, char *err, size_t errlen)
{
    struct bgcall *b = vm->routing;
    int r;

    vm->routing = NULL;
    r = bgcall_join(b);
    if (r < 0)
        snprintf(err, errlen, "GSI routing (KVM_SET_GSI_ROUTING): %s",
                 strerror(-r));
    return r;
}

/* The API's "stats" (docs/api.md): exits summed and per vCPU, then one
 * entry per device. */
static void vm_stats(void *opaque, struct json_object *out)
{
    struct vm *vm = opaque;
    struct json_object *vc = json_object_new_array();
    struct json_object *ex = json_object_new_object();
    struct json_object *devs = json_object_new_array(), *wk;
    uint64_t tot[STATS_EXIT_COUNT] = { 0 }, sum = 0;

    vcpu_stats(vm->vcpus, vm->nvcpus, vc, tot);
    for (unsigned int k = 0; k < STATS_EXIT_COUNT; k++) {
        stats_put(ex, stats_exit_names[k], tot[k]);
        sum += tot[k];
    }
    stats_put(ex, "total", sum);
    virtio_devs_stats(vm->virtio, devs);
    wk = json_object_new_object();
    stats_put(wk, "evloop", evloop_wakeups(vm->loop));
    stats_put(wk, "vfio_user", vfio_devs_stats(vm->vfio, devs));
    json_object_object_add(out, "wakeups", wk);
    viommu_stats(vm->viommu, devs);
    json_object_object_add(out, "exits", ex);
    json_object_object_add(out, "vcpus", vc);
    json_object_object_add(out, "devices", devs);
}

/* The control API on --api-socket (vmctl_api.h). */
static int setup_api(struct vm *vm, char *err, size_t errlen)
{
    struct vmctl_api_env env = {
        .ctl = vm->ctl, .loop = vm->loop, .path = vm->cfg->api_socket,
        .cpus = vm->nvcpus, .memory = vm->mem.ram_size, .cfg = vm->cfg,
        .stats = vm_stats, .stats_opaque = vm, .stop = { request_stop, vm },
    };

    return vm->cfg->api_socket ? vmctl_api_create(&env, &vm->api, err,
                                                  errlen) : 0;
}

/* Run state, the vCPUs' and irqchip's registry entries, on restore the
 * saved state (vmctl.h), then the control API. */
static int setup_ctl(struct vm *vm, char *err, size_t errlen)
{
    struct vmctl_env env = {
        .kvm = &vm->kvm, .mem = &vm->mem, .vcpus = vm->vcpus,
        .nvcpus = vm->nvcpus, .sync = &vm->vsync, .loop = vm->loop,
        .devs = vm->devs, .stop = { request_stop, vm },
        .event_log = vm->cfg->event_log,
        .migrate_downtime_ms = vm->cfg->migrate_downtime_ms,
        .migrate_timeout_ms = vm->cfg->migrate_timeout_ms,
        .migrate_no_rt_boost = vm->cfg->migrate_rt_boost_off,
        .seccomp = vm->cfg->seccomp,
        .ram_ready = ram_ready, .ram_opaque = vm,
        .hotplug = &hpctl_ops, .hotplug_opaque = vm->hotplug,
    };
    int r;

    vm->mstate = (struct machine_state){
        .kvm = &vm->kvm, .vcpus = vm->vcpus, .nvcpus = vm->nvcpus,
        .devs = vm->devs,
    };
    r = machine_state_join(&vm->mstate, err, errlen);
    if (r == 0)
        r = vmctl_create(&env, &vm->ctl, err, errlen);
    if (r == 0)
        hpctl_set_ctl(vm->hotplug, vm->ctl);
    if (r == 0 && vm->restore && vm->restore->state)
        r = vmctl_load(vm->ctl, vm->restore->state, err, errlen);
    if (r == 0)
        r = setup_api(vm, err, errlen);
    return r;
}

/* platform_load(), on kvm_pvm hosts with the kernel parameters a Linux
 * guest needs there appended (arch/x86/pvm_quirks.h), and said so. */
static int load_kernel(struct vm *vm, const struct boot_image *img,
                       struct boot_entry *entry, char *err, size_t errlen)
{
    struct boot_image fixed = *img;
    char added[128], *cmdline;
    int r;

    if (!vm->kvm.pvm || !x86_image_is_linux(img->kernel, img->kernel_len))
        return platform_load(vm->platform, img, entry, err, errlen);
    cmdline = malloc(X86_CMDLINE_MAX_LEN);
    if (!cmdline)
        return -ENOMEM;
    r = x86_pvm_cmdline(img->cmdline, cmdline, X86_CMDLINE_MAX_LEN, added,
                        sizeof(added));
    if (r > 0) {
        log_info("minivmm: kvm_pvm host: appended '%s' to the kernel "
                 "command line (this host cannot run xsave/xrstor, "
                 "cmpxchg16b, popcnt or clac/stac in guest kernel mode; "
                 "README \"kvm_pvm\")", added);
        fixed.cmdline = cmdline;
    } else if (r < 0) {
        log_warn("minivmm: kvm_pvm host: the kernel command line is too "
                 "long to append '%s', which a Linux guest needs here",
                 added);
    }
    r = platform_load(vm->platform, &fixed, entry, err, errlen);
    free(cmdline);
    return r;
}

/* platform_env.event: to the API once it exists. */
static void vm_event(void *opaque, struct json_object *ev)
{
    struct vm *vm = opaque;

    vmctl_event(vm->ctl, ev);
}

/* PCI hotplug registers and the device-add/remove machinery. */
static int setup_hotplug(struct vm *vm, char *err, size_t errlen)
{
    struct hpctl_env he = {
        .cfg = vm->cfg, .pio = vm->pio, .irq = irqchip_lines(vm->irqchip),
        .loop = vm->loop, .virtio = vm->virtio, .vfio = vm->vfio,
    };

    return hpctl_create(&he, &vm->hotplug, err, errlen);
}

/* vm_create() and vm_restore(): @img for a boot, @rs for a restore. */
/* --viommu: the guest finds the virtio-iommu and its endpoints in the
 * ACPI VIOT (restored and incoming VMs have their tables in RAM). */
static int write_viot(struct vm *vm, char *err, size_t errlen)
{
    struct x86_viot viot;

    viot.neps = viommu_topology(vm->viommu, &viot.iommu_bdf, viot.eps,
                                X86_VIOT_MAX_EPS);
    if (!viot.neps)
        return 0; /* nothing behind it: no table */
    return platform_write_viot(vm->platform, &viot, err, errlen);
}

static void mark(const struct vm *vm, const char *step)
{
    startup_mark(vm->cfg->start_ns, step);
}

/* Event loop, KVM VM, guest RAM and its memslots, irqchip, buses,
 * hypervisor services. The memslots go in before the irqchip: the irqchip
 * and PIT register KVM I/O-bus devices, and recent kernels (6.18 here)
 * free the old bus through call_srcu(), a normal (slow) SRCU grace period
 * the memslot ioctl's synchronize_srcu_expedited() then queues behind: one
 * or two scheduler ticks (4-8 ms at HZ=250) for the first memslot, against
 * ~0.2 ms in this order (docs/snapshot-format.md, "What the start
 * costs"). The KVM API puts no order between the two; only vCPUs must
 * come after the irqchip. */
static int create_base(struct vm *vm, char *err, size_t errlen)
{
    int r = devreg_create(&vm->devs);

    if (r == 0)
        r = setup_loop(vm, err, errlen);
    if (r == 0 && vm->lazy &&
        (r = evloop_add(vm->loop, snap_lazy_done_fd(vm->lazy), EPOLLIN,
                        on_ram_loaded, vm)) < 0)
        snprintf(err, errlen, "event loop: %s", strerror(-r));
    if (r == 0)
        mark(vm, "event loop");
    if (r == 0 && (r = setup_kvm(vm, err, errlen)) == 0)
        mark(vm, vm->slots_in ? "VM created, memslots (their thread "
             "joined)" : "VM created (KVM_CREATE_VM)");
    if (r == 0 && (r = setup_memory(vm, err, errlen)) == 0 &&
        !vm->slots_in)
        mark(vm, "memory mapped (memfd, memslots)");
    if (r == 0 && (r = setup_irqchip(vm, err, errlen)) == 0)
        mark(vm, "irqchip, PIT (GSI routing on a thread)");
    if (r == 0 && ((r = bus_create("pio", &vm->pio)) < 0 ||
                   (r = bus_create("mmio", &vm->mmio)) < 0))
        snprintf(err, errlen, "out of memory");
    if (r == 0 && (r = vmm_hv_create(&vm->kvm, vm->irqchip, &vm->hv)) < 0)
        snprintf(err, errlen, "out of memory");
    return r;
}

/* Platform, kernel and tables (boot), vIOMMU, PCI devices, vCPUs,
 * control. */
static int create_rest(struct vm *vm, const struct boot_image *img,
                       char *err, size_t errlen)
{
    const struct vm_config *cfg = vm->cfg;
    const struct vm_restore *rs = vm->restore;
    struct boot_entry entry;
    int r;

    vm->penv = (struct platform_env){
        .cfg = cfg, .mem = &vm->mem, .pio = vm->pio, .mmio = vm->mmio,
        .irq = irqchip_lines(vm->irqchip), .loop = vm->loop,
        .stop = { request_stop, vm }, .hv = vmm_hv_services(vm->hv),
        .devs = vm->devs, .event = vm_event, .event_opaque = vm,
    };
    r = platform_create(&vm->penv, &vm->platform, err, errlen);
    if (r == 0)
        mark(vm, "platform devices");
    if (r == 0 && !rs && (r = load_kernel(vm, img, &entry, err, errlen)) == 0)
        mark(vm, "tables and kernel loaded");
    if (r == 0)
        r = viommu_create(&vm->penv, &vm->viommu, err, errlen);
    vm->penv.viommu = vm->viommu;
    if (r == 0)
        r = virtio_devs_create(&vm->penv, platform_pci_bus(vm->platform),
                               &vm->virtio, err, errlen);
    if (r == 0)
        r = vfio_devs_create(&vm->penv, platform_pci_bus(vm->platform),
                             &vm->vfio, err, errlen);
    if (r == 0 && vm->viommu && !rs)
        r = write_viot(vm, err, errlen);
    if (r == 0)
        r = setup_hotplug(vm, err, errlen);
    if (r == 0)
        mark(vm, "PCI devices (virtio, vfio-user)");
    vm->env = (struct vcpu_env){
        .kvm = &vm->kvm, .pio = vm->pio, .mmio = vm->mmio, .mem = &vm->mem,
        .stop = { request_stop, vm }, .stopping = &vm->stopping,
        .sync = &vm->vsync, .seccomp = cfg->seccomp,
        .start_ns = cfg->start_ns,
        .rt_handover = cfg->incoming && !cfg->migrate_rt_boost_off,
    };
    if (r == 0 && (r = setup_vcpus(vm, &entry, err, errlen)) == 0)
        mark(vm, "vCPUs created");
    if (r == 0 && (r = join_routing(vm, err, errlen)) == 0)
        mark(vm, "GSI routing in (thread joined)");
    if (r == 0 && (r = setup_ctl(vm, err, errlen)) == 0)
        mark(vm, rs ? "control API, state loaded" : "control API");
    return r;
}

/* vm_create() and vm_restore(): @img for a boot, @rs for a restore. */
static int create(const struct vm_config *cfg, const struct boot_image *img,
                  const struct vm_restore *rs, struct vm **out, char *err,
                  size_t errlen)
{
    struct vm *vm = calloc(1, sizeof(*vm));
    int r;

    if (!vm) {
        snap_lazy_destroy(rs ? rs->lazy : NULL);
        kvm_early_cancel(rs ? rs->early : NULL);
        return -ENOMEM;
    }
    vm->cfgm = *cfg;
    vm->cfg = &vm->cfgm;
    vm->restore = rs;
    vm->lazy = rs ? rs->lazy : NULL;
    vm->early = rs ? rs->early : NULL;
    vm->stop_efd = vm->signal_fd = vm->shutdown_tfd = -1;
    vm->kvm.vm_fd = vm->kvm.sys_fd = -1;
    vm->mem.fd = -1;
    *out = vm;
    vcpu_sync_init(&vm->vsync);
    r = create_base(vm, err, errlen);
    if (r == 0)
        r = create_rest(vm, img, err, errlen);
    if (r < 0) { /* failed before the join: the RAM may go before us */
        kvm_early_cancel(vm->early);
        vm->early = NULL;
    }
    return r;
}

int vm_create(const struct vm_config *cfg, const struct boot_image *img,
              struct vm **out, char *err, size_t errlen)
{
    return create(cfg, img, NULL, out, err, errlen);
}

int vm_restore(const struct vm_config *cfg, const struct vm_restore *rs,
               struct vm **out, char *err, size_t errlen)
{
    return create(cfg, NULL, rs, out, err, errlen);
}

struct guest_memory *vm_guest_memory(struct vm *vm)
{
    return &vm->mem;
}

int vm_load_state(struct vm *vm, const void *fdt, char *err, size_t errlen)
{
    vm->restore = NULL; /* the caller's; gone after creation */
    return vmctl_load(vm->ctl, fdt, err, errlen);
}

static int exit_status(const struct vm *vm)
{
    if (vm->stop_signal)
        return 128 + vm->stop_signal;
    switch (vm->stop_reason) {
    case VM_STOP_POWEROFF:
        return 0;
    case VM_STOP_RESET:
        return 3;
    case VM_STOP_CRASH:
        return 4;
    case VM_STOP_TEST_EXIT:
        return vm->stop_status & 0xff;
    case VM_STOP_ERROR:
        return vm->stop_status ? vm->stop_status & 0xff : 1;
    default:
        return 1;
    }
}

/* Set-up is done: drop root (--user/--group), start the vCPU threads (each
 * installs its own seccomp filter), then filter this thread, the event
 * loop, whose children (migration, snapshot writers) inherit it. */
static int start(struct vm *vm)
{
    struct priv_ids ids;
    char err[160] = "";
    int r = priv_resolve(vm->cfg->user, vm->cfg->group, &ids, err,
                         sizeof(err));

    if (r == 0)
        r = priv_drop(&ids, err, sizeof(err));
    if (r == 0)
        r = vcpu_signals_init();
    for (unsigned int i = 0; r == 0 && i < vm->nvcpus; i++)
        r = vcpu_start(&vm->vcpus[i]);
    /* An incoming migration's boost, inherited by the vCPU threads just
     * made, ends here for this thread (migration_in.c). */
    if (vm->env.rt_handover)
        rt_boost_drop_inherited(0);
    if (r == 0)
        mark(vm, "vCPU threads started");
    if (r < 0 && !err[0])
        snprintf(err, sizeof(err), "starting vCPU threads: %s",
                 strerror(-r));
    if (r == 0) {
        r = sc_install(SC_T_MAIN, vm->cfg->seccomp);
        if (r < 0)
            snprintf(err, sizeof(err), "seccomp: %s", strerror(-r));
    }
    if (r < 0)
        log_err("minivmm: %s", err);
    return r;
}

/* {"event":"stop","reason":R,"status":N}: why the VM stops (docs/api.md). */
static void stop_event(struct vm *vm)
{
    static const char *const why[] = {
        [VM_STOP_NONE] = "error", [VM_STOP_POWEROFF] = "power-off",
        [VM_STOP_RESET] = "reset", [VM_STOP_TEST_EXIT] = "test-exit",
        [VM_STOP_CRASH] = "crash", [VM_STOP_ERROR] = "error",
    };
    struct json_object *ev = json_object_new_object();
    unsigned int r = (unsigned int)vm->stop_reason;

    json_object_object_add(ev, "event", json_object_new_string("stop"));
    json_object_object_add(ev, "reason", json_object_new_string(
                               vm->stop_signal ? "signal" :
                               r <= VM_STOP_ERROR ? why[r] : "error"));
    json_object_object_add(ev, "status", json_object_new_int(
                                             exit_status(vm)));
    vmctl_event(vm->ctl, ev);
    json_object_put(ev);
}

int vm_run(struct vm *vm)
{
    int r = start(vm);

    if (r < 0)
        request_stop(vm, VM_STOP_ERROR, 0);
    else
        vmctl_started(vm->ctl);
    r = evloop_run(vm->loop);
    if (r < 0) {
        log_err("minivmm: event loop: %s", strerror(-r));
        request_stop(vm, VM_STOP_ERROR, 0);
    }
    stop_event(vm);
    vmctl_stopping(vm->ctl); /* releases paused vCPUs */
    for (unsigned int i = 0; i < vm->nvcpus; i++)
        vcpu_kick(&vm->vcpus[i]);
    for (unsigned int i = 0; i < vm->nvcpus; i++)
        vcpu_join(&vm->vcpus[i]);
    platform_flush(vm->platform);
    return exit_status(vm);
}

void vm_exit_fast(struct vm *vm, int status)
{
    /* What others see: the API socket and its path, migration threads
     * and the event log (flushed by fclose), vfio-user servers (orderly
     * close), virtio back-ends, the console (terminal mode restored). */
    vmctl_api_destroy(vm->api);
    vmctl_destroy(vm->ctl);
    hpctl_destroy(vm->hotplug);
    vfio_devs_destroy(vm->vfio);
    virtio_devs_destroy(vm->virtio);
    platform_destroy(vm->platform);
    fflush(NULL);
    /* Not guest RAM, vCPUs, the KVM VM, buses, the on-demand loader or
     * any memory: the kernel unmaps and closes them at exit anyway. */
    _exit(status);
}

void vm_destroy(struct vm *vm)
{
    if (!vm)
        return;
    vmctl_api_destroy(vm->api);
    vmctl_destroy(vm->ctl);
    kvm_early_cancel(vm->early); /* a build that failed before the join */
    snap_lazy_destroy(vm->lazy); /* before RAM goes */
    machine_state_leave(&vm->mstate);
    for (unsigned int i = 0; i < vm->nvcpus; i++)
        vcpu_destroy(&vm->vcpus[i]);
    free(vm->vcpus);
    hpctl_destroy(vm->hotplug);
    vfio_devs_destroy(vm->vfio);
    virtio_devs_destroy(vm->virtio);
    viommu_destroy(vm->viommu);
    platform_destroy(vm->platform);
    bus_destroy(vm->pio);
    bus_destroy(vm->mmio);
    vmm_hv_destroy(vm->hv);
    bgcall_join(vm->routing); /* a build that failed before the join */
    irqchip_destroy(vm->irqchip);
    guest_memory_destroy(&vm->mem);
    kvm_close(&vm->kvm);
    evloop_destroy(vm->loop);
    if (vm->stop_efd >= 0)
        close(vm->stop_efd);
    if (vm->signal_fd >= 0)
        close(vm->signal_fd);
    if (vm->shutdown_tfd >= 0)
        close(vm->shutdown_tfd);
    devreg_destroy(vm->devs);
    vcpu_sync_destroy(&vm->vsync);
    free(vm);
}
