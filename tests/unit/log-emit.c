/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logs one message of each kind through common/log.h and prints, on stdout, the line and function
 * each came from, so that test_log.py can check what reached stderr or the journal against them.
 */

#include <stdint.h>
#include <stdio.h>

#include <imapi/imapierror.h>

#include "log-job.h"
#include "log.h"
#include "message-id.h"

/* A wrapper that logs on behalf of its caller, the way the daemon's job_log() can. */
static void note_internal(const char *file, int line, const char *func, const char *fmt, ...) _printf_(4, 5);
static void note_internal(const char *file, int line, const char *func, const char *fmt, ...) {
        static const char *const fields[] = { "IMAPI_TEST=wrapped", NULL };
        va_list ap;

        va_start(ap, fmt);
        log_event_internalv(LOG_INFO, file, line, func, IMAPI_MESSAGE_RECORDER_ADDED, fields, fmt, ap);
        va_end(ap);
}
#define note(...) note_internal(__FILE__, __LINE__, __func__, __VA_ARGS__)

/* Where the log call on the same line came from. */
#define AT(tag) printf("%s %d %s\n", tag, __LINE__, __func__)

static void emit(void) {
        static const char *const fields[] = { "IMAPI_RECORDER=sr0", "IMAPI_DEVICE=/dev/sr0", NULL };
        const sd_id128_t removed = IMAPI_MESSAGE_RECORDER_REMOVED, failed = IMAPI_MESSAGE_BURN_FAILED;
        const uint32_t hr = IMAPI_E_LOSS_OF_STREAMING;

        log_info("plain message %d", 1); AT("info");
        (void) log_warning_errno(ENOENT, "with errno: %m"); AT("errno");
        log_debug("a debug message"); AT("debug");
        log_event_id(LOG_NOTICE, removed, fields, "Recorder %s gone.", "sr0"); AT("event");
        log_event(LOG_INFO, fields, "an event without an id"); AT("legacy");
        log_job_event(LOG_WARNING, failed, 7, "burn", "sr0", hr, "Job %u failed.", 7u); AT("job");
        note("wrapped for %s", "the caller"); AT("wrapped");
}

int main(int argc, char *argv[]) {
        log_setup("log-emit");
        if (argc > 1 && streq(argv[1], "debug"))
                log_set_max_level(LOG_DEBUG);
        emit();
        return 0;
}
