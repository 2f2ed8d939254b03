/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for tools/vfu-blk/precopy.c: vfu-blk's pre-copy part (its
 * identity) and the framing of its migration stream ([pre-copy] final).
 * The tool's file is compiled in here (tools are not in libminivmm). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "tools/vfu-blk/precopy.c"

static const struct vfu_blk_ident ID = {
    .features = 0x130000254ull, .capacity = 8192, .blk_size = 512,
    .size_max = 1u << 20, .seg_max = 126, .queues = 1, .queue_size = 256,
    .vectors = 2,
};

/* A small valid FDT standing for the final part. */
static void *final_part(size_t *len)
{
    void *fdt = malloc(1024);

    assert_non_null(fdt);
    assert_int_equal(fdt_create_empty_tree(fdt, 1024), 0);
    assert_int_equal(fdt_setprop_u32(fdt, 0, "vfu-blk-version", 1), 0);
    fdt_pack(fdt);
    *len = fdt_totalsize(fdt);
    return fdt;
}

static void test_round_trip(void **state)
{
    struct vfu_blk_ident other = ID;
    char why[160] = "";
    void *buf;
    size_t len;

    (void)state;
    assert_int_equal(vfu_blk_precopy_encode(&ID, &buf, &len), 0);
    assert_true(len > 0);
    assert_int_equal(vfu_blk_precopy_check(buf, len, &ID, why, sizeof(why)),
                     0);
    /* A different disk on the destination: refused, naming the field. */
    other.capacity = 16384;
    assert_int_equal(vfu_blk_precopy_check(buf, len, &other, why,
                                           sizeof(why)), -EINVAL);
    assert_string_equal(why, "capacity is 0x4000 here, the source had "
                             "0x2000");
    other = ID;
    other.queues = 2;
    assert_int_equal(vfu_blk_precopy_check(buf, len, &other, why,
                                           sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "queues"));
    /* Truncated or oversized: not an FDT of that length. */
    assert_int_equal(vfu_blk_precopy_check(buf, len - 1, &ID, why,
                                           sizeof(why)), -EINVAL);
    free(buf);
}

static void test_not_precopy(void **state)
{
    char why[160] = "";
    size_t len;
    void *fin = final_part(&len);

    (void)state;
    /* The final part is a valid FDT but no pre-copy part. */
    assert_int_equal(vfu_blk_precopy_check(fin, len, &ID, why, sizeof(why)),
                     -EINVAL);
    assert_non_null(strstr(why, "vfu-blk-precopy"));
    free(fin);
}

static void test_split(void **state)
{
    const void *pre, *fin;
    size_t pre_len, fin_len, flen, plen;
    void *f = final_part(&flen), *p;
    uint8_t *both;

    (void)state;
    /* Final part alone (a snapshot). */
    assert_int_equal(vfu_blk_stream_split(f, flen, &pre, &pre_len, &fin,
                                          &fin_len), 0);
    assert_null(pre);
    assert_int_equal(pre_len, 0);
    assert_ptr_equal(fin, f);
    assert_int_equal(fin_len, flen);
    /* Pre-copy part then final part (a live migration). */
    assert_int_equal(vfu_blk_precopy_encode(&ID, &p, &plen), 0);
    both = calloc(1, plen + 2 * flen + 64);
    assert_non_null(both);
    memcpy(both, p, plen);
    memcpy(both + plen, f, flen);
    assert_int_equal(vfu_blk_stream_split(both, plen + flen, &pre, &pre_len,
                                          &fin, &fin_len), 0);
    assert_ptr_equal(pre, both);
    assert_int_equal(pre_len, plen);
    assert_ptr_equal(fin, both + plen);
    assert_int_equal(fin_len, flen);
    /* Trailing junk, a cut stream, three parts, garbage, nothing. */
    memset(both + plen + flen, 0, 64);
    assert_int_equal(vfu_blk_stream_split(both, plen + flen + 3, &pre,
                                          &pre_len, &fin, &fin_len), -EINVAL);
    assert_int_equal(vfu_blk_stream_split(both, plen + flen - 1, &pre,
                                          &pre_len, &fin, &fin_len), -EINVAL);
    memcpy(both + plen + flen, f, flen);
    assert_int_equal(vfu_blk_stream_split(both, plen + 2 * flen, &pre,
                                          &pre_len, &fin, &fin_len), -EINVAL);
    memset(both, 0xff, 64);
    assert_int_equal(vfu_blk_stream_split(both, plen + flen, &pre, &pre_len,
                                          &fin, &fin_len), -EINVAL);
    assert_int_equal(vfu_blk_stream_split(NULL, 0, &pre, &pre_len, &fin,
                                          &fin_len), -EINVAL);
    assert_int_equal(vfu_blk_stream_split(both, 10, &pre, &pre_len, &fin,
                                          &fin_len), -EINVAL);
    free(both);
    free(p);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_not_precopy),
        cmocka_unit_test(test_split),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
