/* SPDX-License-Identifier: BSD-3-Clause */
/* The migration thread: connect, pre-copy RAM under dirty logging until
 * the rest fits the downtime target, have the event loop stop the guest,
 * send the rest and the state, and settle with the destination (see
 * migration.h). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/clock.h"
#include "vmm/devreg.h"
#include "vmm/dirty.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "vmm/sched_slice.h"
#include "minivmm/persist/migration_auth.h"
#include "minivmm/persist/migration_conv.h"
#include "minivmm/persist/migration_fmt.h"
#include "minivmm/persist/migration_net.h"
#include "minivmm/persist/migration_core.h"
#include "minivmm/persist/migration_run.h"
#include "minivmm/persist/migration_send.h"

#define CONNECT_WAIT_MS 3000
#define PG 4096ULL

struct run {
    struct migration *m;
    struct mig_tx tx;
    struct mig_conv conv;   /* rate, pass decision, throttle */
    uint64_t *bits;         /* pages to send next, memfd numbering */
    bool built;             /* the destination's VM is built */
    bool dev_logging;       /* devices' DMA dirty logging was started */
    bool drained;           /* the destination took all that was sent */
    uint64_t npages;
    uint64_t t_start, t_sync, t_stop;
    /* The stop's timeline (µs, clock_now_us), logged at debug level:
     * dirty log read, devices' logs read, pages sent, state+END sent,
     * the destination's reply, its RUNNING. */
    uint64_t t_dlog, t_ddev, t_pages, t_state, t_reply, t_running;
};

/* Record the first error (later ones are consequences). */
static void set_error(struct migration *m, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&m->lock);
    if (!m->error[0]) {
        va_start(ap, fmt);
        vsnprintf(m->error, sizeof(m->error), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&m->lock);
}

static bool cancelled(struct migration *m)
{
    return __atomic_load_n(&m->cancel, __ATOMIC_ACQUIRE);
}

/* Move to the next phase unless cancelled. */
static int step(struct migration *m, enum mig_event ev)
{
    int r;

    pthread_mutex_lock(&m->lock);
    r = cancelled(m) ? -ECANCELED : mig_apply_locked(m, ev);
    pthread_mutex_unlock(&m->lock);
    mig_kick_loop(m);
    return r;
}

/* After a send failed: the destination may have said why before it hung
 * up (its reply record, maybe after its BUILT message). */
static void peer_reason(struct run *rn)
{
    uint8_t buf[MIG_REPLY_SIZE + 8];
    struct pollfd p = { .fd = rn->tx.fd, .events = POLLIN };
    char why[MIG_REPLY_SIZE];
    size_t got = 0, off;
    uint32_t status;

    while (got < sizeof(buf) && poll(&p, 1, 200) > 0) {
        ssize_t n = recv(rn->tx.fd, buf + got, sizeof(buf) - got,
                         MSG_DONTWAIT);

        if (n <= 0)
            break;
        got += (size_t)n;
    }
    off = got >= 8 && !memcmp(buf, MIG_BUILT, 8) ? 8 : 0;
    if (got - off >= MIG_REPLY_SIZE &&
        mig_reply_decode(buf + off, &status, why, sizeof(why)) == 0 &&
        status)
        set_error(rn->m, "the destination failed: %s", why);
}

static int io_fail(struct run *rn, const char *what, int r)
{
    if (!cancelled(rn->m) && r != -ECANCELED && rn->tx.fd >= 0)
        peer_reason(rn);
    if (!cancelled(rn->m))
        set_error(rn->m, "%s: %s", what, r == -EPIPE ?
                  "connection closed by the destination" : strerror(-r));
    return r;
}

/* Pass statistics after @bytes in @us microseconds. */
static void account_pass(struct run *rn, uint64_t bytes, uint64_t us)
{
    struct mig_stats *s = &rn->m->st;

    pthread_mutex_lock(&rn->m->lock);
    s->iterations++;
    s->bytes = rn->tx.bytes;
    mig_conv_sample(&rn->conv, bytes, us);
    s->bandwidth = mig_conv_rate(&rn->conv);
    s->total_ms = (clock_now_us() - rn->t_start) / 1000;
    pthread_mutex_unlock(&rn->m->lock);
}

enum dev_dirty_op { DEV_DIRTY_START, DEV_DIRTY_SYNC, DEV_DIRTY_STOP };

/* Run @op on every device that reports DMA writes (devreg dirty ops);
 * for SYNC, OR their pages into rn->bits. Stops at the first failure
 * (except for STOP, which goes on) and names the device. */
