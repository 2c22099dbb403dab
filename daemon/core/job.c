/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Job state: phases, progress with rate and ETA, cancellation, completion. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <imapi/imapi.h>

#include "hresult.h"
#include "core/job.h"
#include "log.h"
#include "macro.h"

static uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

const char *job_phase_to_string(JobPhase p) {
        static const char *const table[_JOB_PHASE_MAX] = {
                [JOB_PHASE_PREPARING] = "preparing", [JOB_PHASE_WRITING] = "writing",
                [JOB_PHASE_CLOSING] = "closing",     [JOB_PHASE_VERIFYING] = "verifying",
                [JOB_PHASE_ERASING] = "erasing",     [JOB_PHASE_DONE] = "done",
        };
        return (unsigned) p < _JOB_PHASE_MAX ? table[p] : "unknown";
}

int job_new(Daemon *d, const char *operation, Client *owner, const char *object1, const char *object2,
            Job **ret) {
        Job **l, *j;

        l = realloc(d->jobs, (d->n_jobs + 1) * sizeof(Job *));
        if (!l)
                return -ENOMEM;
        d->jobs = l;

        j = calloc(1, sizeof(Job));
        if (!j)
                return -ENOMEM;
        j->daemon = d;
        j->id = ++d->next_job_id;
        j->owner = owner;
        j->uid = owner ? owner->uid : 0;
        j->operation = strdup(operation);
        j->objects[0] = object1 ? strdup(object1) : NULL;
        j->objects[1] = object2 ? strdup(object2) : NULL;
        j->phase = JOB_PHASE_PREPARING;
        j->start_usec = now_usec(CLOCK_REALTIME);
        j->last_sample_usec = now_usec(CLOCK_MONOTONIC);
        j->buffer_fill = -1;
        j->cancelable = true;
        if (!j->operation || (object1 && !j->objects[0]) || (object2 && !j->objects[1]) ||
            asprintf(&j->path, IMAPI_JOBS_PATH "/%u", j->id) < 0) {
                j->path = NULL;
                job_free(j);
                return -ENOMEM;
        }
        d->jobs[d->n_jobs++] = j;
        daemon_emit_object_added(d, j->path);
        daemon_emit_properties_changed(d, IMAPI_MANAGER_PATH, IMAPI_MANAGER_INTERFACE, "Jobs", NULL);
        *ret = j;
        return 0;
}

Job *job_free(Job *j) {
        Daemon *d;

        if (!j)
                return NULL;
        d = j->daemon;
        for (size_t i = 0; i < d->n_jobs; i++)
                if (d->jobs[i] == j) {
                        memmove(d->jobs + i, d->jobs + i + 1, (d->n_jobs - i - 1) * sizeof(Job *));
                        d->n_jobs--;
                        if (j->path)
                                daemon_emit_object_removed(d, j->path);
                        daemon_emit_properties_changed(d, IMAPI_MANAGER_PATH, IMAPI_MANAGER_INTERFACE, "Jobs",
                                                       NULL);
                        break;
                }
        free(j->path);
        free(j->operation);
        free(j->objects[0]);
        free(j->objects[1]);
        free(j);
        daemon_check_exit(d);
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
                j->buffer_fill = -1;
        daemon_emit_properties_changed(j->daemon, j->path, IMAPI_JOB_INTERFACE, "Phase", "Rate", "BufferFill",
                                       NULL);
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
        daemon_emit_properties_changed(j->daemon, j->path, IMAPI_JOB_INTERFACE, "Progress", "ProgressValid",
                                       "Rate", "ExpectedEndTime", "BufferFill", NULL);
}

void job_complete(Job *j, uint32_t hresult, const char *message) {
        bool success = IMAPI_HRESULT_SUCCEEDED(hresult);
        int r;

        if (j->completed)
                return;
        j->completed = true;
        j->hresult = hresult;
        j->cancelable = false;
        j->phase = JOB_PHASE_DONE;
        j->buffer_fill = -1;
        if (success) {
                j->progress = 1.0;
                j->progress_valid = true;
        }
        daemon_emit_properties_changed(j->daemon, j->path, IMAPI_JOB_INTERFACE, "Phase", "HResult", "Progress",
                                       "Cancelable", "BufferFill", NULL);
        for (size_t i = 0; i < j->daemon->n_buses; i++) {
                r = sd_bus_emit_signal(j->daemon->buses[i], j->path, IMAPI_JOB_INTERFACE, "Completed", "bs",
                                       success, message ?: "");
                if (r < 0)
                        log_debug_errno(r, "Failed to emit Completed for job %u, ignoring: %m", j->id);
        }
}

int job_request_cancel(Job *j, sd_bus_error *error) {
        if (j->completed || !j->cancelable)
                return bus_error_hresult(error, IMAPI_E_GENERIC, "Job %u cannot be cancelled any more (%s).",
                                         j->id, job_phase_to_string(j->phase));
        if (j->cancel_requested)
                return 0;
        j->cancel_requested = true;
        log_info("Job %u (%s): cancel requested.", j->id, j->operation);
        if (j->cancel)
                j->cancel(j, j->userdata);
        return 0;
}

void job_log(Job *j, int level, const char *recorder, uint32_t hresult, const char *fmt, ...) {
        char job[32], op[64], rec[64], hr[32], message[1024];
        const char *fields[] = { job, op, rec, hr, NULL };
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        snprintf(job, sizeof job, "IMAPI_JOB=%u", j->id);
        snprintf(op, sizeof op, "IMAPI_OPERATION=%s", j->operation);
        snprintf(rec, sizeof rec, "IMAPI_RECORDER=%s", recorder ?: "");
        snprintf(hr, sizeof hr, "IMAPI_HRESULT=0x%08X", hresult);
        log_event(level, fields, "Job %u: %s", j->id, message);
}

Job *daemon_find_job_by_path(Daemon *d, const char *path) {
        for (size_t i = 0; i < d->n_jobs; i++)
                if (streq(d->jobs[i]->path, path))
                        return d->jobs[i];
        return NULL;
}
