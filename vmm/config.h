/* Command line → validated VM configuration. Parsing is pure (no files
 * opened, no KVM) so it is unit-testable; main.c checks what needs the host
 * (files, host RAM, KVM's vCPU limit) before creating anything. */
#ifndef MINIVMM_CONFIG_H
#define MINIVMM_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "arch/x86/cpuid.h"

#define CONFIG_DEFAULT_MEMORY (512ULL << 20)
#define CONFIG_MAX_CPUS 255 /* xAPIC IDs, MADT/MP table limit */

enum serial_mode {
    SERIAL_STDIO,
    SERIAL_FILE,
    SERIAL_NONE,
};

struct vm_config {
    const char *kernel;
    const char *initrd;
    const char *cmdline;
    unsigned int cpus;
    uint64_t memory;            /* bytes, multiple of 4 KiB */
    enum serial_mode serial;
    const char *serial_path;    /* SERIAL_FILE */
    struct cpuid_policy cpuid;
    int show_help;
    int show_version;
};

/* Parse @argv into @cfg (strings point into @argv). 0, or -EINVAL with a
 * one-line reason in @err. */
int config_parse(int argc, char **argv, struct vm_config *cfg, char *err,
                 size_t errlen);

/* Parse a size with an optional K/M/G/T suffix (binary units, case
 * insensitive, optional trailing 'B' or 'iB'); a bare number means MiB.
 * 0 or -EINVAL (malformed, overflow). */
int config_parse_size(const char *s, uint64_t *bytes);

/* The --help text. */
void config_usage(FILE *out);

#endif
