/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-blk: a virtio-blk PCI device served over vfio-user.
 *
 *   vfu-blk --socket-path=PATH --disk FILE [--readonly] [--queues N]
 *           [--migration=v1|v2]
 *   vfu-blk --fd=N --disk FILE ...
 *   vfu-blk --print-capabilities | --version | --help
 *   ... [--strict]: behave like current libvfio-user where it is stricter
 *   than the spec (vfio/server.h, struct vfio_srv_dev.strict)
 *
 * Follows the spec's "Backend Program Conventions" (vfio-user.rst): no
 * daemonizing, --socket-path or --fd (a listening socket, or an already
 * connected one: then vfu-blk exits when that client leaves), exits on
 * SIGTERM. Counters go to stdout on exit and on SIGUSR1, and with
 * --stats-file PATH to a JSON file rewritten every second. Device
 * description: tools/vfu-blk/vfu-blk.json.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "blkdev.h"
#include "stats_file.h"
#include "vmm/log.h"
#include "vmm/seccomp.h"
#include "vmm/version.h"

struct opts {
    const char *socket_path;
    int fd;
    const char *disk;
    bool readonly;
    unsigned long queues;
    bool strict;
    bool mig_v1;
    const char *stats_file;
    enum sc_mode seccomp;
    unsigned long iova_bits;     /* 0: not stated */
    unsigned long long pgsizes;  /* 0: default (4 KiB) */
    unsigned long max_dma_maps;  /* 0: default */
    bool no_ioeventfds;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vfu-blk (--socket-path=PATH | --fd=N) --disk FILE\n"
            "               [--readonly] [--queues N] [--strict]\n"
            "               [--migration=v1|v2] [--stats-file PATH]\n"
            "               [--seccomp=on|log|off]\n"
            "               [--log-level=error|warn|info|debug]\n"
            "               [--iova-bits N] [--pgsizes MASK]\n"
            "               [--max-dma-maps N] [--ioeventfds=on|off]\n"
            "       vfu-blk --print-capabilities | --version | --help\n"
            "A virtio-blk PCI device served over vfio-user.\n"
            "  --socket-path=PATH  listen on this UNIX socket (replaced)\n"
            "  --fd=N              use socket fd N (listening or connected)\n"
            "  --disk FILE         backing file or block device\n"
            "  --readonly          refuse writes (VIRTIO_BLK_F_RO)\n"
            "  --queues N          virtqueues, 1..64 (default 1)\n"
            "  --strict            refuse what current libvfio-user refuses:\n"
            "                      commands other than region access,\n"
            "                      DEVICE_FEATURE, MIG_DATA_* and DMA_(UN)MAP\n"
            "                      in STOP/STOP_COPY/RESUMING; MIG_DATA_WRITE\n"
            "                      with argsz < 8 + size; pads MIG_DATA_READ\n"
            "                      replies to the requested size\n"
            "  --migration=v1|v2   migration protocol: v2 (DEVICE_FEATURE,\n"
            "                      default) or v1 (spec 0.9.1: migration\n"
            "                      region and DIRTY_PAGES)\n"
            "  --stats-file PATH   write the counters to PATH as JSON every\n"
            "                      second, on SIGUSR1 and on exit\n"
            "  --seccomp=on|log|off  syscall allow-list once the disk and\n"
            "                      socket are open (default on: a forbidden\n"
            "                      syscall kills vfu-blk; log: kernel log only)\n"
            "  --log-level=error|warn|info|debug\n"
            "                      messages on stderr up to this level\n"
            "                      (default info)\n"
            "  --iova-bits N       state (x_iova_bits) and enforce an IOVA\n"
            "                      width of N bits, 12..64 (default: none)\n"
            "  --pgsizes MASK      DMA page sizes offered, an OR of powers\n"
            "                      of 2 >= 4096 (default 0x1000)\n"
            "  --max-dma-maps N    DMA windows allowed at once, 1..65535\n"
            "                      (default 65535)\n"
            "  --ioeventfds=on|off offer doorbell ioeventfds (default on);\n"
            "                      off: every doorbell traps to the client\n"
            "                      and comes as a REGION_WRITE (tests)\n"
            "  --print-capabilities\n"
            "                      print the capabilities as JSON and exit\n"
            "                      (vhost-user backend convention)\n"
            "  --version           print the version and exit\n"
            "  --help              this text\n"
            "Counters are printed on exit and on SIGUSR1; SIGTERM exits.\n"
            "Exit status: 0 stopped by SIGTERM or its --fd client left;\n"
            "1 runtime error; 2 bad command line.\n");
}

