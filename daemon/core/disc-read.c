/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A disc read into a disc master's stash: a data disc as its image, an audio CD as its Redbook
 * tracks (disc-read.h, disc-audio.h). */

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <imapi/imapierror.h>

#include "core/disc-audio.h"
#include "core/disc-read.h"
#include "core/quota.h"
#include "core/worker.h"
#include "hresult.h"
#include "log.h"
#include "macro.h"
#include "media/stash.h"

#define READ_CHUNK_BLOCKS 32u
#define PROGRESS_USEC (250 * 1000)

struct DiscRead {
        Master *master;
        Recorder *source;
        Client *client;
        core_done_fn done;      /* the ReadDisc call, answered with the job or an error */
        void *userdata;
        Job *job;
        MediaInfo media;        /* the source's disc as the job found it */
        char volume_id[33];
        uint32_t blocks;        /* what is read: [0, blocks), or an audio CD's sectors */
        bool audio;             /* an audio CD, read into Redbook staging */
        DiscAudio tracks;
        uint64_t reserved;      /* in the stash */
        uint32_t copy;          /* the stash copy, once made */
        uint32_t bad_lba;
        bool holding;           /* the source is grabbed and busy with this read */
        _Atomic uint32_t blocks_done;
        volatile bool cancel;
        int result;
        ImapiError error;
        sd_event_source *timer;
};

static void disc_read_free(DiscRead *r) {
        disc_audio_done(&r->tracks, NULL);
        imapi_error_done(&r->error);
        sd_event_source_disable_unref(r->timer);
        client_unref(r->client);
        free(r);
}

void disc_read_cancel(DiscRead *r) {
        if (r)
                r->cancel = true;
}

static void on_job_cancel(Job *j, void *userdata) {
        disc_read_cancel(userdata);
}

/* Worker: an audio CD's tracks, or else the volume's size, from its descriptor. */
static void size_run(void *userdata) {
        DiscRead *r = userdata;

        if (IN_SET(r->media.profile, 0x08u, 0x09u, 0x0au)) {
                r->result = disc_audio_probe(r->source->drive, &r->tracks);
                r->audio = r->result >= 0;
                if (r->audio || !IN_SET(r->result, -ENOMEDIUM, -ENODATA))
                        return;
        }
        r->result = drive_read_volume_blocks(r->source->drive, &r->media, &r->blocks, r->volume_id,
                                             sizeof r->volume_id);
}

/* Worker: the blocks, into a copy of the stash. */
static void read_run(void *userdata) {
        _cleanup_free_ uint8_t *buf = malloc(READ_CHUNK_BLOCKS * 2048);
        _cleanup_close_ int fd = -1;
        DiscRead *r = userdata;

        if (!buf) {
                r->result = -ENOMEM;
                return;
        }
        if (r->audio) {
                int32_t bad = INT32_MIN;

                r->result = disc_audio_run(&r->tracks, r->source->drive, &r->cancel, &r->blocks_done, &bad);
                r->bad_lba = bad == INT32_MIN ? UINT32_MAX : (uint32_t) bad;
                return;
        }
        fd = stash_create_copy(r->master->stash, &r->copy);
        if (fd < 0) {
                r->result = fd;
                return;
        }
        for (uint32_t lba = 0; lba < r->blocks; lba += READ_CHUNK_BLOCKS) {
                size_t n = MIN(READ_CHUNK_BLOCKS, r->blocks - lba);

                if (r->cancel) {
                        r->result = -ECANCELED;
                        return;
                }
                r->result = drive_read_copy_blocks(r->source->drive, &r->media, lba, buf, n, &r->bad_lba);
                if (r->result < 0) {
                        r->result = r->result == -ENODEV ? -ENODEV : -EIO;
                        return;
                }
                if (pwrite(fd, buf, n * 2048, (off_t) lba * 2048) != (ssize_t) (n * 2048)) {
                        r->result = errno > 0 ? -errno : -EIO;
                        r->bad_lba = UINT32_MAX;
                        return;
                }
                atomic_store(&r->blocks_done, lba + (uint32_t) n);
        }
        r->result = close(TAKE_FD(fd)) < 0 ? -errno : 0;
}

static size_t block_size(const DiscRead *r) {
        return r->audio ? REDBOOK_BLOCK_SIZE : 2048;
}

/* The track of an audio CD's sector, from 1. */
static size_t track_of(const DiscRead *r, uint32_t lba) {
        size_t t = 0;

        while (t + 1 < r->tracks.disc.n && (int64_t) lba >= r->tracks.disc.tracks[t + 1].start)
                t++;
        return t + 1;
}

