/* SPDX-License-Identifier: BSD-3-Clause */
/* The destination of a live migration (see migration_in.h). */
#include "minivmm/migration_in.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#include "minivmm/config.h"
#include "vmm/clock.h"
#include "vmm/host_limits.h"
#include "vmm/log.h"
#include "vmm/rt_boost.h"
#include "vmm/sched_slice.h"
#include "vmm/memory.h"
#include "minivmm/persist/migration_auth.h"
#include "minivmm/persist/migration_fmt.h"
#include "minivmm/persist/migration_net.h"
#include "minivmm/persist/vmstate.h"
#include "minivmm/vm.h"

#define PG SNAP_PAGE_SIZE
#define RAM_FIXED_MAX (SNAP_RAM_HEADER_SIZE + SNAP_RAM_MAX_PAGES / 8)
#define IOV_BATCH 1024

struct rx {
    int fd;
    struct mig_rx rx;
    struct vm_config *cfg;
    struct vm *vm;          /* built at CONFIG */
    struct vm_restore rs;   /* what vm_restore() took over */
    struct guest_memory mem;    /* until the VM takes it over */
    struct guest_memory *gm;    /* where RAM goes: mem, then the VM's */
    XXH3_state_t *xxh;
    struct iovec *iov;
    uint8_t *fixed;         /* RAM_FIXED_MAX */
    void *state;            /* the state tree */
    size_t state_len;
    uint64_t bytes;
    /* This thread's real-time boost from the source's stop notice (or
     * STATE) on; on success it is handed to the vCPU threads it creates
     * next (rt_boost_handover), and each drops it as it starts to run
     * (vm.c start(), vcpu.c). */
    struct rt_boost boost;
    unsigned int boosts;    /* boost() calls */
    /* The hand-over's timeline (µs, clock_now_us; debug log): the
     * source's stop notice read, STATE received, loaded, END read, GO
     * read. */
    uint64_t t_notice, t_state, t_loaded, t_end, t_go;
};

static int bad(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s", why);
    return -EINVAL;
}

/* The present pages of @r straight into guest RAM, hashed after. */
static int recv_pages(struct rx *x, const struct snap_ram *r)
{
    uint8_t *hva = guest_memory_hva(x->gm, r->gpa, r->npages * PG);
    uint32_t i = 0;
    int r2 = 0;

    if (!hva)
        return -EFAULT;
    while (r2 == 0 && i < r->npages) {
        int cnt = 0;

        while (i < r->npages && cnt < IOV_BATCH) {
            uint32_t n = 0;

            while (i < r->npages && !snap_ram_page_present(r, i))
                i++;
            while (i + n < r->npages && snap_ram_page_present(r, i + n))
                n++;
            if (n)
                x->iov[cnt++] = (struct iovec){ hva + (uint64_t)i * PG,
                                                (size_t)n * PG };
            i += n;
        }
        for (int k = 0; k < cnt; k++)
            x->bytes += x->iov[k].iov_len;
        r2 = cnt ? mig_recvv(x->fd, x->iov, cnt) : 0;
    }
    return r2;
}

/* Hash the present pages of @r as they now are in guest RAM. */
static void hash_pages(struct rx *x, const struct snap_ram *r)
{
    const uint8_t *hva = guest_memory_hva(x->gm, r->gpa, r->npages * PG);

    for (uint32_t i = 0; i < r->npages; i++)
        if (snap_ram_page_present(r, i))
            XXH3_64bits_update(x->xxh, hva + (uint64_t)i * PG, PG);
}

static int recv_ram(struct rx *x, const struct snap_section *s, char *err,
                    size_t errlen)
{
    size_t fixed;
    struct snap_ram r;
    int ret = mig_recv(x->fd, x->fixed, SNAP_RAM_HEADER_SIZE);

    if (ret < 0)
        return ret;
    fixed = mig_ram_fixed_len(x->fixed);
    if (fixed > s->length)
        return bad(err, errlen, "ram section shorter than its bitmap");
    ret = mig_recv(x->fd, x->fixed + SNAP_RAM_HEADER_SIZE,
                   fixed - SNAP_RAM_HEADER_SIZE);
    if (ret < 0)
        return ret;
    if (mig_rx_ram(&x->rx, s, x->fixed, fixed, &r, err, errlen) < 0)
        return -EINVAL;
    ret = recv_pages(x, &r);
    if (ret < 0)
        return ret;
    XXH3_64bits_reset_withSeed(x->xxh, s->index);
    XXH3_64bits_update(x->xxh, x->fixed, fixed);
    hash_pages(x, &r);
    if (XXH3_64bits_digest(x->xxh) != s->check) {
        snprintf(err, errlen, "section %u (%s): checksum mismatch "
                 "(corrupt)", s->index, mig_section_name(s->type));
        return -EINVAL;
    }
    return 0;
}