/* The features of tools/vfu-blk/vfu-blk.json (its installed copy is the
 * vfio-user/vhost-user style description of this program). */
static void print_capabilities(void)
{
    printf("{\n"
           "  \"type\": \"block\",\n"
           "  \"features\": [\n"
           "    \"socket-path\",\n"
           "    \"fd\",\n"
           "    \"disk\",\n"
           "    \"readonly\",\n"
           "    \"queues\",\n"
           "    \"migration\",\n"
           "    \"dma-logging\",\n"
           "    \"twin-socket\",\n"
           "    \"write-multiple\"\n"
           "  ]\n"
           "}\n");
}

/* --iova-bits, --pgsizes, --max-dma-maps: a constrained DMA path, for
 * tests of the vIOMMU's attach checks (docs/viommu.md). 0 or -1. */
static int parse_dma_opt(int c, struct opts *o, char *why, size_t whylen)
{
    unsigned long long v;
    char *end;

    errno = 0;
    v = strtoull(optarg, &end, 0);
    if (errno || *end || !*optarg || *optarg == '-')
        v = 0;
    if (c == 'I' && v >= 12 && v <= 64) {
        o->iova_bits = (unsigned long)v;
        return 0;
    }
    if (c == 'G' && v && !(v & 0xfff)) {
        o->pgsizes = v;
        return 0;
    }
    if (c == 'M' && v && v <= 65535) {
        o->max_dma_maps = (unsigned long)v;
        return 0;
    }
    snprintf(why, whylen, "%s: bad value '%s' (%s)",
             c == 'I' ? "--iova-bits" : c == 'G' ? "--pgsizes" :
             "--max-dma-maps", optarg,
             c == 'I' ? "12 to 64" : c == 'G' ?
             "an OR of powers of 2 >= 4096" : "1 to 65535");
    return -1;
}

/* 0, 1 (--help/--version/--print-capabilities done), or -1 with the
 * reason in @why (usage error). */
static int parse_opt(int c, struct opts *o, char *why, size_t whylen)
{
    char *end;

    switch (c) {
    case 's': o->socket_path = optarg; return 0;
    case 'd': o->disk = optarg; return 0;
    case 'r': o->readonly = true; return 0;
    case 'S': o->strict = true; return 0;
    case 'F': o->stats_file = optarg; return 0;
    case 'c':
        if (sc_mode_parse(optarg, &o->seccomp) < 0)
            break;
        return 0;
    case 'L':
        if (log_set_level_name(optarg) < 0)
            break;
        return 0;
    case 'm':
        if (strcmp(optarg, "v1") && strcmp(optarg, "v2"))
            break;
        o->mig_v1 = !strcmp(optarg, "v1");
        return 0;
    case 'E':
        if (strcmp(optarg, "on") && strcmp(optarg, "off"))
            break;
        o->no_ioeventfds = !strcmp(optarg, "off");
        return 0;
    case 'I': case 'G': case 'M':
        return parse_dma_opt(c, o, why, whylen);
    case 'h': usage(stdout); return 1;
    case 'V': printf("vfu-blk %s\n", minivmm_version); return 1;
    case 'P': print_capabilities(); return 1;
    case 'f':
        o->fd = (int)strtol(optarg, &end, 10);
        if (*end || !*optarg || o->fd < 0)
            break;
        return 0;
    case 'q':
        o->queues = strtoul(optarg, &end, 10);
        if (*end || !*optarg || !o->queues || o->queues > 64)
            break;
        return 0;
    default:
        snprintf(why, whylen, "unknown option or missing argument");
        return -1;
    }
    snprintf(why, whylen, "%s: bad value '%s' (%s)",
             c == 'm' ? "--migration" : c == 'f' ? "--fd" :
             c == 'c' ? "--seccomp" : c == 'L' ? "--log-level" :
             c == 'E' ? "--ioeventfds" : "--queues",
             optarg,
             c == 'm' ? "v1 or v2" : c == 'f' ? "a file descriptor number" :
             c == 'c' ? "on, log or off" : c == 'E' ? "on or off" :
             c == 'L' ? "error, warn, info or debug" : "1 to 64");
    return -1;
}