static int on_progress(sd_event_source *s, uint64_t usec, void *userdata) {
        DiscRead *r = userdata;
        uint32_t done = atomic_load(&r->blocks_done);

        job_set_progress(r->job, r->blocks ? (double) done / r->blocks : 0, (uint64_t) done * block_size(r), -1);
        (void) sd_event_source_set_time_relative(s, PROGRESS_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

/* Why the read failed, as the job's error. */
static void read_error(DiscRead *r) {
        const char *id = r->source->id;

        if (imapi_error_is_set(&r->error))
                return;
        if (r->result == -ECANCELED)
                (void) imapi_error_set(&r->error, IMAPI_E_USERABORT, "Reading the disc was cancelled.");
        else if (r->result == -ENODEV)
                (void) imapi_error_set(&r->error, IMAPI_E_DEVICE_NOTPRESENT,
                                       "Recorder %s went away while its disc was read.", id);
        else if (r->result == -EIO && r->bad_lba != UINT32_MAX && r->audio)
                (void) imapi_error_set(&r->error, IMAPI_E_DISCINFO,
                                       "Sector %u (track %zu) of the audio CD in recorder %s cannot be read (%u "
                                       "attempts); nothing was staged.", r->bad_lba, track_of(r, r->bad_lba), id,
                                       DRIVE_READ_ATTEMPTS);
        else if (r->result == -EIO && r->bad_lba != UINT32_MAX)
                (void) imapi_error_set(&r->error, IMAPI_E_DISCINFO,
                                       "Block %u of the disc in recorder %s cannot be read (%u attempts); "
                                       "nothing was staged.", r->bad_lba, id, DRIVE_READ_ATTEMPTS);
        else if (IN_SET(r->result, -ENOSPC, -EDQUOT, -EFBIG))
                (void) imapi_error_set(&r->error, IMAPI_E_NOTENOUGHDISKFORSTASH,
                                       "The stash ran out of space while the disc was read; nothing was staged.");
        else
                (void) imapi_error_set(&r->error, IMAPI_E_FILEACCESS,
                                       "The disc could not be read into the stash: %s.", strerror(-r->result));
}

static void read_done(void *userdata) {
        DiscRead *r = userdata;
        Master *m = r->master;
        Recorder *src = r->source;

        r->timer = sd_event_source_disable_unref(r->timer);
        m->reading = NULL;
        stash_release(m->stash, r->reserved);
        if (r->result >= 0 && m->closing)
                r->result = -ECANCELED;
        if (r->result >= 0 && r->audio)
                r->result = disc_audio_commit(&r->tracks, m);
        else if (r->result >= 0) {
                r->result = master_commit_image(m, r->copy, (uint64_t) r->blocks * 2048, (uint64_t) r->blocks * 2048);
                if (r->result >= 0)
                        r->copy = 0;
        }
        if (r->copy != 0 && !m->closing)
                (void) stash_remove_copy(m->stash, r->copy);
        if (r->result < 0)
                read_error(r);  /* while the tracks still say where the bad sector is */
        disc_audio_done(&r->tracks, m->closing ? NULL : m->stash);
        drive_release(src->drive, false);
        src->busy--;
        recorder_changed(src);
        manager_notify_work(m->manager, false, NULL);
        if (r->result < 0) {
                _cleanup_free_ char *text = NULL;

                read_error(r);
                text = hresult_format(r->error.hresult, r->error.message);
                log_info("Disc master %u: ReadDisc from %s failed: %s", m->id, src->id, strna(text));
                job_complete(r->job, r->error.hresult, text);
        } else {
                _cleanup_free_ char *ok = hresult_format(IMAPI_S_OK, NULL);

                master_changed(m, MASTER_CHANGED_DATA_USED);
                log_info("Disc master %u: the %s in %s ('%s', %u blocks) is staged.", m->id,
                         r->audio ? "audio CD" : "disc", src->id, r->volume_id, r->blocks);
                job_set_progress(r->job, 1.0, (uint64_t) r->blocks * block_size(r), -1);
                job_complete(r->job, IMAPI_S_OK, ok);
        }
        job_free(r->job);
        disc_read_free(r);
        master_work_done(m);
}

/* The user's share of the stash and its free space, for what the read stages. */
static int reserve_stash(DiscRead *r, uint64_t bytes, uint64_t files, ImapiError *error) {
        Master *m = r->master;
        int k;

        k = quota_reserve_staging(m->manager, m, bytes, files, error);
        if (k < 0)
                return k;
        r->reserved = bytes;
        return 0;
}

/* An audio CD's checks, on the loop: a destination chosen already must write audio and take the
 * tracks with their gaps; the stash; then the tracks' files. */
static int check_audio(DiscRead *r, ImapiError *error) {
        Master *m = r->master;
        uint64_t need = disc_audio_needed_blocks(&r->tracks), bytes = r->tracks.blocks * REDBOOK_BLOCK_SIZE;
        int k;

        if (m->recorder && m->recorder != r->source && !master_recorder_supports(m, m->recorder, MASTER_FORMAT_REDBOOK))
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "The disc in recorder %s is an audio CD, which recorder %s cannot write; "
                                       "nothing was read.", r->source->id, m->recorder->id);
        if (m->recorder && m->recorder != r->source && need > m->total_blocks)
                return imapi_error_set(error, IMAPI_E_DISCFULL,
                                       "The disc in recorder %s cannot hold the copy of the audio CD (%s); nothing "
                                       "was read.", m->recorder->id,
                                       master_format_room(need, m->total_blocks, (char[MASTER_ROOM_MAX]) {}));
        r->blocks = (uint32_t) r->tracks.blocks;
        k = reserve_stash(r, bytes, r->tracks.disc.n, error);
        if (k < 0)
                return k;
        k = disc_audio_create_files(&r->tracks, m->stash);
        if (k < 0)
                return imapi_error_set(error, IMAPI_E_FILEACCESS, "Cannot create the tracks in the stash: %s.",
                                       strerror(-k));
        return 0;
}

/* The size checks, on the loop: what the disc recorded, what the destination takes, the stash. */
static int check_size(DiscRead *r, ImapiError *error) {
        Master *m = r->master;
        uint32_t end = drive_media_readable_end(&r->media);
        uint64_t bytes = (uint64_t) r->blocks * 2048;

        if (r->result >= 0 && r->audio)
                return check_audio(r, error);
        if (r->result == -ENODEV)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTPRESENT,
                                       "Recorder %s went away while its disc was read.", r->source->id);
        if (r->result == -ENOMEDIUM || r->result == -ENODATA)
                return imapi_error_set(error, IMAPI_E_MEDIUM_INVALIDTYPE,
                                       "The disc in recorder %s holds no ISO 9660 file system to copy.",
                                       r->source->id);
        if (r->result < 0)
                return imapi_error_set(error, IMAPI_E_DISCINFO,
                                       "The volume descriptor (block %u) of the disc in recorder %s cannot be "
                                       "read.", r->media.start_address + 16, r->source->id);
        if (r->blocks <= r->media.start_address + 16 || r->blocks > end)
                return imapi_error_set(error, IMAPI_E_DISCINFO,
                                       "The file system of the disc in recorder %s claims %u blocks, but the disc "
                                       "recorded %u; it is not copied.", r->source->id, r->blocks, end);
        /* A destination chosen already (another recorder) must take it. */
        if (m->recorder && m->recorder != r->source && r->blocks > m->total_blocks)
                return imapi_error_set(error, IMAPI_E_DISCFULL,
                                       "The disc in recorder %s cannot hold the copy (%s); nothing was read.",
                                       m->recorder->id,
                                       master_format_room(r->blocks, m->total_blocks, (char[MASTER_ROOM_MAX]) {}));
        return reserve_stash(r, bytes, 1, error);
}

