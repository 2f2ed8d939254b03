/* SPDX-License-Identifier: BSD-3-Clause */
/* On-demand restore through userfaultfd (see snapshot_lazy.h). */
#include "minivmm/persist/snapshot_lazy.h"
#include "vmm/fdio.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "minivmm/persist/snapshot_file.h"
#include "vmm/memory.h"

#define PG 4096ULL
#define FAULT_CLUSTER 16u           /* pages per fault: 64 KiB */
#define LOAD_PAGES 256u             /* loader's read size: 1 MiB */

struct lazy_sec {
    struct snap_ram_view v;
    uint64_t moff;          /* memfd offset of the first page */
    uint32_t *rank;         /* present pages before each 64-page word */
};

struct loader {
    struct snap_lazy *l;
    pthread_t t;
    bool started;
    /* Allocated before the threads start and freed after they end: a
     * free() on a filtered thread may make glibc read /proc (heap trim). */
    uint8_t *buf;           /* LOAD_PAGES pages */
    XXH3_state_t *xxh;
};

struct snap_lazy {
    struct snap_reader *r;
    int fd;                 /* the snapshot file (the reader's) */
    int uffd, stop_efd, done_efd;
    uint8_t *base;
    uint64_t ram_size;
    struct lazy_sec *secs;  /* sorted by moff */
    unsigned int nsecs;
    enum sc_mode sc;
    uint8_t *fault_buf;     /* FAULT_CLUSTER pages (see struct loader) */
    pthread_t fault_t;
    bool fault_started, fault_joined;
    struct loader ld[SNAP_LAZY_MAX_LOADERS];
    unsigned int nloaders;
    unsigned int next;      /* atomic: next section for a loader */
    unsigned int active;    /* atomic: loaders still running */
    int err;                /* atomic: first loader failure, -errno */
    unsigned int bad;       /* the section it failed on (UINT_MAX: none) */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;              /* under lock */
    int result;             /* under lock: 0 or -errno once done */
    char why[200];          /* under lock */
    int cancel;             /* atomic */
    uint64_t faults, fault_pages, load_pages; /* atomic */
    struct timespec t0;
    double load_ms;         /* under lock */
};

static uint64_t word(const struct lazy_sec *s, uint32_t w)
{
    uint64_t x;

    memcpy(&x, s->v.bitmap + 8 * (size_t)w, 8);
    return le64toh(x);
}

static bool present(const struct lazy_sec *s, uint32_t i)
{
    return (s->v.bitmap[i / 8] >> (i % 8)) & 1;
}

/* Present pages before page @i of @s. */
static uint64_t rank(const struct lazy_sec *s, uint32_t i)
{
    uint64_t below = word(s, i / 64) & ((1ULL << (i % 64)) - 1);

    return s->rank[i / 64] + (uint64_t)__builtin_popcountll(below);
}

static const struct lazy_sec *find(const struct snap_lazy *l, uint64_t off)
{
    unsigned int lo = 0, hi = l->nsecs;

    while (lo < hi) {
        unsigned int mid = lo + (hi - lo) / 2;
        const struct lazy_sec *s = &l->secs[mid];

        if (off < s->moff)
            hi = mid;
        else if (off >= s->moff + (uint64_t)s->v.npages * PG)
            lo = mid + 1;
        else
            return s;
    }
    return NULL;
}

/* UFFDIO_COPY (@src non-NULL) or UFFDIO_ZEROPAGE of @n pages at memfd
 * offset @off, waking whoever waits on them. Bytes placed (> 0), or
 * -EEXIST when the first page is already there, or -errno. */
static int64_t place(struct snap_lazy *l, uint64_t off, const void *src,
                     uint32_t n)
{
    uint64_t dst = (uint64_t)(uintptr_t)(l->base + off), len = n * PG;

    for (;;) {
        int r;
        int64_t got;

        if (src) {
            struct uffdio_copy c = { .dst = dst, .len = len,
                                     .src = (uint64_t)(uintptr_t)src };

            r = ioctl(l->uffd, UFFDIO_COPY, &c);
            got = c.copy;
        } else {
            struct uffdio_zeropage z = { .range = { dst, len } };

            r = ioctl(l->uffd, UFFDIO_ZEROPAGE, &z);
            got = z.zeropage;
        }
        if (r == 0)
            return (int64_t)len;
        if (got > 0)
            return got;
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
    }
}

