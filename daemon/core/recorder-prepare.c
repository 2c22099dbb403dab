/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Grabbing a drive and reading its disc in a worker: a real drive that spins up takes seconds,
 * and nothing else may wait for it. Meanwhile the recorder is reserved; when the read is done,
 * the work that asked for it goes on from its callback, on the event loop.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapierror.h>

#include "core/recorder.h"
#include "core/worker.h"
#include "log.h"
#include "macro.h"

struct RecorderPrep {
        RecorderPrep *next;     /* on the recorder's waiting list */
        Recorder *recorder;
        bool load;
        int grab_result;
        RecorderReadout readout;
        recorder_prepared_fn fn;
        void *userdata;
};

static void prep_run(void *userdata) {
        RecorderPrep *p = userdata;
        Drive *drive = p->recorder->drive;

        p->grab_result = drive_grab(drive, p->load);
        if (p->grab_result >= 0)
                (void) recorder_readout(drive, &p->readout);
}

static int prep_start(RecorderPrep *p);
static void prep_next(Recorder *r);

static void prep_done(void *userdata) {
        _cleanup_free_ RecorderPrep *p = userdata;
        _cleanup_imapi_error_ ImapiError error = IMAPI_ERROR_NULL;
        Recorder *r = p->recorder;
        int k = p->grab_result;

        r->prep = NULL;
        if (k < 0)
                (void) recorder_grab_error(r, k, &error);
        else {
                k = recorder_apply_readout(r, &p->readout);
                if (k < 0) {
                        drive_release(r->drive, false);
                        (void) recorder_read_error(r, k, &error);
                }
        }
        recorder_readout_done(&p->readout);
        p->fn(r, k, k < 0 ? &error : NULL, p->userdata);
        prep_next(r);
        /* Whoever waited for the drive may use it now; the idle check sees the reservation go. */
        recorder_changed(r);
        manager_check_exit(r->manager);
}

/* The next waiting call's turn, unless the one that ended keeps the drive, or lets it go in a
 * worker (recorder_release_drive()): that worker's end resumes here. */
static void prep_next(Recorder *r) {
        while (r->waiting && !r->prep && !r->query) {
                _cleanup_imapi_error_ ImapiError error = IMAPI_ERROR_NULL;
                RecorderPrep *p = r->waiting;
                int k;

                r->waiting = p->next;
                r->n_waiting--;
                p->next = NULL;
                if (drive_is_grabbed(r->drive))
                        k = imapi_error_set(&error, IMAPI_E_DEVICE_NOTACCESSIBLE, "Recorder %s is in use.",
                                            r->id);
                else {
                        k = prep_start(p);
                        if (k >= 0)
                                continue;
                        k = imapi_error_set(&error, IMAPI_E_OUTOFMEMORY, "Recorder %s cannot be read: %s.",
                                            r->id, strerror(-k));
                }
                p->fn(r, k, &error, p->userdata);
                free(p);
        }
}

static int prep_start(RecorderPrep *p) {
        int k;

        k = worker_submit(p->recorder->manager->worker, prep_run, prep_done, p);
        if (k < 0)
                return k;
        p->recorder->prep = p;
        return 0;
}

static RecorderPrep *prep_new(Recorder *r, bool load, recorder_prepared_fn fn, void *userdata) {
        RecorderPrep *p = calloc(1, sizeof(RecorderPrep));

        if (p)
                *p = (RecorderPrep) {
                        .recorder = r,
                        .load = load,
                        .readout.error = -ENODATA,
                        .fn = fn,
                        .userdata = userdata,
                };
        return p;
}

int recorder_prepare(Recorder *r, bool load, recorder_prepared_fn fn, void *userdata, ImapiError *error) {
        RecorderPrep *p;
        int k;

        /* A Close's release of the drive is waited for. */
        if (recorder_releasing(r) && !r->waiting)
                return recorder_prepare_after(r, load, fn, userdata, error);
        if (r->prep || r->waiting || r->query)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is being read for another call; try again.", r->id);
        if (drive_is_grabbed(r->drive))
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE, "Recorder %s is in use.", r->id);

        p = prep_new(r, load, fn, userdata);
        if (!p)
                return -ENOMEM;
        k = prep_start(p);
        if (k < 0) {
                free(p);
                return k;
        }
        return 1;
}

int recorder_prepare_after(Recorder *r, bool load, recorder_prepared_fn fn, void *userdata, ImapiError *error) {
        RecorderPrep *p, **tail;

        if (!r->prep && !recorder_releasing(r))
                return recorder_prepare(r, load, fn, userdata, error);
        if (r->n_waiting >= RECORDER_WAITING_MAX)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is being read for another call, and %u more wait; try "
                                       "again.", r->id, r->n_waiting);
        p = prep_new(r, load, fn, userdata);
        if (!p)
                return -ENOMEM;
        for (tail = &r->waiting; *tail; tail = &(*tail)->next)
                ;
        *tail = p;
        r->n_waiting++;
        return 1;
}

void recorder_drop_waiting(Recorder *r) {
        while (r->waiting) {
                RecorderPrep *p = r->waiting;

                r->waiting = p->next;
                free(p);
        }
        r->n_waiting = 0;
}

void recorder_prepare_resume(Recorder *r) {
        prep_next(r);
}

bool recorder_reserved(const Recorder *r) {
        return r->busy > 0 || r->prep || r->waiting || r->query;
}
