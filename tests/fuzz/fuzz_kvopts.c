/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the one key=value option parser (vmm/kvopts.c) and
 * the device options built on it (minivmm/config_devices.c), which the
 * API's device-add feeds with what a client sends.
 *
 * FUZZ_SRCS: vmm/kvopts.c minivmm/config_devices.c
 *
 * Input: one option string (any bytes; cut at the first NUL). Invariants
 * (abort on violation): split items have non-empty keys and point into
 * the struct's buffer; escaping every item back and joining them splits
 * to the same items (",," round trip); each device parser either accepts
 * (with its required key set and every string NUL-terminated within its
 * field) or refuses with a reason.
 * Seeds: tests/fuzz/corpus/fuzz_kvopts/.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/config_devices.h"
#include "vmm/kvopts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static bool in_buf(const struct kvopts *kv, const char *p)
{
    return p >= kv->buf && p < kv->buf + sizeof(kv->buf);
}

/* Join @kv's items back, escaped; split again; same items. */
static void round_trip(const struct kvopts *kv)
{
    static char line[4 * KVOPTS_MAX_LEN + 64];
    static struct kvopts again;
    size_t w = 0;

    for (unsigned int i = 0; i < kv->n; i++) {
        int n = kvopts_escape(kv->item[i].key, line + w, sizeof(line) - w);

        check(n >= 0);
        w += (size_t)n;
        if (kv->item[i].val) {
            line[w++] = '=';
            n = kvopts_escape(kv->item[i].val, line + w, sizeof(line) - w);
            check(n >= 0);
            w += (size_t)n;
        }
        line[w++] = ',';
    }
    line[w] = 0;
    if (kvopts_split(line, &again) == -E2BIG)
        return; /* escaping grew it past the bound */
    check(again.n == kv->n);
    for (unsigned int i = 0; i < kv->n; i++) {
        check(!strcmp(again.item[i].key, kv->item[i].key));
        check(!again.item[i].val == !kv->item[i].val);
        check(!kv->item[i].val ||
              !strcmp(again.item[i].val, kv->item[i].val));
    }
}

static void devices(const char *s)
{
    struct config_disk d;
    struct config_net n;
    struct config_vfio v;
    char err[256];

    err[0] = 0;
    if (config_disk_parse(s, &d, err, sizeof(err)) == 0)
        check(d.path[0] && memchr(d.path, 0, sizeof(d.path)) &&
              memchr(d.id, 0, sizeof(d.id)));
    else
        check(err[0] != 0);
    err[0] = 0;
    if (config_net_parse(s, &n, err, sizeof(err)) == 0)
        check(n.tap[0] && memchr(n.tap, 0, sizeof(n.tap)));
    else
        check(err[0] != 0);
    err[0] = 0;
    if (config_vfio_parse(s, &v, err, sizeof(err)) == 0)
        check(v.socket[0] && memchr(v.socket, 0, sizeof(v.socket)) &&
              (!v.timeout_ms || v.timeout_ms <= 600000));
    else
        check(err[0] != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char s[KVOPTS_MAX_LEN + 2];
    static struct kvopts kv;
    size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
    int r;

    memcpy(s, data, n);
    s[n] = 0;
    r = kvopts_split(s, &kv);
    check(r == 0 || r == -EINVAL || r == -E2BIG);
    if (r == 0) {
        check(kv.n <= KVOPTS_MAX_ITEMS);
        for (unsigned int i = 0; i < kv.n; i++) {
            check(in_buf(&kv, kv.item[i].key) && kv.item[i].key[0]);
            check(!kv.item[i].val || in_buf(&kv, kv.item[i].val));
        }
        round_trip(&kv);
    }
    devices(s);
    return 0;
}
