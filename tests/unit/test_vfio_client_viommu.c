/* SPDX-License-Identifier: BSD-3-Clause */
/* The vfio-user client's side of the vIOMMU (docs/viommu.md), over the
 * socketpair fake server: the host IOMMU device from the negotiated
 * capabilities (x_iova_bits, pgsizes with any_pgsize, max_dma_maps),
 * vfio_client_dma_unmap_range(), and on_dma_fault for a server's DMA
 * outside every window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "vfio/client/client.h"
#include "test_vfio_client_fake.h"

static uint64_t fault_iova;
static int faults;

static void on_fault(void *opaque, uint64_t iova, uint64_t len, bool write)
{
    (void)opaque, (void)len, (void)write;
    fault_iova = iova;
    faults++;
}

static struct vfio_client *connect_fake(struct fake *f)
{
    struct vfio_client_opts o = {.name = "t0", .timeout_ms = 2000,
                                 .any_pgsize = true,
                                 .on_dma_fault = on_fault};
    struct vfio_client *c;
    char err[200] = "";
    int r;

    fake_start(f);
    r = vfio_client_new(f->cfd, &o, &c, err, sizeof(err));
    if (r)
        fprintf(stderr, "connect: %s\n", err);
    assert_int_equal(r, 0);
    return c;
}

static void test_host_caps(void **state)
{
    struct host_iommu_caps hc;
    struct vfio_client *c;
    struct fake f;

    (void)state;
    fake_init(&f);
    f.caps.iova_bits = 32;
    f.caps.pgsizes = 0x10000 | 0x200000;
    f.caps.max_dma_maps = 7;
    c = connect_fake(&f);
    vfio_client_host_iommu(c, &hc);
    assert_int_equal(hc.iova_bits, 32);
    assert_int_equal(hc.pgsizes, 0x10000 | 0x200000);
    assert_int_equal(hc.max_mappings, 7);
    assert_int_equal(hc.nresv, 0);
    fake_stop(&f);
    vfio_client_free(c);
}

static int hook_dma(struct fake *f, struct vfio_user_msg *m)
{
    if (m->hdr.cmd != VFIO_USER_REGION_WRITE)
        return 0;
    fake_dma_read(f, f->dma_addr, 16);
    fake_rw(f, m, true);
    return 1;
}

static void test_unmap_range_and_fault(void **state)
{
    static uint8_t guest[3][4096];
    struct vfio_client *c;
    struct fake f;
    uint32_t v = 1;

    (void)state;
    fake_init(&f);
    f.hook = hook_dma;
    c = connect_fake(&f);
    for (int i = 0; i < 3; i++) {
        struct iommu_window w = {
            .iova = 0x7f0000000000ULL + 0x1000ULL * (uint64_t)(2 * i),
            .size = 4096, .hva = guest[i], .fd = -1,
            .prot = IOMMU_PROT_READ,
        };
        assert_int_equal(vfio_client_dma_map(c, &w), 0);
    }
    /* Windows at +0, +0x2000, +0x4000: [+0, +0x2fff] holds the first
     * two wholly; [+0x3000, +0x4800] only part of the third. */
    assert_int_equal(vfio_client_dma_unmap_range(c, 0x7f0000000000ULL,
                                                 0x7f0000002fffULL), 2);
    assert_int_equal(f.n_unmaps, 2);
    assert_int_equal(vfio_client_dma_unmap_range(c, 0x7f0000003000ULL,
                                                 0x7f0000004800ULL), 0);
    assert_int_equal(f.n_unmaps, 2);
    /* The server reads an unmapped IOVA: refused, and reported. */
    f.dma_addr = 0x7f0000000040ULL;
    assert_int_equal(vfio_client_region_write(c, 0, 0, &v, 4, false), 0);
    assert_int_equal(f.dma_result, -EFAULT);
    assert_int_equal(faults, 1);
    assert_int_equal(fault_iova, 0x7f0000000040ULL);
    /* The third window still serves. */
    f.dma_addr = 0x7f0000004000ULL;
    assert_int_equal(vfio_client_region_write(c, 0, 0, &v, 4, false), 0);
    assert_int_equal(f.dma_result, 0);
    assert_int_equal(faults, 1);
    fake_stop(&f);
    vfio_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_caps),
        cmocka_unit_test(test_unmap_range_and_fault),
    };

    return cmocka_run_group_tests_name("vfio_client_viommu", tests, NULL,
                                       NULL);
}
