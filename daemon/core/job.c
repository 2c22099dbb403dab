/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Job state: phases, progress with rate and ETA, cancellation, completion. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <imapi/imapierror.h>

#include "core/job.h"
#include "core/recorder.h"
#include "hresult.h"
#include "log-job.h"
#include "log.h"
#include "macro.h"
#include "time-util.h"

const char *job_phase_to_string(JobPhase p) {
        static const char *const table[_JOB_PHASE_MAX] = {
                [JOB_PHASE_PREPARING] = "preparing", [JOB_PHASE_WRITING] = "writing",
                [JOB_PHASE_CLOSING] = "closing",     [JOB_PHASE_VERIFYING] = "verifying",
                [JOB_PHASE_ERASING] = "erasing",     [JOB_PHASE_DONE] = "done",
                [JOB_PHASE_READING] = "reading",     [JOB_PHASE_WAITING] = "waiting",
        };
        return (unsigned) p < _JOB_PHASE_MAX ? table[p] : "unknown";
}

int job_new(Manager *m, const char *operation, Client *owner, unsigned master_id, const Recorder *recorder,
            Job **ret) {
        Job **l, *j;

        l = realloc(m->jobs, (m->n_jobs + 1) * sizeof(Job *));
        if (!l)
                return -ENOMEM;
        m->jobs = l;

        j = calloc(1, sizeof(Job));
        if (!j)
                return -ENOMEM;
        j->manager = m;
        j->id = ++m->next_job_id;
        j->owner = client_ref(owner);
        j->uid = owner ? owner->uid : 0;
        j->operation = strdup(operation);
        j->master_id = master_id;
        j->recorder_id = recorder ? strdup(recorder->id) : NULL;
        j->phase = JOB_PHASE_PREPARING;
        j->start_usec = now_usec(CLOCK_REALTIME);
        j->last_sample_usec = now_usec(CLOCK_MONOTONIC);
        j->buffer_fill = j->drive_buffer_fill = -1;
        j->lowest_buffer_fill = j->lowest_drive_buffer_fill = -1;
        j->cancelable = true;
        if (!j->operation || (recorder && !j->recorder_id)) {
                job_free(j);
                return -ENOMEM;
        }
        m->jobs[m->n_jobs++] = j;
        manager_notify_added(m, OBJECT_JOB, j);
        manager_notify_manager(m, MANAGER_CHANGED_JOBS);
        *ret = j;
        return 0;
}

Job *job_free(Job *j) {
        Manager *m;

        if (!j)
                return NULL;
        m = j->manager;
        log_debug("Job %u (%s): the longest event-loop dispatch while it ran took %.2f ms.", j->id, j->operation,
                  (double) j->longest_dispatch_usec / 1000.0);
        for (size_t i = 0; i < m->n_jobs; i++)
                if (m->jobs[i] == j) {
                        memmove(m->jobs + i, m->jobs + i + 1, (m->n_jobs - i - 1) * sizeof(Job *));
                        m->n_jobs--;
                        manager_notify_removed(m, OBJECT_JOB, j);
                        manager_notify_manager(m, MANAGER_CHANGED_JOBS);
                        break;
                }
        client_unref(j->owner);
        free(j->operation);
        free(j->recorder_id);
        free(j->status);
        free(j);
        manager_check_exit(m);
        return NULL;
}

void job_set_phase(Job *j, JobPhase phase) {
        if (j->phase == phase)
                return;
        log_debug("Job %u: %s -> %s", j->id, job_phase_to_string(j->phase), job_phase_to_string(phase));
        j->phase = phase;
        /* Rate and buffer belong to a phase; start them afresh. */
        j->rate = 0;
        j->last_bytes_done = 0;
        j->last_sample_usec = now_usec(CLOCK_MONOTONIC);
        if (phase != JOB_PHASE_WRITING)
                j->buffer_fill = j->drive_buffer_fill = -1;
        manager_notify_job(j->manager, j, JOB_CHANGED_PHASE);
}

