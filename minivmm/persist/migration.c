/* SPDX-License-Identifier: BSD-3-Clause */
/* Outgoing live migration: the object, the API side and the event-loop
 * side (see migration.h); the thread's work is in migration_run.c. */
#include "minivmm/persist/migration.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/clock.h"
#include "vmm/dirty.h"
#include "vmm/evloop.h"
#include "minivmm/persist/migration_core.h"
#include "minivmm/persist/migration_run.h"

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
    json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

/* The status fields; m->lock held. */
static void status_locked(struct migration *m, struct json_object *o)
{
    const struct mig_stats *s = &m->st;

    json_object_object_add(o, "state",
                           json_object_new_string(mig_fsm_name(m->state)));
    if (m->state == MIG_S_NONE)
        return;
    json_object_object_add(o, "uri", json_object_new_string(m->uri));
    add_u64(o, "iterations", s->iterations);
    add_u64(o, "bytes-sent", s->bytes);
    add_u64(o, "bytes-remaining", s->remaining);
    add_u64(o, "dirty-rate", s->dirty_rate);
    add_u64(o, "bandwidth", s->bandwidth);
    add_u64(o, "expected-downtime-ms", s->expected_downtime_ms);
    add_u64(o, "total-ms", s->total_ms);
    add_u64(o, "downtime-target-ms", m->par.downtime_ms);
    add_u64(o, "throttle-percent", s->throttle_pct);
    if (m->state == MIG_S_COMPLETED) {
        char ms[32];

        snprintf(ms, sizeof(ms), "%.3f", (double)s->downtime_us / 1000.0);
        json_object_object_add(o, "downtime-ms",
                               json_object_new_double_s(
                                   (double)s->downtime_us / 1000.0, ms));
    }
    if (m->error[0])
        json_object_object_add(o, "failure",
                               json_object_new_string(m->error));
}

void migration_status(struct migration *m, struct json_object *obj)
{
    pthread_mutex_lock(&m->lock);
    status_locked(m, obj);
    pthread_mutex_unlock(&m->lock);
}

static void send_progress(struct migration *m)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "event", json_object_new_string("migration"));
    migration_status(m, o);
    if (m->env.host->event)
        m->env.host->event(m->env.host_opaque, o);
    json_object_put(o);
}

/* Auto-converge: pass the thread's throttle to the VM (loop thread). */
static void apply_throttle(struct migration *m, unsigned int pct)
{
    if (pct == m->throttle_set || !m->env.host->throttle)
        return;
    m->env.host->throttle(m->env.host_opaque, pct);
    m->throttle_set = pct;
}

/* The thread is done (REQ_END posted): hand the VM back or stop it. */
static void finish(struct migration *m, bool done)
{
    enum mig_state s;

    pthread_mutex_lock(&m->lock);
    s = m->state;
    pthread_mutex_unlock(&m->lock);
    apply_throttle(m, 0);
    m->env.host->end(m->env.host_opaque,
                     done ? MIG_END_DONE :
                     s == MIG_S_IN_DOUBT ? MIG_END_IN_DOUBT : MIG_END_FAILED);
    pthread_join(m->thread, NULL);
    m->thread_live = false;
    send_progress(m);
}

