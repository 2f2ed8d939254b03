/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for arch/x86/pvm_quirks.c: the kernel parameters appended on
 * kvm_pvm hosts (nothing twice, the user's clearcpuid= items kept, before
 * "--", -ENOSPC), Linux detection (bzImage, ELF "Linux" note, a PVH
 * payload with only a "Xen" note), and the crash-hint decoder (xrstor,
 * popcnt, clac/stac, cmpxchg16b with REX.W, prefixes; look-alikes such as
 * lfence, cmpxchg8b and tzcnt-less 0F B8 are not flagged).
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/pvm_quirks.h"

static void check_cmdline(const char *in, const char *want,
                          const char *want_added)
{
    char out[512], added[128];
    int r = x86_pvm_cmdline(in, out, sizeof(out), added, sizeof(added));

    assert_string_equal(out, want);
    assert_string_equal(added, want_added);
    assert_int_equal(r, (int)(strlen(want) - strlen(in)));
}

static void test_cmdline_append(void **state)
{
    (void)state;
    check_cmdline("console=ttyS0",
                  "console=ttyS0 " X86_PVM_LINUX_PARAMS, X86_PVM_LINUX_PARAMS);
    check_cmdline("", X86_PVM_LINUX_PARAMS, X86_PVM_LINUX_PARAMS);
    check_cmdline("console=ttyS0  ",
                  "console=ttyS0 " X86_PVM_LINUX_PARAMS, X86_PVM_LINUX_PARAMS);
    /* What tools/guest/host-cmdline.sh already gave: nothing added. */
    check_cmdline("console=ttyS0 " X86_PVM_LINUX_PARAMS " quiet",
                  "console=ttyS0 " X86_PVM_LINUX_PARAMS " quiet", "");
    /* Items spread over two clearcpuid= in any order count. */
    check_cmdline("noxsave clearcpuid=smep,cx16 clearcpuid=popcnt,smap",
                  "noxsave clearcpuid=smep,cx16 clearcpuid=popcnt,smap", "");
}

static void test_cmdline_merge(void **state)
{
    (void)state;
    /* The user's own item survives: Linux takes the last clearcpuid=. */
    check_cmdline("clearcpuid=avx512f noxsave",
                  "clearcpuid=avx512f noxsave "
                  "clearcpuid=avx512f,cx16,popcnt,smap,smep",
                  "clearcpuid=avx512f,cx16,popcnt,smap,smep");
    check_cmdline("clearcpuid=popcnt",
                  "clearcpuid=popcnt noxsave clearcpuid=popcnt,cx16,smap,smep",
                  "noxsave clearcpuid=popcnt,cx16,smap,smep");
    /* "noxsave" inside another word does not count. */
    check_cmdline("xnoxsave clearcpuid=cx16,popcnt,smap,smep",
                  "xnoxsave clearcpuid=cx16,popcnt,smap,smep noxsave",
                  "noxsave");
}

static void test_cmdline_init_args(void **state)
{
    (void)state;
    /* After "--" the words go to init: ours go before it. */
    check_cmdline("console=ttyS0 -- noxsave",
                  "console=ttyS0 " X86_PVM_LINUX_PARAMS " -- noxsave",
                  X86_PVM_LINUX_PARAMS);
    check_cmdline("-- x", X86_PVM_LINUX_PARAMS " -- x", X86_PVM_LINUX_PARAMS);
}

static void test_cmdline_nospace(void **state)
{
    char out[20], added[64];

    (void)state;
    assert_int_equal(x86_pvm_cmdline("console=ttyS0", out, sizeof(out),
                                     added, sizeof(added)), -ENOSPC);
    assert_string_equal(added, X86_PVM_LINUX_PARAMS);
}

/* An ELF64 with one PT_NOTE segment holding one note named @name. */
static size_t make_elf(uint8_t *buf, size_t len, const char *name)
{
    Elf64_Ehdr eh = { .e_phoff = sizeof(Elf64_Ehdr), .e_phnum = 1,
                      .e_phentsize = sizeof(Elf64_Phdr) };
    size_t noff = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    uint32_t hdr[3] = { (uint32_t)strlen(name) + 1, 4, 1 };
    size_t nlen = 12 + ((hdr[0] + 3) & ~3u) + 4;
    Elf64_Phdr ph = { .p_type = PT_NOTE, .p_offset = noff, .p_filesz = nlen };

    memset(buf, 0, len);
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    memcpy(buf, &eh, sizeof(eh));
    memcpy(buf + sizeof(eh), &ph, sizeof(ph));
    memcpy(buf + noff, hdr, sizeof(hdr));
    memcpy(buf + noff + 12, name, hdr[0]);
    return noff + nlen;
}

