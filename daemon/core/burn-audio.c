/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An audio burn: the staged tracks go to the disc from their stash files, disc-at-once or
 * track-at-once (libburn's thread, polled from a timer, with TrackProgress as tracks start and
 * end), then every track is read back as raw CD-DA sectors and compared with its stash file
 * (worker). Whatever happens, the drive is released at the end; the tracks stay staged unless
 * the burn succeeded, as in IMAPI.
 */

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <imapi/imapi.h>

#include "core/burn-audio.h"
#include "core/burn-end.h"
#include "media/drive.h"
#include "hresult.h"
#include "bus/inhibit.h"
#include "core/job.h"
#include "log.h"
#include "macro.h"
#include "core/recorder.h"
#include "core/burn-data.h"
#include "media/stash.h"
#include "core/worker.h"

#define POLL_USEC (250 * 1000)
/* READ CD transfers of 24 sectors: 56 KiB, within every drive's transfer length. */
#define VERIFY_CHUNK_BLOCKS 24

typedef enum Stage {
        STAGE_WRITING,
        STAGE_VERIFYING,
        STAGE_DONE,
} Stage;

struct AudioRecording {
        Master *master;
        Recorder *recorder;
        Job *job;
        RecordOptions options;
        Stage stage;

        DriveAudioTrack *tracks;        /* paths owned by the master's Redbook, which is frozen */
        size_t n;
        unsigned gap;
        uint64_t *base;                 /* blocks (audio and gaps) before each track */
        uint64_t total_blocks;
        int32_t *starts;                /* the tracks' addresses on the written disc */
        size_t n_starts;
        size_t tracks_done;             /* as announced with TrackProgress */

        volatile bool cancel;
        _Atomic uint64_t blocks_done;
        int result;
        sd_bus_error error;
        bool closing_announced;
        sd_event_source *timer;
};

const char *audio_recording_job_path(const AudioRecording *r) {
        return r->job->path;
}

static AudioRecording *audio_recording_free(AudioRecording *r) {
        if (!r)
                return NULL;
        sd_event_source_disable_unref(r->timer);
        free(r->tracks);
        free(r->base);
        free(r->starts);
        sd_bus_error_free(&r->error);
        free(r);
        return NULL;
}

static double writing_share(const AudioRecording *r) {
        return r->options.verify && !r->options.simulate ? 0.7 : 1.0;
}

static void update_job(AudioRecording *r, double fifo) {
        uint64_t total = MAX(r->total_blocks, 1u), done = MIN(atomic_load(&r->blocks_done), total);
        double f = (double) done / (double) total;

        f = r->stage == STAGE_WRITING ? f * writing_share(r) : writing_share(r) + f * (1.0 - writing_share(r));
        job_set_progress(r->job, f, done * REDBOOK_BLOCK_SIZE, fifo);
}

static void audio_recording_ended(Master *m, void *userdata) {
        m->audio_recording = NULL;
        audio_recording_free(userdata);
}

static void audio_recording_finish(AudioRecording *r, uint32_t hr, const char *message) {
        BurnEndParams p = {
                .hr = hr,
                .message = message,
                .eject = r->options.eject,
                .simulate = r->options.simulate,
                .close_fd = -1,
        };

        r->stage = STAGE_DONE;
        sd_event_source_set_enabled(r->timer, SD_EVENT_OFF);
        master_end_burn(r->master, r->recorder, r->job, &p, audio_recording_ended, r);
}

/* A drive may refuse the last two sectors of a track written track-at-once as audio (they can
 * carry the run-out; libburn.h, burn_read_audio()). If the failed chunk holds them, read it
 * sector by sector and leave those two, if unreadable, out of the comparison. */
static int read_track_end(AudioRecording *r, size_t t, uint64_t first, size_t n, const uint8_t *want,
                          uint8_t *got) {
        uint64_t blocks = r->tracks[t].blocks;

        if (!r->options.tao || first + n + 2 < blocks)
                return -EIO;
        for (size_t k = 0; k < n; k++) {
                uint8_t *p = got + k * REDBOOK_BLOCK_SIZE;

                if (drive_read_audio(r->recorder->drive, r->starts[t] + (int32_t) (first + k), p, 1) >= 0)
                        continue;
                if (first + k + 2 < blocks)
                        return -EIO;
                memcpy(p, want + k * REDBOOK_BLOCK_SIZE, REDBOOK_BLOCK_SIZE);
        }
        return 0;
}

