/* SPDX-License-Identifier: BSD-3-Clause */
/* AML expressions and I/O fields (see aml_expr.h). Encodings: ACPI 6.5
 * §20.2.5.1 (OperationRegion, Field), §20.2.5.3 (If), §20.2.6 (Local,
 * Arg), §20.2.3 (String). */
#include "arch/x86/aml_expr.h"

#include <errno.h>
#include <string.h>

#define AML_EXT_OP_PREFIX 0x5B
#define AML_OPREGION_OP 0x80 /* after the prefix */
#define AML_FIELD_OP 0x81    /* after the prefix */
#define AML_IF_OP 0xA0
#define AML_STRING_PREFIX 0x0D
#define AML_LOCAL0_OP 0x60
#define AML_ARG0_OP 0x68
#define AML_SYSTEM_IO 0x01

void aml_op(struct aml *a, uint8_t op)
{
    aml_bytes(a, &op, 1);
}

void aml_local(struct aml *a, unsigned int n)
{
    aml_op(a, (uint8_t)(AML_LOCAL0_OP + (n & 7)));
}

void aml_arg(struct aml *a, unsigned int n)
{
    aml_op(a, (uint8_t)(AML_ARG0_OP + (n < 7 ? n : 6)));
}

void aml_no_target(struct aml *a)
{
    aml_op(a, 0x00);
}

void aml_string(struct aml *a, const char *s)
{
    aml_op(a, AML_STRING_PREFIX);
    aml_bytes(a, s, strlen(s) + 1);
}

void aml_opregion_io(struct aml *a, const char *name, uint16_t port,
                     uint16_t len)
{
    static const uint8_t op[] = {AML_EXT_OP_PREFIX, AML_OPREGION_OP};
    uint8_t space = AML_SYSTEM_IO;

    aml_bytes(a, op, sizeof(op));
    aml_name_ref(a, name);
    aml_bytes(a, &space, 1);
    aml_integer(a, port);
    aml_integer(a, len);
}

void aml_field_begin(struct aml *a, const char *region, uint8_t flags)
{
    static const uint8_t op[] = {AML_EXT_OP_PREFIX, AML_FIELD_OP};

    aml_block_begin(a, op, sizeof(op));
    aml_name_ref(a, region);
    aml_bytes(a, &flags, 1);
}

void aml_field_unit(struct aml *a, const char *name, unsigned int bits)
{
    uint8_t u[5];

    if (strlen(name) != 4 || bits == 0 || bits > 63) {
        aml_error(a, -EINVAL);
        return;
    }
    memcpy(u, name, 4);
    u[4] = (uint8_t)bits; /* PkgLength of one byte: the width in bits */
    aml_bytes(a, u, sizeof(u));
}

void aml_if_begin(struct aml *a)
{
    static const uint8_t op[] = {AML_IF_OP};

    aml_block_begin(a, op, sizeof(op));
}
