/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A burn: build the image in the stash (worker), write it (libburn's thread, polled from a
 * timer), read it back and compare (worker), then report. Whatever happens, the drive is
 * released, the image file removed and the stash reservation returned.
 */

#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <imapi/imapi.h>

#include "audio-recording.h"
#include "burn-end.h"
#include "config.h"
#include "drive.h"
#include "hresult.h"
#include "inhibit.h"
#include "iso.h"
#include "job.h"
#include "log.h"
#include "macro.h"
#include "recorder.h"
#include "recording.h"
#include "stash.h"
#include "worker.h"

#define POLL_USEC (250 * 1000)
#define VERIFY_CHUNK_BLOCKS 32

typedef enum Stage {
        STAGE_BUILDING,
        STAGE_WRITING,
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
        uint32_t start_lba;             /* where the new session starts on the disc */
        uint64_t image_blocks;
        char *image_path;
        int image_fd;
        uint64_t reserved;

        volatile bool cancel;
        _Atomic uint64_t blocks_done;   /* of the current worker stage */
        int result;
        sd_bus_error error;
        bool closing_announced;
        sd_event_source *timer;
};

static double stage_base(const Recording *r, Stage s) {
        /* Shares of the whole job: building 15 %, writing the rest or 70 % with verification. */
        double build = 0.15, write = r->options.verify && !r->options.simulate ? 0.70 : 0.85;

        return s == STAGE_BUILDING ? 0 : s == STAGE_WRITING ? build : build + write;
}

static double stage_share(const Recording *r, Stage s) {
        return stage_base(r, (Stage) (s + 1)) - stage_base(r, s);
}

static void recording_finish(Recording *r, uint32_t hr, const char *message);

static int read_block_from_drive(uint32_t lba, uint8_t buf[2048], void *userdata) {
        Recording *r = userdata;

        return drive_read_blocks(r->recorder->drive, lba, buf, 1);
}

static void build_progress(uint64_t done, uint64_t total, void *userdata) {
        Recording *r = userdata;

        atomic_store(&r->blocks_done, done);
}

/* Worker: the image. */
static void build_run(void *userdata) {
        Recording *r = userdata;
        uint64_t blocks = 0;

        r->result = iso_image_write(&r->source, &r->iso, r->image_fd, &r->cancel, build_progress, r, &blocks);
        if (r->result >= 0)
                r->image_blocks = blocks;
        /* On disk before the laser starts, and here rather than in a close() on the event
         * loop (ext4 flushes a truncated file when it is closed). */
        if (r->result >= 0 && fdatasync(r->image_fd) < 0)
                r->result = -errno;
        /* libisofs' tree (about 100 MiB for 100,000 files) was allocated and freed in this
         * thread's malloc arena: give it back to the system now rather than keep it until the
         * next burn. Trimming this arena does not hold up the event loop's. */
        (void) malloc_trim(0);
}