/* Worker: every track's sectors against its stash file. */
static void verify_run(void *userdata) {
        AudioRecording *r = userdata;
        size_t bytes = VERIFY_CHUNK_BLOCKS * REDBOOK_BLOCK_SIZE;
        _cleanup_free_ uint8_t *a = malloc(bytes), *b = malloc(bytes);
        uint64_t done = 0;

        if (!a || !b) {
                r->result = -ENOMEM;
                return;
        }
        for (size_t t = 0; t < r->n; t++) {
                _cleanup_close_ int fd = open(r->tracks[t].path, O_RDONLY | O_CLOEXEC);

                if (fd < 0) {
                        r->result = bus_error_hresult(&r->error, IMAPI_E_FILEACCESS,
                                                      "Cannot read track %zu in the stash for verification.", t + 1);
                        return;
                }
                for (uint64_t i = 0; i < r->tracks[t].blocks; i += VERIFY_CHUNK_BLOCKS) {
                        size_t n = (size_t) MIN((uint64_t) VERIFY_CHUNK_BLOCKS, r->tracks[t].blocks - i);
                        int32_t lba = r->starts[t] + (int32_t) i;

                        if (r->cancel) {
                                r->result = -ECANCELED;
                                return;
                        }
                        if (pread(fd, a, n * REDBOOK_BLOCK_SIZE, (off_t) (i * REDBOOK_BLOCK_SIZE)) !=
                            (ssize_t) (n * REDBOOK_BLOCK_SIZE)) {
                                r->result = bus_error_hresult(&r->error, IMAPI_E_FILEACCESS,
                                                              "Cannot read track %zu in the stash for verification.",
                                                              t + 1);
                                return;
                        }
                        if (drive_read_audio(r->recorder->drive, lba, b, n) < 0 &&
                            read_track_end(r, t, i, n, a, b) < 0) {
                                r->result = bus_error_hresult(&r->error, IMAPI_E_DISCINFO,
                                                              "Verification failed: sector %d of track %zu cannot be "
                                                              "read back.", lba, t + 1);
                                return;
                        }
                        if (memcmp(a, b, n * REDBOOK_BLOCK_SIZE) != 0) {
                                r->result = bus_error_hresult(&r->error, IMAPI_E_CANNOT_WRITE_TO_MEDIA,
                                                              "Verification failed: track %zu differs from what was "
                                                              "written near sector %d.", t + 1, lba);
                                return;
                        }
                        done += n;
                        atomic_store(&r->blocks_done, done);
                }
        }
        r->result = 0;
}

static void verify_done(void *userdata) {
        AudioRecording *r = userdata;

        if (r->result == -ECANCELED || r->cancel)
                audio_recording_finish(r, IMAPI_E_USERABORT, "Cancelled during verification.");
        else if (r->result < 0)
                audio_recording_finish(r, sd_bus_error_is_set(&r->error) ? hresult_from_bus_error(&r->error) :
                                       IMAPI_E_GENERIC, r->error.message);
        else
                audio_recording_finish(r, IMAPI_S_OK, NULL);
}

static void start_verify(AudioRecording *r) {
        _cleanup_free_ char *msg = NULL;
        int k;

        (void) drive_reassess(r->recorder->drive);
        k = drive_audio_track_starts(r->recorder->drive, &r->starts, &r->n_starts);
        if (k < 0 || r->n_starts != r->n) {
                if (asprintf(&msg, "Verification failed: the disc lists %zu tracks, %zu were written.",
                             k < 0 ? 0 : r->n_starts, r->n) < 0)
                        msg = NULL;
                audio_recording_finish(r, IMAPI_E_DISCINFO, msg);
                return;
        }
        r->stage = STAGE_VERIFYING;
        atomic_store(&r->blocks_done, 0);
        job_set_phase(r->job, JOB_PHASE_VERIFYING);
        k = worker_submit(r->master->daemon->worker, verify_run, verify_done, r);
        if (k < 0)
                audio_recording_finish(r, IMAPI_E_GENERIC, "Cannot start verification.");
}

