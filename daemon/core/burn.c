/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The skeleton of every burn (burn-ops.h): RecordDisc's checks, the drive read, the stages in
 * workers and libburn's thread polled from a timer, and the end. Whatever happens, the drive is
 * released, the format's files removed and the stash reservation returned.
 *
 * The end: what touches the drive or the disk runs in a worker, so that the bus keeps answering
 * while it happens: the drive is given back (ejecting after a success if asked) and grabbed
 * again to read the disc as it now is; the format's files and, after a real success, every
 * staged file are deleted (IMAPI clears the stash after the first successful burn; 100,000
 * staged files take a second to unlink). Then, on the event loop, the recorder shows the new
 * disc, the outcome is logged, and BurnComplete and the job's Completed are sent: a client that
 * sees them finds the drive released and the stash clean.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapierror.h>

#include "core/burn-ops.h"
#include "core/quota.h"
#include "core/worker.h"
#include "hresult.h"
#include "log.h"
#include "macro.h"
#include "media/stash.h"

Job *burn_job(const Burn *b) {
        return b->job;
}

int burn_fail(Burn *b, uint32_t hr, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        return imapi_error_set(&b->error, hr, "%s", text ?: "");
}

void burn_notify(Burn *b, MasterEventKind kind, int32_t a, int32_t b2) {
        manager_notify_event(b->master->manager, b->master, kind, a, b2, 0);
}

void burn_announce_closing(Burn *b, int32_t seconds) {
        if (b->closing_announced)
                return;
        b->closing_announced = true;
        job_set_phase(b->job, JOB_PHASE_CLOSING);
        burn_notify(b, MASTER_EVENT_CLOSING_DISC, seconds, 0);
}

static Burn *burn_free(Burn *b) {
        if (!b)
                return NULL;
        sd_event_source_disable_unref(b->timer);
        burn_wait_free(b);
        if (b->format)
                b->ops->free(b->format);
        imapi_error_done(&b->error);
        free(b->start_reason);
        free(b);
        return NULL;
}

bool burn_verifies(const Burn *b) {
        return b->options.verify && !b->options.simulate;
}

/* Shares of the whole job: preparing, writing, and verifying what is left. */

static double stage_base(const Burn *b, BurnStage s) {
        double prepare = b->ops->prepare_share, write = 1.0 - prepare - (burn_verifies(b) ? b->ops->verify_share : 0);

        return s == BURN_STAGE_PREPARING ? 0 : s == BURN_STAGE_WRITING ? prepare : s == BURN_STAGE_DONE ? 1 :
               prepare + write;
}

static void update_job(Burn *b, double buffer_fill) {
        uint64_t total = MAX(b->stage_blocks, 1u), done = MIN(atomic_load(&b->blocks_done), total);
        double base = stage_base(b, b->stage), share = stage_base(b, (BurnStage) (b->stage + 1)) - base;

        job_set_progress(b->job, base + share * (double) done / (double) total, done * b->ops->block_size,
                         buffer_fill);
}

/* The end */

typedef struct BurnEnd {
        Burn *burn;
        uint32_t hr;
        char *text;
        BurnStage stage;        /* the one the burn ended in */
        BurnEndFiles files;
        bool cleared;           /* the staged content moved here, to be deleted */
        bool last;              /* no other burn of the master still writes or verifies */
        Staging staging;
        Redbook redbook;
        RecorderReadout readout;
} BurnEnd;

