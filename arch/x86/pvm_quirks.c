/* SPDX-License-Identifier: BSD-3-Clause */
/* kvm_pvm host quirks (see pvm_quirks.h). */
#include "arch/x86/pvm_quirks.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "vmm/kvm.h"
#include "vmm/log.h"

static const char *const pvm_clear[] = { "cx16", "popcnt", "smap", "smep" };
#define NCLEAR (sizeof(pvm_clear) / sizeof(pvm_clear[0]))

/* Length of the word at @s (up to a space or the end). */
static size_t word_len(const char *s)
{
    return strcspn(s, " \t\n");
}

/* Scan @cmdline up to @end for "noxsave" and clearcpuid= items. Items
 * (without "clearcpuid=") are appended to @items, comma-separated. */
static void scan(const char *cmdline, const char *end, bool *noxsave,
                 char *items, size_t itemslen)
{
    const char *p = cmdline;

    *noxsave = false;
    items[0] = 0;
    while (p < end) {
        size_t n = word_len(p);

        if (n == 7 && !strncmp(p, "noxsave", 7))
            *noxsave = true;
        if (n > 11 && !strncmp(p, "clearcpuid=", 11)) {
            size_t have = strlen(items);

            if (have + n - 11 + 2 < itemslen)
                snprintf(items + have, itemslen - have, "%s%.*s",
                         have ? "," : "", (int)(n - 11), p + 11);
        }
        p += n;
        p += strspn(p, " \t\n");
    }
}

static bool has_item(const char *items, const char *name)
{
    size_t len = strlen(name);

    for (const char *p = items; *p;) {
        size_t n = strcspn(p, ",");

        if (n == len && !strncmp(p, name, len))
            return true;
        p += n;
        p += (*p == ',');
    }
    return false;
}

/* Where our words go: before a "--" word, else at the end. */
static const char *insert_point(const char *cmdline)
{
    const char *p = cmdline;

    while (*p) {
        size_t n;

        p += strspn(p, " \t\n");
        n = word_len(p);
        if (n == 2 && !strncmp(p, "--", 2))
            return p;
        p += n;
    }
    return p;
}

int x86_pvm_cmdline(const char *cmdline, char *out, size_t outlen,
                    char *added, size_t addedlen)
{
    const char *at = insert_point(cmdline);
    char items[256], add[320];
    size_t nmiss = 0, head;
    bool noxsave;
    int n;

    scan(cmdline, at, &noxsave, items, sizeof(items));
    add[0] = 0;
    if (!noxsave)
        strcpy(add, "noxsave");
    for (size_t i = 0; i < NCLEAR; i++)
        nmiss += !has_item(items, pvm_clear[i]);
    if (nmiss) {
        size_t l = strlen(add);

        l += (size_t)snprintf(add + l, sizeof(add) - l, "%sclearcpuid=%s",
                              l ? " " : "", items);
        for (size_t i = 0; i < NCLEAR; i++)
            if (!has_item(items, pvm_clear[i]))
                l += (size_t)snprintf(add + l, sizeof(add) - l, "%s%s",
                                      l && add[l - 1] != '=' ? "," : "",
                                      pvm_clear[i]);
    }
    if (addedlen)
        snprintf(added, addedlen, "%s", add);
    /* Trim trailing blanks before the insertion point. */
    head = (size_t)(at - cmdline);
    while (head && strchr(" \t\n", cmdline[head - 1]))
        head--;
    if (!add[0])
        n = snprintf(out, outlen, "%s", cmdline);
    else
        n = snprintf(out, outlen, "%.*s%s%s%s%s", (int)head, cmdline,
                     head ? " " : "", add, *at ? " " : "", at);
    if (n < 0 || (size_t)n >= outlen)
        return -ENOSPC;
    return n - (int)strlen(cmdline);
}

/* One ELF note segment: 1 if it holds a "Linux" note, else 0. */
static int has_linux_note(const uint8_t *p, uint64_t len)
{
    uint64_t off = 0;

    while (len - off >= 12) {
        uint32_t namesz, descsz;
        uint64_t next;

        memcpy(&namesz, p + off, 4);
        memcpy(&descsz, p + off + 4, 4);
        next = off + 12 + (((uint64_t)namesz + 3) & ~3ULL) +
               (((uint64_t)descsz + 3) & ~3ULL);
        if (next > len)
            return 0;
        if (namesz == 6 && !memcmp(p + off + 12, "Linux", 6))
            return 1;
        off = next;
    }
    return 0;
}