static void announce_tracks(AudioRecording *r, size_t done) {
        /* IMAPI: TrackProgress(tracks completely burned, tracks) as each track starts or ends. */
        while (r->tracks_done < MIN(done, r->n)) {
                r->tracks_done++;
                master_emit_signal(r->master, "TrackProgress", "ii", (int32_t) r->tracks_done, (int32_t) r->n);
        }
}

static void announce_closing(AudioRecording *r) {
        if (r->closing_announced)
                return;
        r->closing_announced = true;
        job_set_phase(r->job, JOB_PHASE_CLOSING);
        /* Lead-in, TOC and lead-out of a CD: some seconds. */
        master_emit_signal(r->master, "ClosingDisc", "i", 5);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        AudioRecording *r = userdata;
        Master *m = r->master;

        if (r->stage == STAGE_WRITING) {
                DriveProgress p;
                bool active = drive_poll(r->recorder->drive, &p);

                if (p.sectors_total > 0 && p.track >= 0 && (size_t) p.track < r->n) {
                        announce_tracks(r, (size_t) p.track);
                        atomic_store(&r->blocks_done, MIN(r->base[p.track] + p.sectors_done, r->total_blocks));
                        master_emit_signal(m, "BlockProgress", "ii",
                                           (int32_t) MIN(atomic_load(&r->blocks_done), INT32_MAX),
                                           (int32_t) MIN(r->total_blocks, INT32_MAX));
                }
                if (p.closing && (size_t) p.track + 1 >= r->n)
                        announce_closing(r);
                update_job(r, p.fifo_fill);
                if (!active) {
                        _cleanup_free_ char *msg = NULL;
                        uint32_t hr = drive_operation_finish(r->recorder->drive, r->cancel, &msg);

                        if (IMAPI_HRESULT_FAILED(hr)) {
                                audio_recording_finish(r, hr, msg);
                                return 0;
                        }
                        announce_tracks(r, r->n);
                        master_emit_signal(m, "BlockProgress", "ii", (int32_t) MIN(r->total_blocks, INT32_MAX),
                                           (int32_t) MIN(r->total_blocks, INT32_MAX));
                        /* A fast drive closes the session between two polls; it was closed all
                         * the same, and IMAPI's clients expect the notification. */
                        announce_closing(r);
                        if (r->options.verify && !r->options.simulate)
                                start_verify(r);
                        else
                                audio_recording_finish(r, IMAPI_S_OK, NULL);
                        return 0;
                }
        } else if (r->stage == STAGE_VERIFYING)
                update_job(r, -1);

        (void) sd_event_source_set_time_relative(s, POLL_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

static void audio_recording_cancel(Job *j, void *userdata) {
        AudioRecording *r = userdata;

        r->cancel = true;
        if (r->stage == STAGE_WRITING)
                drive_cancel(r->recorder->drive);
}

static int make_layout(AudioRecording *r) {
        const Redbook *rb = &r->master->redbook;

        r->tracks = calloc(rb->n, sizeof(DriveAudioTrack));
        r->base = calloc(rb->n, sizeof(uint64_t));
        if (!r->tracks || !r->base)
                return -ENOMEM;
        r->n = rb->n;
        for (size_t i = 0; i < rb->n; i++) {
                r->tracks[i] = (DriveAudioTrack) {
                        .path = rb->tracks[i].stash_path,
                        .blocks = rb->tracks[i].blocks,
                };
                r->base[i] = r->total_blocks;
                r->total_blocks += rb->tracks[i].blocks + (i + 1 < rb->n ? r->gap : 0);
        }
        return 0;
}

int master_record_audio(Master *m, Client *c, sd_bus_message *call, const RecordOptions *o, const char **ret_job,
                        sd_bus_error *error) {
        Recorder *rec = m->recorder;
        DriveAudioOptions ao = {};
        _cleanup_free_ char *reason = NULL;
        SessionPlan plan;
        AudioRecording *r;
        unsigned x1;
        int k;

        if (m->redbook.track_open)
                return bus_error_hresult(error, IMAPI_E_TRACKOPEN,
                                         "Track %zu is still open; close it with CloseAudioTrack before burning.",
                                         m->redbook.n);
        if (m->redbook.n == 0)
                return bus_error_hresult(error, IMAPI_E_INVALIDIMAGE, "No audio track is staged on disc master %u.",
                                         m->id);

        k = recorder_prepare(rec, call, true, error);
        if (k <= 0)
                return k == 0 ? 1 : k;
        r = calloc(1, sizeof(AudioRecording));
        if (!r) {
                drive_release(rec->drive, false);
                return -ENOMEM;
        }
        r->master = m;
        r->recorder = rec;
        r->options = *o;
        r->gap = master_audio_gap(m);
        k = make_layout(r);
        if (k >= 0)
                k = master_plan_burn(m, o->replace, o->simulate, &plan, error);
        if (k >= 0 && r->total_blocks > plan.room)
                k = bus_error_hresult(error, IMAPI_E_DISCFULL,
                                      "The disc cannot hold the tracks (%llu blocks with gaps of %u, %u free).",
                                      (unsigned long long) r->total_blocks, r->gap, plan.room);
        if (k < 0)
                goto fail_release;

        k = job_new(m->daemon, o->simulate ? "simulate" : "burn", c, m->path, rec->path, &r->job);
        if (k < 0)
                goto fail_release;
        r->job->bytes = r->total_blocks * REDBOOK_BLOCK_SIZE;
        r->job->cancel = audio_recording_cancel;
        r->job->userdata = r;

        master_emit_signal(m, "PreparingBurn", "i", 1);
        ao.write.simulate = o->simulate;
        ao.write.multi = false;
        x1 = drive_profile_kbps_1x(rec->media.profile);
        if (o->write_speed_kbps > 0)
                ao.write.speed_kbps = o->write_speed_kbps;
        else if (o->write_speed > 0)
                ao.write.speed_kbps = (int) x1 * o->write_speed;
        else if (rec->write_speed > 0)
                ao.write.speed_kbps = (int) x1 * rec->write_speed;
        ao.write.underrun_proof = rec->enable_buf;
        ao.tao = o->tao;
        ao.gap = r->gap;
        k = sd_event_add_time_relative(m->daemon->event, &r->timer, CLOCK_MONOTONIC, POLL_USEC, 0, on_timer, r);
        if (k >= 0)
                k = drive_write_audio_start(rec->drive, r->tracks, r->n, &ao, &reason);
        if (k < 0) {
                job_free(r->job);
                k = bus_error_hresult(error, hresult_from_errno(k), "%s",
                                      reason ?: "The recorder refused to start writing.");
                goto fail_release;
        }

        rec->busy++;
        recorder_emit_changed(rec);
        /* Suspending or shutting down in the middle would ruin the disc. */
        (void) inhibitor_acquire(m->daemon, "Burning an audio CD");
        m->audio_recording = r;
        r->stage = STAGE_WRITING;
        job_set_phase(r->job, JOB_PHASE_WRITING);
        daemon_emit_properties_changed(m->daemon, m->path, IMAPI_DISC_MASTER_INTERFACE, "Job", NULL);
        master_emit_signal(m, "TrackProgress", "ii", 0, (int32_t) r->n);
        log_info("Job %u: %s of %zu audio tracks (%llu blocks, %s, gap %u) of disc master %u on %s started "
                 "by %s.", r->job->id, r->job->operation, r->n, (unsigned long long) r->total_blocks,
                 o->tao ? "TAO" : "SAO", r->gap, m->id, rec->id, c ? c->description : "?");
        *ret_job = r->job->path;
        return 0;

fail_release:
        drive_release(rec->drive, false);
        audio_recording_free(r);
        return k;
}

void master_abort_audio_recording(Master *m) {
        AudioRecording *r = m->audio_recording;

        if (!r)
                return;
        r->cancel = true;
        if (r->stage != STAGE_WRITING)
                return;         /* verifying in a worker: it sees the flag, and worker_free() waits */

        /* The loop is gone and libburn's thread still writes: stop it and wait here, so that
         * neither the drive nor the library is torn down under it. */
        drive_cancel_sync(r->recorder->drive);
        audio_recording_finish(r, IMAPI_E_USERABORT, "imapid is stopping.");
}