/* Worker. The recorder stays busy and the master keeps its stash until end_done(). */
static void end_run(void *userdata) {
        BurnEnd *e = userdata;
        Drive *drive = e->burn->recorder->drive;
        Master *m = e->burn->master;

        drive_release(drive, IMAPI_HRESULT_SUCCEEDED(e->hr) && e->burn->options.eject);
        e->readout.error = drive_grab(drive, false);
        if (e->readout.error >= 0) {
                (void) recorder_readout(drive, &e->readout);
                drive_release(drive, false);
        }
        /* The last close of a deleted multi-GiB image frees its blocks: that takes a while. */
        if (e->files.remove_path)
                (void) stash_remove_file(m->stash, e->files.remove_path);
        /* The generator goes first: its threads may read the fd to be closed. */
        if (e->files.release)
                e->files.release(TAKE_PTR(e->files.release_data));
        e->files.close_fd = safe_close(e->files.close_fd);
        master_delete_staged(&e->staging, &e->redbook, m->stash);
        /* Content that stays for another try gets back its name index here rather than at the
         * next AddData, on the loop. (The master changes nothing until end_done().) */
        if (e->last && !e->cleared && staging_ensure_index(&m->staging) < 0)
                log_debug("Out of memory rebuilding the staging index; AddData will retry.");
}

static const char *format_lowest(char *buf, size_t n, double lowest) {
        if (lowest < 0)
                snprintf(buf, n, "never half full");
        else
                snprintf(buf, n, "at least %.0f%% full", lowest * 100.0);
        return buf;
}

static void end_report(Burn *b, uint32_t hr, const char *text) {
        Master *m = b->master;
        Recorder *rec = b->recorder;
        Job *j = b->job;

        if (j->lowest_drive_buffer_fill >= 0 || j->lowest_buffer_fill >= 0) {
                char drive[32], fifo[32];

                log_debug("Job %u: while writing, the drive's buffer was %s, the FIFO %s.", j->id,
                          format_lowest(drive, sizeof drive, j->lowest_drive_buffer_fill),
                          format_lowest(fifo, sizeof fifo, j->lowest_buffer_fill));
        }
        if (IMAPI_HRESULT_SUCCEEDED(hr))
                job_log(j, LOG_INFO, IMAPI_MESSAGE_BURN_FINISHED, rec->id, hr, "%s of disc master %u on %s finished.",
                        j->operation, m->id, rec->id);
        else
                job_log(j, LOG_WARNING, hr == IMAPI_E_USERABORT ? IMAPI_MESSAGE_BURN_CANCELLED : IMAPI_MESSAGE_BURN_FAILED,
                        rec->id, hr, "%s of disc master %u on %s %s: %s", j->operation, m->id, rec->id,
                        hr == IMAPI_E_USERABORT ? "cancelled" : "failed", strna(text));
        manager_notify_event(m->manager, m, MASTER_EVENT_BURN_COMPLETE, 0, 0, hr);
        job_complete(j, hr, text);
}

/* The burn is over: the master is free again, and its job goes. */
static void end_detach(Burn *b, unsigned changes) {
        Master *m = b->master;
        Job *j = b->job;

        for (Burn **p = &m->burn; *p; p = &(*p)->next)
                if (*p == b) {
                        *p = b->next;
                        break;
                }
        burn_free(b);
        master_changed(m, MASTER_CHANGED_JOB | changes);
        job_free(j);
        master_work_done(m);
}

/* A failure's message says what the disc now holds, as it was read again. */
static void end_add_disc_note(BurnEnd *e) {
        _cleanup_free_ char *note = NULL;
        char *text;
        size_t n;

        if (IMAPI_HRESULT_SUCCEEDED(e->hr) || !e->text)
                return;
        note = burn_disc_note(e->burn, e->stage, &e->readout);
        if (!note)
                return;
        n = strlen(e->text);
        if (asprintf(&text, "%s%s %s", e->text, n > 0 && e->text[n - 1] != '.' ? "." : "", note) < 0)
                return;
        free(e->text);
        e->text = text;
}