/* 0, 1 (--help printed), or -1 (usage error, printed with the reason). */
static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"socket-path", required_argument, NULL, 's'},
        {"fd", required_argument, NULL, 'f'},
        {"disk", required_argument, NULL, 'd'},
        {"readonly", no_argument, NULL, 'r'},
        {"queues", required_argument, NULL, 'q'},
        {"strict", no_argument, NULL, 'S'},
        {"migration", required_argument, NULL, 'm'},
        {"print-capabilities", no_argument, NULL, 'P'},
        {"version", no_argument, NULL, 'V'},
        {"stats-file", required_argument, NULL, 'F'},
        {"seccomp", required_argument, NULL, 'c'},
        {"log-level", required_argument, NULL, 'L'},
        {"iova-bits", required_argument, NULL, 'I'},
        {"pgsizes", required_argument, NULL, 'G'},
        {"max-dma-maps", required_argument, NULL, 'M'},
        {"ioeventfds", required_argument, NULL, 'E'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char why[160] = "";
    int c, r = 0;

    memset(o, 0, sizeof(*o));
    o->fd = -1;
    o->queues = 1;
    while (!r && (c = getopt_long(argc, argv, "h", lo, NULL)) != -1)
        r = parse_opt(c, o, why, sizeof(why));
    if (r)
        goto out;
    if (optind < argc)
        snprintf(why, sizeof(why), "unexpected argument '%s'", argv[optind]);
    else if (!o->disk)
        snprintf(why, sizeof(why), "no --disk FILE given");
    else if (!o->socket_path && o->fd < 0)
        snprintf(why, sizeof(why), "give --socket-path=PATH or --fd=N");
    else if (o->socket_path && o->fd >= 0)
        snprintf(why, sizeof(why), "--socket-path and --fd exclude each other");
    else
        return 0;
    r = -1;
out:
    if (r < 0) {
        log_err("vfu-blk: %s\n", why);
        usage(stderr);
    }
    return r;
}

static int listen_path(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    if (!stat(path, &st) && S_ISSOCK(st.st_mode))
        unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4)) {
        int r = -errno;

        close(fd);
        return r;
    }
    return fd;
}

static bool is_listening(int fd)
{
    int v = 0;
    socklen_t l = sizeof(v);

    return !getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) && v;
}