bool x86_image_is_linux(const uint8_t *buf, size_t len)
{
    Elf64_Ehdr eh;

    if (len >= 0x206 && !memcmp(buf + 0x202, "HdrS", 4))
        return true;
    if (len < sizeof(eh) || memcmp(buf, ELFMAG, SELFMAG) ||
        buf[EI_CLASS] != ELFCLASS64)
        return false;
    memcpy(&eh, buf, sizeof(eh));
    if (eh.e_phentsize < sizeof(Elf64_Phdr))
        return false;
    for (unsigned int i = 0; i < eh.e_phnum; i++) {
        uint64_t off = eh.e_phoff + (uint64_t)i * eh.e_phentsize;
        Elf64_Phdr ph;

        if (off > len || len - off < sizeof(ph))
            return false;
        memcpy(&ph, buf + off, sizeof(ph));
        if (ph.p_type != PT_NOTE || ph.p_offset > len ||
            ph.p_filesz > len - ph.p_offset)
            continue;
        if (has_linux_note(buf + ph.p_offset, ph.p_filesz))
            return true;
    }
    return false;
}

/* 0F AE /r and 0F C7 /r with a memory operand (mod != 3). */
static int decode_group(unsigned char op, unsigned char modrm, bool rexw,
                        struct x86_pvm_insn *out)
{
    static const char *const ae[8] = { NULL, NULL, NULL, NULL,
                                       "xsave", "xrstor", "xsaveopt", NULL };
    static const char *const c7[8] = { NULL, NULL, NULL, "xrstors",
                                       "xsavec", "xsaves", NULL, NULL };
    unsigned int reg = (modrm >> 3) & 7;

    if ((modrm >> 6) == 3)
        return 0;
    if (op == 0xae && ae[reg]) {
        *out = (struct x86_pvm_insn){ ae[reg], "noxsave" };
        return 1;
    }
    if (op == 0xc7 && reg == 1 && rexw) {
        *out = (struct x86_pvm_insn){ "cmpxchg16b", "clearcpuid=cx16" };
        return 1;
    }
    if (op == 0xc7 && c7[reg]) {
        *out = (struct x86_pvm_insn){ c7[reg], "noxsave" };
        return 1;
    }
    return 0;
}

int x86_pvm_decode(const unsigned char *b, int n, bool long64,
                   struct x86_pvm_insn *out)
{
    static const unsigned char prefixes[] = { 0x66, 0x67, 0xf0, 0xf2, 0xf3,
                                              0x2e, 0x36, 0x3e, 0x26, 0x64,
                                              0x65 };
    bool f3 = false, rexw = false;
    int i = 0;

    while (i < n && i < 14 && memchr(prefixes, b[i], sizeof(prefixes))) {
        f3 = b[i] == 0xf3 ? true : (b[i] == 0xf2 ? false : f3);
        i++;
    }
    if (long64 && i < n && (b[i] & 0xf0) == 0x40)
        rexw = b[i++] & 8;
    if (n - i < 3 || b[i] != 0x0f)
        return 0;
    switch (b[i + 1]) {
    case 0x01:
        switch (b[i + 2]) {
        case 0xd0: *out = (struct x86_pvm_insn){ "xgetbv", "noxsave" }; return 1;
        case 0xd1: *out = (struct x86_pvm_insn){ "xsetbv", "noxsave" }; return 1;
        case 0xca: *out = (struct x86_pvm_insn){ "clac", "clearcpuid=smap" }; return 1;
        case 0xcb: *out = (struct x86_pvm_insn){ "stac", "clearcpuid=smap" }; return 1;
        default: return 0;
        }
    case 0xb8:
        if (!f3)
            return 0;
        *out = (struct x86_pvm_insn){ "popcnt", "clearcpuid=popcnt" };
        return 1;
    case 0xae:
    case 0xc7:
        return decode_group(b[i + 1], b[i + 2], rexw, out);
    default:
        return 0;
    }
}

size_t x86_pvm_format_hint(char *buf, size_t len, const unsigned char *insn,
                           int n, bool long64)
{
    struct x86_pvm_insn in;
    int r;

    if (len)
        buf[0] = '\0';
    if (!x86_pvm_decode(insn, n, long64, &in))
        return 0;
    r = snprintf(buf, len, "minivmm: hint: the guest stopped at '%s', which "
                 "this host's KVM (kvm_pvm, guest kernel mode emulated) "
                 "cannot execute; boot a Linux guest with '%s' (all such "
                 "hosts need: --cmdline \"... %s\"; README \"kvm_pvm\")\n",
                 in.name, in.param, X86_PVM_LINUX_PARAMS);
    if (r < 0)
        return 0;
    return (size_t)r < len ? (size_t)r : (len ? len - 1 : 0);
}

void x86_pvm_crash_hint(int vcpu_fd, const struct guest_memory *mem)
{
    unsigned char insn[16];
    struct kvm_sregs s;
    char hint[512];
    int n;

    if (kvm_vcpu_ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0)
        return;
    n = x86_fetch_insn(vcpu_fd, mem, insn, (int)sizeof(insn));
    if (n > 0 && x86_pvm_format_hint(hint, sizeof(hint), insn, n,
                                     (s.efer & (1ULL << 10)) && s.cs.l))
        log_err("%s", hint);
}
