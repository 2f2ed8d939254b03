/* SPDX-License-Identifier: BSD-3-Clause */
/* minivmm-ctl's command table: names, argument counts, one-line help,
 * the request each builds, and a did-you-mean for a mistyped name. */
#include "tools/minivmm-ctl/cmds.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

static const struct ctl_cmd cmds[] = {
    { "status", 0, 0, "", "print the VM's run state, vCPUs and memory" },
    { "pause", 0, 0, "", "stop the vCPUs (devices keep their state)" },
    { "resume", 0, 0, "", "run the vCPUs again after pause" },
    { "snapshot", 1, 1, "FILE", "save the VM to FILE (minivmm --restore "
      "FILE resumes it); paused meanwhile" },
    { "quit", 0, 0, "", "stop the VM and end minivmm (exit status 0)" },
    { "powerdown", 0, 0, "", "press the ACPI power button (the guest "
      "shuts down cleanly)" },
    { "migrate", 1, 5, "URI [downtime-ms=N] [auto-converge=on|off] "
      "[max-bandwidth=BYTES/S[K|M|G]] [rt-boost=on|off]", "live-migrate to a minivmm "
      "--incoming URI (unix:PATH, tcp:HOST:PORT[,token-file=PATH]); exit 0 "
      "only when it completed" },
    { "migrate-status", 0, 0, "", "print the state of the current or last "
      "migration" },
    { "migrate-cancel", 0, 0, "", "cancel a running migration (the VM "
      "keeps running here)" },
    { "config", 0, 0, "", "print the running VM's description (JSON, the "
      "format of minivmm --config)" },
    { "stats", 0, 0, "", "print counters as JSON (exits, doorbells, "
      "interrupts, DMA, block I/O)" },
    { "device-add", 2, 2, "TYPE K=V,...", "hot-add a device: TYPE disk "
      "or vfio-user, the keys of --disk / --vfio-user, id= required" },
    { "device-remove", 1, 2, "ID [TIMEOUT-MS]", "ask the guest to release "
      "device ID; it goes when the guest ejects it" },
    { "events", 0, 0, "", "print events (JSON lines) until minivmm exits "
      "or Ctrl-C" },
    { "console", 0, 0, "", "on a --serial socket:PATH socket: attach the "
      "terminal to the serial port; Ctrl-] detaches" },
};

const struct ctl_cmd *ctl_cmds(unsigned int *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}

const struct ctl_cmd *ctl_cmd_find(const char *name)
{
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (!strcmp(cmds[i].name, name))
            return &cmds[i];
    return NULL;
}

/* Edit distance (insert, delete, substitute), capped inputs. */
static unsigned int distance(const char *a, const char *b)
{
    unsigned int row[33], n = (unsigned int)strlen(b);

    if (strlen(a) > 32 || n > 32)
        return UINT_MAX;
    for (unsigned int j = 0; j <= n; j++)
        row[j] = j;
    for (unsigned int i = 1; a[i - 1]; i++) {
        unsigned int diag = row[0];

        row[0] = i;
        for (unsigned int j = 1; j <= n; j++) {
            unsigned int up = row[j], best = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[n];
}

const char *ctl_cmd_suggest(const char *name)
{
    unsigned int best = UINT_MAX;
    const char *s = NULL;

    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        unsigned int d = distance(name, cmds[i].name);

        if (strstr(cmds[i].name, name) && strlen(name) >= 3)
            d = 1;
        if (d < best) {
            best = d;
            s = cmds[i].name;
        }
    }
    return best <= 3 ? s : NULL;
}

/* device-add TYPE K=V,...: {"type": TYPE, K: V, ...}; a K without "=V"
 * is true. NULL for an item without a key. */
static struct json_object *device_args(const char *type, const char *kv)
{
    struct json_object *a = json_object_new_object();
    char *dup = strdup(kv), *save = NULL;

    json_object_object_add(a, "type", json_object_new_string(type));
    for (char *t = dup ? strtok_r(dup, ",", &save) : NULL; t;
         t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');

        if (eq == t) {
            json_object_put(a);
            a = NULL;
            break;
        }
        if (eq)
            *eq = 0;
        json_object_object_add(a, t, eq ? json_object_new_string(eq + 1)
                                        : json_object_new_boolean(1));
    }
    free(dup);
    return a;
}

/* migrate's K=V parameters into @o (docs/api.md). -1 for a bad one. */
static int migrate_params(struct json_object *o, char **args)
{
    for (unsigned int i = 1; i < 5 && args[i]; i++) {
        const char *a = args[i], *v = strchr(a, '=');
        char *end;
        long long x;

        if (!v)
            return -1;
        v++;
        if (!strncmp(a, "auto-converge=", 14) ||
            !strncmp(a, "rt-boost=", 9)) {
            if (strcmp(v, "on") && strcmp(v, "off"))
                return -1;
            json_object_object_add(o, a[0] == 'a' ? "auto-converge" :
                                   "rt-boost",
                                   json_object_new_boolean(!strcmp(v, "on")));
            continue;
        }
        x = strtoll(v, &end, 10);
        if (end == v || x < 0)
            return -1;
        x <<= *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
        if (*end && (strchr("KMG", *end) == NULL || end[1]))
            return -1;
        if (!strncmp(a, "downtime-ms=", 12) && !*end)
            json_object_object_add(o, "downtime-ms",
                                   json_object_new_int64(x));
        else if (!strncmp(a, "max-bandwidth=", 14))
            json_object_object_add(o, "max-bandwidth",
                                   json_object_new_int64(x));
        else
            return -1;
    }
    return 0;
}

/* An absolute form of @v in @abs (the VMM may run elsewhere). */
static const char *absolute(const char *v, char abs[PATH_MAX])
{
    if (v[0] == '/' || !getcwd(abs, PATH_MAX) ||
        strlen(abs) + strlen(v) + 2 >= PATH_MAX)
        return v;
    strcat(abs, "/");
    strcat(abs, v);
    return abs;
}

static int add_args(struct json_object *o, const struct ctl_cmd *c,
                    char **args)
{
    struct json_object *a;
    char abs[PATH_MAX];
    char *end;

    if (!strcmp(c->name, "snapshot")) {
        json_object_object_add(o, "file", json_object_new_string(
                                              absolute(args[0], abs)));
    } else if (!strcmp(c->name, "migrate")) {
        json_object_object_add(o, "uri", json_object_new_string(args[0]));
        if (migrate_params(o, args) < 0)
            return -1;
    } else if (!strcmp(c->name, "device-add")) {
        a = device_args(args[0], args[1]);
        if (!a)
            return -1;
        json_object_object_add(o, "args", a);
    } else if (!strcmp(c->name, "device-remove")) {
        a = json_object_new_object();
        json_object_object_add(a, "id", json_object_new_string(args[0]));
        json_object_object_add(o, "args", a);
        if (args[1]) {
            long ms = strtol(args[1], &end, 10);

            if (*end || ms < 1)
                return -1;
            json_object_object_add(a, "timeout", json_object_new_int64(ms));
        }
    }
    return 0;
}

struct json_object *ctl_build_request(const struct ctl_cmd *c, int nargs,
                                      char **args, int id)
{
    struct json_object *o;

    if (nargs < c->min_args || nargs > c->max_args)
        return NULL;
    o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int(id));
    json_object_object_add(o, "cmd", json_object_new_string(c->name));
    if (add_args(o, c, args) < 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}