static void test_is_linux(void **state)
{
    uint8_t buf[1024];
    size_t n;

    (void)state;
    n = make_elf(buf, sizeof(buf), "Linux");
    assert_true(x86_image_is_linux(buf, n));
    assert_false(x86_image_is_linux(buf, n - 8)); /* note cut short */
    n = make_elf(buf, sizeof(buf), "Xen");
    assert_false(x86_image_is_linux(buf, n));
    memset(buf, 0, sizeof(buf));
    memcpy(buf + 0x202, "HdrS", 4);
    assert_true(x86_image_is_linux(buf, sizeof(buf)));
    assert_false(x86_image_is_linux(buf, 0x205));
    n = make_elf(buf, sizeof(buf), "Linux");
    buf[EI_CLASS] = ELFCLASS32;
    assert_false(x86_image_is_linux(buf, n));
}

static void check_decode(const char *hex, bool long64, const char *name,
                         const char *param)
{
    unsigned char b[16];
    struct x86_pvm_insn in = { NULL, NULL };
    int n = 0;
    unsigned int v;

    while (*hex && sscanf(hex, "%2x", &v) == 1) {
        b[n++] = (unsigned char)v;
        hex += 2;
        hex += (*hex == ' ');
    }
    if (!name) {
        assert_int_equal(x86_pvm_decode(b, n, long64, &in), 0);
        return;
    }
    assert_int_equal(x86_pvm_decode(b, n, long64, &in), 1);
    assert_string_equal(in.name, name);
    assert_string_equal(in.param, param);
}

static void test_decode(void **state)
{
    (void)state;
    /* xrstor64 (%rdi) = 48 0f ae 2f, as Linux's restore_fpregs_from_fpstate. */
    check_decode("48 0f ae 2f", true, "xrstor", "noxsave");
    check_decode("0f ae 27", true, "xsave", "noxsave");
    check_decode("0f ae 37", true, "xsaveopt", "noxsave");
    check_decode("48 0f c7 1f", true, "xrstors", "noxsave");
    check_decode("0f 01 d0", true, "xgetbv", "noxsave");
    check_decode("0f 01 d1", false, "xsetbv", "noxsave");
    check_decode("f3 48 0f b8 c7", true, "popcnt", "clearcpuid=popcnt");
    check_decode("66 f3 0f b8 c7", true, "popcnt", "clearcpuid=popcnt");
    check_decode("0f 01 ca", true, "clac", "clearcpuid=smap");
    check_decode("0f 01 cb", true, "stac", "clearcpuid=smap");
    check_decode("f0 48 0f c7 0e", true, "cmpxchg16b", "clearcpuid=cx16");
    /* Not flagged: lfence (mod 3), cmpxchg8b (no REX.W), 0F B8 without F3
     * (jmpe), REX outside 64-bit code, too short, int3. */
    check_decode("0f ae e8", true, NULL, NULL);
    check_decode("f0 0f c7 0e", true, NULL, NULL);
    check_decode("0f b8 c7", true, NULL, NULL);
    check_decode("f3 f2 0f b8 c7", true, NULL, NULL);
    check_decode("48 0f c7 0e", false, NULL, NULL);
    check_decode("0f 01", true, NULL, NULL);
    check_decode("cc", true, NULL, NULL);
}

static void test_hint_line(void **state)
{
    const unsigned char xrstor[] = { 0x48, 0x0f, 0xae, 0x2f };
    const unsigned char nop[] = { 0x90, 0x90, 0x90 };
    char text[512], tiny[16];
    size_t len;

    (void)state;
    len = x86_pvm_format_hint(text, sizeof(text), nop, (int)sizeof(nop),
                              true);
    assert_int_equal(len, 0);
    assert_string_equal(text, "");
    len = x86_pvm_format_hint(text, sizeof(text), xrstor,
                              (int)sizeof(xrstor), true);
    assert_int_equal(len, strlen(text));
    assert_non_null(strstr(text, "'xrstor'"));
    assert_non_null(strstr(text, "'noxsave'"));
    assert_non_null(strstr(text, X86_PVM_LINUX_PARAMS));
    assert_non_null(strchr(text, '\n'));
    assert_int_equal(strchr(text, '\n') - text + 1, (long)strlen(text));
    /* A short buffer holds a cut, NUL-terminated hint. */
    len = x86_pvm_format_hint(tiny, sizeof(tiny), xrstor,
                              (int)sizeof(xrstor), true);
    assert_int_equal(len, sizeof(tiny) - 1);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmdline_append),
        cmocka_unit_test(test_cmdline_merge),
        cmocka_unit_test(test_cmdline_init_args),
        cmocka_unit_test(test_cmdline_nospace),
        cmocka_unit_test(test_is_linux),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_hint_line),
    };

    return cmocka_run_group_tests_name("pvm_quirks", tests, NULL, NULL);
}