/* A whole small payload into a buffer, checksum verified. */
static int recv_blob(struct rx *x, const struct snap_section *s, void **out,
                     char *err, size_t errlen)
{
    void *buf = malloc(s->length ? s->length : 1);
    int r;

    if (!buf)
        return -ENOMEM;
    r = mig_recv(x->fd, buf, s->length);
    if (r == 0 && snap_checksum(buf, s->length, s->index) != s->check) {
        snprintf(err, errlen, "section %u (%s): checksum mismatch "
                 "(corrupt)", s->index, mig_section_name(s->type));
        r = -EINVAL;
    }
    if (r < 0) {
        free(buf);
        return r;
    }
    *out = buf;
    return 0;
}

/* CONFIG: build the VM now (no state loaded), so that its creation
 * (KVM memslots, devices, vCPUs) happens while RAM arrives, not in the
 * downtime. */
static int on_config(struct rx *x, const void *buf, size_t len, char *err,
                     size_t errlen)
{
    uint32_t cpus;
    int r = mig_rx_config(buf, len, &cpus, err, errlen);

    if (r < 0)
        return r;
    x->cfg->cpus = cpus;
    x->cfg->memory = x->rx.ram_size;
    x->rs = (struct vm_restore){ .mem = &x->mem, .state = NULL };
    r = vm_restore(x->cfg, &x->rs, &x->vm, err, errlen);
    if (r == 0)
        x->gm = vm_guest_memory(x->vm);
    if (r == 0)
        r = mig_send(x->fd, MIG_BUILT, 8);
    return r;
}

/* STATE: check it describes this VM, load it. */
static int on_state(struct rx *x, void *fdt, size_t len, char *err,
                    size_t errlen)
{
    unsigned int cpus;
    uint64_t memory;
    char why[384];
    int r = snap_state_check(fdt, len, err, errlen);

    x->state = fdt;
    x->state_len = len;
    if (r == 0 && vmstate_config(fdt, &cpus, &memory, why,
                                     sizeof(why)) < 0) {
        snprintf(err, errlen, "migration stream: %s", why);
        r = -EINVAL;
    }
    if (r == 0 && (cpus != x->cfg->cpus || memory != x->rx.ram_size)) {
        snprintf(err, errlen, "migration stream: the state tree does not "
                 "match the stream's config");
        r = -EINVAL;
    }
    return r < 0 ? r : vm_load_state(x->vm, fdt, err, errlen);
}

#define RX_BOOSTS_MAX 3     /* stop notices honoured (a source whose
                             * guest dirtied too much after one sends
                             * another pass, then a new notice) */

/* The final pass is coming (or here): boost this thread, bounded by the
 * cap, which recv_section checks between sections. */
static void boost(struct rx *x)
{
    pid_t self = gettid();

    if (x->boosts++ >= RX_BOOSTS_MAX)
        return;

    if (rt_boost_on(&x->boost, &self, 1, clock_now_us()) > 0)
        log_debug("migration: real-time boost (SCHED_FIFO %d) for the "
                  "final pass, at most %u ms", RT_BOOST_PRIO,
                  x->boost.cap_ms);
    else if (rt_boost_state(&x->boost) == RT_BOOST_UNPERMITTED)
        log_debug("migration: no real-time boost (SCHED_FIFO needs "
                  "CAP_SYS_NICE or RLIMIT_RTPRIO): short slices only");
}

