/* SPDX-License-Identifier: BSD-3-Clause */
/* minivmm-ctl --help, from the command table (cmds.c); the same commands
 * as minivmm-ctl(1), docs/api.md (tests/integration/payload_manpages.sh
 * compares them). */
#include "tools/minivmm-ctl/help.h"

#include <string.h>

#include "tools/minivmm-ctl/cmds.h"

void ctl_usage(FILE *out)
{
    unsigned int n;
    const struct ctl_cmd *c = ctl_cmds(&n);

    fprintf(out,
"Usage: minivmm-ctl [--json] SOCKET COMMAND [ARG...]\n"
"       minivmm-ctl CONSOLE-SOCKET console\n"
"Control a running minivmm through its --api-socket SOCKET (docs/api.md).\n"
"\n"
"Commands:\n");
    for (unsigned int i = 0; i < n; i++) {
        char head[40];

        snprintf(head, sizeof(head), "%s%s%s", c[i].name,
                 c[i].args[0] ? " " : "", c[i].args);
        if (strlen(head) <= 18)
            fprintf(out, "  %-18s  %s\n", head, c[i].help);
        else
            fprintf(out, "  %s\n  %-18s  %s\n", head, "", c[i].help);
    }
    fprintf(out,
"\n"
"Options:\n"
"  --json              print the reply (and events) as minivmm sent them\n"
"  --help              this text\n"
"  --version           print the version\n"
"\n"
"Exit status: 0 success; 1 minivmm answered with an error; 2 bad command\n"
"line (a mistyped command is refused here, with a suggestion); 3 the\n"
"socket cannot be reached or the reply is not understood.\n");
}
