/* SPDX-License-Identifier: BSD-3-Clause */
/* AML expressions and I/O fields on top of aml.h (ACPI 6.5 §20.2.5): what
 * the DSDT's hotplug and power-button methods need (acpi_hotplug.c).
 * Opcodes are emitted in prefix order: an operator, then its operands by
 * the following calls (aml_name_ref(), aml_integer(), aml_local(), ...),
 * e.g. Store (PCIU, Local0) is
 *
 *     aml_op(a, AML_OP_STORE); aml_name_ref(a, "PCIU"); aml_local(a, 0);
 *
 * Errors are sticky as in aml.h. */
#ifndef MINIVMM_X86_AML_EXPR_H
#define MINIVMM_X86_AML_EXPR_H

#include <stdint.h>

#include "arch/x86/aml.h"

/* Operators (ACPI 6.5 §20.2.5.4) taking fixed operand counts. */
#define AML_OP_STORE 0x70  /* Store (TermArg, SuperName) */
#define AML_OP_AND 0x7B    /* And (TermArg, TermArg, Target) */
#define AML_OP_NOTIFY 0x86 /* Notify (SuperName, TermArg) */

/* Field flags (§19.6.48): access type, no lock, update rule. */
#define AML_FIELD_DWORD_ACC 0x03
#define AML_FIELD_WRITE_ZEROS 0x40

/* One opcode byte. */
void aml_op(struct aml *a, uint8_t op);
/* Local0..7, Arg0..6 as operands. */
void aml_local(struct aml *a, unsigned int n);
void aml_arg(struct aml *a, unsigned int n);
/* A NullName Target: the result is not stored. */
void aml_no_target(struct aml *a);
/* A string constant (ASCII, no NUL inside). */
void aml_string(struct aml *a, const char *s);
/* OperationRegion (@name, SystemIO, @port, @len) */
void aml_opregion_io(struct aml *a, const char *name, uint16_t port,
                     uint16_t len);
/* Field (@region, @flags) { ... }: aml_field_unit()s, closed by aml_end(). */
void aml_field_begin(struct aml *a, const char *region, uint8_t flags);
/* A named field unit of @bits (1..63) bits; @name is exactly 4 chars. */
void aml_field_unit(struct aml *a, const char *name, unsigned int bits);
/* If (predicate) { ... }: the predicate follows, then the body; aml_end()
 * closes it. */
void aml_if_begin(struct aml *a);

#endif
