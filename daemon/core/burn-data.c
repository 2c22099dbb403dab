/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A burn: build the image in the stash (worker), write it (libburn's thread, polled from a
 * timer), on random-access media write the head that makes readers find it (worker), read back
 * and compare (worker), then report. Whatever happens, the drive is released, the image file
 * removed and the stash reservation returned.
 *
 * On random-access media the new session is written after everything the old file system uses,
 * and the head at block 0 that points readers at the new tree is written last: a burn stopped
 * at any point before (cancel, a vanished drive, imapid killed) leaves the old file system as it
 * was. Only a replace writes over it, and invalidates the old head first, so that a replace cut
 * short leaves a disc that reads as blank rather than a file system with missing data.
 */

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <imapi/imapi.h>

#include "core/burn-audio.h"
#include "core/burn-end.h"
#include "core/config.h"
#include "media/drive.h"
#include "hresult.h"
#include "bus/inhibit.h"
#include "media/iso.h"
#include "media/isohead.h"
#include "core/job.h"
#include "log.h"
#include "macro.h"
#include "core/recorder.h"
#include "core/burn-data.h"
#include "media/stash.h"
#include "core/worker.h"

#define POLL_USEC (250 * 1000)
#define VERIFY_CHUNK_BLOCKS 32

typedef enum Stage {
        STAGE_BUILDING,
        STAGE_WRITING,
        STAGE_CLOSING,          /* random-access media: the head, and an image file's length */
        STAGE_VERIFYING,
        STAGE_DONE,
} Stage;

struct Recording {
        Master *master;
        Recorder *recorder;
        Job *job;
        RecordOptions options;
        Stage stage;

        IsoSource source;               /* the master's staging, read in place by the worker */
        IsoOptions iso;
        char *volume_name;
        SessionPlan plan;               /* what is written where (session-plan.h) */
        MediaInfo media;                /* the disc as RecordDisc found it */
        uint8_t *head;                  /* random-access media: written to block 0 last */
        IsoImport import;               /* what the new tree took from the previous session */
        bool too_big;                   /* the built image does not fit the disc */
        uint64_t image_blocks;
        uint64_t stage_blocks;          /* the work of the current worker stage */
        char *image_path;
        int image_fd;
        uint64_t reserved;

        volatile bool cancel;
        _Atomic uint64_t blocks_done;   /* of the current worker stage */
        int result;
        uint32_t fail_hr;               /* why a worker stage failed, with fail_text */
        char *fail_text;
        bool closing_announced;
        sd_event_source *timer;
};

static double stage_base(const Recording *r, Stage s) {
        /* Shares of the whole job: building 15 %, writing the rest or 70 % with verification;
         * the head is a moment's work. */
        double build = 0.15, write = r->options.verify && !r->options.simulate ? 0.70 : 0.85;

        return s == STAGE_BUILDING ? 0 : s == STAGE_WRITING ? build : s == STAGE_DONE ? 1 : build + write;
}

static double stage_share(const Recording *r, Stage s) {
        return stage_base(r, (Stage) (s + 1)) - stage_base(r, s);
}

static void recording_finish(Recording *r, uint32_t hr, const char *message);

/* A worker stage failed: the HRESULT and a sentence, reported when the stage is done. Returns
 * the negative errno the HRESULT travels as. */
_printf_(3, 4) static int stage_fail(Recording *r, uint32_t hr, const char *fmt, ...) {
        va_list ap;

        free(r->fail_text);
        va_start(ap, fmt);
        if (vasprintf(&r->fail_text, fmt, ap) < 0)
                r->fail_text = NULL;
        va_end(ap);
        r->fail_hr = hr;
        return hresult_to_errno(hr);
}

static int read_block_from_drive(uint32_t lba, uint8_t buf[2048], void *userdata) {
        Recording *r = userdata;

        return drive_read_blocks(r->recorder->drive, lba, buf, 1);
}

static bool extent_on_disc(uint32_t start, uint32_t blocks, void *userdata) {
        Recording *r = userdata;

        return media_range_readable(&r->media, start, blocks);
}

static void build_progress(uint64_t done, uint64_t total, void *userdata) {
        Recording *r = userdata;

        atomic_store(&r->blocks_done, done);
}