static void end_done(void *userdata) {
        BurnEnd *e = userdata;
        Burn *b = e->burn;
        Recorder *rec = b->recorder;

        end_add_disc_note(e);
        stash_release(b->master->stash, e->files.reserved);
        rec->busy--;
        manager_notify_work(b->master->manager, false, NULL);
        (void) recorder_apply_readout(rec, &e->readout);
        recorder_changed(rec);
        end_report(b, e->hr, e->text);
        end_detach(b, e->cleared ? MASTER_CHANGED_DATA_USED | MASTER_CHANGED_AUDIO : 0);
        free(e->files.remove_path);
        free(e->text);
        free(e);
}

/* A burn's files, here and now: the staged copy deleted, the generator released before the fd
 * that its threads may still read is closed, the stash reservation given back. */
static void drop_files(Stash *stash, BurnEndFiles *files) {
        if (files->remove_path)
                (void) stash_remove_file(stash, files->remove_path);
        files->remove_path = mfree(files->remove_path);
        if (files->release)
                files->release(TAKE_PTR(files->release_data));
        files->close_fd = safe_close(files->close_fd);
        stash_release(stash, files->reserved);
        files->reserved = 0;
}

/* Out of memory at the very end: report what can be reported, here. */
static void end_here(Burn *b, uint32_t hr, const char *message, BurnEndFiles *files) {
        log_oom();
        b->recorder->busy--;
        manager_notify_work(b->master->manager, false, NULL);
        drive_release(b->recorder->drive, false);
        drop_files(b->master->stash, files);
        end_report(b, hr, message);
        end_detach(b, 0);
}

void burn_end(Burn *b, uint32_t hr, const char *message) {
        _cleanup_free_ char *note = IMAPI_HRESULT_SUCCEEDED(hr) && b->ops->success_note ? b->ops->success_note(b) : NULL;
        BurnEndFiles files = { .close_fd = -1 };
        BurnStage stage = b->stage;
        Master *m = b->master;
        BurnEnd *e;

        b->stage = BURN_STAGE_DONE;
        (void) sd_event_source_set_enabled(b->timer, SD_EVENT_OFF);
        if (b->ops->end_files)
                b->ops->end_files(b, &files);
        e = calloc(1, sizeof(BurnEnd));
        if (!e) {
                end_here(b, hr, note ?: message, &files);
                return;
        }
        *e = (BurnEnd) { .burn = b, .hr = hr, .stage = stage, .files = files };
        staging_init(&e->staging);
        redbook_init(&e->redbook);
        e->text = hresult_format(hr, note ?: message);
        /* The burns of one RecordDiscTo read the same staged content: it stays until the last
         * one is done, and goes only if every one of them succeeded. */
        m->burns_running--;
        if (IMAPI_HRESULT_FAILED(hr))
                m->burns_failed = true;
        e->last = m->burns_running == 0;
        if (e->last && !m->burns_failed && !b->options.simulate && !b->options.keep) {
                /* The bookkeeping moves to the worker with the files; the master starts empty
                 * (UsedDataBlocks 0), and the next burn looks at the disc afresh. */
                e->staging = m->staging;
                e->redbook = m->redbook;
                staging_init(&m->staging);
                redbook_init(&m->redbook);
                m->plan_known = false;
                e->cleared = true;
        }
        if (e->last)
                m->burns_failed = false;
        if (worker_submit(m->manager->worker, end_run, end_done, e) < 0) {
                end_run(e);
                end_done(e);
        }
}

static void burn_end_error(Burn *b, const char *fallback) {
        if (imapi_error_is_set(&b->error))
                burn_end(b, b->error.hresult, b->error.message);
        else
                burn_end(b, IMAPI_E_GENERIC, fallback);
}

/* The stages */

static void stage_run(void *userdata);

/* A worker stage: its size and phase; run is one of the ops' workers. */
typedef void (*burn_stage_fn)(Burn *b);

static burn_stage_fn stage_worker(const Burn *b) {
        return b->stage == BURN_STAGE_PREPARING ? b->ops->prepare_run :
               b->stage == BURN_STAGE_CLOSING ? b->ops->closing_run : b->ops->verify_run;
}

