/* SPDX-License-Identifier: BSD-3-Clause */
/* minivmm-ctl --help (the same commands as minivmm-ctl(1), docs/api.md;
 * tests/integration/payload_manpages.sh compares them). */
#include "tools/minivmm-ctl/help.h"

void ctl_usage(FILE *out)
{
    fprintf(out,
"Usage: minivmm-ctl SOCKET COMMAND [ARG]\n"
"       minivmm-ctl CONSOLE-SOCKET console\n"
"Control a running minivmm through its --api-socket SOCKET (docs/api.md).\n"
"\n"
"Commands:\n"
"  status              print the VM's run state, vCPUs and memory\n"
"  pause               stop the vCPUs (devices keep their state)\n"
"  resume              run the vCPUs again after pause\n"
"  snapshot FILE       save the VM to FILE (minivmm --restore FILE resumes\n"
"                      it); the VM is paused while it is written\n"
"  quit                stop the VM and end minivmm (exit status 0)\n"
"  migrate URI         live-migrate to a minivmm --incoming URI\n"
"                      (unix:PATH or tcp:HOST:PORT, optionally\n"
"                      ,token-file=PATH); progress on stderr; exit 0 only\n"
"                      when the migration completed\n"
"  migrate-status      print the state of the current or last migration\n"
"  migrate-cancel      cancel a running migration (the VM keeps running\n"
"                      here)\n"
"  config              print the running VM's description (JSON, the\n"
"                      format of minivmm --config)\n"
"  stats               print counters as JSON: vCPU exits, doorbells,\n"
"                      interrupts, DMA, vfio-user round trips, block I/O\n"
"  console             on a --serial socket:PATH socket: attach the\n"
"                      terminal to the guest's serial port; Ctrl-]\n"
"                      detaches, the VM keeps running\n"
"\n"
"Options:\n"
"  --help              this text\n"
"  --version           print the version\n"
"\n"
"Exit status: 0 success; 1 minivmm answered with an error; 2 bad command\n"
"line; 3 the socket cannot be reached or the reply is not understood.\n");
}
