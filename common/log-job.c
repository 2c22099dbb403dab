/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fields of job events (log-job.h). */

#include <stdio.h>

#include "hresult.h"
#include "log-job.h"

void log_job_event_internalv(int level, const char *file, int line, const char *func, sd_id128_t message_id,
                             unsigned job, const char *operation, const char *recorder, uint32_t hresult,
                             const char *fmt, va_list ap) {
        const HResultInfo *info = hresult_lookup(hresult);
        char job_field[32], op[64], rec[64], hr[32], name[96];
        const char *fields[] = { job_field, op, rec, hr, info ? name : NULL, NULL };

        if (level > log_get_max_level())
                return;
        snprintf(job_field, sizeof job_field, "IMAPI_JOB=%u", job);
        snprintf(op, sizeof op, "IMAPI_OPERATION=%s", operation ?: "");
        snprintf(rec, sizeof rec, "IMAPI_RECORDER=%s", recorder ?: "");
        snprintf(hr, sizeof hr, "IMAPI_HRESULT=0x%08X", hresult);
        if (info)
                snprintf(name, sizeof name, "IMAPI_HRESULT_NAME=%s", info->constant);
        log_event_internalv(level, file, line, func, message_id, fields, fmt, ap);
}

void log_job_event_internal(int level, const char *file, int line, const char *func, sd_id128_t message_id,
                            unsigned job, const char *operation, const char *recorder, uint32_t hresult,
                            const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        log_job_event_internalv(level, file, line, func, message_id, job, operation, recorder, hresult, fmt, ap);
        va_end(ap);
}
