/* SPDX-License-Identifier: BSD-3-Clause */
/* Dropping root (privdrop.h). */
#include "minivmm/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A decimal id below 2^31 - 1, or -1. */
static long parse_id(const char *s)
{
    char *end;
    long v;

    if (!*s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    return (errno || *end || v >= 0x7fffffffL) ? -1 : v;
}

int priv_resolve(const char *user, const char *group, struct priv_ids *out,
                 char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (user) {
        struct passwd *pw = getpwnam(user);
        long id = parse_id(user);

        if (!pw && id < 0) {
            snprintf(err, errlen, "--user %s: no such user", user);
            return -EINVAL;
        }
        if (!pw)
            pw = getpwuid((uid_t)id);
        out->uid = pw ? pw->pw_uid : (uid_t)id;
        out->has_uid = 1;
        if (pw && !group) {
            out->gid = pw->pw_gid;
            out->has_gid = 1;
        }
    }
    if (out->has_uid && !out->has_gid && !group) {
        snprintf(err, errlen, "--user %s: no such user in the password "
                 "database: give --group too", user);
        return -EINVAL;
    }
    if (group) {
        struct group *gr = getgrnam(group);
        long id = parse_id(group);

        if (!gr && id < 0) {
            snprintf(err, errlen, "--group %s: no such group", group);
            return -EINVAL;
        }
        out->gid = gr ? gr->gr_gid : (gid_t)id;
        out->has_gid = 1;
    }
    return 0;
}

int priv_drop(const struct priv_ids *ids, char *err, size_t errlen)
{
    /* With a new uid there is always a new gid (priv_resolve), and the
     * supplementary groups (root's) go too. */
    if (ids->has_gid && (setgroups(1, &ids->gid) < 0 ||
                         setgid(ids->gid) < 0)) {
        int e = errno;

        snprintf(err, errlen, "--group: setgid %u: %s",
                 (unsigned int)ids->gid, strerror(e));
        return -e;
    }
    if (ids->has_uid && setuid(ids->uid) < 0) {
        int e = errno;

        snprintf(err, errlen, "--user: setuid %u: %s",
                 (unsigned int)ids->uid, strerror(e));
        return -e;
    }
    if ((ids->has_gid && (getgid() != ids->gid || getegid() != ids->gid)) ||
        (ids->has_uid && (getuid() != ids->uid || geteuid() != ids->uid ||
                          (ids->uid != 0 && setuid(0) == 0)))) {
        snprintf(err, errlen, "dropping privileges did not hold");
        return -EPERM;
    }
    return 0;
}