/* Worker. The recorder is busy, so the loop leaves the drive alone: this thread has it until
 * the stage's completion runs on the loop. */
static void stage_run(void *userdata) {
        Burn *b = userdata;

        b->result = 0;
        if (b->stage == BURN_STAGE_VERIFYING) {
                /* The new disc read again (a real drive takes a second or more over it), then
                 * whatever the format reads of it before the comparison (the audio TOC). */
                (void) drive_reassess(b->recorder->drive);
                if (b->cancel) {
                        b->result = -ECANCELED;
                        return;
                }
                if (b->ops->verify_setup && b->ops->verify_setup(b, &b->error) < 0) {
                        b->result = -EIO;
                        return;
                }
        }
        stage_worker(b)(b);
}

static int start_stage(Burn *b, BurnStage stage, uint64_t blocks, JobPhase phase, worker_done_fn done) {
        b->stage = stage;
        b->stage_blocks = blocks;
        atomic_store(&b->blocks_done, 0);
        job_set_phase(b->job, phase);
        return worker_submit(b->master->manager->worker, stage_run, done, b);
}

static void verify_done(void *userdata) {
        Burn *b = userdata;

        if (b->result == -ECANCELED || b->cancel)
                burn_end(b, IMAPI_E_USERABORT, "Cancelled during verification.");
        else if (b->result < 0)
                burn_end_error(b, NULL);
        else
                burn_end(b, IMAPI_S_OK, NULL);
}

/* After the write (and the closing stage): verification, or the end. */
static void burn_written(Burn *b) {
        if (!burn_verifies(b)) {
                burn_end(b, IMAPI_S_OK, NULL);
                return;
        }
        if (start_stage(b, BURN_STAGE_VERIFYING, b->ops->verify_blocks(b), JOB_PHASE_VERIFYING,
                        verify_done) < 0)
                burn_end(b, IMAPI_E_GENERIC, "Cannot start verification.");
}

static void closing_done(void *userdata) {
        Burn *b = userdata;

        if (b->result < 0)
                burn_end_error(b, NULL);
        else
                burn_written(b);
}

/* Worker. libburn's outcome of the write: after a failure the drive is set up again, which takes
 * as long as a real drive takes over INQUIRY and the rest of a first look. The recorder is busy
 * and the timer off, so nothing on the loop touches the drive meanwhile. */
static void write_finish_run(void *userdata) {
        Burn *b = userdata;

        b->finish_hr = drive_operation_finish(b->recorder->drive, b->finish_cancelled, &b->finish_message);
}

static void write_finish_done(void *userdata) {
        Burn *b = userdata;
        _cleanup_free_ char *msg = TAKE_PTR(b->finish_message);
        uint32_t hr = b->finish_hr;
        int32_t total = (int32_t) MIN(b->write_blocks, (uint64_t) INT32_MAX);

        b->finishing = false;

        /* A source that failed (an image that could not be generated) knows better than
         * libburn, which only saw it stop. */
        if (IMAPI_HRESULT_FAILED(hr) && hr != IMAPI_E_USERABORT && imapi_error_is_set(&b->error)) {
                burn_end_error(b, NULL);
                return;
        }
        if (IMAPI_HRESULT_FAILED(hr)) {
                burn_end(b, hr, msg);
                return;
        }
        burn_notify(b, MASTER_EVENT_BLOCK_PROGRESS, total, total);
        if (b->ops->written)
                b->ops->written(b);
        /* A simulation wrote nothing that readers could be led to. */
        if (!b->options.simulate && b->ops->needs_closing && b->ops->needs_closing(b)) {
                burn_announce_closing(b, 1);
                if (start_stage(b, BURN_STAGE_CLOSING, 0, JOB_PHASE_CLOSING, closing_done) < 0)
                        burn_end(b, IMAPI_E_GENERIC, "Cannot finish the session.");
                return;
        }
        burn_written(b);
}

