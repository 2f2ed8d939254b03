/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the control API's request parser (vmm/api_parse.c),
 * i.e. everything a local client's request line reaches before a command
 * runs.
 *
 * FUZZ_SRCS: minivmm/api_parse.c
 * FUZZ_PKGS: json-c
 *
 * Input: one request line (any bytes). Invariants (abort on violation):
 * an accepted request names a known command, its id is within the JSON
 * integer range (API_ID_MAX), its "file" and "uri" are NUL-terminated
 * within their buffers and the command's required argument is there; a
 * refused one always carries a reason.
 * Seeds: tests/fuzz/corpus/fuzz_api/ (one line per command, and some
 * refused ones).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_request req;
    char err[256];
    int r;

    memset(&req, 0xA5, sizeof(req)); /* no field read before it is set */
    err[0] = 0;
    r = api_parse_request((const char *)data, size, &req, err, sizeof(err));
    check(r == 0 || r == -EINVAL);
    if (r) {
        check(err[0] != 0);
        check(memchr(err, 0, sizeof(err)) != NULL);
        return 0;
    }
    check((unsigned int)req.cmd < API_CMD_COUNT);
    check(!req.has_id || (req.id >= -API_ID_MAX && req.id <= API_ID_MAX));
    check(memchr(req.file, 0, sizeof(req.file)) != NULL);
    check(memchr(req.uri, 0, sizeof(req.uri)) != NULL);
    check(api_cmd_name(req.cmd) != NULL);
    if (req.cmd == API_CMD_SNAPSHOT)
        check(req.file[0] != 0);
    if (req.cmd == API_CMD_MIGRATE)
        check(req.uri[0] != 0);
    return 0;
}
