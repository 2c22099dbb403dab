/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Grabbing a drive and reading its disc for a method call, in a worker: a real drive that spins
 * up takes seconds, and the bus must not wait for it. The call is queued again when the read is
 * done, like a polkit check (polkit.c), so that the handler runs once more from the top and
 * finds the drive grabbed and the recorder's media fresh.
 */

#include <errno.h>
#include <stdlib.h>

#include <imapi/imapi.h>

#include "hresult.h"
#include "log.h"
#include "macro.h"
#include "bus/polkit.h"
#include "core/recorder.h"
#include "core/worker.h"

struct RecorderPrep {
        Recorder *recorder;
        sd_bus_message *request;
        bool load;
        bool finished;          /* the worker is done; the call is queued again */
        bool consumed;          /* the handler took the result */
        int grab_result;
        RecorderReadout readout;
        sd_event_source *expire;        /* collects a result the call did not come back for */
};

/* The call comes back at once unless the loop is blocked; this is only a collector. */
#define PREP_EXPIRE_USEC (1000ULL * 1000ULL)

static void prep_free(RecorderPrep *p) {
        Recorder *r = p->recorder;

        /* Nobody took the grab: the call failed before it got here, or never came back. */
        if (p->finished && !p->consumed && p->grab_result >= 0)
                drive_release(r->drive, false);
        recorder_readout_done(&p->readout);
        polkit_release(r->daemon, p->request);
        sd_event_source_disable_unref(p->expire);
        sd_bus_message_unref(p->request);
        r->prep = NULL;
        free(p);
}

void recorder_prep_cancel(Recorder *r) {
        /* At exit: the worker has finished (worker_free() ran), the call will not come back. */
        if (r->prep)
                prep_free(r->prep);
}

static void prep_run(void *userdata) {
        RecorderPrep *p = userdata;
        Drive *drive = p->recorder->drive;

        p->grab_result = drive_grab(drive, p->load);
        if (p->grab_result >= 0)
                (void) recorder_readout(drive, &p->readout);
}

/* The call was queued again a while ago and did not take the result: it failed before it got
 * that far (its object went away, say). Normally prep_result() has freed the prep long before. */
static int prep_expired(sd_event_source *s, uint64_t usec, void *userdata) {
        RecorderPrep *p = userdata;
        Recorder *r = p->recorder;

        prep_free(p);
        recorder_emit_changed(r);
        daemon_check_exit(r->daemon);
        return 0;
}

static void prep_done(void *userdata) {
        RecorderPrep *p = userdata;
        Daemon *d = p->recorder->daemon;
        int k;

        p->finished = true;
        k = sd_event_add_time_relative(d->event, &p->expire, CLOCK_MONOTONIC, PREP_EXPIRE_USEC, 0, prep_expired, p);
        if (k >= 0)
                k = sd_bus_message_rewind(p->request, true);
        if (k >= 0)
                k = sd_bus_enqueue_for_read(sd_bus_message_get_bus(p->request), p->request);
        if (k < 0) {
                log_error_errno(k, "Cannot dispatch the call again after reading recorder %s: %m", p->recorder->id);
                (void) sd_bus_reply_method_errorf(p->request, SD_BUS_ERROR_NO_MEMORY,
                                                  "Cannot continue after reading the recorder.");
                prep_free(p);
        }
}

/* The call came back: the result is the handler's now, and the recorder free for others. */
static int prep_result(Recorder *r, RecorderPrep *p, sd_bus_error *error) {
        RecorderReadout ro = p->readout;
        int grab = p->grab_result, k;

        p->readout = (RecorderReadout) {};
        p->consumed = true;
        prep_free(p);

        if (grab < 0)
                return recorder_grab_error(r, grab, error);
        k = recorder_apply_readout(r, &ro);
        if (k < 0) {
                drive_release(r->drive, false);
                return recorder_read_error(r, k, error);
        }
        return 1;
}

int recorder_prepare(Recorder *r, sd_bus_message *m, bool load, sd_bus_error *error) {
        RecorderPrep *p = r->prep;
        int k;

        if (p && p->finished && p->request == m)
                return prep_result(r, p, error);
        if (p)
                return bus_error_hresult(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                         "Recorder %s is being read for another call; try again.", r->id);
        if (drive_is_grabbed(r->drive))
                return bus_error_hresult(error, IMAPI_E_DEVICE_NOTACCESSIBLE, "Recorder %s is in use.", r->id);

        p = calloc(1, sizeof(RecorderPrep));
        if (!p)
                return -ENOMEM;
        *p = (RecorderPrep) {
                .recorder = r,
                .request = sd_bus_message_ref(m),
                .load = load,
                .readout.error = -ENODATA,
        };
        k = worker_submit(r->daemon->worker, prep_run, prep_done, p);
        if (k < 0) {
                sd_bus_message_unref(p->request);
                free(p);
                return k;
        }
        r->prep = p;
        /* polkit's answers for this call are kept for the run to come. */
        polkit_hold(r->daemon, m);
        return 0;
}

bool recorder_reserved(const Recorder *r) {
        return r->busy > 0 || r->prep;
}