static void write_ended(Burn *b) {
        (void) sd_event_source_set_enabled(b->timer, SD_EVENT_OFF);
        b->finishing = true;
        b->finish_cancelled = b->cancel;
        if (worker_submit(b->master->manager->worker, write_finish_run, write_finish_done, b) < 0) {
                write_finish_run(b);
                write_finish_done(b);
        }
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Burn *b = userdata;

        if (b->stage == BURN_STAGE_WRITING) {
                DriveProgress p;
                bool active = drive_poll(b->recorder->drive, &p);

                if (b->ops->write_progress(b, &p))
                        burn_notify(b, MASTER_EVENT_BLOCK_PROGRESS,
                                    (int32_t) MIN(atomic_load(&b->blocks_done), (uint64_t) INT32_MAX),
                                    (int32_t) MIN(b->write_blocks, (uint64_t) INT32_MAX));
                /* Before the progress, which sends the change. */
                job_set_drive_buffer(b->job, p.drive_buffer_fill);
                update_job(b, p.fifo_fill);
                if (!active) {
                        write_ended(b);
                        return 0;
                }
        } else if (IN_SET(b->stage, BURN_STAGE_PREPARING, BURN_STAGE_VERIFYING))
                update_job(b, -1);
        else if (b->stage == BURN_STAGE_WAITING) {
                burn_wait_tick(b);
                if (b->stage == BURN_STAGE_DONE)
                        return 0;
        }

        (void) sd_event_source_set_time_relative(s, BURN_POLL_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

static void prepare_done(void *userdata) {
        _cleanup_imapi_error_ ImapiError error = IMAPI_ERROR_NULL;
        Burn *b = userdata;

        if (b->cancel || b->result == -ECANCELED) {
                burn_end(b, IMAPI_E_USERABORT, "Cancelled while the image was being built.");
                return;
        }
        if (b->result < 0) {
                burn_end_error(b, NULL);
                return;
        }
        if (b->ops->prepared && b->ops->prepared(b, &error) < 0) {
                burn_end(b, error.hresult, error.message);
                return;
        }
        if (burn_write_begin(b) < 0)
                burn_end(b, IMAPI_E_GENERIC, "Cannot start the write.");
}

static void burn_cancel(Job *j, void *userdata) {
        Burn *b = userdata;

        b->cancel = true;
        /* While the write starts, and once it is over, the drive is a worker's: the start sees
         * the flag, and the outcome is the worker's to take. */
        if (b->stage == BURN_STAGE_WRITING && !b->starting && !b->finishing)
                drive_cancel(b->recorder->drive);
}

void burn_abort(Burn *b) {
        if (!b)
                return;
        /* The master's other burns: burn_end() leaves them in the list until their end. */
        burn_abort(b->next);
        b->cancel = true;
        b->aborted = true;
        if (burn_wait_abort(b))
                return;
        if (b->stage != BURN_STAGE_WRITING || b->starting || b->finishing)
                return;         /* a worker stage: it sees the flag, and worker_free() waits */

        /* The loop is gone and libburn's thread still writes: stop it and wait here, so that
         * neither the drive nor the library is torn down under it. */
        drive_cancel_sync(b->recorder->drive);
        burn_end(b, IMAPI_E_USERABORT, "imapid is stopping.");
}

/* The start */

static const BurnOps *burn_ops_for(const Master *m) {
        return m->format == MASTER_FORMAT_REDBOOK ? &burn_audio_ops :
               m->format == MASTER_FORMAT_IMAGE ? &burn_image_ops : &burn_data_ops;
}

/* What RecordDisc needs of the master and its recorder, before and after the drive is read. */
int burn_check_on(Master *m, Recorder *rec, ImapiError *error) {
        int k;

        k = master_check_opened(m, error);
        if (k < 0)
                return k;
        /* SIGTERM cancelled the jobs there were; a new one would hold up the exit. */
        if (m->manager->exiting)
                return imapi_error_set(error, IMAPI_E_USERABORT, "imapid is stopping.");
        if (m->format == MASTER_FORMAT_NONE)
                return imapi_error_set(error, IMAPI_E_NOACTIVEFORMAT,
                                       "Disc master %u has no active format.", m->id);
        if (!rec)
                return imapi_error_set(error, IMAPI_E_NOACTIVERECORDER,
                                       "Disc master %u has no active recorder.", m->id);
        if (m->burn)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Disc master %u is already burning.", m->id);
        if (m->adding || m->boot_adding || m->audio_adding || m->image_adding || m->reading)
                return imapi_error_set(error, IMAPI_E_GENERIC, "Disc master %u is still staging data.", m->id);
        if (!rec->present)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTPRESENT, "Recorder %s has been removed.",
                                       rec->id);
        if (rec->owner)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is held through OpenExclusive by %s; close it before burning.",
                                       rec->id, rec->owner->description);
        if (rec->busy > 0)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is busy with another job.", rec->id);
        return burn_ops_for(m)->check(m, error);
}

