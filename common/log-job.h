/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The journal entry of a job event (a burn or an erase started, finished, failed, cancelled):
 * one message with the fields every such event carries, so that `journalctl IMAPI_JOB=3` or
 * `journalctl IMAPI_HRESULT_NAME=IMAPI_E_LOSS_OF_STREAMING` finds them whoever logged them.
 */
#pragma once

#include <stdarg.h>
#include <stdint.h>

#include "log.h"

/* Logs the message with IMAPI_JOB=<job>, IMAPI_OPERATION=<operation>, IMAPI_RECORDER=<recorder
 * id>, IMAPI_HRESULT=0x<hresult> and, for an HRESULT of the table, IMAPI_HRESULT_NAME=<constant>.
 * A wrapper that adds a prefix of its own passes its caller's file, line and func. */
void log_job_event_internalv(int level, const char *file, int line, const char *func, sd_id128_t message_id,
                             unsigned job, const char *operation, const char *recorder, uint32_t hresult,
                             const char *fmt, va_list ap) _printf_(10, 0);
void log_job_event_internal(int level, const char *file, int line, const char *func, sd_id128_t message_id,
                            unsigned job, const char *operation, const char *recorder, uint32_t hresult,
                            const char *fmt, ...) _printf_(10, 11);

#define log_job_event(level, message_id, job, operation, recorder, hresult, ...)                              \
        log_job_event_internal(level, __FILE__, __LINE__, __func__, message_id, job, operation, recorder,    \
                               hresult, __VA_ARGS__)