/* Worker: the image. */
static void build_run(void *userdata) {
        Recording *r = userdata;
        uint64_t blocks = 0;

        /* Grown in place: libisofs keeps the system area of the head and puts the new
         * descriptors after it. */
        if (r->head && r->plan.mode == SESSION_APPEND && drive_read_head(r->recorder->drive, r->head) < 0) {
                r->result = stage_fail(r, IMAPI_E_DISCINFO, "The first blocks of the disc in recorder %s cannot be "
                                       "read.", r->recorder->id);
                return;
        }
        r->result = iso_image_write(&r->source, &r->iso, r->image_fd, &r->cancel, build_progress, r, &blocks,
                                    &r->import);
        if (r->result >= 0)
                r->image_blocks = blocks;
        /* The image has its exact size now; it must fit what the disc has free. */
        r->too_big = r->result >= 0 && r->image_blocks > r->plan.room;
        /* On disk before the laser starts, and here rather than in a close() on the event
         * loop (ext4 flushes a truncated file when it is closed). */
        if (r->result >= 0 && fdatasync(r->image_fd) < 0)
                r->result = -errno;
        /* libisofs' tree (about 100 MiB for 100,000 files) was allocated and freed in this
         * thread's malloc arena: give it back to the system now rather than keep it until the
         * next burn. Trimming this arena does not hold up the event loop's. */
        (void) malloc_trim(0);
        /* The old file system stops being one right before the new one is written over it. */
        if (r->result >= 0 && !r->too_big && !r->cancel && r->plan.mode == SESSION_REPLACE &&
            !r->options.simulate && drive_invalidate_head(r->recorder->drive) < 0)
                r->result = stage_fail(r, IMAPI_E_CANNOT_WRITE_TO_MEDIA, "Cannot write over the first blocks of "
                                       "the disc in recorder %s.", r->recorder->id);
}

/* Worker: what makes the session the one readers find, on random-access media. */
static void closing_run(void *userdata) {
        Recording *r = userdata;
        Drive *drive = r->recorder->drive;

        r->result = 0;
        if (r->head && drive_write_head(drive, r->head) < 0) {
                r->result = stage_fail(r, IMAPI_E_CANNOT_WRITE_TO_MEDIA, "The new session is on the disc, but its "
                                       "first blocks, which lead readers to it, could not be written; the disc "
                                       "still shows what it held before.");
                return;
        }
        /* A new file system from the start of an image file: none of an old one's tail stays. */
        if (drive_is_file(drive) && r->plan.mode != SESSION_APPEND)
                (void) drive_truncate_file(drive, r->plan.start_lba + r->image_blocks);
}

static uint64_t verify_blocks(const Recording *r) {
        uint64_t n = r->image_blocks + (r->head ? ISOHEAD_BLOCKS : 0);

        for (size_t i = 0; i < r->import.n_extents; i++)
                n += r->import.extents[i].blocks;
        return n;
}

/* Reads n blocks at lba and compares them with `want` (NULL: only reading counts). 0, or the
 * first block that differs (> 0) or cannot be read (< 0), as -(lba + 1) or lba + 1. */
static int64_t verify_chunk(Recording *r, uint32_t lba, size_t n, const uint8_t *want, uint8_t *buf) {
        if (drive_read_blocks(r->recorder->drive, lba, buf, n) < 0) {
                /* Which block: one at a time, once, after the fast path failed. */
                for (size_t k = 0; k < n; k++)
                        if (drive_read_blocks(r->recorder->drive, lba + (uint32_t) k, buf, 1) < 0)
                                return -(int64_t) (lba + k + 1);
                return -(int64_t) (lba + 1);
        }
        if (want)
                for (size_t k = 0; k < n; k++)
                        if (memcmp(want + k * 2048, buf + k * 2048, 2048) != 0)
                                return (int64_t) (lba + k + 1);
        return 0;
}

/* Worker: read back every block that a reader of the new tree follows: the new session (equal
 * to the image), the head (equal to what was written), and the file data of earlier sessions
 * that the tree refers to (readable). */