void job_set_progress(Job *j, double fraction, uint64_t bytes_done, double buffer_fill) {
        uint64_t mono = now_usec(CLOCK_MONOTONIC), dt = mono - j->last_sample_usec;

        fraction = fraction < 0 ? 0 : fraction > 1 ? 1 : fraction;
        j->progress = fraction;
        j->progress_valid = true;
        j->buffer_fill = buffer_fill;

        /* An exponentially smoothed rate, sampled at most twice a second. */
        if (dt >= 500000 && bytes_done >= j->last_bytes_done) {
                double inst = (double) (bytes_done - j->last_bytes_done) * 1e6 / (double) dt;

                j->rate = j->rate == 0 ? (uint64_t) inst : (uint64_t) (0.7 * (double) j->rate + 0.3 * inst);
                j->last_bytes_done = bytes_done;
                j->last_sample_usec = mono;
        }
        if (fraction > 0.01) {
                uint64_t elapsed = now_usec(CLOCK_REALTIME) - j->start_usec;
                j->expected_end_usec = j->start_usec + (uint64_t) ((double) elapsed / fraction);
        }
        manager_notify_job(j->manager, j, JOB_CHANGED_PROGRESS);
}

static void keep_lowest(double *lowest, bool *was_full, double fill) {
        if (fill < 0)
                return;
        if (fill >= 0.5)
                *was_full = true;
        if (*was_full && (*lowest < 0 || fill < *lowest))
                *lowest = fill;
}

void job_set_drive_buffer(Job *j, double fill) {
        j->drive_buffer_fill = fill;
        keep_lowest(&j->lowest_drive_buffer_fill, &j->drive_buffer_was_full, fill);
        keep_lowest(&j->lowest_buffer_fill, &j->buffer_was_full, j->buffer_fill);
}

int job_set_status(Job *j, const char *status) {
        char *copy = NULL;

        if (streq_ptr(j->status, status))
                return 0;
        if (status) {
                copy = strdup(status);
                if (!copy)
                        return -ENOMEM;
        }
        free(j->status);
        j->status = copy;
        manager_notify_job(j->manager, j, JOB_CHANGED_STATUS);
        return 0;
}

void job_set_bytes(Job *j, uint64_t bytes) {
        j->bytes = bytes;
        manager_notify_job(j->manager, j, JOB_CHANGED_BYTES);
}

void job_complete(Job *j, uint32_t hresult, const char *message) {
        bool success = IMAPI_HRESULT_SUCCEEDED(hresult);

        if (j->completed)
                return;
        j->completed = true;
        j->hresult = hresult;
        j->cancelable = false;
        j->phase = JOB_PHASE_DONE;
        j->buffer_fill = j->drive_buffer_fill = -1;
        if (success) {
                j->progress = 1.0;
                j->progress_valid = true;
        }
        manager_notify_job(j->manager, j, JOB_CHANGED_RESULT);
        manager_notify_job_completed(j->manager, j, success, message ?: "");
}

int job_request_cancel(Job *j, ImapiError *error) {
        if (j->completed || !j->cancelable)
                return imapi_error_set(error, IMAPI_E_GENERIC, "Job %u cannot be cancelled any more (%s).",
                                         j->id, job_phase_to_string(j->phase));
        if (j->cancel_requested)
                return 0;
        j->cancel_requested = true;
        log_info("Job %u (%s): cancel requested.", j->id, j->operation);
        if (j->cancel)
                j->cancel(j, j->userdata);
        return 0;
}

void job_log_internal(const char *file, int line, const char *func, Job *j, int level, sd_id128_t message_id,
                      const char *recorder, uint32_t hresult, const char *fmt, ...) {
        char message[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        log_job_event_internal(level, file, line, func, message_id, j->id, j->operation, recorder, hresult,
                               "Job %u: %s", j->id, message);
}
