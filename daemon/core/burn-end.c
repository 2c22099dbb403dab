/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The end of a burn job: drive and stash work in a worker, then the report on the loop. */

#include <stdio.h>
#include <stdlib.h>

#include <imapi/imapi.h>

#include "core/burn-end.h"
#include "hresult.h"
#include "bus/inhibit.h"
#include "log.h"
#include "macro.h"
#include "core/recorder.h"
#include "media/stash.h"
#include "core/worker.h"

typedef struct BurnEnd {
        Master *master;
        Recorder *recorder;
        Job *job;
        uint32_t hr;
        char *text;
        bool eject;
        char *remove_path;
        int close_fd;
        uint64_t reserved;
        bool cleared;           /* the staged content moved here, to be deleted */
        Staging staging;
        Redbook redbook;
        RecorderReadout readout;
        burn_end_fn ended;
        void *userdata;
} BurnEnd;

/* Worker. The recorder stays busy and the master keeps its stash until end_done(). */
static void end_run(void *userdata) {
        BurnEnd *e = userdata;
        Drive *drive = e->recorder->drive;
        Stash *stash = e->master->stash;

        drive_release(drive, IMAPI_HRESULT_SUCCEEDED(e->hr) && e->eject);
        e->readout.error = drive_grab(drive, false);
        if (e->readout.error >= 0) {
                (void) recorder_readout(drive, &e->readout);
                drive_release(drive, false);
        }
        /* The last close of a deleted multi-GiB image frees its blocks: that takes a while. */
        if (e->remove_path)
                (void) stash_remove_file(stash, e->remove_path);
        e->close_fd = safe_close(e->close_fd);
        staged_content_delete(&e->staging, &e->redbook, stash);
        /* Content that stays for another try gets back its name index here rather than at the
         * next AddData, on the loop. (The master changes nothing until end_done().) */
        if (!e->cleared && staging_ensure_index(&e->master->staging) < 0)
                log_debug("Out of memory rebuilding the staging index; AddData will retry.");
}

static void end_done(void *userdata) {
        BurnEnd *e = userdata;
        Master *m = e->master;
        Recorder *rec = e->recorder;
        Job *j = e->job;

        stash_release(m->stash, e->reserved);
        rec->busy--;
        inhibitor_release(m->daemon);
        (void) recorder_apply_readout(rec, &e->readout);
        recorder_emit_changed(rec);

        if (IMAPI_HRESULT_SUCCEEDED(e->hr))
                job_log(j, LOG_INFO, rec->id, e->hr, "%s of disc master %u on %s finished.", j->operation, m->id,
                        rec->id);
        else
                job_log(j, LOG_WARNING, rec->id, e->hr, "%s of disc master %u on %s failed: %s", j->operation,
                        m->id, rec->id, strna(e->text));

        master_emit_signal(m, "BurnComplete", "u", e->hr);
        job_complete(j, e->hr, e->text);
        e->ended(m, e->userdata);
        daemon_emit_properties_changed(m->daemon, m->path, IMAPI_DISC_MASTER_INTERFACE, "Job", NULL);
        if (e->cleared) {
                daemon_emit_properties_changed(m->daemon, m->path, IMAPI_JOLIET_INTERFACE, "UsedDataBlocks", NULL);
                master_emit_redbook_changed(m);
        }
        job_free(j);
        free(e->remove_path);
        free(e->text);
        free(e);
        master_work_done(m);
}

void master_end_burn(Master *m, Recorder *rec, Job *j, const BurnEndParams *p, burn_end_fn ended,
                     void *userdata) {
        BurnEnd *e;

        e = calloc(1, sizeof(BurnEnd));
        if (!e) {
                /* Out of memory at the very end: report what can be reported, keep the rest. */
                log_oom();
                rec->busy--;
                inhibitor_release(m->daemon);
                drive_release(rec->drive, false);
                master_emit_signal(m, "BurnComplete", "u", p->hr);
                job_complete(j, p->hr, p->message);
                if (p->remove_path)
                        (void) stash_remove_file(m->stash, p->remove_path);
                free(p->remove_path);
                safe_close(p->close_fd);
                stash_release(m->stash, p->reserved);
                ended(m, userdata);
                job_free(j);
                master_work_done(m);
                return;
        }
        *e = (BurnEnd) {
                .master = m,
                .recorder = rec,
                .job = j,
                .hr = p->hr,
                .eject = p->eject,
                .remove_path = p->remove_path,
                .close_fd = p->close_fd,
                .reserved = p->reserved,
                .ended = ended,
                .userdata = userdata,
        };
        staging_init(&e->staging);
        redbook_init(&e->redbook);
        e->text = hresult_format(p->hr, p->message);
        if (IMAPI_HRESULT_SUCCEEDED(p->hr) && !p->simulate) {
                /* The bookkeeping moves to the worker with the files; the master starts empty
                 * (UsedDataBlocks 0), and the next burn looks at the disc afresh. */
                e->staging = m->staging;
                e->redbook = m->redbook;
                staging_init(&m->staging);
                redbook_init(&m->redbook);
                m->plan_known = false;
                e->cleared = true;
        }
        if (worker_submit(m->daemon->worker, end_run, end_done, e) < 0) {
                end_run(e);
                end_done(e);
        }
}