static int start_reading(DiscRead *r, ImapiError *error) {
        Master *m = r->master;
        int k;

        k = job_new(m->manager, "read", r->client, m->id, r->source, &r->job);
        if (k < 0)
                return k;
        r->job->cancelable = true;
        r->job->cancel = on_job_cancel;
        r->job->userdata = r;
        job_set_bytes(r->job, (uint64_t) r->blocks * block_size(r));
        job_set_phase(r->job, JOB_PHASE_READING);
        k = sd_event_add_time_relative(m->manager->event, &r->timer, CLOCK_MONOTONIC, PROGRESS_USEC, 0,
                                       on_progress, r);
        if (k >= 0)
                k = worker_submit(m->manager->worker, read_run, read_done, r);
        if (k < 0) {
                r->timer = sd_event_source_disable_unref(r->timer);
                job_complete(r->job, IMAPI_E_GENERIC, NULL);
                r->job = job_free(r->job);
                return imapi_error_set(error, IMAPI_E_GENERIC, "Cannot start reading recorder %s.", r->source->id);
        }
        return 0;
}

/* The ReadDisc call fails before any job exists: the drive goes back, nothing is kept. */
static void fail_call(DiscRead *r, int k, const ImapiError *error) {
        Master *m = r->master;

        m->preparing--;
        if (m->reading == r)
                m->reading = NULL;
        stash_release(m->stash, r->reserved);
        disc_audio_done(&r->tracks, m->stash);
        if (r->holding) {
                drive_release(r->source->drive, false);
                r->source->busy--;
                recorder_changed(r->source);
                manager_notify_work(m->manager, false, NULL);
        }
        r->done(r->userdata, k, error, NULL);
        disc_read_free(r);
        master_work_done(m);
}

