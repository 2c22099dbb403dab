/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Grabbing a drive and reading its disc in a worker: a real drive that spins up takes seconds,
 * and nothing else may wait for it. Meanwhile the recorder is reserved; when the read is done,
 * the work that asked for it goes on from its callback, on the event loop.
 */

#include <errno.h>
#include <stdlib.h>

#include <imapi/imapierror.h>

#include "core/recorder.h"
#include "core/worker.h"
#include "log.h"
#include "macro.h"

struct RecorderPrep {
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
        /* Whoever waited for the drive may use it now; the idle check sees the reservation go. */
        recorder_changed(r);
        manager_check_exit(r->manager);
}

int recorder_prepare(Recorder *r, bool load, recorder_prepared_fn fn, void *userdata, ImapiError *error) {
        RecorderPrep *p;
        int k;

        if (r->prep)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is being read for another call; try again.", r->id);
        if (drive_is_grabbed(r->drive))
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE, "Recorder %s is in use.", r->id);

        p = calloc(1, sizeof(RecorderPrep));
        if (!p)
                return -ENOMEM;
        *p = (RecorderPrep) {
                .recorder = r,
                .load = load,
                .readout.error = -ENODATA,
                .fn = fn,
                .userdata = userdata,
        };
        k = worker_submit(r->manager->worker, prep_run, prep_done, p);
        if (k < 0) {
                free(p);
                return k;
        }
        r->prep = p;
        return 1;
}

bool recorder_reserved(const Recorder *r) {
        return r->busy > 0 || r->prep;
}
