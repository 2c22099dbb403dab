/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IDiscRecorder::Erase as a job: making a rewritable disc or an image file blank (erase.h). */

#include <errno.h>
#include <stdlib.h>

#include <imapi/imapi.h>

#include "core/erase.h"
#include "hresult.h"
#include "core/client.h"
#include "core/job.h"
#include "core/quota.h"
#include "log.h"
#include "macro.h"
#include "core/recorder.h"
#include "core/worker.h"

#define POLL_USEC (500 * 1000)

typedef enum EraseKind {
        ERASE_BLANK,            /* BLANK of a sequential CD-RW or DVD-RW (libburn, polled) */
        ERASE_FORMAT,           /* FORMAT UNIT (libburn, polled) */
        ERASE_INVALIDATE,       /* the file system's volume descriptors renamed (in a worker) */
        ERASE_TRUNCATE,         /* an image file emptied (in a worker) */
} EraseKind;

typedef struct Erase {
        Recorder *recorder;
        Job *job;
        EraseKind kind;
        bool full;
        bool reformat;          /* a format of a formatted medium (drive_format_start()) */
        sd_event_source *timer;
        int start_result;       /* of the start's worker */
        bool polled;            /* a libburn operation, whose outcome the end's worker takes */
        uint32_t hr;
        char *message;          /* why the start or libburn's operation failed, from a worker */
        char *text;
        RecorderReadout readout;
} Erase;

static const char *erase_kind_to_string(EraseKind k, bool full) {
        switch (k) {
        case ERASE_BLANK:
                return full ? "full blank" : "quick blank";
        case ERASE_FORMAT:
                return "format";
        case ERASE_INVALIDATE:
                return "quick erase";
        default:
                return "emptying";
        }
}

/* Worker: what the job did to the disc and what it now is. */
static void erase_end_run(void *userdata) {
        Erase *e = userdata;
        Drive *drive = e->recorder->drive;

        if (e->polled)
                e->hr = drive_operation_finish(drive, false, &e->message);
        (void) drive_reassess(drive);
        /* A fresh format may leave a pattern where the head is; what libburn wrote before an
         * old format may still be there too. */
        if (e->kind == ERASE_FORMAT && IMAPI_HRESULT_SUCCEEDED(e->hr))
                (void) drive_invalidate_head(drive);
        (void) recorder_readout(drive, &e->readout);
}

static void erase_end_done(void *userdata) {
        Erase *e = userdata;
        Recorder *r = e->recorder;

        if (!e->text)
                e->text = hresult_format(e->hr, e->message);
        r->busy--;
        manager_notify_work(r->manager, false, NULL);
        (void) recorder_apply_readout(r, &e->readout);
        /* The holder left (Close, or gone from the bus) while the drive was blanking. */
        if (!r->owner)
                drive_release(r->drive, false);
        recorder_changed(r);

        if (IMAPI_HRESULT_SUCCEEDED(e->hr))
                job_log(e->job, LOG_INFO, IMAPI_MESSAGE_ERASE_FINISHED, r->id, e->hr, "%s of recorder %s finished.",
                        erase_kind_to_string(e->kind, e->full), r->id);
        else
                job_log(e->job, LOG_WARNING, IMAPI_MESSAGE_ERASE_FAILED, r->id, e->hr, "%s of recorder %s failed: %s",
                        erase_kind_to_string(e->kind, e->full), r->id, strna(e->text));

        manager_notify_erase_complete(r->manager, r, e->hr);
        job_complete(e->job, e->hr, e->text);
        job_free(e->job);
        free(e->message);
        free(e->text);
        free(e);
}

/* libburn's outcome (a failure sets the drive up again) and re-reading the disc can take seconds
 * on a real drive: in a worker, while the recorder stays busy; the report follows on the loop.
 * text NULL: the outcome is libburn's, taken in the worker. */
static void erase_end(Erase *e) {
        e->timer = sd_event_source_disable_unref(e->timer);
        if (worker_submit(e->recorder->manager->worker, erase_end_run, erase_end_done, e) < 0) {
                erase_end_run(e);
                erase_end_done(e);
        }
}

static void erase_finish(Erase *e, uint32_t hr, const char *message) {
        e->hr = hr;
        e->text = hresult_format(hr, message);
        erase_end(e);
}

/* Worker: libburn takes over (burn_disc_erase(), burn_disc_format(); drive-write.c). The
 * drive's previous operation may still hold it for a moment (libburn's thread outlives the IDLE
 * state): the start is tried again here until it takes, as a write's is (burn-start.c), without a
 * cancel flag, as an erase cannot be cancelled. In libburn 1.5.4, burn_disc_erase() sends no
 * command before its thread starts, nor does burn_disc_format() for the media Erase formats (it
 * reads a BD-R's formats first); a start is a worker's all the same, as every start of libburn's
 * operations is (drive-start.c). The recorder is busy and the timer off meanwhile. */
