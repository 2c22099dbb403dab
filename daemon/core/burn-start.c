/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The start of a burn's write (burn-ops.h), in a worker: everything of it waits for the drive.
 * Once libburn's thread writes, the burn's timer polls it (burn.c).
 */

#include <errno.h>
#include <stdlib.h>

#include <imapi/imapierror.h>

#include "core/burn-ops.h"
#include "core/worker.h"
#include "hresult.h"
#include "log.h"
#include "macro.h"

/* Worker: libburn takes over. Setting the speed (SET CD SPEED, SET STREAMING), the write
 * options' look at the medium (READ FORMAT CAPACITIES on overwriteable media) and
 * burn_disc_write()'s own checks before it starts its thread all wait for the drive, a real one
 * a second or more. The drive's previous operation may still hold it for a moment (libburn's
 * thread outlives the IDLE state): the start is tried again here until it takes, the cancel flag
 * polled between tries (drive_start_wait()). The recorder is busy and the timer off meanwhile,
 * so nothing on the loop touches the drive. */
static void write_start_run(void *userdata) {
        Burn *b = userdata;
        int k;

        k = b->ops->write_start(b, &b->write_options, &b->start_reason);
        if (k == -EAGAIN)
                k = drive_start_wait(b->recorder->drive, &b->cancel, &b->start_reason);
        b->result = k;
}

static void write_start_done(void *userdata) {
        Burn *b = userdata;
        _cleanup_free_ char *reason = TAKE_PTR(b->start_reason);

        b->starting = false;
        /* A refusal that came with a cancel is what the user asked for. */
        if (b->result == -ECANCELED || (b->result < 0 && b->cancel)) {
                burn_end(b, IMAPI_E_USERABORT, "Cancelled before the write started.");
                return;
        }
        if (b->result < 0) {
                burn_end(b, hresult_from_errno(b->result), reason ?: "The recorder refused to start writing.");
                return;
        }
        b->disc_touched = b->disc_touched || !b->options.simulate;
        if (b->cancel) {
                /* The cancel came while the write started: it stops now, and its end is the
                 * poll's to see, or, once the loop is gone, waited for here. */
                if (b->aborted) {
                        drive_cancel_sync(b->recorder->drive);
                        burn_end(b, IMAPI_E_USERABORT, "imapid is stopping.");
                        return;
                }
                drive_cancel(b->recorder->drive);
        }
        (void) sd_event_source_set_time_relative(b->timer, BURN_POLL_USEC);
        (void) sd_event_source_set_enabled(b->timer, SD_EVENT_ON);
}

/* The speed IMAPI asks for and the common options; the write starts in a worker. */
int burn_write_begin(Burn *b) {
        const RecordOptions *o = &b->options;
        Recorder *rec = b->recorder;
        unsigned x1 = drive_profile_kbps_1x(rec->media.profile);
        int k;

        b->write_options = (DriveWriteOptions) {
                .simulate = o->simulate,
                .start_lba = -1,
                .underrun_proof = rec->enable_buf,
        };
        if (o->write_speed_kbps > 0)
                b->write_options.speed_kbps = o->write_speed_kbps;
        else if (o->write_speed > 0)
                b->write_options.speed_kbps = (int) x1 * o->write_speed;
        else if (rec->write_speed > 0)
                b->write_options.speed_kbps = (int) x1 * rec->write_speed;
        b->stage = BURN_STAGE_WRITING;
        b->stage_blocks = b->write_blocks;
        atomic_store(&b->blocks_done, 0);
        b->starting = true;
        (void) sd_event_source_set_enabled(b->timer, SD_EVENT_OFF);
        k = worker_submit(b->master->manager->worker, write_start_run, write_start_done, b);
        if (k < 0) {
                b->starting = false;
                return k;
        }
        job_set_phase(b->job, JOB_PHASE_WRITING);
        log_info("Job %u: writing %llu blocks to %s at block %u%s.", b->job->id,
                 (unsigned long long) b->write_blocks,
                 rec->id, b->plan.start_lba, o->simulate ? " (simulation)" : "");
        return 0;
}