static int dev_dirty(struct run *rn, enum dev_dirty_op op)
{
    struct devreg *devs = rn->m->env.devs;
    unsigned int n = devs ? devreg_count(devs) : 0;
    static const char *const what[] = { "starting", "reading", "stopping" };
    char id[DEVREG_ID_MAX];
    struct devreg_entry e;
    int ret = 0;

    for (unsigned int i = 0; i < n; i++) {
        uint64_t count;
        int r;

        if (devreg_get(devs, i, &e, id) < 0 || !e.dirty)
            continue;
        r = op == DEV_DIRTY_START ? e.dirty->start(e.opaque) :
            op == DEV_DIRTY_SYNC ? e.dirty->sync(e.opaque, rn->bits,
                                                 rn->npages, &count) :
            e.dirty->stop(e.opaque);
        if (r < 0 && ret == 0) {
            set_error(rn->m, "device %s: %s its DMA dirty log: %s", id,
                      what[op], strerror(-r));
            ret = r;
        }
        if (ret < 0 && op != DEV_DIRTY_STOP)
            break;
    }
    return ret;
}

/* The migration will not converge: say why and what to change. */
static int give_up(struct run *rn, uint64_t dirty, uint64_t dirty_rate)
{
    const struct mig_conv *c = &rn->conv;

    set_error(rn->m, "the migration does not converge: %llu MiB still "
              "dirty after %u passes (dirtied at %llu MiB/s, sent at %llu "
              "MiB/s: %llu ms at the stop, target %u ms, throttle %u%%); "
              "raise downtime-ms, %s or give it more bandwidth",
              (unsigned long long)(dirty >> 20), c->passes,
              (unsigned long long)(dirty_rate >> 20),
              (unsigned long long)(mig_conv_rate(c) >> 20),
              (unsigned long long)(mig_conv_expected_us(c, dirty) / 1000),
              c->p.downtime_ms, c->throttle_pct,
              c->p.auto_converge ? "slow the guest's writes"
                                 : "allow throttling (auto-converge)");
    return -ETIMEDOUT;
}

/* Sync the dirty log; whether what is left fits the downtime target
 * (migration_conv.h decides; it may raise the vCPU throttle). */
static int sync_and_decide(struct run *rn, bool *converged)
{
    struct migration *m = rn->m;
    struct mig_stats *s = &m->st;
    uint64_t n, t = clock_now_us(), dirty, rate;
    enum mig_conv_verdict v;
    int r = dirty_log_sync(m->dirty, rn->bits, &n);

    if (r < 0) {
        set_error(m, "reading the dirty log: %s", strerror(-r));
        return r;
    }
    r = dev_dirty(rn, DEV_DIRTY_SYNC);
    if (r < 0)
        return r;
    dirty = dirty_bits_count(rn->bits, rn->npages) * PG;
    rate = t > rn->t_sync ? dirty * 1000000 / (t - rn->t_sync) : 0;
    v = mig_conv_decide(&rn->conv, dirty);
    pthread_mutex_lock(&m->lock);
    s->remaining = dirty;
    s->dirty_rate = rate;
    s->expected_downtime_ms = mig_conv_expected_us(&rn->conv, dirty) / 1000;
    s->throttle_pct = rn->conv.throttle_pct;
    *converged = v == MIG_CONV_STOP;
    m->progress_pending = true;
    pthread_mutex_unlock(&m->lock);
    rn->t_sync = t;
    mig_kick_loop(m);
    log_debug("migration: pass %u: %llu KiB dirty, %llu KiB/s dirtied, "
              "send rate %llu KiB/s, expected %llu ms, throttle %u%%",
              rn->conv.passes, (unsigned long long)(dirty >> 10),
              (unsigned long long)(rate >> 10),
              (unsigned long long)(mig_conv_rate(&rn->conv) >> 10),
              (unsigned long long)s->expected_downtime_ms,
              rn->conv.throttle_pct);
    return v == MIG_CONV_GIVE_UP ? give_up(rn, dirty, rate) : 0;
}

static int send_dirty(struct run *rn)
{
    uint64_t t = clock_now_us(), b = rn->tx.bytes, sent;
    int r = mig_tx_ram_dirty(&rn->tx, rn->bits, &sent);

    if (r < 0)
        return io_fail(rn, "sending dirty pages", r);
    memset(rn->bits, 0, dirty_words(rn->npages) * 8);
    account_pass(rn, rn->tx.bytes - b, clock_now_us() - t);
    return 0;
}

/* Wait for the destination's MIG_BUILT (or its error reply) while the
 * guest still runs. */