static int signal_fd(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    if (sigprocmask(SIG_BLOCK, &set, NULL))
        return -errno;
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* epoll tags of run()'s loop: 0 server, 1 io_uring, 2 signals, 3 stats
 * timer, VFU_BLK_IOEV_TAG + i the i-th doorbell ioeventfd (up to
 * VFU_BLK_IOEV_MAX; any beyond stay in the server's own set). */
#define VFU_BLK_IOEV_TAG 16u
#define VFU_BLK_IOEV_MAX 64u

static int watch(int ep, int fd, uint32_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* --stats-file: write it now; a failure is reported, not fatal. */
static void stats_file(const struct vfu_blk *d, const char *path)
{
    int r = path ? vfu_blk_write_stats_file(d, path) : 0;

    if (r)
        log_warn("vfu-blk: --stats-file %s: %s\n", path, strerror(-r));
}

/* A periodic timerfd for --stats-file (-1 without it). */
static int stats_timer(int ep, const char *path)
{
    struct itimerspec its = {
        .it_interval.tv_nsec = VFU_BLK_STATS_PERIOD_MS * 1000000L % 1000000000L,
        .it_interval.tv_sec = VFU_BLK_STATS_PERIOD_MS / 1000,
    };
    int fd;

    if (!path)
        return -1;
    its.it_value = its.it_interval;
    fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (fd >= 0 && (timerfd_settime(fd, 0, &its, NULL) || watch(ep, fd, 3))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Returns when told to stop (0) or on a fatal error (-errno). */
static int run(struct vfu_blk *d, int sfd, const char *stats_path)
{
    struct signalfd_siginfo si;
    struct epoll_event ev[8];
    int iofd[VFU_BLK_IOEV_MAX];
    uint32_t nio, k;
    uint64_t ticks;
    int ep, n, i, tfd, r = 0;

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return -errno;
    if (watch(ep, vfu_blk_srv_fd(d), 0) || watch(ep, vfu_blk_io_fd(d), 1) ||
        watch(ep, sfd, 2)) {
        close(ep);
        return -errno;
    }
    /* Doorbells straight from this loop: no nested epoll per I/O. */
    nio = vfu_blk_take_ioeventfds(d, iofd, VFU_BLK_IOEV_MAX);
    for (k = 0; k < nio; k++) {
        r = watch(ep, iofd[k], VFU_BLK_IOEV_TAG + k);
        if (r) {
            close(ep);
            return r;
        }
    }
    tfd = stats_timer(ep, stats_path);
    stats_file(d, stats_path);
    while (!r) {
        n = epoll_wait(ep, ev, 8, -1);
        vfu_blk_count_wakeup(d);
        if (n < 0 && errno != EINTR)
            r = -errno;
        for (i = 0; i < n && !r; i++) {
            if (ev[i].data.u32 == 0) {
                r = vfu_blk_srv_ready(d);
                if (r == -ENOTCONN)
                    r = 1; /* our only client left */
            } else if (ev[i].data.u32 >= VFU_BLK_IOEV_TAG) {
                vfu_blk_ioeventfd_ready(d, ev[i].data.u32 - VFU_BLK_IOEV_TAG);
            } else if (ev[i].data.u32 == 1) {
                vfu_blk_io_ready(d);
            } else if (ev[i].data.u32 == 3) {
                if (read(tfd, &ticks, sizeof(ticks)) > 0)
                    stats_file(d, stats_path);
            } else if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo != SIGUSR1)
                    r = 1; /* counters printed on the way out */
                else
                    vfu_blk_print_counters(d, stdout);
                stats_file(d, stats_path);
            }
        }
    }
    if (tfd >= 0)
        close(tfd);
    close(ep);
    return r < 0 ? r : 0;
}

int main(int argc, char **argv)
{
    struct vfu_blk_params p = {.listen_fd = -1, .conn_fd = -1};
    struct vfu_blk *d;
    struct opts o;
    int r, sfd, disk;

    r = parse(argc, argv, &o);
    if (r)
        return r > 0 ? 0 : 2;
    disk = open(o.disk, (o.readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (disk < 0) {
        log_err("vfu-blk: %s: %s\n", o.disk, strerror(errno));
        return 1;
    }
    sfd = signal_fd();
    if (sfd < 0) {
        log_err("vfu-blk: signalfd: %s\n", strerror(-sfd));
        return 1;
    }
    r = o.socket_path ? listen_path(o.socket_path) : o.fd;
    if (r < 0) {
        log_err("vfu-blk: %s: %s\n", o.socket_path, strerror(-r));
        return 1;
    }
    if (!o.socket_path && !is_listening(r))
        p.conn_fd = r;
    else
        p.listen_fd = r;
    p.disk_fd = disk;
    p.readonly = o.readonly;
    p.queues = (uint16_t)o.queues;
    p.strict = o.strict;
    p.mig_v1 = o.mig_v1;
    p.iova_bits = (unsigned int)o.iova_bits;
    p.pgsizes = o.pgsizes;
    p.max_dma_maps = (uint32_t)o.max_dma_maps;
    p.no_ioeventfds = o.no_ioeventfds;
    r = vfu_blk_create(&p, &d);
    if (r) {
        log_err("vfu-blk: device setup: %s\n", strerror(-r));
        return 1;
    }
    printf("vfu-blk: serving %s on %s (%lu queue%s%s%s%s)\n", o.disk,
           o.socket_path ? o.socket_path : "fd", o.queues,
           o.queues == 1 ? "" : "s", o.readonly ? ", read-only" : "",
           o.strict ? ", strict" : "",
           o.mig_v1 ? ", migration v1" : "");
    fflush(stdout);
    r = sc_install(SC_T_VFU_BLK, o.seccomp);
    if (r) {
        log_err("vfu-blk: seccomp: %s\n", strerror(-r));
        return 1;
    }
    r = run(d, sfd, o.stats_file);
    if (r)
        log_err("vfu-blk: event loop: %s\n", strerror(-r));
    vfu_blk_print_counters(d, stdout);
    stats_file(d, o.stats_file);
    vfu_blk_destroy(d);
    close(disk);
    return r ? 1 : 0;
}
