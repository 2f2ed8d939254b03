/* SPDX-License-Identifier: BSD-3-Clause */
/* A tiny AML encoder (ACPI 6.5 §20, "ACPI Machine Language Specification")
 * for the DSDT: names, integers, packages, devices, scopes, empty methods and
 * resource templates (buffers of ACPI 6.5 §6.4 resource descriptors).
 *
 * Pure: writes bytes into a caller-supplied buffer. Constructs that have a
 * PkgLength (scope, device, method, package, buffer) are opened with
 * aml_*_begin() and closed with aml_end(); the PkgLength (and a package's
 * element count, a buffer's size) is inserted when the construct closes.
 * Errors are sticky: after the first failure (-ENOSPC: buffer full;
 * -EINVAL: malformed name, bad nesting, > 255 package elements) every later
 * call does nothing and aml_finish() returns that error. */
#ifndef MINIVMM_X86_AML_H
#define MINIVMM_X86_AML_H

#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8

/* Encoder state; callers embed it (e.g. on the stack) and treat it as
 * opaque. */
struct aml {
    uint8_t *buf;
    size_t size;                 /* capacity of buf, bytes */
    size_t len;                  /* bytes written */
    int err;                     /* 0 or the first -errno */
    unsigned int depth;          /* open constructs */
    size_t start[AML_MAX_DEPTH]; /* offset just after each opening op */
    uint8_t kind[AML_MAX_DEPTH];
    unsigned int count[AML_MAX_DEPTH]; /* package elements so far */
};

/* Extended Interrupt descriptor flags (ACPI 6.5 §6.4.3.6). */
#define AML_IRQ_EDGE 0x02       /* else level-triggered */
#define AML_IRQ_ACTIVE_LOW 0x04 /* else active-high */
#define AML_IRQ_SHARED 0x08     /* else exclusive */

/* Start encoding into @buf (@size bytes). */
void aml_init(struct aml *a, uint8_t *buf, size_t size);

/* End encoding: 0 and *@len = bytes written, or the first error; -EINVAL
 * if a construct is still open. */
int aml_finish(const struct aml *a, size_t *len);

/* Name (@name, <next object>): NameOp and the NameString; the following
 * call (integer, package, resource template, ...) gives the value. Paths
 * are ASL-style: "_S5", "\\_SB.PCI0", "^FOO"; segments of 1-4 chars are
 * padded with '_'. */
void aml_name(struct aml *a, const char *name);

/* A NameString as a data object, e.g. a reference in a _PRT package. */
void aml_name_ref(struct aml *a, const char *path);

/* Integer constant in its shortest encoding (Zero, One, Byte..QWord). */
void aml_integer(struct aml *a, uint64_t v);

/* EisaId ("PNP0A03"): 3 upper-case letters and 4 hex digits, as the
 * compressed 32-bit integer (ACPI 6.5 §6.1.5 _HID). */
void aml_eisaid(struct aml *a, const char *id);

/* Scope (@path) { ... } */
void aml_scope_begin(struct aml *a, const char *path);
/* Device (@name) { ... } */
void aml_device_begin(struct aml *a, const char *name);
/* Method (@name, @nargs 0..7, NotSerialized) { ... } */
void aml_method_begin(struct aml *a, const char *name, unsigned int nargs);
/* Package () { ... }: the element count is filled in by aml_end(). */
void aml_package_begin(struct aml *a);
/* ResourceTemplate () { ... }: a Buffer; aml_end() appends the End Tag. */
void aml_restemp_begin(struct aml *a);
/* Close the innermost open construct. */
void aml_end(struct aml *a);

/* Resource descriptors, only inside a ResourceTemplate (ACPI 6.5 §6.4). */

/* IO (Decode16, @base, @base, 1, @len): a fixed range of @len ports. */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
/* IRQNoFlags () { @irq }: ISA IRQ 0..15, edge, active-high. */
void aml_res_irq(struct aml *a, unsigned int irq);
/* Interrupt (ResourceConsumer, @flags (AML_IRQ_*)) { @gsi } */
void aml_res_ext_irq(struct aml *a, uint32_t gsi, unsigned int flags);
/* Memory32Fixed (ReadWrite, @base, @len) */
void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len);
/* Bridge windows: WordBusNumber, WordIO (EntireRange), DWordMemory and
 * QWordMemory (NonCacheable, ReadWrite), all ResourceProducer, PosDecode,
 * MinFixed, MaxFixed, covering @min..@max inclusive (@max >= @min). */
void aml_res_bus_range(struct aml *a, uint16_t min, uint16_t max);
void aml_res_io_range(struct aml *a, uint16_t min, uint16_t max);
void aml_res_mem32_range(struct aml *a, uint32_t min, uint32_t max);
void aml_res_mem64_range(struct aml *a, uint64_t min, uint64_t max);

/* Low-level pieces for encoders of further constructs (aml_expr.h):
 * @n raw bytes (an opcode and what follows it, in a term list); and an
 * opening of a construct whose body is a term or field list (If, Field):
 * the @oplen opcode bytes, then the PkgLength inserted by aml_end(). */
void aml_bytes(struct aml *a, const void *p, size_t n);
/* Record error @err (-EINVAL: a malformed construct) unless one is set. */
void aml_error(struct aml *a, int err);
void aml_block_begin(struct aml *a, const uint8_t *op, size_t oplen);

#endif
