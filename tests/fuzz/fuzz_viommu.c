/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: virtio-iommu requests from a guest (virtio/iommu_req.c
 * parser and dispatch, virtio/iommu_dom.c state machine). The input is a
 * sequence of [len u8][bytes] requests run against one state with three
 * endpoints and two RAM regions; a sink that fails now and then (the first
 * input byte seeds it) exercises the unwinding. After every request the
 * domains' maps must be sorted and disjoint, their count the state's
 * total, and every endpoint must see exactly what the sink was told (no
 * half-mapped state).
 *
 * FUZZ_SRCS: virtio/iommu_req.c virtio/iommu_dom.c devices/host_iommu.c
 * FUZZ_ARGS: -max_len=4096
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/iommu_dom.h"
#include "virtio/iommu_proto.h"
#include "virtio/iommu_req.h"

struct sink_state {
    long live[3];       /* windows each endpoint holds */
    uint8_t fail_mask;  /* map call k fails if bit (k % 8) */
    unsigned int calls;
};

static int s_map(void *opaque, unsigned int ep, const struct viommu_map *m)
{
    struct sink_state *s = opaque;

    (void)m;
    if (s->fail_mask & (1u << (s->calls++ % 8)))
        return -28; /* -ENOSPC */
    s->live[ep]++;
    return 0;
}

static void s_unmap(void *opaque, unsigned int ep, const struct viommu_map *m)
{
    struct sink_state *s = opaque;

    (void)m;
    s->live[ep]--;
}

static const struct viommu_sink sink = { s_map, s_unmap };

static void check(const struct viommu_dom *d, const struct sink_state *s)
{
    size_t total = 0;

    for (unsigned int i = 0; i < VIOMMU_MAX_DOMAINS; i++) {
        const struct viommu_domain *dm = &d->dom[i];

        total += dm->n;
        for (size_t k = 0; k < dm->n; k++) {
            if (dm->m[k].start > dm->m[k].last)
                abort();
            if (k && dm->m[k - 1].last >= dm->m[k].start)
                abort();
        }
    }
    if (total != d->total)
        abort();
    for (unsigned int e = 0; e < d->nep; e++) {
        const struct viommu_map *ws;
        size_t n;

        viommu_dom_ep_windows(d, e, &ws, &n);
        if ((long)n != s->live[e])
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sink_state ss = {0};
    struct viommu_dom d;
    struct host_iommu_dev h = { .name = "fuzz" };
    uint8_t props[VIOMMU_PROBE_SIZE];

    if (size < 1)
        return 0;
    ss.fail_mask = data[0] & 0x81; /* rare failures */
    data++, size--;
    viommu_dom_init(&d, 4096, 48, &sink, &ss);
    viommu_dom_add_ram(&d, 0, 0x80000000);
    viommu_dom_add_ram(&d, 0x100000000ULL, 0x40000000);
    host_iommu_caps_vmm(&h.caps);
    for (uint32_t id = 0; id < 3; id++) {
        h.caps.max_mappings = id == 2 ? 4 : 0;
        viommu_dom_add_ep(&d, id * 8, &h);
        ss.live[id] = 2; /* identity, mapped by the creator */
    }
    while (size) {
        size_t len = data[0] < size - 1 ? data[0] : size - 1;
        struct viommu_req req;
        uint64_t gpa;

        if (viommu_req_parse(data + 1, len, &req) == VIOMMU_S_OK)
            viommu_req_exec(&d, &req, props, sizeof(props));
        else if (len == 1)
            viommu_dom_set_bypass(&d, data[1] & 1);
        else if (len == 2)
            viommu_dom_reset(&d);
        check(&d, &ss);
        if (len >= 8)
            viommu_dom_translate(&d, data[1] % 3, (uint64_t)data[2] << 12,
                                 data[3] + 1u, data[4] & 3, &gpa);
        data += len + 1;
        size -= len + 1;
    }
    viommu_dom_fini(&d);
    return 0;
}
