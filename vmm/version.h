/* SPDX-License-Identifier: BSD-3-Clause */
/* minivmm's version string, for --version of every program: generated at
 * build time into BUILD/gen/version.c from tools/version.sh (`git
 * describe`, else the VERSION file). E.g. "0.1.0-g1a2b3c4". */
#ifndef MINIVMM_VERSION_H
#define MINIVMM_VERSION_H

extern const char minivmm_version[];

#endif