static void set_result(struct snap_lazy *l, int r, const char *why)
{
    pthread_mutex_lock(&l->lock);
    if (!l->done) {
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        l->load_ms = (double)(t.tv_sec - l->t0.tv_sec) * 1e3 +
                     (double)(t.tv_nsec - l->t0.tv_nsec) / 1e6;
        l->done = true;
        l->result = r;
        snprintf(l->why, sizeof(l->why), "%s", why);
        pthread_cond_broadcast(&l->cond);
    }
    pthread_mutex_unlock(&l->lock);
    eventfd_write(l->done_efd, 1);
}

/* One fault at host address @addr: a cluster of like pages from it. */
static int serve(struct snap_lazy *l, uint64_t addr, uint8_t *buf)
{
    uint64_t off = (addr - (uint64_t)(uintptr_t)l->base) & ~(PG - 1);
    const struct lazy_sec *s = find(l, off);
    uint32_t i, n = 1;
    bool p = false;
    int64_t got;

    if (off >= l->ram_size)
        return -EFAULT;
    if (s) {
        i = (uint32_t)((off - s->moff) / PG);
        p = present(s, i);
        while (n < FAULT_CLUSTER && i + n < s->v.npages &&
               present(s, i + n) == p)
            n++;
        if (p) {
            int r = fd_pread_all(l->fd, buf, n * PG,
                              s->v.data_off + rank(s, i) * PG);

            if (r < 0)
                return r;
        }
    }
    got = place(l, off, p ? buf : NULL, n);
    if (got == -EEXIST) { /* the loader was first: wake the waiter */
        struct uffdio_range w = { (uint64_t)(uintptr_t)(l->base + off), PG };

        return ioctl(l->uffd, UFFDIO_WAKE, &w) < 0 ? -errno : 0;
    }
    if (got < 0)
        return (int)got;
    __atomic_fetch_add(&l->faults, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&l->fault_pages, (uint64_t)got / PG,
                       __ATOMIC_RELAXED);
    return 0;
}

static void *fault_main(void *arg)
{
    struct snap_lazy *l = arg;
    uint8_t *buf = l->fault_buf;
    struct pollfd pf[2] = { { l->uffd, POLLIN, 0 },
                            { l->stop_efd, POLLIN, 0 } };
    struct uffd_msg m[16];
    char why[96];
    int r;

    pthread_setname_np(pthread_self(), "uffd-fault");
    r = sc_install(SC_T_RESTORE, l->sc);
    if (r < 0) {
        snprintf(why, sizeof(why), "restore fault thread: %s", strerror(-r));
        set_result(l, r, why);
    }
    for (;;) {
        ssize_t n;

        if (poll(pf, 2, -1) < 0 && errno != EINTR)
            break;
        if (pf[1].revents)
            break;
        n = read(l->uffd, m, sizeof(m));
        for (ssize_t k = 0; k < n / (ssize_t)sizeof(m[0]); k++) {
            if (m[k].event != UFFD_EVENT_PAGEFAULT)
                continue;
            r = serve(l, m[k].arg.pagefault.address, buf);
            if (r < 0) {
                snprintf(why, sizeof(why), "serving a guest RAM fault at "
                         "0x%llx: %s",
                         (unsigned long long)m[k].arg.pagefault.address,
                         strerror(-r));
                set_result(l, r, why);
            }
        }
    }
    return NULL;
}

/* Copy @n pages from @buf to memfd offset @off, skipping pages that are
 * already there. 0 or -errno. */
static int copy_run(struct snap_lazy *l, uint64_t off, const uint8_t *buf,
                    uint32_t n)
{
    uint64_t done = 0, len = n * PG;

    while (done < len) {
        int64_t got = place(l, off + done, buf + done,
                            (uint32_t)((len - done) / PG));

        if (got == -EEXIST)
            got = PG;
        else if (got < 0)
            return (int)got;
        else
            __atomic_fetch_add(&l->load_pages, (uint64_t)got / PG,
                               __ATOMIC_RELAXED);
        done += (uint64_t)got;
    }
    return 0;
}