static void size_done(void *userdata) {
        _cleanup_imapi_error_ ImapiError error = IMAPI_ERROR_NULL;
        DiscRead *r = userdata;
        int k;

        k = r->master->closing ? imapi_error_set(&error, IMAPI_E_USERABORT, "Disc master %u was closed.",
                                                 r->master->id)
                               : check_size(r, &error);
        if (k >= 0)
                k = start_reading(r, &error);
        if (k < 0) {
                if (!imapi_error_is_set(&error))
                        (void) imapi_error_set_errno(&error, k, NULL);
                fail_call(r, k, &error);
                return;
        }
        r->master->preparing--;
        r->result = 0;
        if (r->audio) {
                char what[64];

                disc_audio_describe(&r->tracks, what, sizeof what);
                log_info("Reading the audio CD in recorder %s (%s) into disc master %u.", r->source->id, what,
                         r->master->id);
        } else
                log_info("Reading the disc in recorder %s ('%s', %u blocks) into disc master %u.", r->source->id,
                         r->volume_id, r->blocks, r->master->id);
        r->done(r->userdata, 0, NULL, r->job);
}

static void read_prepared(Recorder *src, int k, const ImapiError *prep_error, void *userdata) {
        _cleanup_imapi_error_ ImapiError error = IMAPI_ERROR_NULL;
        DiscRead *r = userdata;

        if (k < 0) {
                fail_call(r, k, prep_error);
                return;
        }
        src->busy++;
        r->holding = true;
        recorder_changed(src);
        manager_notify_work(src->manager, true, "Reading a disc");
        r->media = src->media;
        if (!IN_SET(r->media.status, MEDIA_STATUS_APPENDABLE, MEDIA_STATUS_CLOSED) &&
            !(r->media.random_access && r->media.n_readable > 0)) {
                (void) imapi_error_set(&error, r->media.status == MEDIA_STATUS_NONE ? IMAPI_E_MEDIUM_NOTPRESENT :
                                       IMAPI_E_MEDIUM_INVALIDTYPE,
                                       "Recorder %s holds no recorded disc to copy (%s).", src->id,
                                       drive_media_status_to_string(r->media.status));
                fail_call(r, hresult_to_errno(error.hresult), &error);
                return;
        }
        k = worker_submit(src->manager->worker, size_run, size_done, r);
        if (k < 0)
                fail_call(r, k, NULL);
}

static int check_read(Master *m, Recorder *src, Client *c, ImapiError *error) {
        int k = master_check_format(m, MASTER_FORMAT_IMAGE, error);

        if (k < 0)
                return k;
        if (m->burn || m->reading || m->image_adding || m->preparing > 0 || m->discarding > 0)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Disc master %u is busy; wait for its job to finish.", m->id);
        if (staging_count(&m->staging) > 0)
                return imapi_error_set(error, IMAPI_E_FILEEXISTS,
                                       "Disc master %u already has an image staged; a disc takes one. "
                                       "ClearFormatContent removes it.", m->id);
        k = recorder_check_present(src, error);
        if (k < 0)
                return k;
        if (src->owner && src->owner != c)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is held by %s.", src->id, src->owner->description);
        if (recorder_reserved(src))
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is busy with another job.", src->id);
        return c ? quota_check_job(m->manager, c->uid, error) : 0;
}

int disc_read_start(Master *m, Recorder *src, Client *c, core_done_fn done, void *userdata,
                    ImapiError *error) {
        DiscRead *r;
        int k;

        k = check_read(m, src, c, error);
        if (k < 0)
                return k;
        r = calloc(1, sizeof(DiscRead));
        if (!r)
                return -ENOMEM;
        *r = (DiscRead) { .master = m, .source = src, .client = client_ref(c), .done = done,
                          .userdata = userdata, .result = -ENODATA };
        k = recorder_prepare(src, true, read_prepared, r, error);
        if (k < 0) {
                disc_read_free(r);
                return k;
        }
        m->preparing++;
        m->reading = r;
        return 1;
}