static int wait_built(struct run *rn)
{
    uint8_t buf[MIG_REPLY_SIZE];
    uint32_t status;
    char why[MIG_REPLY_SIZE];
    int r = mig_recv(rn->tx.fd, buf, 8);

    if (r < 0)
        return io_fail(rn, "waiting for the destination's VM", r);
    if (!memcmp(buf, MIG_BUILT, 8)) {
        rn->built = true;
        return 0;
    }
    if (memcmp(buf, MIG_REPLY_MAGIC, 8) ||
        mig_recv(rn->tx.fd, buf + 8, sizeof(buf) - 8) < 0 ||
        mig_reply_decode(buf, &status, why, sizeof(why)) < 0) {
        set_error(rn->m, "the destination's reply is not understood");
        return -EPROTO;
    }
    set_error(rn->m, "the destination failed: %s", why);
    return status ? -(int)status : -EPROTO;
}

#define DRAIN_MAX_US 500000     /* the destination's read of the backlog */
#define DRAIN_SLACK 0           /* down to the stop notice itself */

/* Converged: tell the destination the stop is coming (it boosts its
 * thread when it reads that, before it waits for the final pass), then
 * let it read what pre-copy queued in the socket (mig_drain), so the
 * final pass does not wait behind it in the downtime. The guest runs
 * meanwhile: the caller syncs again. Bounded; a timeout only costs
 * downtime. */
static int drain(struct run *rn)
{
    uint64_t t = clock_now_us();
    int r = mig_tx_stopping(&rn->tx);
    long q;

    if (r < 0)
        return io_fail(rn, "announcing the stop", r);
    q = mig_drain(rn->tx.fd, DRAIN_SLACK, DRAIN_MAX_US);
    rn->drained = true;
    log_debug("migration: backlog drained in %.3f ms (%ld bytes left)",
              (double)(clock_now_us() - t) / 1e3, q);
    return 0;
}

/* RAM pass 1, then dirty passes until converged. */
static int precopy(struct run *rn)
{
    uint64_t t = clock_now_us();
    bool converged = false;
    int r = mig_tx_ram_all(&rn->tx);

    if (r < 0)
        return io_fail(rn, "sending guest RAM", r);
    account_pass(rn, rn->tx.bytes, clock_now_us() - t);
    for (;;) {
        if (cancelled(rn->m))
            return -ECANCELED;
        r = sync_and_decide(rn, &converged);
        if (r == 0 && converged && !rn->built) {
            r = wait_built(rn);
            if (r < 0)
                return r;
            continue; /* it may have taken a while: sync again */
        }
        if (r == 0 && converged && !rn->drained) {
            r = drain(rn);
            if (r < 0)
                return r;
            continue; /* likewise */
        }
        if (r < 0 || converged)
            return r;
        rn->drained = false;
        r = send_dirty(rn);
        if (r < 0)
            return r;
    }
}

/* GO is out: only the destination's answer may end the source's guest.
 * MIG_RUNNING: it runs (completed). An error record: it refused and will
 * never run (failed: the guest resumes here). Nothing before the deadline,
 * a cut or garbage: in doubt (the guest stays paused here, whole). */
static int await_running(struct run *rn)
{
    struct migration *m = rn->m;
    uint8_t buf[MIG_REPLY_SIZE];
    char why[MIG_REPLY_SIZE];
    uint32_t status;
    unsigned int t = m->env.timeout_ms ? m->env.timeout_ms :
                                         MIG_DEFAULT_TIMEOUT_MS;
    int r;

    /* Twice the destination's deadline for GO: its refusal, sent when that
     * deadline passes, still arrives before this one. */
    r = mig_set_deadline(rn->tx.fd, t > UINT_MAX / 2 ? UINT_MAX : 2 * t);
    if (r == 0)
        r = mig_recv(rn->tx.fd, buf, 8);
    rn->t_running = clock_now_us();
    if (r == 0 && !memcmp(buf, MIG_RUNNING, 8)) {
        pthread_mutex_lock(&m->lock);
        mig_apply_locked(m, MIG_E_ACKED);
        pthread_mutex_unlock(&m->lock);
        mig_kick_loop(m);
        return 0;
    }
    if (r == 0 && !memcmp(buf, MIG_REPLY_MAGIC, 8) &&
        mig_recv(rn->tx.fd, buf + 8, sizeof(buf) - 8) == 0 &&
        mig_reply_decode(buf, &status, why, sizeof(why)) == 0 && status) {
        set_error(m, "the destination did not take the guest: %s", why);
        return -(int)status;
    }
    set_error(m, "hand-over in doubt: GO was sent, but the destination "
              "did not say it runs the guest (%s); the guest is kept here, "
              "paused: quit this minivmm if the destination runs it, "
              "resume it here if not",
              r < 0 ? strerror(-r) : "unexpected reply");
    pthread_mutex_lock(&m->lock);
    mig_apply_locked(m, MIG_E_NO_ANSWER);
    pthread_mutex_unlock(&m->lock);
    return -EPROTO;
}

