/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vfio/proto.h: sizes, field offsets, command numbers and
 * flag values against the tables of shared/spec/vfio-user.rst (and the
 * 0.9.1 spec for the migration region). Offsets are the spec's (relative to
 * the end of the header). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vfio/proto/proto.h"

#define OFF(type, field, off) assert_int_equal(offsetof(type, field), off)

static void test_header(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct vfio_user_header), 16);
    OFF(struct vfio_user_header, msg_id, 0);
    OFF(struct vfio_user_header, cmd, 2);
    OFF(struct vfio_user_header, msg_size, 4);
    OFF(struct vfio_user_header, flags, 8);
    OFF(struct vfio_user_header, error, 12);
    assert_int_equal(VFIO_USER_F_TYPE_COMMAND, 0);
    assert_int_equal(VFIO_USER_F_TYPE_REPLY, 1);
    assert_int_equal(VFIO_USER_F_TYPE_MASK, 0xf);
    assert_int_equal(VFIO_USER_F_NO_REPLY, 0x10);
    assert_int_equal(VFIO_USER_F_ERROR, 0x20);
}

static void test_commands(void **state)
{
    (void)state;
    assert_int_equal(VFIO_USER_VERSION, 1);
    assert_int_equal(VFIO_USER_DMA_MAP, 2);
    assert_int_equal(VFIO_USER_DMA_UNMAP, 3);
    assert_int_equal(VFIO_USER_DEVICE_GET_INFO, 4);
    assert_int_equal(VFIO_USER_DEVICE_GET_REGION_INFO, 5);
    assert_int_equal(VFIO_USER_DEVICE_GET_REGION_IO_FDS, 6);
    assert_int_equal(VFIO_USER_DEVICE_GET_IRQ_INFO, 7);
    assert_int_equal(VFIO_USER_DEVICE_SET_IRQS, 8);
    assert_int_equal(VFIO_USER_REGION_READ, 9);
    assert_int_equal(VFIO_USER_REGION_WRITE, 10);
    assert_int_equal(VFIO_USER_DMA_READ, 11);
    assert_int_equal(VFIO_USER_DMA_WRITE, 12);
    assert_int_equal(VFIO_USER_DEVICE_RESET, 13);
    assert_int_equal(VFIO_USER_DIRTY_PAGES, 14);
    assert_int_equal(VFIO_USER_REGION_WRITE_MULTI, 15);
    assert_int_equal(VFIO_USER_DEVICE_FEATURE, 16);
    assert_int_equal(VFIO_USER_MIG_DATA_READ, 17);
    assert_int_equal(VFIO_USER_MIG_DATA_WRITE, 18);
}

static void test_version_and_dma(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct vfio_user_version), 4);
    OFF(struct vfio_user_version, major, 0);
    OFF(struct vfio_user_version, minor, 2);
    OFF(struct vfio_user_version, data, 4);

    assert_int_equal(sizeof(struct vfio_user_dma_map), 32);
    OFF(struct vfio_user_dma_map, argsz, 0);
    OFF(struct vfio_user_dma_map, flags, 4);
    OFF(struct vfio_user_dma_map, offset, 8);
    OFF(struct vfio_user_dma_map, address, 16);
    OFF(struct vfio_user_dma_map, size, 24);
    assert_int_equal(VFIO_USER_F_DMA_REGION_READ, 1);
    assert_int_equal(VFIO_USER_F_DMA_REGION_WRITE, 2);

    assert_int_equal(sizeof(struct vfio_user_dma_unmap), 24);
    OFF(struct vfio_user_dma_unmap, flags, 4);
    OFF(struct vfio_user_dma_unmap, address, 8);
    OFF(struct vfio_user_dma_unmap, size, 16);

    assert_int_equal(sizeof(struct vfio_user_dma_access), 16);
    OFF(struct vfio_user_dma_access, address, 0);
    OFF(struct vfio_user_dma_access, count, 8);
    OFF(struct vfio_user_dma_access, data, 16);
    assert_int_equal(VFIO_USER_DMA_WRITE_REPLY_MIN, 12);
}

