/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging to the journal natively when stderr is its stream, to stderr otherwise (log.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

/* Without this, sd-journal.h turns sd_journal_sendv() into a macro that records this file and
 * line as the origin of every message; the location passed in is the caller's. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"

#define MESSAGE_MAX 2048
/* MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, ERRNO, MESSAGE_ID, and the caller's fields. */
#define EVENT_FIELDS_MAX 16

static int max_level = LOG_INFO;
static const char *program_name = NULL;
static bool to_journal = false;

/* Whether stderr is the journal's stream for this service (systemd.exec(5), $JOURNAL_STREAM). */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_setup(const char *program) {
        const char *e = getenv("IMAPID_LOG_LEVEL");

        program_name = program;
        to_journal = stderr_is_journal();
        if (e) {
                if (streq(e, "debug"))
                        max_level = LOG_DEBUG;
                else if (streq(e, "info"))
                        max_level = LOG_INFO;
                else if (streq(e, "notice"))
                        max_level = LOG_NOTICE;
                else if (streq(e, "warning"))
                        max_level = LOG_WARNING;
                else if (streq(e, "err") || streq(e, "error"))
                        max_level = LOG_ERR;
        }
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

static struct iovec iov_string(const char *s) {
        return (struct iovec) { .iov_base = (char *) s, .iov_len = strlen(s) };
}

/* One native journal entry. text is "MESSAGE=..." already, so that nothing is copied again. */
static int journal_send(int level, int error, const char *file, int line, const char *func,
                        sd_id128_t message_id, const char *const *fields, const char *text) {
        char code_file[512], code_line[32], priority[32], identifier[128], errno_field[32];
        char mid[sizeof "MESSAGE_ID=" + SD_ID128_STRING_MAX];
        struct iovec iov[EVENT_FIELDS_MAX];
        size_t n = 0;

        snprintf(code_file, sizeof code_file, "CODE_FILE=%s", file ?: "");
        snprintf(code_line, sizeof code_line, "CODE_LINE=%d", line);
        snprintf(priority, sizeof priority, "PRIORITY=%d", level);
        snprintf(identifier, sizeof identifier, "SYSLOG_IDENTIFIER=%s", program_name ?: "imapi");

        iov[n++] = iov_string(text);
        iov[n++] = iov_string(priority);
        iov[n++] = iov_string(identifier);
        if (error != 0) {
                snprintf(errno_field, sizeof errno_field, "ERRNO=%d", error);
                iov[n++] = iov_string(errno_field);
        }
        if (!sd_id128_is_null(message_id)) {
                char s[SD_ID128_STRING_MAX];

                snprintf(mid, sizeof mid, "MESSAGE_ID=%s", sd_id128_to_string(message_id, s));
                iov[n++] = iov_string(mid);
        }
        for (const char *const *f = fields; f && *f && n < ELEMENTSOF(iov); f++)
                iov[n++] = iov_string(*f);

        return sd_journal_sendv_with_location(code_file, code_line, func, iov, (int) n);
}

static void log_dispatch(int level, int error, const char *file, int line, const char *func,
                         sd_id128_t message_id, const char *const *fields, const char *text) {
        const char *message = text + strlen("MESSAGE=");

        if (to_journal) {
                if (journal_send(level, error, file, line, func, message_id, fields, text) >= 0)
                        return;
                /* The journal's socket is gone but its stream is not: keep the level at least. */
                fprintf(stderr, "<%d>%s\n", level, message);
        } else if (max_level >= LOG_DEBUG)
                fprintf(stderr, "%s[%s:%d]: %s\n", program_name ?: "imapi", file, line, message);
        else
                fprintf(stderr, "%s: %s\n", program_name ?: "imapi", message);
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...) {
        char text[sizeof "MESSAGE=" - 1 + MESSAGE_MAX] = "MESSAGE=";
        size_t prefix = strlen(text);
        va_list ap;

        error = abs(error);
        if (level > max_level)
                return -error;

        /* %m must see our error, not whatever errno happens to be. */
        errno = error;
        va_start(ap, fmt);
        vsnprintf(text + prefix, sizeof text - prefix, fmt, ap);
        va_end(ap);

        log_dispatch(level, error, file, line, func, SD_ID128_NULL, NULL, text);
        return -error;
}

void log_event_internalv(int level, const char *file, int line, const char *func, sd_id128_t message_id,
                         const char *const *fields, const char *fmt, va_list ap) {
        char text[sizeof "MESSAGE=" - 1 + MESSAGE_MAX] = "MESSAGE=";
        size_t prefix = strlen(text);

        if (level > max_level)
                return;
        vsnprintf(text + prefix, sizeof text - prefix, fmt, ap);
        log_dispatch(level, 0, file, line, func, message_id, fields, text);
}

void log_event_internal(int level, const char *file, int line, const char *func, sd_id128_t message_id,
                        const char *const *fields, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        log_event_internalv(level, file, line, func, message_id, fields, fmt, ap);
        va_end(ap);
}
