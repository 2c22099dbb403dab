/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IDiscRecorder::Erase as a job: blanking a rewritable disc held through OpenExclusive. */

#include <errno.h>
#include <stdlib.h>

#include <imapi/imapi.h>

#include "erase.h"
#include "hresult.h"
#include "inhibit.h"
#include "job.h"
#include "log.h"
#include "macro.h"
#include "recorder.h"
#include "worker.h"

#define POLL_USEC (500 * 1000)

typedef struct Erase {
        Recorder *recorder;
        Job *job;
        bool full;
        sd_event_source *timer;
        uint32_t hr;
        char *text;
        RecorderReadout readout;
} Erase;

/* Worker: libburn's view of the blanked disc, and what it now is. */
static void erase_end_run(void *userdata) {
        Erase *e = userdata;

        (void) drive_reassess(e->recorder->drive);
        (void) recorder_readout(e->recorder->drive, &e->readout);
}

static void erase_end_done(void *userdata) {
        Erase *e = userdata;
        Recorder *r = e->recorder;
        int k;

        r->busy--;
        inhibitor_release(r->daemon);
        (void) recorder_apply_readout(r, &e->readout);
        /* The holder left (Close, or gone from the bus) while the drive was blanking. */
        if (!r->owner)
                drive_release(r->drive, false);
        recorder_emit_changed(r);

        if (IMAPI_HRESULT_SUCCEEDED(e->hr))
                job_log(e->job, LOG_INFO, r->id, e->hr, "%s erase of recorder %s finished.",
                        e->full ? "full" : "quick", r->id);
        else
                job_log(e->job, LOG_WARNING, r->id, e->hr, "erase of recorder %s failed: %s", r->id,
                        strna(e->text));

        for (size_t i = 0; i < r->daemon->n_buses; i++) {
                k = sd_bus_emit_signal(r->daemon->buses[i], r->path, IMAPI_RECORDER_INTERFACE, "EraseComplete", "u",
                                       e->hr);
                if (k < 0)
                        log_debug_errno(k, "Failed to emit EraseComplete, ignoring: %m");
        }
        job_complete(e->job, e->hr, e->text);
        job_free(e->job);
        free(e->text);
        free(e);
}

/* Re-reading the disc can take seconds on a real drive: in a worker, while the recorder stays
 * busy; the report follows on the loop. */
static void erase_finish(Erase *e, uint32_t hr, const char *message) {
        e->timer = sd_event_source_disable_unref(e->timer);
        e->hr = hr;
        e->text = hresult_format(hr, message);
        if (worker_submit(e->recorder->daemon->worker, erase_end_run, erase_end_done, e) < 0) {
                erase_end_run(e);
                erase_end_done(e);
        }
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Erase *e = userdata;
        DriveProgress p;

        if (!drive_poll(e->recorder->drive, &p)) {
                _cleanup_free_ char *msg = NULL;
                uint32_t hr = drive_operation_finish(e->recorder->drive, false, &msg);

                erase_finish(e, hr, msg);
                return 0;
        }
        if (p.sectors_total > 0)
                job_set_progress(e->job, (double) p.sectors_done / (double) p.sectors_total, 0, -1);
        (void) sd_event_source_set_time_relative(s, POLL_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

int recorder_erase(Recorder *r, Client *c, bool full, const char **ret_job, sd_bus_error *error) {
        _cleanup_free_ Erase *e = NULL;
        int k;

        k = recorder_check_owner(r, c, error);
        if (k < 0)
                return k;
        if (r->busy > 0)
                return bus_error_hresult(error, IMAPI_E_DEVICE_NOTACCESSIBLE, "Recorder %s is busy with a job.", r->id);
        k = recorder_refresh_media(r, error);
        if (k < 0)
                return k;
        if (IN_SET(r->media.status, MEDIA_STATUS_NONE, MEDIA_STATUS_UNKNOWN))
                return bus_error_hresult(error, IMAPI_E_MEDIUM_NOTPRESENT, "There is no disc in recorder %s.", r->id);
        if (recorder_type(r) != RECORDER_CDRW)
                return bus_error_hresult(error, IMAPI_E_DEVICE_INVALIDTYPE, "Recorder %s cannot erase discs.", r->id);
        if (!r->media.erasable)
                return bus_error_hresult(error, IMAPI_E_MEDIUM_INVALIDTYPE,
                                         "The disc in recorder %s (%s) is not rewritable.", r->id,
                                         r->media.profile_name[0] ? r->media.profile_name : "unknown type");

        e = calloc(1, sizeof(Erase));
        if (!e)
                return -ENOMEM;
        e->recorder = r;
        e->full = full;
        k = job_new(r->daemon, "erase", c, r->path, NULL, &e->job);
        if (k < 0)
                return k;
        /* libburn cannot stop a blank once the drive has started it. */
        e->job->cancelable = false;
        k = sd_event_add_time_relative(r->daemon->event, &e->timer, CLOCK_MONOTONIC, POLL_USEC, 0, on_timer, e);
        if (k >= 0)
                k = drive_erase_start(r->drive, full);
        if (k < 0) {
                sd_event_source_disable_unref(e->timer);
                job_free(e->job);
                return bus_error_hresult(error, IMAPI_E_GENERIC, "Cannot start erasing recorder %s.", r->id);
        }
        job_set_phase(e->job, JOB_PHASE_ERASING);
        (void) inhibitor_acquire(r->daemon, "Erasing a disc");
        r->busy++;
        recorder_emit_changed(r);
        job_log(e->job, LOG_INFO, r->id, 0, "%s erase of recorder %s started by %s.", full ? "full" : "quick", r->id,
                 c->description);
        *ret_job = e->job->path;
        TAKE_PTR(e);
        return 0;
}