/* Guest stopped: the last pages, the state, END; then the reply. */
static int complete(struct run *rn, const void *fdt, size_t len)
{
    struct migration *m = rn->m;
    uint8_t reply[MIG_REPLY_SIZE];
    uint32_t status;
    char why[MIG_REPLY_SIZE];
    uint64_t n, sent, t;
    int r = dirty_log_sync(m->dirty, rn->bits, &n);

    if (r < 0) {
        set_error(m, "reading the dirty log: %s", strerror(-r));
        return r;
    }
    rn->t_dlog = clock_now_us();
    mig_tx_set_cap(&rn->tx, 0); /* the stop-and-copy pass is downtime */
    r = dev_dirty(rn, DEV_DIRTY_SYNC);
    rn->t_ddev = clock_now_us();
    if (r == 0)
        r = mig_tx_ram_dirty(&rn->tx, rn->bits, &sent);
    rn->t_pages = clock_now_us();
    if (r == 0)
        r = mig_tx_state_end(&rn->tx, fdt, len);
    if (r < 0)
        return io_fail(rn, "sending the final pages and state", r);
    account_pass(rn, 0, 0);
    t = rn->t_state = clock_now_us();
    m->st.final_us = t - rn->t_stop - m->st.stop_us;
    r = mig_recv(rn->tx.fd, reply, sizeof(reply));
    rn->t_reply = clock_now_us();
    m->st.dest_us = rn->t_reply - t;
    if (r < 0)
        return io_fail(rn, "waiting for the destination", r);
    if (mig_reply_decode(reply, &status, why, sizeof(why)) < 0) {
        set_error(m, "the destination's reply is not understood");
        return -EPROTO;
    }
    if (status) {
        set_error(m, "the destination failed: %s", why);
        return -(int)status;
    }
    /* Commit: from here a cancel is refused (the destination may run). */
    pthread_mutex_lock(&m->lock);
    r = cancelled(m) ? -ECANCELED : 0;
    m->committed = r == 0;
    pthread_mutex_unlock(&m->lock);
    if (r == 0 && (r = mig_send(rn->tx.fd, MIG_GO, MIG_GO_SIZE)) < 0)
        return io_fail(rn, "telling the destination to go", r);
    return r < 0 ? r : await_running(rn);
}

/* Have the loop stop the guest, then complete. */
static int stop_and_complete(struct run *rn)
{
    struct migration *m = rn->m;
    void *fdt;
    size_t len;
    int r = step(m, MIG_E_CONVERGED);

    rn->t_stop = m->t_stop_req = clock_now_us();
    /* From here every hand-off is downtime: a short slice (best effort;
     * pre-copy kept the default, not to preempt the vCPUs more often),
     * and a bounded real-time boost where permitted (vmm/rt_boost.h). */
    sched_slice_set(0, SCHED_SLICE_SHORT_US);
    if (r == 0 && m->env.host->boost_on)
        m->env.host->boost_on(m->env.host_opaque, m->par.rt_boost);
    if (r == 0 && m->env.host->stop_early)
        m->env.host->stop_early(m->env.host_opaque);
    if (r == 0)
        r = mig_ask_loop(m, MIG_REQ_STOP, false);
    m->st.stop_us = clock_now_us() - rn->t_stop;
    pthread_mutex_lock(&m->lock);
    fdt = m->fdt;
    len = m->fdt_len;
    m->fdt = NULL;
    pthread_mutex_unlock(&m->lock);
    if (r == 0)
        r = step(m, MIG_E_STOPPED);
    if (r == 0)
        r = complete(rn, fdt, len);
    free(fdt);
    pthread_mutex_lock(&m->lock);
    m->st.downtime_us = clock_now_us() - rn->t_stop;
    m->st.total_ms = (clock_now_us() - rn->t_start) / 1000;
    pthread_mutex_unlock(&m->lock);
    /* Before end(): a guest that resumes here never runs boosted. */
    if (m->env.host->boost_off)
        m->env.host->boost_off(m->env.host_opaque,
                               r < 0 && cancelled(m) ? -ECANCELED : r);
    if (r == 0)
        log_debug("migration: stop timeline (ms from the stop request): "
                  "loop woke %.3f, loop stopped the guest %.3f, dirty log %.3f, device "
                  "logs %.3f, final pages %.3f, state+END %.3f, reply "
                  "%.3f, RUNNING %.3f",
                  (double)(m->t_stop_loop - rn->t_stop) / 1e3,
                  (double)m->st.stop_us / 1e3,
                  (double)(rn->t_dlog - rn->t_stop) / 1e3,
                  (double)(rn->t_ddev - rn->t_stop) / 1e3,
                  (double)(rn->t_pages - rn->t_stop) / 1e3,
                  (double)(rn->t_state - rn->t_stop) / 1e3,
                  (double)(rn->t_reply - rn->t_stop) / 1e3,
                  (double)(rn->t_running - rn->t_stop) / 1e3);
    if (r == 0)
        log_info("minivmm: migrated to %s: %llu MiB in %u passes, "
                 "%llu ms; downtime %.1f ms (stop %.1f, final send %.1f, "
                 "destination %.1f)", m->uri,
                 (unsigned long long)(rn->tx.bytes >> 20), m->st.iterations,
                 (unsigned long long)m->st.total_ms,
                 (double)m->st.downtime_us / 1e3,
                 (double)m->st.stop_us / 1e3, (double)m->st.final_us / 1e3,
                 (double)m->st.dest_us / 1e3);
    return r;
}