/* Load one section's present pages; check its checksum. */
static int load_sec(struct snap_lazy *l, const struct lazy_sec *s,
                    uint8_t *buf, XXH3_state_t *st)
{
    uint64_t foff = s->v.data_off;
    uint32_t i = 0;

    if (!s->v.fixed)
        return 0; /* no page: its checksum was verified at open */
    XXH3_64bits_reset_withSeed(st, s->v.index);
    XXH3_64bits_update(st, s->v.fixed, s->v.fixed_len);
    while (i < s->v.npages) {
        uint32_t n = 0;
        int r;

        if (__atomic_load_n(&l->cancel, __ATOMIC_ACQUIRE))
            return -ECANCELED;
        while (i < s->v.npages && !present(s, i))
            i++;
        while (i + n < s->v.npages && n < LOAD_PAGES && present(s, i + n))
            n++;
        if (n == 0)
            break;
        r = fd_pread_all(l->fd, buf, n * PG, foff);
        if (r == 0) {
            XXH3_64bits_update(st, buf, n * PG);
            r = copy_run(l, s->moff + (uint64_t)i * PG, buf, n);
        }
        if (r < 0)
            return r;
        foff += n * PG;
        i += n;
    }
    return XXH3_64bits_digest(st) == s->v.check ? 0 : -EBADMSG;
}

/* Loaded: stop serving faults, then unregister (which wakes anyone still
 * waiting; their retry finds the page, or a fresh zero page). */
static int finish(struct snap_lazy *l)
{
    struct uffdio_range all = { (uint64_t)(uintptr_t)l->base, l->ram_size };

    eventfd_write(l->stop_efd, 1);
    pthread_join(l->fault_t, NULL);
    l->fault_joined = true;
    return ioctl(l->uffd, UFFDIO_UNREGISTER, &all) < 0 ? -errno : 0;
}

