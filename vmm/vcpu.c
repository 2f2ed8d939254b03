/* vCPU threads and exit decoding (see vcpu.h). */
#include "vmm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "vmm/bus.h"
#include "vmm/kvm.h"

#define VCPU_KICK_SIGNAL SIGUSR1

static void kick_handler(int sig)
{
    (void)sig;
}

int vcpu_signals_init(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN gets EINTR */
    sigemptyset(&sa.sa_mask);
    return sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

int vcpu_create(struct vcpu *v, int id, const struct vcpu_env *env)
{
    memset(v, 0, sizeof(*v));
    v->id = id;
    v->env = env;
    v->fd = -1;
    return kvm_create_vcpu(env->kvm, id, &v->fd, &v->run);
}

void vcpu_destroy(struct vcpu *v)
{
    if (v->fd >= 0)
        kvm_destroy_vcpu(v->env->kvm, v->fd, v->run);
    v->fd = -1;
    v->run = NULL;
}

static void crash(struct vcpu *v, const char *what)
{
    fprintf(stderr, "minivmm: vCPU %d: %s\n", v->id, what);
    x86_vcpu_dump(v->fd, v->env->mem, stderr);
    v->env->stop.request_stop(v->env->stop.opaque, VM_STOP_CRASH, 0);
}

static void handle_io(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;

    for (uint32_t i = 0; i < run->io.count; i++) {
        bus_dispatch(v->env->pio, run->io.port, data, run->io.size,
                     run->io.direction == KVM_EXIT_IO_OUT);
        data += run->io.size;
    }
}

static void handle_system_event(struct vcpu *v)
{
    const struct vm_stop_ctl *s = &v->env->stop;

    switch (v->run->system_event.type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN:
        s->request_stop(s->opaque, VM_STOP_POWEROFF, 0);
        break;
    case KVM_SYSTEM_EVENT_RESET:
        s->request_stop(s->opaque, VM_STOP_RESET, 0);
        break;
    default:
        crash(v, "guest reported a crash (KVM system event)");
        break;
    }
}

static void handle_internal_error(struct vcpu *v)
{
    char what[96];
    int r;

    if (v->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
        r = x86_complete_emulation(v->fd, v->env->mem);
        if (r == 1)
            return;
    }
    snprintf(what, sizeof(what), "KVM internal error, suberror %u%s",
             v->run->internal.suberror,
             v->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                 ? " (instruction emulation failed)"
                 : "");
    crash(v, what);
}

/* One exit. Returns false when the vCPU must stop. */
static bool handle_exit(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    char what[64];

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        handle_io(v);
        return true;
    case KVM_EXIT_MMIO:
        bus_dispatch(v->env->mmio, run->mmio.phys_addr, run->mmio.data,
                     run->mmio.len, run->mmio.is_write);
        return true;
    case KVM_EXIT_INTR:
    case KVM_EXIT_HLT:
        return true;
    case KVM_EXIT_SHUTDOWN:
        crash(v, "triple fault (KVM_EXIT_SHUTDOWN)");
        return false;
    case KVM_EXIT_SYSTEM_EVENT:
        handle_system_event(v);
        return false;
    case KVM_EXIT_INTERNAL_ERROR:
        handle_internal_error(v);
        return !__atomic_load_n(v->env->stopping, __ATOMIC_ACQUIRE);
    case KVM_EXIT_FAIL_ENTRY:
        snprintf(what, sizeof(what), "VM entry failed, reason %#llx",
                 (unsigned long long)
                     run->fail_entry.hardware_entry_failure_reason);
        crash(v, what);
        return false;
    default:
        snprintf(what, sizeof(what), "unhandled KVM exit %u",
                 run->exit_reason);
        crash(v, what);
        return false;
    }
}

static void *vcpu_thread(void *arg)
{
    struct vcpu *v = arg;
    char name[16];

    snprintf(name, sizeof(name), "vcpu%d", v->id);
    pthread_setname_np(pthread_self(), name);
    while (!__atomic_load_n(v->env->stopping, __ATOMIC_ACQUIRE)) {
        int r = kvm_vcpu_ioctl(v->fd, KVM_RUN, NULL);

        v->exits++;
        if (r == -EINTR || r == -EAGAIN) {
            __atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
            continue;
        }
        if (r < 0) {
            fprintf(stderr, "minivmm: vCPU %d: KVM_RUN: %s\n", v->id,
                    strerror(-r));
            v->env->stop.request_stop(v->env->stop.opaque, VM_STOP_ERROR, 0);
            break;
        }
        if (!handle_exit(v))
            break;
    }
    return NULL;
}

int vcpu_start(struct vcpu *v)
{
    int r = pthread_create(&v->thread, NULL, vcpu_thread, v);

    if (r)
        return -r;
    v->started = true;
    return 0;
}

void vcpu_kick(struct vcpu *v)
{
    if (!v->started)
        return;
    __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
    pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
    if (v->started)
        pthread_join(v->thread, NULL);
    v->started = false;
}
