/* SPDX-License-Identifier: BSD-3-Clause */
/* What a Linux guest needs on a kvm_pvm host (software-emulated guest CPL0,
 * no VMX/SVM; README "kvm_pvm"), and the hint printed when a guest crashes
 * at an instruction such a host cannot execute.
 *
 * Measured on kvm_pvm: its CPL0 emulator lacks xsave/xrstor (and the rest
 * of the XSAVE family, xgetbv/xsetbv), cmpxchg16b, popcnt and clac/stac,
 * and it applies KVM_SET_CPUID2 only to the bits KVM itself reports, so
 * these features cannot be hidden through CPUID: the guest kernel must be
 * told on its command line (Linux: Documentation/admin-guide/
 * kernel-parameters.txt, "noxsave", "clearcpuid=").
 */
#ifndef MINIVMM_X86_PVM_QUIRKS_H
#define MINIVMM_X86_PVM_QUIRKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The parameters, as tools/guest/host-cmdline.sh prints them. */
#define X86_PVM_LINUX_PARAMS "noxsave clearcpuid=cx16,popcnt,smap,smep"

/* @cmdline with whatever of X86_PVM_LINUX_PARAMS it lacks: "noxsave"
 * unless present as a word; the missing clearcpuid= items as one
 * "clearcpuid=" holding the user's items and ours (Linux takes the last
 * clearcpuid=). Inserted before a " -- " (what follows goes to init).
 * Writes the result to @out (@outlen bytes with the NUL) and what was
 * added to @added (may be empty). Returns the number of bytes added to
 * @cmdline (0: nothing needed), or -ENOSPC if @out is too small. */
int x86_pvm_cmdline(const char *cmdline, char *out, size_t outlen,
                    char *added, size_t addedlen);

/* Whether a kernel image is Linux: a bzImage ("HdrS" at 0x202) or an ELF64
 * with a "Linux" note (init/version.c's build-salt note, present in every
 * vmlinux). The test payloads are neither. Pure. */
bool x86_image_is_linux(const uint8_t *buf, size_t len);

/* An instruction kvm_pvm cannot execute at CPL0 and the Linux parameter
 * that keeps the guest from using it. */
struct x86_pvm_insn {
    const char *name;  /* "xrstor", "popcnt", "clac", ... */
    const char *param; /* "noxsave", "clearcpuid=popcnt", ... */
};

/* Decode @n bytes at RIP (legacy prefixes, REX in 64-bit code, then the
 * opcode and ModRM: Intel SDM vol. 2). 1 with *@out filled if it is one of
 * those instructions, 0 if not or too short. Pure. */
int x86_pvm_decode(const unsigned char *insn, int n, bool long64,
                   struct x86_pvm_insn *out);

/* The one-line hint for a crash at @insn, newline included, into @buf
 * (@len bytes with the NUL; cut if shorter): names the instruction and the
 * fix. Returns its length, 0 (@buf "") if @insn is not such an
 * instruction. Pure. */
size_t x86_pvm_format_hint(char *buf, size_t len, const unsigned char *insn,
                           int n, bool long64);

struct guest_memory;

/* On a crash: fetch the bytes at the vCPU's RIP and log the hint above
 * (LOG_ERROR; nothing if RIP is unreadable or not such an instruction).
 * Call only on kvm_pvm hosts (on hardware KVM these instructions run
 * natively). */
void x86_pvm_crash_hint(int vcpu_fd, const struct guest_memory *mem);

#endif