static void load_fail(struct snap_lazy *l, int r, unsigned int k)
{
    int zero = 0;

    if (__atomic_compare_exchange_n(&l->err, &zero, r, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        l->bad = k;
}

/* The last loader out: unregister (all loaded) or report the failure. */
static void load_end(struct snap_lazy *l)
{
    int r = __atomic_load_n(&l->err, __ATOMIC_ACQUIRE);
    unsigned int k = l->bad;
    char why[200];

    if (r == 0) {
        r = finish(l);
        snprintf(why, sizeof(why), "UFFDIO_UNREGISTER: %s", strerror(-r));
    } else if (k >= l->nsecs) {
        snprintf(why, sizeof(why), "restore loader: %s", strerror(-r));
    } else if (r == -EBADMSG) {
        snprintf(why, sizeof(why), "section %u (ram): checksum mismatch "
                 "(corrupt)", l->secs[k].v.index);
    } else {
        snprintf(why, sizeof(why), "section %u (ram): reading: %s",
                 l->secs[k].v.index, strerror(-r));
    }
    set_result(l, r, r == 0 ? "" : why);
}

/* A loader thread: sections in file order, shared with the others. */
static void *load_main(void *arg)
{
    struct loader *me = arg;
    struct snap_lazy *l = me->l;
    unsigned int k;
    int r;

    pthread_setname_np(pthread_self(), "uffd-load");
    r = sc_install(SC_T_RESTORE, l->sc);
    if (r < 0)
        load_fail(l, r, UINT_MAX);
    while (!__atomic_load_n(&l->err, __ATOMIC_ACQUIRE) &&
           (k = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED)) <
               l->nsecs) {
        r = load_sec(l, &l->secs[k], me->buf, me->xxh);
        if (r < 0)
            load_fail(l, r, k);
    }
    if (__atomic_sub_fetch(&l->active, 1, __ATOMIC_ACQ_REL) == 0)
        load_end(l);
    return NULL;
}

static int cmp_sec(const void *a, const void *b)
{
    const struct lazy_sec *x = a, *y = b;

    return x->moff < y->moff ? -1 : x->moff > y->moff;
}

/* The sections, their memfd offsets and page ranks. -EINVAL when one lies
 * outside guest RAM or two overlap. */
static int build_secs(struct snap_lazy *l, const struct guest_memory *mem,
                      char *err, size_t errlen)
{
    unsigned int n = snap_reader_nram(l->r);

    l->secs = calloc(n ? n : 1, sizeof(*l->secs));
    if (!l->secs)
        return -ENOMEM;
    for (unsigned int k = 0; k < n; k++) {
        struct lazy_sec *s = &l->secs[k];
        uint32_t words;
        uint8_t *hva;

        snap_reader_ram_view(l->r, k, &s->v);
        words = (s->v.npages + 63) / 64;
        hva = guest_memory_hva(mem, s->v.gpa, (uint64_t)s->v.npages * PG);
        if (!hva) {
            snprintf(err, errlen, "section %u (ram): pages outside guest "
                     "RAM", s->v.index);
            return -EINVAL;
        }
        s->moff = (uint64_t)(hva - mem->base);
        l->nsecs = k + 1;
        if (s->v.present == 0)
            continue; /* no rank: every fault there is a zero page */
        s->rank = malloc(words * sizeof(*s->rank));
        if (!s->rank)
            return -ENOMEM;
        for (uint32_t w = 0, sum = 0; w < words; w++) {
            s->rank[w] = sum;
            sum += (uint32_t)__builtin_popcountll(word(s, w));
        }
    }
    qsort(l->secs, l->nsecs, sizeof(*l->secs), cmp_sec);
    for (unsigned int k = 1; k < l->nsecs; k++)
        if (l->secs[k].moff < l->secs[k - 1].moff +
                                  (uint64_t)l->secs[k - 1].v.npages * PG) {
            snprintf(err, errlen, "section %u (ram): overlaps section %u",
                     l->secs[k].v.index, l->secs[k - 1].v.index);
            return -EINVAL;
        }
    return 0;
}

/* userfaultfd with shmem MISSING faults, registered over all of RAM. */
static int setup_uffd(struct snap_lazy *l, char *err, size_t errlen)
{
    struct uffdio_api api = { .api = UFFD_API,
                              .features = UFFD_FEATURE_MISSING_SHMEM };
    struct uffdio_register reg = {
        .range = { (uint64_t)(uintptr_t)l->base, l->ram_size },
        .mode = UFFDIO_REGISTER_MODE_MISSING,
    };
    const uint64_t need = (1ULL << _UFFDIO_COPY) | (1ULL << _UFFDIO_ZEROPAGE) |
                          (1ULL << _UFFDIO_WAKE);
    const char *step = "userfaultfd";

    l->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (l->uffd >= 0) {
        step = "UFFDIO_API (shmem)";
        if (ioctl(l->uffd, UFFDIO_API, &api) == 0) {
            step = "UFFDIO_REGISTER";
            if (ioctl(l->uffd, UFFDIO_REGISTER, &reg) == 0)
                return (reg.ioctls & need) == need ? 0 : -EOPNOTSUPP;
        }
    }
    snprintf(err, errlen, "on-demand restore: %s: %s", step,
             strerror(errno));
    return errno == EPERM || errno == ENOSYS || errno == EINVAL ?
           -EOPNOTSUPP : -errno;
}

static int start_threads(struct snap_lazy *l, char *err, size_t errlen)
{
    unsigned int n = l->nloaders;
    int r = 0;

    l->fault_buf = aligned_alloc(PG, FAULT_CLUSTER * PG);
    for (unsigned int i = 0; i < n; i++) {
        l->ld[i].l = l;
        l->ld[i].buf = aligned_alloc(PG, LOAD_PAGES * PG);
        l->ld[i].xxh = XXH3_createState();
        if (!l->ld[i].buf || !l->ld[i].xxh)
            r = -ENOMEM;
    }
    l->stop_efd = eventfd(0, EFD_CLOEXEC);
    l->done_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r < 0 || !l->fault_buf || l->stop_efd < 0 || l->done_efd < 0) {
        snprintf(err, errlen, "restore threads: out of memory or fds");
        return -ENOMEM;
    }
    clock_gettime(CLOCK_MONOTONIC, &l->t0);
    r = -pthread_create(&l->fault_t, NULL, fault_main, l);
    l->fault_started = r == 0;
    l->active = n;
    for (unsigned int i = 0; r == 0 && i < n; i++) {
        r = -pthread_create(&l->ld[i].t, NULL, load_main, &l->ld[i]);
        l->ld[i].started = r == 0;
        if (r < 0 && i > 0) { /* go on with fewer */
            if (__atomic_sub_fetch(&l->active, n - i, __ATOMIC_ACQ_REL) == 0)
                load_end(l);
            return 0;
        }
    }
    if (r < 0)
        snprintf(err, errlen, "starting the restore threads: %s",
                 strerror(-r));
    return r;
}

