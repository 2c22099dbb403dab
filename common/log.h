/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging to stderr, with syslog level prefixes when stderr is connected to the journal. */
#pragma once

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

void log_setup(const char *program);
void log_set_max_level(int level);
int log_get_max_level(void);

/* Logs at level; returns -abs(error) so that callers can `return log_error_errno(r, ...)`.
 * With error != 0, "%m" in the format expands to strerror(error). */
int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) _printf_(5, 6);

#define log_full_errno(level, error, ...) log_internal(level, error, __FILE__, __LINE__, __VA_ARGS__)
#define log_full(level, ...) (void) log_internal(level, 0, __FILE__, __LINE__, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)
#define log_oom() log_error_errno(ENOMEM, "Out of memory.")

/* An event an administrator cares about (a burn started, finished, failed): with the journal
 * on stderr it is sent to the journal with its fields ("IMAPI_JOB=3", NULL-terminated) so that
 * `journalctl IMAPI_RECORDER=sr0` finds it; otherwise it is logged like any message. */
void log_event(int level, const char *const *fields, const char *fmt, ...) _printf_(3, 4);
