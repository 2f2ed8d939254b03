/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MINIVMM_CTL_HELP_H
#define MINIVMM_CTL_HELP_H

#include <stdio.h>

/* Print minivmm-ctl's usage (commands, options, exit status) to @out. */
void ctl_usage(FILE *out);

#endif
