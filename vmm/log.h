/* SPDX-License-Identifier: BSD-3-Clause */
/* The one log module: every message of minivmm and of the library goes
 * through log_msg() (or the log_err/log_warn/log_info/log_debug macros),
 * filtered by one level and written with one write(2) per message to one
 * destination (stderr unless --log-file). The setting is process-wide and
 * written once by a program's main() before any thread starts; after that it
 * is only read. */
#ifndef MINIVMM_VMM_LOG_H
#define MINIVMM_VMM_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
    LOG_ERROR = 0, /* the operation or the VM failed */
    LOG_WARN = 1,  /* something is wrong, the VM goes on (default and up) */
    LOG_INFO = 2,  /* what a user may want to know (progress, outcome) */
    LOG_DEBUG = 3, /* for developers: start-up timeline, protocol detail */
};

/* Sets the level from its name ("error", "warn", "info", "debug").
 * Returns 0, or -EINVAL for another name (the level is unchanged). */
int log_set_level_name(const char *name);

/* Sets the level. Messages above it are dropped. Default: LOG_INFO. */
void log_set_level(enum log_level level);

/* The current level. */
enum log_level log_get_level(void);

/* Sends every later message to PATH (created 0600, appended, never through a
 * symlink: O_NOFOLLOW). Returns 0, or negative errno from open(2); on error
 * messages keep going to the previous destination. */
int log_open_file(const char *path);

/* Whether a message at LEVEL would be written (to skip costly formatting). */
bool log_enabled(enum log_level level);

/* Formats FMT (printf) and writes it, with a newline added when missing, in
 * one write(2) of at most 4 KiB (longer messages are cut). errno is
 * preserved. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define log_err(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
