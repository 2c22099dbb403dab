/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging. When stderr is the journal's stream for this service ($JOURNAL_STREAM), every message
 * goes to the journal natively, with the CODE_FILE, CODE_LINE and CODE_FUNC of the line that
 * logged it, ERRNO= for errno-style messages and the structured fields of events; otherwise it is
 * a line on stderr ("imapid: text", with the source location at debug level).
 */
#pragma once

#include <stdarg.h>
#include <syslog.h>
#include <systemd/sd-id128.h>

#include "macro.h"

void log_setup(const char *program);
void log_set_max_level(int level);
int log_get_max_level(void);

/* Logs at level; returns -abs(error) so that callers can `return log_error_errno(r, ...)`.
 * With error != 0, "%m" in the format expands to strerror(error). file, line and func are the
 * caller's, as the macros below pass them. */
int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...)
        _printf_(6, 7);

#define log_full_errno(level, error, ...) log_internal(level, error, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_full(level, ...) (void) log_internal(level, 0, __FILE__, __LINE__, __func__, __VA_ARGS__)

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

/*
 * An event an administrator cares about (a burn started, finished, failed; a drive added): in
 * the journal it carries message_id (common/message-id.h, explained in catalog/imapid.catalog
 * for `journalctl -x`; SD_ID128_NULL for none) and its fields ("IMAPI_JOB=3", NULL-terminated),
 * so that `journalctl MESSAGE_ID=... IMAPI_RECORDER=sr0` finds it. On stderr it is logged like
 * any message.
 *
 * A function that logs on behalf of its caller (a wrapper that adds fields) takes file, line
 * and func from a macro of its own and passes them to log_event_internalv(), so that the
 * journal names the caller rather than the wrapper.
 */
void log_event_internal(int level, const char *file, int line, const char *func, sd_id128_t message_id,
                        const char *const *fields, const char *fmt, ...) _printf_(7, 8);
void log_event_internalv(int level, const char *file, int line, const char *func, sd_id128_t message_id,
                         const char *const *fields, const char *fmt, va_list ap) _printf_(7, 0);

#define log_event_id(level, message_id, fields, ...) \
        log_event_internal(level, __FILE__, __LINE__, __func__, message_id, fields, __VA_ARGS__)
/* The form without a message id, as callers used it before ids existed. */
#define log_event(level, fields, ...) log_event_id(level, SD_ID128_NULL, fields, __VA_ARGS__)
