/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A burn that waits for a usable disc (RecordDisc's wait_for_medium): instead of failing at once
 * because the recorder is empty or its disc cannot take the burn (closed, read-only, the wrong
 * kind), the job goes into Phase "waiting" and says in Status what it waits for and why the disc
 * there will not do. Every second a worker grabs the drive without loading the tray (a user who
 * has opened it to swap discs keeps it open) and reads the disc; on the loop the disc is planned
 * and checked exactly as without waiting. A usable disc: the drive stays grabbed and the burn goes
 * on from there. Another unusable one: a worker lets the drive go again and the wait goes on.
 * The recorder stays busy with the job meanwhile, so nothing else takes it.
 *
 * Why not keep the drive grabbed while waiting: libburn locks the tray of a grabbed drive
 * (PREVENT ALLOW MEDIUM REMOVAL), so the user could not take the old disc out. A drive that is
 * released between polls sees a new disc as any program opening it does.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <imapi/imapierror.h>

#include "core/burn-ops.h"
#include "core/worker.h"
#include "log.h"
#include "macro.h"
#include "time-util.h"

#define WAIT_POLL_USEC (1000 * 1000)

typedef enum WaitState {
        WAIT_IDLE,              /* the drive is released; the next poll comes at `next` */
        WAIT_POLLING,           /* a worker grabs the drive and reads the disc */
        WAIT_RELEASING,         /* a worker lets go of the drive after an unusable disc */
} WaitState;

struct BurnWait {
        WaitState state;
        uint64_t deadline;      /* CLOCK_MONOTONIC µs */
        uint64_t next;
        unsigned polls;
        int grab_result;
        RecorderReadout readout;
        ImapiError why;         /* why the last disc would not do */
};

bool burn_wait_applies(const RecordOptions *o, const ImapiError *e) {
        return o->wait_for_medium > 0 && imapi_error_is_set(e) &&
               IN_SET(e->hresult, IMAPI_E_MEDIUM_NOTPRESENT, IMAPI_E_MEDIUM_INVALIDTYPE, IMAPI_E_DISCFULL,
                      IMAPI_E_WRONGDISC, IMAPI_E_DISCINFO, IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC);
}

static const char *wanted_disc(const Burn *b) {
        return b->master->format == MASTER_FORMAT_REDBOOK ? "a blank CD-R or CD-RW" :
               b->master->format == MASTER_FORMAT_IMAGE ? "a blank disc" : "a blank or appendable disc";
}

/* Status: what the job waits for, and why the disc that is there will not do. */
static void wait_say_why(Burn *b, ImapiError *why) {
        _cleanup_free_ char *text = NULL;
        BurnWait *w = b->wait;

        imapi_error_move(&w->why, why);
        if (asprintf(&text, "Insert %s into %s. %s", wanted_disc(b), b->recorder->id,
                     strempty(w->why.message)) < 0)
                text = NULL;
        if (!text || job_set_status(b->job, text) < 0)
                log_oom();
}

static void wait_again(Burn *b) {
        b->wait->state = WAIT_IDLE;
        b->wait->next = now_usec(CLOCK_MONOTONIC) + WAIT_POLL_USEC;
}

static void release_run(void *userdata) {
        Burn *b = userdata;

        drive_release(b->recorder->drive, false);
}

static void release_done(void *userdata) {
        Burn *b = userdata;

        wait_again(b);
        recorder_changed(b->recorder);
}

/* The grab of burn_begin_on(), or of a poll that found no usable disc, is let go in a worker. */
static void wait_release(Burn *b) {
        b->wait->state = WAIT_RELEASING;
        if (worker_submit(b->master->manager->worker, release_run, release_done, b) < 0) {
                release_run(b);
                wait_again(b);
        }
}

static void poll_run(void *userdata) {
        Burn *b = userdata;
        BurnWait *w = b->wait;
        Drive *drive = b->recorder->drive;

        recorder_readout_done(&w->readout);
        w->readout = (RecorderReadout) { .error = -ENODATA };
        /* Without loading: an open tray is the user's, and stays open until they close it. */
        w->grab_result = drive_grab(drive, false);
        if (w->grab_result >= 0)
                (void) recorder_readout(drive, &w->readout);
}

static void poll_done(void *userdata) {
        _cleanup_imapi_error_ ImapiError error = IMAPI_ERROR_NULL;
        Burn *b = userdata;
        BurnWait *w = b->wait;
        Recorder *rec = b->recorder;
        int k = w->grab_result;

        w->polls++;
        if (k < 0)
                (void) recorder_grab_error(rec, k, &error);
        else {
                k = recorder_apply_readout(rec, &w->readout);
                if (k < 0)
                        (void) recorder_read_error(rec, k, &error);
                recorder_changed(rec);
        }
        if (b->cancel) {
                burn_end(b, IMAPI_E_USERABORT, "Cancelled while waiting for a disc.");
                return;
        }
        if (k >= 0)
                k = burn_plan(b, &error);
        if (k >= 0) {
                log_info("Job %u: a usable disc is in recorder %s after %u polls.", b->job->id, rec->id, w->polls);
                (void) job_set_status(b->job, NULL);
                k = burn_go(b, &error);
                if (k < 0)
                        burn_end(b, error.hresult ?: IMAPI_E_GENERIC, error.message);
                return;
        }
        /* A drive that is gone, or another program holding it, ends the wait; a disc that
         * cannot be read may be one still spinning up, and is asked again. */
        if (!burn_wait_applies(&b->options, &error) && !(error.hresult == IMAPI_E_DEVICE_STILL_IN_USE)) {
                burn_end(b, error.hresult ?: IMAPI_E_GENERIC, error.message);
                return;
        }
        wait_say_why(b, &error);
        if (drive_is_grabbed(rec->drive))
                wait_release(b);
        else
                wait_again(b);
}

int burn_wait_start(Burn *b, ImapiError *why) {
        BurnWait *w;

        w = calloc(1, sizeof(BurnWait));
        if (!w)
                return -ENOMEM;
        *w = (BurnWait) {
                .deadline = now_usec(CLOCK_MONOTONIC) + (uint64_t) b->options.wait_for_medium * 1000000ULL,
                .readout.error = -ENODATA,
        };
        b->wait = w;
        b->stage = BURN_STAGE_WAITING;
        job_set_phase(b->job, JOB_PHASE_WAITING);
        log_info("Job %u: waiting up to %u s for a usable disc in recorder %s: %s", b->job->id,
                 b->options.wait_for_medium, b->recorder->id, strempty(why->message));
        wait_say_why(b, why);
        wait_release(b);
        return 0;
}

void burn_wait_tick(Burn *b) {
        BurnWait *w = b->wait;
        uint64_t now;

        if (!w || w->state != WAIT_IDLE)
                return;         /* a worker has the drive; its completion goes on */
        if (b->cancel) {
                burn_end(b, IMAPI_E_USERABORT, "Cancelled while waiting for a disc.");
                return;
        }
        now = now_usec(CLOCK_MONOTONIC);
        if (now >= w->deadline) {
                _cleanup_free_ char *text = NULL;

                if (asprintf(&text, "No usable disc came into recorder %s within %u s. %s", b->recorder->id,
                             b->options.wait_for_medium, strempty(w->why.message)) < 0)
                        text = NULL;
                burn_end(b, IMAPI_E_MEDIUM_NOTPRESENT, text ?: "No usable disc came in time.");
                return;
        }
        if (now < w->next)
                return;
        w->state = WAIT_POLLING;
        if (worker_submit(b->master->manager->worker, poll_run, poll_done, b) < 0)
                wait_again(b);
}

bool burn_wait_abort(Burn *b) {
        if (!b->wait || b->stage != BURN_STAGE_WAITING)
                return false;
        /* A worker's completion runs when the workers are freed, and sees the flag. */
        if (b->wait->state != WAIT_IDLE)
                return true;
        burn_end(b, IMAPI_E_USERABORT, "imapid is stopping.");
        return true;
}

void burn_wait_free(Burn *b) {
        if (!b->wait)
                return;
        recorder_readout_done(&b->wait->readout);
        imapi_error_done(&b->wait->why);
        b->wait = mfree(b->wait);
}