/* One section; 1 after END. */
static int recv_section(struct rx *x, char *err, size_t errlen)
{
    uint8_t hb[SNAP_SECTION_HEADER_SIZE];
    struct snap_section s;
    void *blob = NULL;
    int r = mig_recv(x->fd, hb, sizeof(hb));

    if (rt_boost_expire(&x->boost, clock_now_us()))
        log_debug("migration: real-time boost ended at its %u ms cap",
                  x->boost.cap_ms);
    if (r < 0)
        return r;
    if (mig_rx_section(&x->rx, hb, &s, err, errlen) < 0)
        return -EINVAL;
    if (s.type == MIG_SEC_RAM_DIRTY && (s.flags & MIG_SEC_F_STOPPING)) {
        x->t_notice = clock_now_us();
        boost(x);
    } else if (s.type == SNAP_SEC_STATE && !x->t_notice) {
        boost(x);   /* a source without the notice */
    }
    if (s.type == SNAP_SEC_RAM || s.type == MIG_SEC_RAM_DIRTY)
        return recv_ram(x, &s, err, errlen);
    if (s.type == MIG_SEC_DEVICE)
        return bad(err, errlen, "device data sections are not supported "
                   "by this minivmm");
    r = recv_blob(x, &s, &blob, err, errlen);
    if (r == 0 && s.type == SNAP_SEC_STATE) {
        x->t_state = clock_now_us();
        r = on_state(x, blob, s.length, err, errlen);
        x->t_loaded = clock_now_us();
        return r;
    }
    if (r == 0 && s.type == MIG_SEC_CONFIG)
        r = on_config(x, blob, s.length, err, errlen);
    else if (r == 0)
        r = mig_rx_end(&x->rx, &s, blob, s.length, err, errlen) < 0 ?
            -EINVAL : 1;
    free(blob);
    return r;
}

/* Header, guest RAM, sections up to END. */
static int receive(struct rx *x, char *err, size_t errlen)
{
    struct guest_memory_opts mo = { .hugepages = x->cfg->hugepages };
    uint8_t h[SNAP_HEADER_SIZE];
    int r = mig_recv(x->fd, h, sizeof(h));

    if (r == 0 && mig_rx_header(&x->rx, h, sizeof(h), err, errlen) < 0)
        return -EINVAL;
    x->gm = &x->mem;
    if (r == 0 && x->cfg->memory_given && x->cfg->memory != x->rx.ram_size) {
        snprintf(err, errlen, "the migration stream has %llu MiB of guest "
                 "RAM, --memory says %llu MiB: refused (leave --memory out, "
                 "or give the source's size)",
                 (unsigned long long)(x->rx.ram_size >> 20),
                 (unsigned long long)(x->cfg->memory >> 20));
        return -EINVAL;
    }
    if (r == 0 && (r = host_check_memory(x->rx.ram_size, "the migration "
                                         "stream", err, errlen)) < 0)
        return r;
    if (r == 0 && (r = guest_memory_create_opts(x->rx.ram_size, &mo,
                                                &x->mem, err, errlen)) < 0)
        return r;
    while (r == 0)
        r = recv_section(x, err, errlen);
    if (r == -EPIPE && !err[0])
        snprintf(err, errlen, "the source closed the connection before "
                 "the end of the stream");
    else if (r < 0 && !err[0])
        snprintf(err, errlen, "receiving the stream: %s", strerror(-r));
    return r < 0 ? r : 0;
}

/* Ready: tell the source, wait for its GO (within the peer deadline).
 * GO decides: from here this side runs the guest, and says so with
 * MIG_RUNNING (best effort: the source keeps its copy paused until it
 * hears it). No GO in time: the caller answers an error record and this
 * side never runs the guest (docs/migration.md, "Hand-over"). */
static int handover(struct rx *x, char *err, size_t errlen)
{
    uint8_t reply[MIG_REPLY_SIZE], go[MIG_GO_SIZE];
    int r;

    mig_reply_encode(reply, 0, "");
    r = mig_send(x->fd, reply, sizeof(reply));
    if (r == 0)
        r = mig_recv(x->fd, go, sizeof(go));
    x->t_go = clock_now_us();
    if (r == 0 && memcmp(go, MIG_GO, MIG_GO_SIZE))
        r = -EPROTO;
    if (r < 0) {
        snprintf(err, errlen, "the source did not confirm the hand-over "
                 "(%s): not running the guest; the source keeps it",
                 strerror(-r));
        return r;
    }
    if (mig_send(x->fd, MIG_RUNNING, 8) < 0)
        log_warn("minivmm: could not tell the source that the guest "
                 "runs here; it keeps its copy paused until told");
    return 0;
}

static int rx_init(struct rx *x)
{
    memset(x, 0, sizeof(*x));
    x->fd = -1;
    x->mem.fd = -1;
    x->xxh = XXH3_createState();
    x->iov = calloc(IOV_BATCH, sizeof(*x->iov));
    x->fixed = malloc(RAM_FIXED_MAX);
    return x->xxh && x->iov && x->fixed ? 0 : -ENOMEM;
}

