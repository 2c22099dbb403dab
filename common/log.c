/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging to stderr; the journal reads the "<N>" level prefixes when stderr is its stream. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static const char *program_name = NULL;
static bool prefix_levels = false;

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
        prefix_levels = stderr_is_journal();
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

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        char buf[2048];
        va_list ap;

        error = abs(error);
        if (level > max_level)
                return -error;

        /* %m must see our error, not whatever errno happens to be. */
        errno = error;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);

        if (prefix_levels)
                fprintf(stderr, "<%d>%s\n", level, buf);
        else if (max_level >= LOG_DEBUG)
                fprintf(stderr, "%s[%s:%d]: %s\n", program_name ?: "imapi", file, line, buf);
        else
                fprintf(stderr, "%s: %s\n", program_name ?: "imapi", buf);
        return -error;
}

void log_event(int level, const char *const *fields, const char *fmt, ...) {
        char message[2048], priority[32], *text = NULL;
        struct iovec iov[24];
        size_t n = 0;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);

        if (level > max_level)
                return;
        if (!prefix_levels) {
                log_full(level, "%s", message);
                return;
        }
        if (asprintf(&text, "MESSAGE=%s", message) < 0) {
                log_full(level, "%s", message);
                return;
        }
        snprintf(priority, sizeof priority, "PRIORITY=%d", level);
        iov[n++] = (struct iovec) { .iov_base = text, .iov_len = strlen(text) };
        iov[n++] = (struct iovec) { .iov_base = priority, .iov_len = strlen(priority) };
        iov[n++] = (struct iovec) { .iov_base = (char *) "SYSLOG_IDENTIFIER=imapid", .iov_len = 24 };
        for (const char *const *f = fields; f && *f && n < ELEMENTSOF(iov); f++)
                iov[n++] = (struct iovec) { .iov_base = (char *) *f, .iov_len = strlen(*f) };
        if (sd_journal_sendv(iov, (int) n) < 0)
                log_full(level, "%s", message);
        free(text);
}