static void serve_stop(struct migration *m)
{
    char err[200] = "";
    void *fdt = NULL;
    size_t len = 0;
    int r;

    m->t_stop_loop = clock_now_us();
    apply_throttle(m, 0);
    r = m->env.host->stop(m->env.host_opaque, &fdt, &len, err,
                              sizeof(err));

    pthread_mutex_lock(&m->lock);
    m->fdt = fdt;
    m->fdt_len = len;
    m->req_ret = r;
    if (r < 0)
        snprintf(m->error, sizeof(m->error), "stopping the guest: %s",
                 err[0] ? err : strerror(-r));
    m->req = MIG_REQ_NONE;
    m->req_finished = true;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

static void on_kick(void *opaque, int fd, uint32_t events)
{
    struct migration *m = opaque;
    enum mig_req req;
    bool progress, done;
    unsigned int pct;
    uint64_t v;

    (void)events;
    if (read(fd, &v, sizeof(v)) < 0) {
        /* spurious: the fields below say what to do */
    }
    pthread_mutex_lock(&m->lock);
    req = m->req;
    done = m->req_done_flag;
    pct = m->state == MIG_S_PRECOPY ? m->st.throttle_pct : 0;
    /* The final state goes out once, from finish(), with all figures. */
    progress = m->progress_pending && mig_fsm_active(m->state);
    m->progress_pending = false;
    if (req == MIG_REQ_END)
        m->req = MIG_REQ_NONE;
    pthread_mutex_unlock(&m->lock);
    if (req == MIG_REQ_NONE)
        apply_throttle(m, pct);
    if (req == MIG_REQ_STOP)
        serve_stop(m);
    if (req == MIG_REQ_END)
        finish(m, done);
    else if (progress)
        send_progress(m);
}

int migration_start(struct migration *m, const char *uri,
                    const struct migration_params *p, char *err,
                    size_t errlen)
{
    struct mig_uri u;
    int r;

    if (m->thread_live || mig_fsm_active(m->state)) {
        snprintf(err, errlen, "a migration is already under way");
        return -EBUSY;
    }
    r = mig_uri_parse(uri, &u, err, errlen);
    if (r == 0)
        r = m->env.host->begin(m->env.host_opaque, err, errlen);
    if (r < 0)
        return r;
    pthread_mutex_lock(&m->lock);
    mig_apply_locked(m, MIG_E_START);
    m->u = u;
    m->par = p ? *p : (struct migration_params){ 0 };
    if (!m->par.downtime_ms)
        m->par.downtime_ms = m->env.downtime_ms;
    snprintf(m->uri, sizeof(m->uri), "%s", uri);
    if (strstr(m->uri, ",token")) /* never shown: status, events, logs */
        *strstr(m->uri, ",token") = 0;
    memset(&m->st, 0, sizeof(m->st));
    m->error[0] = 0;
    m->cancel = 0;
    m->committed = false;
    m->fd = -1;
    pthread_mutex_unlock(&m->lock);
    r = pthread_create(&m->thread, NULL, mig_thread_main, m);
    if (r) {
        pthread_mutex_lock(&m->lock);
        mig_apply_locked(m, MIG_E_ERROR);
        pthread_mutex_unlock(&m->lock);
        m->env.host->end(m->env.host_opaque, MIG_END_FAILED);
        snprintf(err, errlen, "migration thread: %s", strerror(r));
        return -r;
    }
    m->thread_live = true;
    send_progress(m);
    return 0;
}

int migration_cancel(struct migration *m, char *err, size_t errlen)
{
    int r = 0;

    pthread_mutex_lock(&m->lock);
    if (!mig_fsm_active(m->state)) {
        snprintf(err, errlen, "no migration under way");
        r = -ENOENT;
    } else if (m->committed) {
        snprintf(err, errlen, "too late: the destination runs the guest");
        r = -EBUSY;
    } else {
        __atomic_store_n(&m->cancel, 1, __ATOMIC_RELEASE);
        if (m->fd >= 0)
            shutdown(m->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&m->lock);
    return r;
}

int migration_create(const struct migration_env *env,
                     struct migration **out)
{
    struct migration *m = calloc(1, sizeof(*m));
    int r;

    if (!m)
        return -ENOMEM;
    m->env = *env;
    if (!m->env.downtime_ms)
        m->env.downtime_ms = MIGRATION_DEFAULT_DOWNTIME_MS;
    m->fd = -1;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    m->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r = m->efd < 0 ? -errno : dirty_log_create(env->kvm, env->mem, &m->dirty);
    if (r == 0)
        r = evloop_add(env->loop, m->efd, EPOLLIN, on_kick, m);
    if (r < 0) {
        migration_destroy(m);
        return r;
    }
    m->in_loop = true;
    *out = m;
    return 0;
}

void migration_destroy(struct migration *m)
{
    if (!m)
        return;
    if (m->thread_live) {
        pthread_mutex_lock(&m->lock);
        m->loop_gone = true;
        __atomic_store_n(&m->cancel, 1, __ATOMIC_RELEASE);
        if (m->fd >= 0)
            shutdown(m->fd, SHUT_RDWR);
        pthread_cond_broadcast(&m->cond);
        pthread_mutex_unlock(&m->lock);
        pthread_join(m->thread, NULL);
    }
    if (m->in_loop)
        evloop_del(m->env.loop, m->efd);
    if (m->efd >= 0)
        close(m->efd);
    dirty_log_destroy(m->dirty);
    free(m->fdt);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    free(m);
}