static void test_device_info_regions(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct vfio_user_device_info), 16);
    OFF(struct vfio_user_device_info, flags, 4);
    OFF(struct vfio_user_device_info, num_regions, 8);
    OFF(struct vfio_user_device_info, num_irqs, 12);
    assert_int_equal(VFIO_DEVICE_FLAGS_RESET, 1);
    assert_int_equal(VFIO_DEVICE_FLAGS_PCI, 2);

    assert_int_equal(sizeof(struct vfio_region_info), 32);
    OFF(struct vfio_region_info, index, 8);
    OFF(struct vfio_region_info, cap_offset, 12);
    OFF(struct vfio_region_info, size, 16);
    OFF(struct vfio_region_info, offset, 24);
    assert_int_equal(VFIO_REGION_INFO_FLAG_READ, 1);
    assert_int_equal(VFIO_REGION_INFO_FLAG_WRITE, 2);
    assert_int_equal(VFIO_REGION_INFO_FLAG_MMAP, 4);
    assert_int_equal(VFIO_REGION_INFO_FLAG_CAPS, 8);

    OFF(struct vfio_info_cap_header, id, 0);
    OFF(struct vfio_info_cap_header, version, 2);
    OFF(struct vfio_info_cap_header, next, 4);
    /* Sparse mmap: nr_areas at 0, reserved 4, areas 8 after the header. */
    OFF(struct vfio_region_info_cap_sparse_mmap, nr_areas, 8 + 0);
    OFF(struct vfio_region_info_cap_sparse_mmap, areas, 8 + 8);
    assert_int_equal(VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1);
    assert_int_equal(VFIO_REGION_INFO_CAP_TYPE, 2);
    assert_int_equal(VFIO_USER_REGION_TYPE_MIGRATION, 3);
    assert_int_equal(VFIO_USER_REGION_SUBTYPE_MIGRATION, 1);
}

static void test_io_fds(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct vfio_user_region_io_fds_request), 16);
    assert_int_equal(sizeof(struct vfio_user_region_io_fds_reply), 16);
    OFF(struct vfio_user_region_io_fds_reply, count, 12);
    OFF(struct vfio_user_region_io_fds_reply, sub_regions, 16);
    assert_int_equal(sizeof(struct vfio_user_sub_region_ioeventfd), 40);
    OFF(struct vfio_user_sub_region_ioeventfd, size, 8);
    OFF(struct vfio_user_sub_region_ioeventfd, fd_index, 16);
    OFF(struct vfio_user_sub_region_ioeventfd, type, 20);
    OFF(struct vfio_user_sub_region_ioeventfd, flags, 24);
    OFF(struct vfio_user_sub_region_ioeventfd, padding, 28);
    OFF(struct vfio_user_sub_region_ioeventfd, datamatch, 32);
    assert_int_equal(sizeof(struct vfio_user_sub_region_ioregionfd), 40);
    OFF(struct vfio_user_sub_region_ioregionfd, user_data, 32);
    assert_int_equal(VFIO_USER_IO_FD_TYPE_IOEVENTFD, 0);
    assert_int_equal(VFIO_USER_IO_FD_TYPE_IOREGIONFD, 1);
}

static void test_irqs_and_access(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct vfio_irq_info), 16);
    OFF(struct vfio_irq_info, index, 8);
    OFF(struct vfio_irq_info, count, 12);
    assert_int_equal(sizeof(struct vfio_irq_set), 20);
    OFF(struct vfio_irq_set, index, 8);
    OFF(struct vfio_irq_set, start, 12);
    OFF(struct vfio_irq_set, count, 16);
    OFF(struct vfio_irq_set, data, 20);
    assert_int_equal(VFIO_IRQ_SET_DATA_EVENTFD, 4);
    assert_int_equal(VFIO_IRQ_SET_ACTION_TRIGGER, 32);

    assert_int_equal(sizeof(struct vfio_user_region_access), 16);
    OFF(struct vfio_user_region_access, offset, 0);
    OFF(struct vfio_user_region_access, region, 8);
    OFF(struct vfio_user_region_access, count, 12);
    OFF(struct vfio_user_region_access, data, 16);

    assert_int_equal(sizeof(struct vfio_user_write_multi), 8);
    OFF(struct vfio_user_write_multi, wrs, 8);
    assert_int_equal(sizeof(struct vfio_user_write_multi_entry), 24);
    OFF(struct vfio_user_write_multi_entry, region, 8);
    OFF(struct vfio_user_write_multi_entry, count, 12);
    OFF(struct vfio_user_write_multi_entry, data, 16);
}

