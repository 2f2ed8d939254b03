/* SPDX-License-Identifier: BSD-3-Clause */
/* The KVM VM and memslots, inline or on a thread (see kvm_early.h). */
#include "minivmm/kvm_early.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/clock.h"
#include "vmm/log.h"

enum { EARLY_WAIT, EARLY_MAP, EARLY_CANCEL };

struct kvm_early {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int cmd;                       /* EARLY_*, under lock */
    struct guest_memory mem;       /* regions only (kvm_early_map) */
    struct kvm kvm;
    int r;
    char err[256];
    uint64_t t_start, t_vm, t_map, t_done; /* ns, CLOCK_MONOTONIC */
};

int vm_kvm_open(struct kvm *kvm, char *err, size_t errlen)
{
    int r = kvm_open(kvm);

    if (r < 0)
        snprintf(err, errlen, "cannot use /dev/kvm: %s%s", strerror(-r),
                 r == -ENOENT ? " (is the kvm module loaded?)" : "");
    return r;
}

int vm_kvm_memslots(const struct kvm *kvm, const struct guest_memory *mem,
                    char *err, size_t errlen)
{
    for (unsigned int i = 0; i < mem->nregions; i++) {
        const struct guest_region *g = &mem->regions[i];
        int r = kvm_set_memslot(kvm, i, g->gpa, g->size, g->hva, 0);

        if (r < 0) {
            snprintf(err, errlen, "KVM_SET_USER_MEMORY_REGION %u: %s", i,
                     strerror(-r));
            return r;
        }
    }
    return 0;
}

static void *early_thread(void *arg)
{
    struct kvm_early *e = arg;
    sigset_t all;
    int cmd;

    sigfillset(&all); /* signals are the main thread's */
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    e->r = vm_kvm_open(&e->kvm, e->err, sizeof(e->err));
    e->t_vm = clock_now_ns();
    pthread_mutex_lock(&e->lock);
    while ((cmd = e->cmd) == EARLY_WAIT)
        pthread_cond_wait(&e->cond, &e->lock);
    pthread_mutex_unlock(&e->lock);
    e->t_map = clock_now_ns();
    if (e->r == 0 && cmd == EARLY_MAP)
        e->r = vm_kvm_memslots(&e->kvm, &e->mem, e->err, sizeof(e->err));
    e->t_done = clock_now_ns();
    return NULL;
}

int kvm_early_start(struct kvm_early **out)
{
    struct kvm_early *e = calloc(1, sizeof(*e));
    int r;

    *out = NULL;
    if (!e)
        return -ENOMEM;
    e->kvm.sys_fd = e->kvm.vm_fd = -1;
    e->mem.fd = -1;
    e->t_start = clock_now_ns();
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->cond, NULL);
    r = -pthread_create(&e->thread, NULL, early_thread, e);
    if (r < 0) {
        pthread_cond_destroy(&e->cond);
        pthread_mutex_destroy(&e->lock);
        free(e);
        return r;
    }
    *out = e;
    return 0;
}

static void tell(struct kvm_early *e, int cmd)
{
    pthread_mutex_lock(&e->lock);
    if (e->cmd == EARLY_WAIT)
        e->cmd = cmd;
    pthread_cond_signal(&e->cond);
    pthread_mutex_unlock(&e->lock);
}

void kvm_early_map(struct kvm_early *e, const struct guest_memory *mem)
{
    e->mem.nregions = mem->nregions;
    memcpy(e->mem.regions, mem->regions,
           mem->nregions * sizeof(mem->regions[0]));
    tell(e, EARLY_MAP); /* the mutex orders the copy before the thread */
}

static void early_free(struct kvm_early *e)
{
    pthread_cond_destroy(&e->cond);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

int kvm_early_join(struct kvm_early *e, struct kvm *kvm, bool *mapped,
                   char *err, size_t errlen)
{
    uint64_t t = clock_now_ns();
    int r;

    tell(e, EARLY_CANCEL); /* no-op once told to map */
    pthread_join(e->thread, NULL);
    *mapped = e->cmd == EARLY_MAP;
    r = e->r;
    log_debug("minivmm: restore: KVM_CREATE_VM %llu us, memslots %llu us "
              "on their own thread; the join waited %llu us",
              (unsigned long long)(e->t_vm - e->t_start) / 1000,
              (unsigned long long)(*mapped ? (e->t_done - e->t_map) / 1000 :
                                   0),
              (unsigned long long)(clock_now_ns() - t) / 1000);
    if (r < 0) {
        snprintf(err, errlen, "%s", e->err);
        kvm_close(&e->kvm);
    } else {
        *kvm = e->kvm;
    }
    early_free(e);
    return r;
}

void kvm_early_cancel(struct kvm_early *e)
{
    if (!e)
        return;
    tell(e, EARLY_CANCEL);
    pthread_join(e->thread, NULL);
    kvm_close(&e->kvm);
    early_free(e);
}