/* Worker: read back and compare. */
static void verify_run(void *userdata) {
        Recording *r = userdata;
        _cleanup_free_ uint8_t *a = malloc(VERIFY_CHUNK_BLOCKS * 2048), *b = malloc(VERIFY_CHUNK_BLOCKS * 2048);

        if (!a || !b) {
                r->result = -ENOMEM;
                return;
        }
        for (uint64_t i = 0; i < r->image_blocks; i += VERIFY_CHUNK_BLOCKS) {
                size_t n = (size_t) MIN((uint64_t) VERIFY_CHUNK_BLOCKS, r->image_blocks - i);
                ssize_t k;
                int e;

                if (r->cancel) {
                        r->result = -ECANCELED;
                        return;
                }
                k = pread(r->image_fd, a, n * 2048, (off_t) (i * 2048));
                if (k != (ssize_t) (n * 2048)) {
                        r->result = bus_error_hresult(&r->error, IMAPI_E_FILEACCESS,
                                                      "Cannot read the image in the stash for verification.");
                        return;
                }
                e = drive_read_blocks(r->recorder->drive, r->start_lba + (uint32_t) i, b, n);
                if (e < 0) {
                        r->result = bus_error_hresult(&r->error, IMAPI_E_DISCINFO,
                                                      "Verification failed: block %llu of the new session cannot "
                                                      "be read back.", (unsigned long long) (r->start_lba + i));
                        return;
                }
                if (memcmp(a, b, n * 2048) != 0) {
                        r->result = bus_error_hresult(&r->error, IMAPI_E_CANNOT_WRITE_TO_MEDIA,
                                                      "Verification failed: block %llu reads back differently "
                                                      "from what was written.", (unsigned long long) (r->start_lba + i));
                        return;
                }
                atomic_store(&r->blocks_done, i + n);
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
        sd_bus_error_free(&r->error);
        free(r);
}

static void update_job_from_blocks(Recording *r, double buffer_fill) {
        uint64_t total = MAX(r->image_blocks, 1u), done = atomic_load(&r->blocks_done);
        double f = stage_base(r, r->stage) + stage_share(r, r->stage) * (double) MIN(done, total) / (double) total;

        job_set_progress(r->job, f, done * 2048, buffer_fill);
}

static int start_verify(Recording *r);

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
                        if (r->options.verify && !r->options.simulate) {
                                if (start_verify(r) < 0)
                                        recording_finish(r, IMAPI_E_GENERIC, "Cannot start verification.");
                                return 0;
                        }
                        recording_finish(r, IMAPI_S_OK, NULL);
                        return 0;
                }
        } else if (IN_SET(r->stage, STAGE_BUILDING, STAGE_VERIFYING))
                update_job_from_blocks(r, -1);

        (void) sd_event_source_set_time_relative(s, POLL_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

static void verify_done(void *userdata) {
        Recording *r = userdata;

        if (r->result == -ECANCELED || r->cancel)
                recording_finish(r, IMAPI_E_USERABORT, "Cancelled during verification.");
        else if (r->result < 0)
                recording_finish(r, sd_bus_error_is_set(&r->error) ? hresult_from_bus_error(&r->error) : IMAPI_E_GENERIC,
                                 r->error.message);
        else
                recording_finish(r, IMAPI_S_OK, NULL);
}

static int start_verify(Recording *r) {
        int k;

        (void) drive_reassess(r->recorder->drive);
        r->stage = STAGE_VERIFYING;
        atomic_store(&r->blocks_done, 0);
        job_set_phase(r->job, JOB_PHASE_VERIFYING);
        k = worker_submit(r->master->daemon->worker, verify_run, verify_done, r);
        if (k < 0)
                return k;
        return 0;
}

static void build_done(void *userdata) {
        Recording *r = userdata;
        DriveWriteOptions wo = {};
        _cleanup_free_ char *reason = NULL;
        Recorder *rec = r->recorder;
        unsigned x1;
        int k;

        if (r->cancel || r->result == -ECANCELED) {
                recording_finish(r, IMAPI_E_USERABORT, "Cancelled while the image was being built.");
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

        /* The image has its exact size now; it must fit what the disc has free. */
        if (r->image_blocks > rec->media.free_blocks) {
                uint64_t free_mib = (uint64_t) rec->media.free_blocks * 2048 / (1024 * 1024);
                _cleanup_free_ char *msg = NULL;

                if (asprintf(&msg, "The disc cannot hold the image (needs %llu MiB, %llu MiB free).",
                             (unsigned long long) DIV_ROUND_UP(r->image_blocks * 2048, 1024 * 1024),
                             (unsigned long long) free_mib) < 0)
                        msg = NULL;
                recording_finish(r, IMAPI_E_DISCFULL, msg);
                return;
        }

        r->job->bytes = r->image_blocks * 2048;
        daemon_emit_properties_changed(r->master->daemon, r->job->path, IMAPI_JOB_INTERFACE, "Bytes", NULL);

        wo.simulate = r->options.simulate;
        /* Leave the disc open for another session, as IMAPI did, where the medium has sessions. */
        wo.multi = !r->options.close_disc && !drive_is_file(rec->drive) &&
                   !drive_profile_is_overwriteable(rec->media.profile);
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
        atomic_store(&r->blocks_done, 0);
        job_set_phase(r->job, JOB_PHASE_WRITING);
        log_info("Job %u: writing %llu blocks to %s%s.", r->job->id, (unsigned long long) r->image_blocks, rec->id,
                 wo.simulate ? " (simulation)" : "");
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

static void recording_finish(Recording *r, uint32_t hr, const char *message) {
        BurnEndParams p = {
                .hr = hr,
                .message = message,
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

static int check_medium(Master *m, Recorder *rec, sd_bus_error *error) {
        const MediaInfo *mi = &rec->media;

        if (drive_profile_is_rom(mi->profile))
                return bus_error_hresult(error, IMAPI_E_MEDIUM_INVALIDTYPE, "The disc in recorder %s (%s) is read-only.",
                                         rec->id, mi->profile_name);
        switch (mi->status) {
        case MEDIA_STATUS_NONE:
        case MEDIA_STATUS_UNKNOWN:
                return bus_error_hresult(error, IMAPI_E_MEDIUM_NOTPRESENT, "There is no disc in recorder %s.", rec->id);
        case MEDIA_STATUS_UNSUITABLE:
                return bus_error_hresult(error, IMAPI_E_MEDIUM_INVALIDTYPE, "The disc in recorder %s (%s) cannot be written.",
                                         rec->id, mi->profile_name[0] ? mi->profile_name : "unknown type");
        default:
                break;
        }
        if (m->multisession) {
                /* The disc that set up multi-session mode must still be there. */
                if (mi->status != MEDIA_STATUS_APPENDABLE || mi->start_address != m->ms_start ||
                    mi->next_writable != m->ms_next)
                        return bus_error_hresult(error, IMAPI_E_WRONGDISC,
                                                 "The multi-session disc was removed from recorder %s.", rec->id);
                return 0;
        }
        if (mi->status == MEDIA_STATUS_CLOSED && !mi->erasable)
                return bus_error_hresult(error, IMAPI_E_DISCFULL, "The disc in recorder %s is closed.", rec->id);
        if (mi->status != MEDIA_STATUS_BLANK && !mi->is_file && !mi->erasable)
                return bus_error_hresult(error, IMAPI_E_WRONGDISC,
                                         "The disc in recorder %s is no longer the blank disc it was.", rec->id);
        return 0;
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
        if (o->simulate && !drive_can_simulate(rec->drive))
                return bus_error_hresult(error, IMAPI_E_DEVICE_INVALIDTYPE, "Recorder %s cannot simulate a write.",
                                         rec->id);

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

        k = check_medium(m, rec, error);
        if (k < 0)
                goto fail_release;

        iso_options_init(&r->iso);
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
        if (m->multisession) {
                r->iso.read_block = read_block_from_drive;
                r->iso.read_userdata = r;
                r->iso.import_lba = m->ms_start;
                r->iso.next_lba = m->ms_next;
                r->start_lba = m->ms_next;
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
        if (estimate > rec->media.free_blocks) {
                k = bus_error_hresult(error, IMAPI_E_DISCFULL, "The disc cannot hold the image (needs %llu MiB, %llu MiB free).",
                                      (unsigned long long) DIV_ROUND_UP(estimate * 2048, 1024 * 1024),
                                      (unsigned long long) ((uint64_t) rec->media.free_blocks * 2048 / (1024 * 1024)));
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
        job_log(r->job, LOG_INFO, rec->id, 0, "%s of disc master %u on %s started by %s (%llu blocks).",
                r->job->operation, m->id, rec->id, c ? c->description : "?", (unsigned long long) estimate);
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
