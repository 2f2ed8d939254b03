/* SPDX-License-Identifier: BSD-3-Clause */
/* --user / --group: drop root once set-up is done (docs/security.md,
 * "Dropping root"), like Firecracker's jailer without the chroot. */
#ifndef MINIVMM_PRIVDROP_H
#define MINIVMM_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

struct priv_ids {
    uid_t uid;
    gid_t gid;
    int has_uid, has_gid;
};

/* Resolve @user (name or decimal uid) and @group (name or decimal gid;
 * NULL: @user's login group, or no group change if @user is also NULL)
 * with getpwnam/getgrnam. A uid without a password entry needs @group.
 * 0, or -EINVAL with the reason in @err. */
int priv_resolve(const char *user, const char *group, struct priv_ids *out,
                 char *err, size_t errlen);

/* setgroups to just the new gid, setgid, setuid (for all threads: glibc
 * broadcasts set*id), then check with getuid/geteuid/getgid/getegid that
 * root cannot be regained. Nothing when @ids asks for nothing. 0, or
 * -errno with the reason in @err (e.g. -EPERM when not root). */
int priv_drop(const struct priv_ids *ids, char *err, size_t errlen);

#endif
