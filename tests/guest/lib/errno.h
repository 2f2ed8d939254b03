/* SPDX-License-Identifier: BSD-3-Clause */
/* errno values for the payload's 0/-errno returns. */
#ifndef GUEST_LIB_ERRNO_H
#define GUEST_LIB_ERRNO_H

#define ENOENT    2
#define EIO       5
#define ENOMEM    12
#define EBUSY     16
#define ENODEV    19
#define EINVAL    22
#define ENOSPC    28
#define ERANGE    34
#define ETIMEDOUT 110

#endif