static void verify_run(void *userdata) {
        Recording *r = userdata;
        _cleanup_free_ uint8_t *a = malloc(VERIFY_CHUNK_BLOCKS * 2048), *b = malloc(VERIFY_CHUNK_BLOCKS * 2048);
        uint64_t done = 0;
        int64_t bad;

        if (!a || !b) {
                r->result = -ENOMEM;
                return;
        }
        for (uint64_t i = 0; i < r->image_blocks; i += VERIFY_CHUNK_BLOCKS) {
                size_t n = (size_t) MIN((uint64_t) VERIFY_CHUNK_BLOCKS, r->image_blocks - i);
                ssize_t k;

                if (r->cancel) {
                        r->result = -ECANCELED;
                        return;
                }
                k = pread(r->image_fd, a, n * 2048, (off_t) (i * 2048));
                if (k != (ssize_t) (n * 2048)) {
                        r->result = stage_fail(r, IMAPI_E_FILEACCESS, "Cannot read the image in the stash for "
                                               "verification.");
                        return;
                }
                bad = verify_chunk(r, r->plan.start_lba + (uint32_t) i, n, a, b);
                if (bad < 0) {
                        r->result = stage_fail(r, IMAPI_E_DISCINFO, "Verification failed: block %lld of the new "
                                               "session cannot be read back.", (long long) -bad - 1);
                        return;
                }
                if (bad > 0) {
                        r->result = stage_fail(r, IMAPI_E_CANNOT_WRITE_TO_MEDIA, "Verification failed: block %lld "
                                               "reads back differently from what was written.", (long long) bad - 1);
                        return;
                }
                done += n;
                atomic_store(&r->blocks_done, done);
        }
        if (r->head) {
                _cleanup_free_ uint8_t *h = malloc(DRIVE_HEAD_BYTES);

                if (!h) {
                        r->result = -ENOMEM;
                        return;
                }
                bad = verify_chunk(r, 0, ISOHEAD_BLOCKS, r->head, h);
                if (bad != 0) {
                        r->result = stage_fail(r, IMAPI_E_CANNOT_WRITE_TO_MEDIA, "Verification failed: block %lld, "
                                               "which leads readers to the new session, %s.",
                                               (long long) (bad < 0 ? -bad : bad) - 1,
                                               bad < 0 ? "cannot be read back" : "reads back differently");
                        return;
                }
                done += ISOHEAD_BLOCKS;
                atomic_store(&r->blocks_done, done);
        }
        for (size_t e = 0; e < r->import.n_extents; e++) {
                const IsoExtent *x = &r->import.extents[e];

                for (uint32_t i = 0; i < x->blocks; i += VERIFY_CHUNK_BLOCKS) {
                        size_t n = MIN((size_t) VERIFY_CHUNK_BLOCKS, (size_t) (x->blocks - i));

                        if (r->cancel) {
                                r->result = -ECANCELED;
                                return;
                        }
                        bad = verify_chunk(r, x->start + i, n, NULL, b);
                        if (bad < 0) {
                                r->result = stage_fail(r, IMAPI_E_DISCINFO, "Verification failed: block %lld, which "
                                                       "holds file data of an earlier session that the new file "
                                                       "system refers to, cannot be read.", (long long) -bad - 1);
                                return;
                        }
                        done += n;
                        atomic_store(&r->blocks_done, done);
                }
        }
        r->result = 0;
}

static void recording_free(Recording *r) {
        if (!r)
                return;
        sd_event_source_disable_unref(r->timer);
        free(r->volume_name);
        safe_close(r->image_fd);
        free(r->image_path);
        free(r->head);
        iso_import_done(&r->import);
        free(r->fail_text);
        free(r);
}

static void update_job_from_blocks(Recording *r, double buffer_fill) {
        uint64_t total = MAX(r->stage_blocks, 1u), done = atomic_load(&r->blocks_done);
        double f = stage_base(r, r->stage) + stage_share(r, r->stage) * (double) MIN(done, total) / (double) total;

        job_set_progress(r->job, f, done * 2048, buffer_fill);
}

/* A worker stage for the loop: the stage, its size and its phase. */
static int start_stage(Recording *r, Stage stage, uint64_t blocks, JobPhase phase, void (*run)(void *),
                       void (*done)(void *)) {
        r->stage = stage;
        r->stage_blocks = blocks;
        atomic_store(&r->blocks_done, 0);
        job_set_phase(r->job, phase);
        return worker_submit(r->master->daemon->worker, run, done, r);
}