static int burn_check(Master *m, ImapiError *error) {
        return burn_check_on(m, m->recorder, error);
}

typedef struct BurnCall {
        Master *master;
        Client *client;
        RecordOptions options;
        core_done_fn done;
        void *userdata;
} BurnCall;

/* The job exists: the recorder is busy with it and the master burns. */
static void burn_announce(Burn *b) {
        Master *m = b->master;
        Recorder *rec = b->recorder;

        rec->busy++;
        recorder_changed(rec);
        /* Suspending or shutting down in the middle would ruin the disc. */
        manager_notify_work(m->manager, true, b->ops->activity);
        b->next = m->burn;
        m->burn = b;
        m->burns_running++;
        master_changed(m, MASTER_CHANGED_JOB);
}

/* The burn runs: tell about it. */
static void burn_started(Burn *b) {
        Master *m = b->master;
        Recorder *rec = b->recorder;
        Client *c = b->job->owner;

        /* A rough guess at preparing: the stash disk at 100 MB/s. */
        burn_notify(b, MASTER_EVENT_PREPARING_BURN, b->ops->prepare_run ?
                    (int32_t) MIN(b->write_blocks * 2048 / (100 * 1000 * 1000) + 1,
                                  (uint64_t) INT32_MAX) : 1, 0);
        if (b->ops->started)
                b->ops->started(b);
        job_log(b->job, LOG_INFO, IMAPI_MESSAGE_BURN_STARTED, rec->id, 0,
                "%s of disc master %u on %s started by %s (%llu blocks, %s at block %u).",
                b->job->operation, m->id, rec->id, c ? c->description : "?", (unsigned long long) b->write_blocks,
                session_mode_to_string(b->plan.mode), b->plan.start_lba);
}

/* The files and state of the format, if any; the drive stays as it is. */
static void burn_drop_format(Burn *b) {
        BurnEndFiles files = { .close_fd = -1 };

        if (!b->format)
                return;
        if (b->ops->end_files) {
                b->ops->end_files(b, &files);
                drop_files(b->master->stash, &files);
        }
        b->ops->free(b->format);
        b->format = NULL;
}

int burn_plan(Burn *b, ImapiError *error) {
        int k;

        burn_drop_format(b);
        k = master_plan_burn(b->master, b->recorder, b->options.replace, b->options.simulate, &b->plan, error);
        return k < 0 ? k : b->ops->setup(b, error);
}

int burn_go(Burn *b, ImapiError *error) {
        int k;

        job_set_bytes(b->job, b->write_blocks * b->ops->block_size);
        /* Nothing to prepare: the write starts at once, and a refusal by libburn, which only the
         * start can tell, ends the job as it does after a preparation. */
        k = b->ops->prepare_run ?
            start_stage(b, BURN_STAGE_PREPARING, b->write_blocks, JOB_PHASE_PREPARING, prepare_done) :
            burn_write_begin(b);
        if (k >= 0)
                burn_started(b);
        return k;
}