static void test_feature_and_migration(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct vfio_user_device_feature), 8);
    OFF(struct vfio_user_device_feature, data, 8);
    assert_int_equal(VFIO_DEVICE_FEATURE_MASK, 0xffff);
    assert_int_equal(VFIO_DEVICE_FEATURE_GET, 1 << 16);
    assert_int_equal(VFIO_DEVICE_FEATURE_SET, 1 << 17);
    assert_int_equal(VFIO_DEVICE_FEATURE_PROBE, 1 << 18);
    assert_int_equal(VFIO_DEVICE_FEATURE_MIGRATION, 1);
    assert_int_equal(VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, 2);
    assert_int_equal(VFIO_DEVICE_FEATURE_DMA_LOGGING_START, 6);
    assert_int_equal(VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, 7);
    assert_int_equal(VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, 8);
    assert_int_equal(VFIO_MIGRATION_STOP_COPY, 1);
    assert_int_equal(VFIO_MIGRATION_P2P, 2);
    assert_int_equal(VFIO_MIGRATION_PRE_COPY, 4);
    assert_int_equal(VFIO_DEVICE_STATE_ERROR, 0);
    assert_int_equal(VFIO_DEVICE_STATE_STOP, 1);
    assert_int_equal(VFIO_DEVICE_STATE_RUNNING, 2);
    assert_int_equal(VFIO_DEVICE_STATE_STOP_COPY, 3);
    assert_int_equal(VFIO_DEVICE_STATE_RESUMING, 4);
    assert_int_equal(VFIO_DEVICE_STATE_RUNNING_P2P, 5);
    assert_int_equal(VFIO_DEVICE_STATE_PRE_COPY, 6);
    assert_int_equal(VFIO_DEVICE_STATE_PRE_COPY_P2P, 7);

    assert_int_equal(sizeof(struct vfio_user_device_feature_migration), 8);
    assert_int_equal(sizeof(struct vfio_user_device_feature_mig_state), 8);
    OFF(struct vfio_user_device_feature_mig_state, data_fd, 4);

    assert_int_equal(sizeof(struct vfio_user_dma_logging_control), 16);
    OFF(struct vfio_user_dma_logging_control, num_ranges, 8);
    OFF(struct vfio_user_dma_logging_control, reserved, 12);
    OFF(struct vfio_user_dma_logging_control, ranges, 16);
    assert_int_equal(sizeof(struct vfio_user_dma_logging_range), 16);
    OFF(struct vfio_user_dma_logging_range, length, 8);
    assert_int_equal(sizeof(struct vfio_user_dma_logging_report), 24);
    OFF(struct vfio_user_dma_logging_report, page_size, 16);
    OFF(struct vfio_user_dma_logging_report, bitmap, 24);

    assert_int_equal(sizeof(struct vfio_user_mig_data), 8);
    OFF(struct vfio_user_mig_data, size, 4);
    OFF(struct vfio_user_mig_data, data, 8);
}

static void test_v091(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct vfio_user_migration_info), 32);
    OFF(struct vfio_user_migration_info, device_state, 0);
    OFF(struct vfio_user_migration_info, reserved, 4);
    OFF(struct vfio_user_migration_info, pending_bytes, 8);
    OFF(struct vfio_user_migration_info, data_offset, 16);
    OFF(struct vfio_user_migration_info, data_size, 24);
    assert_int_equal(VFIO_USER_MIG_V1_STATE_RUNNING, 1);
    assert_int_equal(VFIO_USER_MIG_V1_STATE_SAVING, 2);
    assert_int_equal(VFIO_USER_MIG_V1_STATE_RESUMING, 4);
    assert_int_equal(VFIO_USER_MIG_V1_STATE_ERROR, 6);
    assert_int_equal(VFIO_USER_MIG_V1_STATE_PRE_COPY, 3);
    /* Same layout as the kernel's (deprecated) v1 struct. */
    assert_int_equal(sizeof(struct vfio_device_migration_info), 32);

    assert_int_equal(sizeof(struct vfio_user_dirty_pages), 8);
    assert_int_equal(sizeof(struct vfio_user_bitmap), 16);
    OFF(struct vfio_user_bitmap, size, 8);
    OFF(struct vfio_user_bitmap_range, bitmap, 16);
    assert_int_equal(VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_version_and_dma),
        cmocka_unit_test(test_device_info_regions),
        cmocka_unit_test(test_io_fds),
        cmocka_unit_test(test_irqs_and_access),
        cmocka_unit_test(test_feature_and_migration),
        cmocka_unit_test(test_v091),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