static void rx_fini(struct rx *x)
{
    if (x->fd >= 0)
        close(x->fd);
    XXH3_freeState(x->xxh);
    free(x->iov);
    free(x->fixed);
    free(x->state);
    guest_memory_destroy(&x->mem); /* no-op once the VM took it */
}

/* Listen, accept one source; from then on every wait has a deadline, and
 * a source must first prove the token when there is one. */
static int wait_source(struct rx *x, const char *uri, char *err,
                       size_t errlen)
{
    struct mig_uri u;
    unsigned int ms = x->cfg->migrate_timeout_ms ?
                      x->cfg->migrate_timeout_ms : MIG_DEFAULT_TIMEOUT_MS;
    int lfd, r = mig_uri_parse(uri, &u, err, errlen);

    if (r == 0)
        r = mig_listen(&u, &lfd, err, errlen);
    if (r < 0)
        return r;
    log_info("minivmm: waiting for an incoming migration on %s%s%s%s",
             u.kind == MIG_UNIX ? "unix:" : "tcp:",
             u.kind == MIG_UNIX ? u.path : u.host, u.kind == MIG_UNIX ? "" : ":",
             u.kind == MIG_UNIX ? "" : u.port);
    r = mig_accept(&u, lfd, &x->fd, err, errlen);
    close(lfd);
    if (r == 0 && (r = mig_set_deadline(x->fd, ms)) < 0)
        snprintf(err, errlen, "setting the peer deadline: %s", strerror(-r));
    if (r == 0)
        r = mig_auth_challenge(x->fd, &u, err, errlen);
    return r;
}

int migration_incoming(struct vm_config *cfg, struct vm **out, char *err,
                       size_t errlen)
{
    uint8_t reply[MIG_REPLY_SIZE];
    uint64_t t0 = clock_now_us();
    struct rx x;
    int r = rx_init(&x);

    x.cfg = cfg;
    rt_boost_init(&x.boost, &rt_boost_sys_ops, NULL,
                  !cfg->migrate_rt_boost_off, RT_BOOST_CAP_MS,
                  SCHED_SLICE_SHORT_US);
    *out = NULL;
    err[0] = 0;
    /* Wake promptly on a busy host for the hand-over (sched_slice.h). */
    sched_slice_set(0, SCHED_SLICE_SHORT_US);
    if (r == 0)
        r = wait_source(&x, cfg->incoming, err, errlen);
    if (r == 0)
        r = receive(&x, err, errlen);
    x.t_end = clock_now_us();
    if (r == 0)
        r = handover(&x, err, errlen);
    if (r == 0)
        log_debug("migration: hand-over timeline (ms from STATE read): "
                  "stop notice %.3f, state loaded %.3f, END read %.3f, GO "
                  "read %.3f, RUNNING sent %.3f", x.t_notice ?
                  -(double)(x.t_state - x.t_notice) / 1e3 : 0.0,
                  (double)(x.t_loaded - x.t_state) / 1e3,
                  (double)(x.t_end - x.t_state) / 1e3,
                  (double)(x.t_go - x.t_state) / 1e3,
                  (double)(clock_now_us() - x.t_state) / 1e3);
    if (r < 0 && x.fd >= 0) {
        /* Best effort: the source resumes its guest either way. */
        mig_reply_encode(reply, (uint32_t)-r, err[0] ? err : strerror(-r));
        mig_send(x.fd, reply, sizeof(reply));
    }
    if (r == 0)
        log_info("minivmm: migration received (%u vCPUs, %llu MiB, "
                 "%llu MiB of pages) in %.1f ms", cfg->cpus,
                 (unsigned long long)(cfg->memory >> 20),
                 (unsigned long long)(x.bytes >> 20),
                 (double)(clock_now_us() - t0) / 1e3);
    *out = x.vm;
    rx_fini(&x);
    /* Success and still boosted: the vCPUs inherit it (vm.c start()). */
    if (r < 0 || !rt_boost_handover(&x.boost, clock_now_us())) {
        rt_boost_off(&x.boost, r < 0 ? RT_BOOST_FAILED : RT_BOOST_DONE);
        sched_slice_set(0, 0);
    }
    rt_boost_fini(&x.boost);
    return r;
}