/* The drive is grabbed and its disc read: the plan, the format's state, the job, and the first
 * stage, or, with wait_for_medium and a disc that will not do, the wait for one that will. */
int burn_begin_on(Master *m, Recorder *rec, Client *c, const RecordOptions *o, Job **ret, ImapiError *error) {
        _cleanup_imapi_error_ ImapiError why = IMAPI_ERROR_NULL;
        bool waiting;
        Burn *b;
        int k;

        b = calloc(1, sizeof(Burn));
        if (!b)
                return -ENOMEM;
        *b = (Burn) { .master = m, .recorder = rec, .options = *o, .ops = burn_ops_for(m) };
        k = burn_plan(b, &why);
        waiting = k < 0 && burn_wait_applies(o, &why);
        if (k < 0 && !waiting)
                imapi_error_move(error, &why);
        if (k >= 0 || waiting)
                k = job_new(m->manager, o->simulate ? "simulate" : "burn", c, m->id, rec, &b->job);
        if (k < 0)
                goto fail;
        b->job->cancel = burn_cancel;
        b->job->userdata = b;
        k = sd_event_add_time_relative(m->manager->event, &b->timer, CLOCK_MONOTONIC, BURN_POLL_USEC, 0,
                                       on_timer, b);
        if (k >= 0)
                k = waiting ? burn_wait_start(b, &why) : burn_go(b, error);
        if (k < 0) {
                b->job = job_free(b->job);
                goto fail;
        }
        burn_announce(b);
        *ret = b->job;
        return 0;

fail:
        burn_drop_format(b);
        drive_release(rec->drive, false);
        burn_free(b);
        return k;
}

static void burn_prepared(Recorder *r, int k, const ImapiError *prep_error, void *userdata) {
        _cleanup_free_ BurnCall *call = userdata;
        _cleanup_(client_unrefp) Client *c = call->client;
        _cleanup_imapi_error_ ImapiError error = IMAPI_ERROR_NULL;
        Master *m = call->master;
        Job *job = NULL;

        m->preparing--;
        if (k < 0) {
                call->done(call->userdata, k, prep_error, NULL);
                master_work_done(m);
                return;
        }
        /* What may have changed while the drive was read: the master closed, say, or the user's
         * other RecordDisc calls, checked as this one was, made their jobs first. */
        k = burn_check(m, &error);
        if (k >= 0 && c)
                k = quota_check_job(m->manager, c->uid, &error);
        if (k < 0)
                drive_release(r->drive, false);
        else
                k = burn_begin_on(m, m->recorder, c, &call->options, &job, &error);
        if (k < 0 && !imapi_error_is_set(&error))
                (void) imapi_error_set_errno(&error, k, NULL);
        call->done(call->userdata, k, k < 0 ? &error : NULL, job);
        master_work_done(m);
}

int burn_start(Master *m, Client *c, const RecordOptions *o, core_done_fn done, void *userdata,
               ImapiError *error) {
        BurnCall *call;
        int k;

        k = burn_check(m, error);
        if (k >= 0 && c)
                k = quota_check_job(m->manager, c->uid, error);
        if (k < 0)
                return k;
        call = malloc(sizeof(BurnCall));
        if (!call)
                return -ENOMEM;
        *call = (BurnCall) {
                .master = m,
                .client = client_ref(c),
                .options = *o,
                .done = done,
                .userdata = userdata,
        };
        /* A burn that waits for the disc to be swapped leaves an open tray to the user. */
        k = recorder_prepare(m->recorder, o->wait_for_medium == 0, burn_prepared, call, error);
        if (k < 0) {
                client_unref(call->client);
                free(call);
                return k;
        }
        m->preparing++;
        return 1;
}