static void start_run(void *userdata) {
        Erase *e = userdata;
        Drive *drive = e->recorder->drive;
        int k;

        k = e->kind == ERASE_BLANK ? drive_erase_start(drive, e->full) :
                                     drive_format_start(drive, e->reformat);
        if (k == -EAGAIN)
                k = drive_start_wait(drive, NULL, &e->message);
        e->start_result = k;
}

static void start_done(void *userdata) {
        Erase *e = userdata;

        /* The end reports it (erase_end_done()). */
        if (e->start_result < 0) {
                erase_finish(e, e->message ? hresult_from_errno(e->start_result) : IMAPI_E_GENERIC,
                             e->message ?: "The recorder could not start erasing.");
                return;
        }
        (void) sd_event_source_set_time_relative(e->timer, POLL_USEC);
        (void) sd_event_source_set_enabled(e->timer, SD_EVENT_ON);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Erase *e = userdata;
        DriveProgress p;

        if (!drive_poll(e->recorder->drive, &p)) {
                e->polled = true;
                erase_end(e);
                return 0;
        }
        if (p.sectors_total > 0)
                job_set_progress(e->job, (double) p.sectors_done / (double) p.sectors_total, 0, -1);
        (void) sd_event_source_set_time_relative(s, POLL_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

/* Worker: the erases that are a write or two. */
static void quick_run(void *userdata) {
        Erase *e = userdata;
        Drive *drive = e->recorder->drive;
        int k;

        k = e->kind == ERASE_TRUNCATE ? drive_truncate_file(drive, 0) : drive_invalidate_head(drive);
        e->hr = k < 0 ? IMAPI_E_CANNOT_WRITE_TO_MEDIA : IMAPI_S_OK;
        erase_end_run(e);
}

static void quick_done(void *userdata) {
        Erase *e = userdata;

        if (IMAPI_HRESULT_FAILED(e->hr))
                e->text = hresult_format(e->hr,
                                         e->kind == ERASE_TRUNCATE ? "The image file could not be emptied." :
                                         "The first blocks of the disc could not be written.");
        else
                e->text = hresult_format(e->hr, NULL);
        erase_end_done(e);
}

static bool profile_is_random_rw(unsigned p) {
        /* DVD-RAM, DVD-RW restricted overwrite, DVD+RW, BD-RE. */
        return IN_SET(p, 0x12u, 0x13u, 0x1Au, 0x2Au, 0x43u);
}

/* How the medium in r is made blank, or the error that says it cannot be. */
static int erase_kind(Recorder *r, bool full, EraseFormat format, EraseKind *ret, ImapiError *error) {
        const MediaInfo *mi = &r->media;
        const char *name = mi->profile_name[0] ? mi->profile_name : "unknown type";

        if (format != ERASE_FORMAT_KEEP && !IN_SET(mi->profile, 0x13u, 0x14u))
                return imapi_error_set(error, IMAPI_E_MEDIUM_INVALIDTYPE,
                                         "Only a DVD-RW changes between sequential recording and restricted "
                                         "overwrite; the disc in recorder %s is a %s.", r->id, name);
        if (mi->is_file)
                *ret = ERASE_TRUNCATE;
        else if (mi->profile == 0x14)
                *ret = format == ERASE_FORMAT_OVERWRITE ? ERASE_FORMAT : ERASE_BLANK;
        else if (mi->profile == 0x0A)
                *ret = ERASE_BLANK;
        else if (mi->profile == 0x13 && format == ERASE_FORMAT_SEQUENTIAL)
                *ret = ERASE_BLANK;     /* a DVD-RW is deformatted by blanking it */
        else if (profile_is_random_rw(mi->profile))
                *ret = full || mi->unformatted ? ERASE_FORMAT : ERASE_INVALIDATE;
        else
                return imapi_error_set(error, IMAPI_E_MEDIUM_INVALIDTYPE,
                                         "The disc in recorder %s (%s) %s; only CD-RW, DVD-RW, DVD+RW, DVD-RAM, "
                                         "BD-RE and image files can be erased.", r->id, name,
                                         drive_profile_is_rom(mi->profile) ? "is read-only" : "is write-once");
        return 0;
}

/* What Erase needs of the caller and the recorder, before and after the disc is read. */
static int erase_check(Recorder *r, Client *c, ImapiError *error) {
        int k;

        k = recorder_check_owner(r, c, error);
        if (k >= 0 && c)
                k = quota_check_job(r->manager, c->uid, error);
        if (k < 0)
                return k;
        /* An erase cannot be stopped: a new one would hold up the exit. */
        if (r->manager->exiting)
                return imapi_error_set(error, IMAPI_E_USERABORT, "imapid is stopping.");
        if (r->busy > 0)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is busy with a job.", r->id);
        if (r->query)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is being read for another call; try again.", r->id);
        return 0;
}

/* The disc has been read: the job, and the erase started. */
static int erase_begin(Recorder *r, Client *c, bool full, EraseFormat format, Job **ret_job,
                       ImapiError *error) {
        _cleanup_free_ Erase *e = NULL;
        EraseKind kind = ERASE_BLANK;
        int k;

        if (recorder_type(r) != RECORDER_CDRW)
                return imapi_error_set(error, IMAPI_E_DEVICE_INVALIDTYPE, "Recorder %s cannot erase discs.",
                                       r->id);
        k = erase_kind(r, full, format, &kind, error);
        if (k < 0)
                return k;

        e = calloc(1, sizeof(Erase));
        if (!e)
                return -ENOMEM;
        e->recorder = r;
        e->full = full;
        e->kind = kind;
        e->reformat = !r->media.unformatted && r->media.profile != 0x14;
        k = job_new(r->manager, "erase", c, 0, r, &e->job);
        if (k < 0)
                return k;
        /* libburn cannot stop a blank or a format once the drive has started it. */
        e->job->cancelable = false;
        if (IN_SET(kind, ERASE_INVALIDATE, ERASE_TRUNCATE))
                k = worker_submit(r->manager->worker, quick_run, quick_done, e);
        else {
                /* Off until the start's worker is done. */
                k = sd_event_add_time_relative(r->manager->event, &e->timer, CLOCK_MONOTONIC, POLL_USEC, 0,
                                               on_timer, e);
                if (k >= 0)
                        k = sd_event_source_set_enabled(e->timer, SD_EVENT_OFF);
                if (k >= 0)
                        k = worker_submit(r->manager->worker, start_run, start_done, e);
        }
        if (k < 0) {
                sd_event_source_disable_unref(e->timer);
                job_free(e->job);
                return imapi_error_set(error, IMAPI_E_GENERIC, "Cannot start erasing recorder %s.", r->id);
        }
        job_set_phase(e->job, JOB_PHASE_ERASING);
        manager_notify_work(r->manager, true, "Erasing a disc");
        r->busy++;
        recorder_changed(r);
        job_log(e->job, LOG_INFO, IMAPI_MESSAGE_ERASE_STARTED, r->id, 0, "%s of recorder %s (%s) started by %s.",
                erase_kind_to_string(kind, full), r->id, r->media.profile_name, c ? c->description : "?");
        *ret_job = e->job;
        TAKE_PTR(e);
        return 0;
}

typedef struct EraseCall {
        Client *client;
        bool full;
        EraseFormat format;
        core_done_fn done;
        void *userdata;
} EraseCall;

/* On the loop, after the worker read the disc (recorder-query.c). The holder may have closed,
 * left or started something else meanwhile: checked again. */
static void erase_read(void *userdata, int k, const ImapiError *read_error, void *result) {
        _cleanup_free_ EraseCall *call = userdata;
        _cleanup_(client_unrefp) Client *c = call->client;
        _cleanup_imapi_error_ ImapiError error = IMAPI_ERROR_NULL;
        Recorder *r = result;
        Job *job = NULL;

        if (k < 0) {
                call->done(call->userdata, k, read_error, NULL);
                return;
        }
        k = erase_check(r, c, &error);
        if (k >= 0)
                k = erase_begin(r, c, call->full, call->format, &job, &error);
        if (k < 0 && !imapi_error_is_set(&error))
                (void) imapi_error_set_errno(&error, k, NULL);
        call->done(call->userdata, k, k < 0 ? &error : NULL, job);
}

int erase_start(Recorder *r, Client *c, bool full, EraseFormat format, core_done_fn done, void *userdata,
                ImapiError *error) {
        EraseCall *call;
        int k;

        k = erase_check(r, c, error);
        if (k < 0)
                return k;
        call = malloc(sizeof(EraseCall));
        if (!call)
                return -ENOMEM;
        *call = (EraseCall) {
                .client = client_ref(c),
                .full = full,
                .format = format,
                .done = done,
                .userdata = userdata,
        };
        /* The disc as it is now, read in a worker (a real drive takes seconds); no medium is
         * the call's error. erase_check() refused a busy or queried recorder, so this starts. */
        k = recorder_query_media(r, c, true, erase_read, call, error);
        if (k <= 0) {
                client_unref(call->client);
                free(call);
                return k < 0 ? k : imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                                   "Recorder %s is busy with a job.", r->id);
        }
        return 1;
}
