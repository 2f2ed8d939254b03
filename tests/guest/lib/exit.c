/* SPDX-License-Identifier: BSD-3-Clause */
/* Test-exit port and panic. */
#include "lib/exit.h"

#include <stdarg.h>

#include "boot/layout.h"
#include "lib/io.h"
#include "lib/printf.h"

void guest_exit(int status)
{
    outb(EXIT_PORT, (uint8_t)status);
    for (;;)
        cpu_relax();
}

void panic(const char *fmt, ...)
{
    va_list ap;

    printf("PANIC: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    guest_exit(EXIT_PANIC);
}