static void verify_done(void *userdata) {
        Recording *r = userdata;

        if (r->result == -ECANCELED || r->cancel)
                recording_finish(r, IMAPI_E_USERABORT, "Cancelled during verification.");
        else if (r->result < 0)
                recording_finish(r, r->fail_text ? r->fail_hr : IMAPI_E_GENERIC, r->fail_text);
        else
                recording_finish(r, IMAPI_S_OK, NULL);
}

/* After the write (and the head): verification, or the end. */
static void written(Recording *r) {
        if (!r->options.verify || r->options.simulate) {
                recording_finish(r, IMAPI_S_OK, NULL);
                return;
        }
        (void) drive_reassess(r->recorder->drive);
        if (start_stage(r, STAGE_VERIFYING, verify_blocks(r), JOB_PHASE_VERIFYING, verify_run, verify_done) < 0)
                recording_finish(r, IMAPI_E_GENERIC, "Cannot start verification.");
}

static void closing_done(void *userdata) {
        Recording *r = userdata;

        if (r->result < 0)
                recording_finish(r, r->fail_text ? r->fail_hr : IMAPI_E_GENERIC, r->fail_text);
        else
                written(r);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Recording *r = userdata;
        Master *m = r->master;

        if (r->stage == STAGE_WRITING) {
                DriveProgress p;
                bool active = drive_poll(r->recorder->drive, &p);

                if (p.sectors_total > 0) {
                        atomic_store(&r->blocks_done, MIN(p.sectors_done, r->image_blocks));
                        master_emit_signal(m, "BlockProgress", "ii", (int32_t) MIN(p.sectors_done, INT32_MAX),
                                           (int32_t) MIN(r->image_blocks, INT32_MAX));
                }
                if (p.closing && !r->closing_announced) {
                        r->closing_announced = true;
                        job_set_phase(r->job, JOB_PHASE_CLOSING);
                        master_emit_signal(m, "ClosingDisc", "i", 5);
                }
                update_job_from_blocks(r, p.fifo_fill);
                if (!active) {
                        _cleanup_free_ char *msg = NULL;
                        uint32_t hr = drive_operation_finish(r->recorder->drive, r->cancel, &msg);

                        if (IMAPI_HRESULT_FAILED(hr)) {
                                recording_finish(r, hr, msg);
                                return 0;
                        }
                        master_emit_signal(m, "BlockProgress", "ii", (int32_t) MIN(r->image_blocks, INT32_MAX),
                                           (int32_t) MIN(r->image_blocks, INT32_MAX));
                        /* A simulation wrote nothing that readers could be led to. */
                        if (!r->options.simulate &&
                            (r->head || (drive_is_file(r->recorder->drive) && r->plan.mode != SESSION_APPEND))) {
                                if (!r->closing_announced) {
                                        r->closing_announced = true;
                                        master_emit_signal(m, "ClosingDisc", "i", 1);
                                }
                                if (start_stage(r, STAGE_CLOSING, ISOHEAD_BLOCKS, JOB_PHASE_CLOSING, closing_run,
                                                closing_done) < 0)
                                        recording_finish(r, IMAPI_E_GENERIC, "Cannot finish the session.");
                                return 0;
                        }
                        written(r);
                        return 0;
                }
        } else if (IN_SET(r->stage, STAGE_BUILDING, STAGE_VERIFYING))
                update_job_from_blocks(r, -1);

        (void) sd_event_source_set_time_relative(s, POLL_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

static void build_done(void *userdata) {
        Recording *r = userdata;
        DriveWriteOptions wo = { .start_lba = -1 };
        _cleanup_free_ char *reason = NULL;
        Recorder *rec = r->recorder;
        unsigned x1;
        int k;

        if (r->cancel || r->result == -ECANCELED) {
                recording_finish(r, IMAPI_E_USERABORT, "Cancelled while the image was being built.");
                return;
        }
        if (r->result < 0 && r->fail_text) {
                recording_finish(r, r->fail_hr, r->fail_text);
                return;
        }
        if (r->result < 0) {
                uint32_t hr = r->result == -ENOSPC ? IMAPI_E_NOTENOUGHDISKFORSTASH :
                              r->result == -EIO ? IMAPI_E_FILEACCESS : hresult_from_errno(r->result);
                _cleanup_free_ char *msg = NULL;

                if (asprintf(&msg, "Building the image failed: %s.", strerror(-r->result)) < 0)
                        msg = NULL;
                recording_finish(r, hr, msg);
                return;
        }
        if (r->too_big) {
                _cleanup_free_ char *msg = NULL;

                if (asprintf(&msg, "The disc cannot hold the image (needs %llu MiB, %llu MiB free).",
                             (unsigned long long) DIV_ROUND_UP(r->image_blocks * 2048, 1024 * 1024),
                             (unsigned long long) ((uint64_t) r->plan.room * 2048 / (1024 * 1024))) < 0)
                        msg = NULL;
                recording_finish(r, IMAPI_E_DISCFULL, msg);
                return;
        }

        r->job->bytes = r->image_blocks * 2048;
        daemon_emit_properties_changed(r->master->daemon, r->job->path, IMAPI_JOB_INTERFACE, "Bytes", NULL);

        wo.simulate = r->options.simulate;
        /* Leave the disc open for another session, as IMAPI did, where the medium has sessions;
         * random-access media are grown instead. */
        wo.multi = !r->options.close_disc && !r->plan.random_access;
        if (r->plan.random_access)
                wo.start_lba = r->plan.start_lba;
        x1 = drive_profile_kbps_1x(rec->media.profile);
        if (r->options.write_speed_kbps > 0)
                wo.speed_kbps = r->options.write_speed_kbps;
        else if (r->options.write_speed > 0)
                wo.speed_kbps = (int) x1 * r->options.write_speed;
        else if (rec->write_speed > 0)
                wo.speed_kbps = (int) x1 * rec->write_speed;
        wo.underrun_proof = rec->enable_buf;

        k = drive_write_start(rec->drive, r->image_path, &wo, &reason);
        if (k < 0) {
                recording_finish(r, hresult_from_errno(k), reason ?: "The recorder refused to start writing.");
                return;
        }
        r->stage = STAGE_WRITING;
        r->stage_blocks = r->image_blocks;
        atomic_store(&r->blocks_done, 0);
        job_set_phase(r->job, JOB_PHASE_WRITING);
        log_info("Job %u: writing %llu blocks to %s at block %u%s.", r->job->id, (unsigned long long) r->image_blocks,
                 rec->id, r->plan.start_lba, wo.simulate ? " (simulation)" : "");
}

static void recording_cancel(Job *j, void *userdata) {
        Recording *r = userdata;

        r->cancel = true;
        if (r->stage == STAGE_WRITING)
                drive_cancel(r->recorder->drive);
}

static void recording_ended(Master *m, void *userdata) {
        m->recording = NULL;
        recording_free(userdata);
}

/* What a successful burn has to tell: the files of the previous session that it left out. */
static char *left_out_note(const Recording *r) {
        const IsoImport *imp = &r->import;
        _cleanup_free_ char *names = NULL;
        char *s = NULL;

        if (imp->n_left_out == 0)
                return NULL;
        for (size_t i = 0; i < imp->n_left_out_names; i++) {
                char *n = NULL;

                if (asprintf(&n, "%s%s\"%s\"", names ?: "", names ? ", " : "", imp->left_out[i]) < 0)
                        return NULL;
                free(names);
                names = n;
        }
        if (asprintf(&s, "Written; %zu file%s of the previous session %s left out because the disc does not hold "
                     "%s whole: %s%s.", imp->n_left_out, imp->n_left_out == 1 ? "" : "s",
                     imp->n_left_out == 1 ? "was" : "were", imp->n_left_out == 1 ? "it" : "them", names ?: "",
                     imp->n_left_out > imp->n_left_out_names ? " and more" : "") < 0)
                return NULL;
        return s;
}

static void recording_finish(Recording *r, uint32_t hr, const char *message) {
        _cleanup_free_ char *note = IMAPI_HRESULT_SUCCEEDED(hr) ? left_out_note(r) : NULL;
        BurnEndParams p = {
                .hr = hr,
                .message = note ?: message,
                .eject = r->options.eject,
                .simulate = r->options.simulate,
                .remove_path = TAKE_PTR(r->image_path),
                .close_fd = TAKE_FD(r->image_fd),
                .reserved = r->reserved,
        };

        r->stage = STAGE_DONE;
        r->reserved = 0;
        sd_event_source_set_enabled(r->timer, SD_EVENT_OFF);
        master_end_burn(r->master, r->recorder, r->job, &p, recording_ended, r);
}

/* The image's entries are the staging's own: a master that records changes no staging until the
 * job has ended, so the worker may read it. */
static void source_get(size_t i, IsoEntry *ret, void *userdata) {
        const Recording *r = userdata;
        const StagedEntry *e = &r->master->staging.entries[i];

        *ret = (IsoEntry) {
                .image_path = e->image_path,
                .is_dir = e->copy == 0,
                .size = e->size,
                .mode = e->mode,
                .mtime_usec = e->mtime_usec,
        };
}

static int source_open(size_t i, void *userdata) {
        const Recording *r = userdata;

        return stash_open_copy(r->master->stash, r->master->staging.entries[i].copy);
}

int master_record_disc(Master *m, Client *c, sd_bus_message *call, const RecordOptions *o, const char **ret_job,
                       sd_bus_error *error) {
        Recording *r = NULL;
        Recorder *rec;
        uint64_t estimate = 0;
        int k;

        k = master_check_opened(m, error);
        if (k < 0)
                return k;
        if (m->format == MASTER_FORMAT_NONE)
                return bus_error_hresult(error, IMAPI_E_NOACTIVEFORMAT, "Disc master %u has no active format.", m->id);
        rec = m->recorder;
        if (!rec)
                return bus_error_hresult(error, IMAPI_E_NOACTIVERECORDER, "Disc master %u has no active recorder.", m->id);
        if (m->recording || m->audio_recording)
                return bus_error_hresult(error, IMAPI_E_DEVICE_NOTACCESSIBLE, "Disc master %u is already burning.", m->id);
        if (m->adding || m->audio_adding)
                return bus_error_hresult(error, IMAPI_E_GENERIC, "Disc master %u is still staging data.", m->id);
        if (!rec->present)
                return bus_error_hresult(error, IMAPI_E_DEVICE_NOTPRESENT, "Recorder %s has been removed.", rec->id);
        if (rec->owner)
                return bus_error_hresult(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                         "Recorder %s is held through OpenExclusive by %s; close it before burning.",
                                         rec->id, rec->owner->description);
        if (rec->busy > 0)
                return bus_error_hresult(error, IMAPI_E_DEVICE_NOTACCESSIBLE, "Recorder %s is busy with another job.",
                                         rec->id);
        if (m->format == MASTER_FORMAT_REDBOOK)
                return master_record_audio(m, c, call, o, ret_job, error);
        if (m->format != MASTER_FORMAT_JOLIET || staging_count(&m->staging) == 0)
                return bus_error_hresult(error, IMAPI_E_INVALIDIMAGE, "Nothing is staged on disc master %u.", m->id);

        k = recorder_prepare(rec, call, true, error);
        if (k <= 0)
                return k == 0 ? 1 : k;
        r = calloc(1, sizeof(Recording));
        if (!r) {
                drive_release(rec->drive, false);
                return -ENOMEM;
        }
        r->image_fd = -1;
        r->master = m;
        r->recorder = rec;
        r->options = *o;

        k = master_plan_burn(m, o->replace, o->simulate, &r->plan, error);
        if (k < 0)
                goto fail_release;
        r->media = rec->media;
        if (r->plan.random_access) {
                r->head = calloc(1, DRIVE_HEAD_BYTES);
                if (!r->head) {
                        k = -ENOMEM;
                        goto fail_release;
                }
        }

        iso_options_init(&r->iso);
        r->iso.head = r->head;
        /* A copy: the worker reads it while SetJolietProperties may replace the master's. */
        r->volume_name = strdup(m->volume_name);
        if (!r->volume_name) {
                k = -ENOMEM;
                goto fail_release;
        }
        r->iso.volume_id = r->volume_name;
        r->iso.iso_level = o->iso_level > 0 ? o->iso_level : m->staging.largest_file >= UINT64_C(0xFFFFF800) ? 3 : 2;
        if (r->iso.iso_level < 3 && m->staging.largest_file >= UINT64_C(0xFFFFF800)) {
                k = bus_error_hresult(error, IMAPI_E_INVALIDARG,
                                      "A staged file is 4 GiB or larger; it needs ISO level 3, not %d.", o->iso_level);
                goto fail_release;
        }
        r->iso.next_lba = r->plan.start_lba;
        if (r->plan.mode == SESSION_APPEND) {
                r->iso.read_block = read_block_from_drive;
                r->iso.extent_readable = extent_on_disc;
                r->iso.read_userdata = r;
                r->iso.import_lba = r->plan.import_lba;
        }
        r->source = (IsoSource) {
                .n = staging_count(&m->staging),
                .get = source_get,
                .open = source_open,
                .userdata = r,
        };
        /* An upper bound from the staging bookkeeping: laying the image out with libisofs would
         * take a second for 100,000 files, on the event loop. The image builder gives the exact
         * size, checked against the disc once it is built. */
        estimate = staging_estimate_blocks(&m->staging, NULL, 0);
        r->image_blocks = estimate;
        if (estimate > r->plan.room) {
                k = bus_error_hresult(error, IMAPI_E_DISCFULL, "The disc cannot hold the image (needs %llu MiB, %llu MiB free).",
                                      (unsigned long long) DIV_ROUND_UP(estimate * 2048, 1024 * 1024),
                                      (unsigned long long) ((uint64_t) r->plan.room * 2048 / (1024 * 1024)));
                goto fail_release;
        }
        /* The image is written sparse: it costs what the staged data costs, plus its
         * directories. */
        r->reserved = m->staging.cost + (estimate > m->staging.data_blocks ? (estimate - m->staging.data_blocks) * 2048 : 0);
        k = stash_reserve(m->stash, r->reserved, error);
        if (k < 0) {
                r->reserved = 0;
                goto fail_release;
        }
        k = stash_create_file(m->stash, "image.iso", &r->image_fd, &r->image_path);
        if (k < 0) {
                k = bus_error_hresult(error, IMAPI_E_FILEACCESS, "Cannot create the image in the stash: %s.", strerror(-k));
                goto fail_unreserve;
        }

        k = job_new(m->daemon, o->simulate ? "simulate" : "burn", c, m->path, rec->path, &r->job);
        if (k < 0)
                goto fail_file;
        r->job->bytes = estimate * 2048;
        r->job->cancel = recording_cancel;
        r->job->userdata = r;

        /* Nothing is staged until the job has ended, and the image build is when memory peaks. */
        staging_drop_index(&m->staging);
        k = sd_event_add_time_relative(m->daemon->event, &r->timer, CLOCK_MONOTONIC, POLL_USEC, 0, on_timer, r);
        if (k >= 0)
                k = worker_submit(m->daemon->worker, build_run, build_done, r);
        if (k < 0) {
                job_free(r->job);
                goto fail_file;
        }

        rec->busy++;
        recorder_emit_changed(rec);
        /* Suspending or shutting down in the middle would ruin the disc. */
        (void) inhibitor_acquire(m->daemon, "Burning a disc");
        m->recording = r;
        daemon_emit_properties_changed(m->daemon, m->path, IMAPI_DISC_MASTER_INTERFACE, "Job", NULL);
        /* A rough guess at the image build: the stash disk at 100 MB/s. */
        master_emit_signal(m, "PreparingBurn", "i", (int32_t) MIN(estimate * 2048 / (100 * 1000 * 1000) + 1, INT32_MAX));
        job_log(r->job, LOG_INFO, rec->id, 0, "%s of disc master %u on %s started by %s (%llu blocks, %s at block %u).",
                r->job->operation, m->id, rec->id, c ? c->description : "?", (unsigned long long) estimate,
                session_mode_to_string(r->plan.mode), r->plan.start_lba);
        *ret_job = r->job->path;
        return 0;

fail_file:
        (void) stash_remove_file(m->stash, r->image_path);
fail_unreserve:
        stash_release(m->stash, r->reserved);
fail_release:
        drive_release(rec->drive, false);
        recording_free(r);
        return k;
}

const char *master_recording_job_path(const Master *m) {
        return m->recording ? m->recording->job->path : audio_recording_job_path(m->audio_recording);
}

void master_abort_recording(Master *m) {
        Recording *r = m->recording;

        if (!r)
                return;
        r->cancel = true;
        if (r->stage != STAGE_WRITING)
                return;         /* a worker stage: it sees the flag, and worker_free() waits */

        /* The loop is gone and libburn's thread still writes: stop it and wait here, so that
         * neither the drive nor the library is torn down under it. */
        drive_cancel_sync(r->recorder->drive);
        recording_finish(r, IMAPI_E_USERABORT, "imapid is stopping.");
}