int snap_lazy_start(struct snap_reader *r, struct guest_memory *mem,
                    unsigned int loaders, enum sc_mode sc,
                    struct snap_lazy **out, char *err, size_t errlen)
{
    struct snap_lazy *l = calloc(1, sizeof(*l));
    int ret;

    *out = NULL;
    if (!l) {
        snap_reader_close(r);
        return -ENOMEM;
    }
    l->r = r;
    l->fd = snap_reader_fd(r);
    l->uffd = l->stop_efd = l->done_efd = -1;
    l->base = mem->base;
    l->ram_size = mem->ram_size;
    l->sc = sc;
    l->bad = UINT_MAX;
    l->nloaders = loaders < 1 ? 1 : loaders > SNAP_LAZY_MAX_LOADERS ?
                  SNAP_LAZY_MAX_LOADERS : loaders;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->cond, NULL);
    ret = mem->hugepages ? -EOPNOTSUPP : 0;
    if (ret < 0)
        snprintf(err, errlen, "on-demand restore: not with hugepages");
    if (ret == 0)
        ret = build_secs(l, mem, err, errlen);
    if (ret == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    if (ret == 0)
        ret = setup_uffd(l, err, errlen);
    if (ret == 0)
        ret = start_threads(l, err, errlen);
    if (ret < 0) {
        l->r = ret == -EOPNOTSUPP ? NULL : r; /* the caller loads eagerly */
        snap_lazy_destroy(l);
        return ret;
    }
    *out = l;
    return 0;
}

int snap_lazy_done_fd(const struct snap_lazy *l)
{
    return l->done_efd;
}

int snap_lazy_wait(struct snap_lazy *l, char *err, size_t errlen)
{
    int r;

    pthread_mutex_lock(&l->lock);
    while (!l->done)
        pthread_cond_wait(&l->cond, &l->lock);
    r = l->result;
    if (r < 0)
        snprintf(err, errlen, "%s", l->why);
    pthread_mutex_unlock(&l->lock);
    return r;
}

void snap_lazy_stats(const struct snap_lazy *l, struct snap_lazy_stats *st)
{
    st->faults = __atomic_load_n(&l->faults, __ATOMIC_RELAXED);
    st->fault_pages = __atomic_load_n(&l->fault_pages, __ATOMIC_RELAXED);
    st->load_pages = __atomic_load_n(&l->load_pages, __ATOMIC_RELAXED);
    pthread_mutex_lock((pthread_mutex_t *)&l->lock);
    st->load_ms = l->done ? l->load_ms : 0;
    pthread_mutex_unlock((pthread_mutex_t *)&l->lock);
}

void snap_lazy_destroy(struct snap_lazy *l)
{
    if (!l)
        return;
    __atomic_store_n(&l->cancel, 1, __ATOMIC_RELEASE);
    for (unsigned int i = 0; i < l->nloaders; i++)
        if (l->ld[i].started)
            pthread_join(l->ld[i].t, NULL);
    if (l->fault_started && !l->fault_joined) {
        eventfd_write(l->stop_efd, 1);
        pthread_join(l->fault_t, NULL);
    }
    if (l->uffd >= 0)
        close(l->uffd); /* wakes anyone left: they see zeros */
    if (l->stop_efd >= 0)
        close(l->stop_efd);
    if (l->done_efd >= 0)
        close(l->done_efd);
    for (unsigned int k = 0; k < l->nsecs; k++)
        free(l->secs[k].rank);
    free(l->secs);
    free(l->fault_buf);
    for (unsigned int i = 0; i < l->nloaders; i++) {
        free(l->ld[i].buf);
        XXH3_freeState(l->ld[i].xxh);
    }
    snap_reader_close(l->r);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->cond);
    free(l);
}