/* Connect and send the stream header with dirty logging on. */
static int setup(struct run *rn)
{
    struct migration *m = rn->m;
    char err[256];
    int fd, r = mig_connect(&m->u, CONNECT_WAIT_MS, &fd, err, sizeof(err));

    if (r < 0) {
        set_error(m, "%s", err);
        return r;
    }
    pthread_mutex_lock(&m->lock);
    m->fd = fd;
    pthread_mutex_unlock(&m->lock);
    r = mig_set_deadline(fd, m->env.timeout_ms ? m->env.timeout_ms :
                                 MIG_DEFAULT_TIMEOUT_MS);
    if (r < 0)
        set_error(m, "setting the peer deadline: %s", strerror(-r));
    if (r == 0 && (r = mig_auth_respond(fd, &m->u, err, sizeof(err))) < 0)
        set_error(m, "%s", err);
    if (r == 0)
        r = step(m, MIG_E_CONNECTED);
    if (r == 0 && (r = mig_tx_init(&rn->tx, fd, m->env.mem)) < 0)
        set_error(m, "out of memory");
    if (r == 0 && (r = dirty_log_start(m->dirty)) < 0)
        set_error(m, "starting dirty logging: %s", strerror(-r));
    if (r == 0 && (r = dev_dirty(rn, DEV_DIRTY_START)) < 0)
        rn->dev_logging = true; /* some may have started: stop them all */
    else if (r == 0)
        rn->dev_logging = true;
    if (r == 0 && (r = mig_tx_header(&rn->tx, m->env.cpus)) < 0)
        io_fail(rn, "sending the stream header", r);
    if (r == 0)
        mig_tx_set_cap(&rn->tx, m->par.max_bandwidth);
    return r;
}

void *mig_thread_main(void *arg)
{
    struct run rn = { .m = arg, .t_start = clock_now_us() };
    struct migration *m = rn.m;
    int r;

    pthread_setname_np(pthread_self(), "migration");
    rn.t_sync = rn.t_start;
    rn.tx.fd = -1;
    rn.npages = dirty_log_pages(m->dirty);
    rn.bits = calloc(dirty_words(rn.npages) + 1, 8);
    mig_conv_init(&rn.conv, &(struct mig_conv_params){
                      .downtime_ms = m->par.downtime_ms,
                      .auto_converge = !m->par.no_auto_converge });
    r = rn.bits ? sc_install(SC_T_MIGRATION, m->env.seccomp) : -ENOMEM;
    if (r == 0)
        r = setup(&rn);
    if (r == 0)
        r = precopy(&rn);
    if (r == 0)
        r = stop_and_complete(&rn);
    if (rn.dev_logging)
        dev_dirty(&rn, DEV_DIRTY_STOP);
    dirty_log_stop(m->dirty);
    mig_tx_fini(&rn.tx);
    free(rn.bits);
    pthread_mutex_lock(&m->lock);
    if (r < 0 && cancelled(m))
        snprintf(m->error, sizeof(m->error), "cancelled");
    if (r < 0 && m->state != MIG_S_IN_DOUBT)
        mig_apply_locked(m, cancelled(m) ? MIG_E_CANCELLED : MIG_E_ERROR);
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
    m->st.total_ms = (clock_now_us() - rn.t_start) / 1000;
    pthread_mutex_unlock(&m->lock);
    mig_ask_loop(m, MIG_REQ_END, r == 0);
    return NULL;
}
