/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IRedbookDiscMaster's staging: CreateAudioTrack, AddAudioTrackBlocks (from a byte array or
 * from a file descriptor the client passed) and CloseAudioTrack. Each track is one file of the
 * stash; blocks are written to it in a worker thread and the call is done when they are
 * there. As in IMAPI, an add that does not fit keeps the blocks that do and fails with
 * IMAPI_E_DISCFULL; any other failure keeps nothing of the call.
 */

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <imapi/imapierror.h>

#include "core/master.h"
#include "core/quota.h"
#include "core/recorder.h"
#include "core/worker.h"
#include "hresult.h"
#include "log.h"
#include "macro.h"
#include "media/stash.h"

/* About 1 MiB of whole blocks per write, reserved in the stash before it is written. */
#define CHUNK_BLOCKS 448
#define CHUNK_BYTES ((size_t) CHUNK_BLOCKS * REDBOOK_BLOCK_SIZE)

struct AudioAdd {
        Master *master;
        Stash *stash;
        core_done_fn done;
        void *userdata;
        const uint8_t *data;            /* AddAudioTrackBlocks: the caller's, valid until done */
        size_t size;
        int src_fd;                     /* ...FromFd: the caller's, open until done; -1 otherwise */
        int track_fd;                   /* the open track's stash file */
        uint64_t offset;                /* bytes already in the track */
        uint64_t max_blocks;            /* what still fits on the disc */
        uint64_t total_blocks;          /* for AddProgress: the size if known, else max_blocks */
        _Atomic uint64_t done_bytes;
        uint64_t added_blocks;          /* the result: blocks kept */
        bool full;                      /* there was more than fit */
        volatile bool cancel;
        int result;
        ImapiError error;
        sd_event_source *timer;
};

static AudioAdd *audio_add_free(AudioAdd *a) {
        if (!a)
                return NULL;
        imapi_error_done(&a->error);
        sd_event_source_disable_unref(a->timer);
        free(a);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(AudioAdd *, audio_add_free);

unsigned master_audio_gap(const Master *m) {
        return m->recorder ? (unsigned) m->recorder->audio_gap : RECORDER_AUDIO_GAP_DEFAULT;
}

void master_audio_counts(const Master *m, MasterAudioCounts *ret) {
        /* IMAPI: the counts mean something once a recorder (and its disc) is chosen. */
        uint64_t total = m->recorder && m->format == MASTER_FORMAT_REDBOOK ? m->total_blocks : 0;

        *ret = (MasterAudioCounts) {
                .tracks = m->redbook.n,
                .total = total,
                .used = redbook_used_blocks(&m->redbook),
                .available = redbook_available_blocks(&m->redbook, total, master_audio_gap(m)),
        };
}

static int check_redbook_ready(Master *m, ImapiError *error) {
        int r = master_check_format(m, MASTER_FORMAT_REDBOOK, error);

        if (r < 0)
                return r;
        if (!m->recorder)
                return imapi_error_set(error, IMAPI_E_NOACTIVERECORDER,
                                         "Choose a recorder with SetActiveDiscRecorder before staging audio.");
        if (m->burn)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                         "Disc master %u is burning; wait for the job to finish.", m->id);
        if (m->adding || m->audio_adding || m->preparing > 0 || m->discarding > 0)
                return imapi_error_set(error, IMAPI_E_GENERIC,
                                         "Disc master %u is still writing the previous AddAudioTrackBlocks.",
                                         m->id);
        return 0;
}

int master_create_audio_track(Master *m, int32_t blocks, ImapiError *error) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        char name[32];
        uint64_t avail;
        int r;

        if (blocks < 0)
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                         "The track length hint must not be negative.");
        r = check_redbook_ready(m, error);
        if (r < 0)
                return r;
        r = redbook_check_create(&m->redbook);
        if (r == -EBUSY)
                return imapi_error_set(error, IMAPI_E_TRACKOPEN,
                                         "Track %zu is still open; close it with CloseAudioTrack first.",
                                         m->redbook.n);
        if (r == -E2BIG)
                return imapi_error_set(error, IMAPI_E_OUTOFMEMORY, "An audio CD holds at most %d tracks.",
                                         REDBOOK_MAX_TRACKS);
        if (r < 0)
                return r;
        avail = redbook_available_blocks(&m->redbook, m->total_blocks, master_audio_gap(m));
        if (avail < REDBOOK_MIN_TRACK_BLOCKS)
                return imapi_error_set(error, IMAPI_E_DISCFULL,
                                         "The disc has room for %llu more blocks; a track needs at least %d (4 s).",
                                         (unsigned long long) avail, REDBOOK_MIN_TRACK_BLOCKS);

        snprintf(name, sizeof name, "track-%02zu.pcm", m->redbook.n + 1);
        r = stash_create_file(m->stash, name, &fd, &path);
        if (r < 0)
                return imapi_error_set(error, IMAPI_E_FILEACCESS, "Cannot create the track in the stash: %s.",
                                         strerror(-r));
        r = redbook_add_track(&m->redbook, path, fd, blocks);
        if (r < 0) {
                (void) stash_remove_file(m->stash, path);
                return r;
        }
        TAKE_PTR(path);
        TAKE_FD(fd);
        log_debug("Disc master %u: audio track %zu created (%d blocks announced).", m->id, m->redbook.n,
                  blocks);
        master_changed(m, MASTER_CHANGED_AUDIO);
        return 0;
}

int master_close_audio_track(Master *m, ImapiError *error) {
        const RedbookTrack *t;
        int r;

        r = check_redbook_ready(m, error);
        if (r < 0)
                return r;
        r = redbook_check_close(&m->redbook);
        if (r == -ENOENT)
                return imapi_error_set(error, IMAPI_E_TRACKNOTOPEN, "No audio track is open on disc master %u.",
                                         m->id);
        t = &m->redbook.tracks[m->redbook.n - 1];
        if (r == -EMSGSIZE)
                return imapi_error_set(error, IMAPI_E_TRACK_NOT_BIG_ENOUGH,
                                         "Track %zu has %llu blocks; a track needs at least %d (4 s). It stays "
                                         "open.", m->redbook.n, (unsigned long long) t->blocks,
                                         REDBOOK_MIN_TRACK_BLOCKS);
        if (r < 0)
                return r;
        redbook_close_track(&m->redbook);
        log_debug("Disc master %u: audio track %zu closed, %llu blocks.", m->id, m->redbook.n,
                  (unsigned long long) t->blocks);
        master_changed(m, MASTER_CHANGED_AUDIO);
        return 0;
}

/* "the album title", "the performer of track 3". */
static void describe_field(int32_t track, CdTextField f, char *buf, size_t size) {
        if (track == 0)
                snprintf(buf, size, "the album %s", cdtext_field_to_string(f));
        else
                snprintf(buf, size, "the %s of track %d", cdtext_field_to_string(f), track);
}

int master_set_audio_text(Master *m, int32_t track, const MasterAudioText *t, ImapiError *error) {
        char *old[_CDTEXT_FIELD_MAX] = {}, what[64];
        unsigned packs;
        int r;

        r = master_check_format(m, MASTER_FORMAT_REDBOOK, error);
        if (r < 0)
                return r;
        if (m->burn)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Disc master %u is burning; wait for the job to finish.", m->id);
        if (track < 0 || (size_t) track > m->redbook.n)
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "There is no audio track %d; disc master %u has %zu (0 is the album).",
                                       track, m->id, m->redbook.n);
        for (CdTextField f = 0; f < _CDTEXT_FIELD_MAX; f++) {
                uint32_t bad = 0;

                if (!t->set[f] || !t->value[f] || cdtext_check(t->value[f], &bad) >= 0)
                        continue;
                describe_field(track, f, what, sizeof what);
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "CD-TEXT is written in ISO-8859-1: %s cannot hold U+%04X%s.", what, bad,
                                       bad < 0x20 || (bad >= 0x7f && bad < 0xa0) ? " (a control character)" :
                                       "");
        }

        /* Try the new text; put the old back if the whole does not fit. */
        for (CdTextField f = 0; f < _CDTEXT_FIELD_MAX; f++) {
                const char *cur = redbook_get_text(&m->redbook, (size_t) track, f);

                if (!t->set[f])
                        continue;
                old[f] = cur ? strdup(cur) : NULL;
                if ((cur && !old[f]) || redbook_set_text(&m->redbook, (size_t) track, f, t->value[f]) < 0) {
                        r = -ENOMEM;
                        break;
                }
        }
        packs = cdtext_text_packs(&m->redbook);
        if (r < 0 || packs > CDTEXT_MAX_TEXT_PACKS) {
                for (CdTextField f = 0; f < _CDTEXT_FIELD_MAX; f++)
                        if (t->set[f])
                                (void) redbook_set_text(&m->redbook, (size_t) track, f, old[f]);
        }
        for (CdTextField f = 0; f < _CDTEXT_FIELD_MAX; f++)
                free(old[f]);
        if (r < 0)
                return r;
        if (packs > CDTEXT_MAX_TEXT_PACKS)
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "The CD-TEXT would need %u packs of %d bytes, more than the %d that one "
                                       "block holds; nothing was changed.", packs, CDTEXT_PACK_TEXT_BYTES,
                                       CDTEXT_MAX_TEXT_PACKS);
        log_debug("Disc master %u: CD-TEXT of %s %d set (%u packs).", m->id, track == 0 ? "the album" : "track",
                  track, packs);
        master_changed(m, MASTER_CHANGED_AUDIO);
        return 0;
}

static void emit_add_progress(AudioAdd *a) {
        uint64_t done = atomic_load(&a->done_bytes) / REDBOOK_BLOCK_SIZE;

        manager_notify_event(a->master->manager, a->master, MASTER_EVENT_ADD_PROGRESS, (int32_t) MIN(done, INT32_MAX),
                             (int32_t) MIN(MAX(a->total_blocks, done), INT32_MAX), 0);
}

static int on_progress_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        AudioAdd *a = userdata;

        emit_add_progress(a);
        if (sd_event_source_set_time_relative(s, 250 * 1000) < 0)
                return 0;
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

/* Writes n bytes at the track's end, with the room reserved in the stash first. */
static int write_chunk(AudioAdd *a, const uint8_t *p, size_t n) {
        uint64_t at = a->offset + atomic_load(&a->done_bytes);
        int r;

        r = stash_reserve(a->stash, n, &a->error);
        if (r < 0)
                return r;
        while (n > 0) {
                ssize_t k = pwrite(a->track_fd, p, n, (off_t) at);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = k < 0 ? -errno : -EIO;
                        stash_release(a->stash, n);
                        return imapi_error_set(&a->error, r == -ENOSPC ? IMAPI_E_NOTENOUGHDISKFORSTASH :
                                                 IMAPI_E_FILEACCESS, "Writing the track into the stash failed: %s.",
                                                 strerror(-r));
                }
                p += k;
                n -= (size_t) k;
                at += (uint64_t) k;
                atomic_fetch_add(&a->done_bytes, (uint64_t) k);
                stash_release(a->stash, (uint64_t) k);
        }
        return 0;
}

/* Reads up to n bytes from the client's fd; 0 at its end. A pipe whose writer stalls must not
 * hold the worker past a cancellation (the client went away), so it waits in poll(). */
static ssize_t read_source(AudioAdd *a, uint8_t *buf, size_t n) {
        for (;;) {
                ssize_t k;

                if (a->cancel)
                        return -ECANCELED;
                k = poll(&(struct pollfd) { .fd = a->src_fd, .events = POLLIN }, 1, 200);
                if (k == 0 || (k < 0 && errno == EINTR))
                        continue;
                k = read(a->src_fd, buf, n);
                if (k >= 0)
                        return k;
                if (errno != EINTR && errno != EAGAIN)
                        return -errno;
        }
}

static int run_from_fd(AudioAdd *a) {
        _cleanup_free_ uint8_t *buf = malloc(CHUNK_BYTES);
        uint64_t limit = a->max_blocks * REDBOOK_BLOCK_SIZE;
        uint8_t probe;
        ssize_t k;
        int r;

        if (!buf)
                return -ENOMEM;
        for (;;) {
                uint64_t done = atomic_load(&a->done_bytes);
                size_t want = (size_t) MIN((uint64_t) CHUNK_BYTES, limit - done), got = 0;

                if (a->cancel)
                        return -ECANCELED;
                if (want == 0)
                        break;
                /* Fill the chunk, so that pipes give whole blocks per write. */
                while (got < want) {
                        k = read_source(a, buf + got, want - got);
                        if (k < 0)
                                return k == -ECANCELED ? k : imapi_error_set(&a->error, IMAPI_E_FILEACCESS,
                                                     "Reading the audio from the file descriptor failed: %s.",
                                                     strerror((int) -k));
                        if (k == 0)
                                break;
                        got += (size_t) k;
                }
                if (got > 0) {
                        r = write_chunk(a, buf, got);
                        if (r < 0)
                                return r;
                }
                if (got < want)
                        goto end_of_input;
        }
        /* The disc is full: is there more? */
        k = read_source(a, &probe, 1);
        if (k < 0)
                return k == -ECANCELED ? k : imapi_error_set(&a->error, IMAPI_E_FILEACCESS,
                                                                "Reading the audio from the file descriptor failed: %s.",
                                                                strerror((int) -k));
        a->full = k > 0;

end_of_input:
        if (!a->full && atomic_load(&a->done_bytes) % REDBOOK_BLOCK_SIZE != 0)
                return imapi_error_set(&a->error, IMAPI_E_INVALIDARG,
                                         "The file descriptor gave %llu bytes, not a multiple of %d; nothing was "
                                         "added.", (unsigned long long) atomic_load(&a->done_bytes),
                                         REDBOOK_BLOCK_SIZE);
        return 0;
}

static int run_from_data(AudioAdd *a) {
        uint64_t n = MIN((uint64_t) a->size, a->max_blocks * REDBOOK_BLOCK_SIZE);
        int r;

        a->full = n < a->size;
        for (uint64_t i = 0; i < n; i += CHUNK_BYTES) {
                if (a->cancel)
                        return -ECANCELED;
                r = write_chunk(a, a->data + i, (size_t) MIN((uint64_t) CHUNK_BYTES, n - i));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* In the worker thread. On failure the track is cut back to where it was. */
static void audio_add_run(void *userdata) {
        AudioAdd *a = userdata;
        int r = a->src_fd >= 0 ? run_from_fd(a) : run_from_data(a);

        if (r < 0) {
                if (ftruncate(a->track_fd, (off_t) a->offset) < 0)
                        log_warning_errno(errno,
                                          "Cannot cut an audio track back after a failed add, ignoring: %m");
                a->added_blocks = 0;
        } else
                a->added_blocks = atomic_load(&a->done_bytes) / REDBOOK_BLOCK_SIZE;
        a->result = r;
}

/* Back on the event loop. */
static void audio_add_done(void *userdata) {
        _cleanup_(audio_add_freep) AudioAdd *a = userdata;
        Master *m = a->master;
        int r = a->result;

        m->audio_adding = NULL;
        if (m->closing) {
                log_debug("Disc master %u: AddAudioTrackBlocks stopped, the master is closing.", m->id);
                /* Closed by its client (still there to hear it) or gone: nothing is kept. */
                r = imapi_error_set(&a->error, IMAPI_E_USERABORT,
                                    "Disc master %u was closed; nothing was added.", m->id);
        } else {
                redbook_track_grew(&m->redbook, a->added_blocks);
                master_changed(m, MASTER_CHANGED_AUDIO);
                emit_add_progress(a);
                if (r < 0 && !imapi_error_is_set(&a->error))
                        (void) imapi_error_set(&a->error,
                                               r == -ECANCELED ? IMAPI_E_USERABORT : hresult_from_errno(r),
                                               r == -ECANCELED ? "Staging was cancelled." : "Staging failed: %s.",
                                               strerror(-r));
                if (r < 0)
                        log_info("Disc master %u: AddAudioTrackBlocks failed: %s", m->id,
                                 strna(a->error.message));
                else if (a->full)
                        r = imapi_error_set(&a->error, IMAPI_E_DISCFULL,
                                            "The disc is full: %llu blocks of this call "
                                            "were added to track %zu, the rest did not fit.",
                                            (unsigned long long) a->added_blocks, m->redbook.n);
        }
        a->done(a->userdata, r, r < 0 ? &a->error : NULL, NULL);
        master_work_done(m);
}

void master_cancel_audio_adding(Master *m) {
        if (m->audio_adding)
                m->audio_adding->cancel = true;
}

/* What the client's fd offers: a regular file from its offset on (its size known), or a pipe. */
static int check_source_fd(int fd, uint64_t *ret_known, ImapiError *error) {
        struct stat st;
        off_t pos;

        if (fstat(fd, &st) < 0)
                return imapi_error_set(error, IMAPI_E_INVALIDARG, "The file descriptor is not usable.");
        if (S_ISREG(st.st_mode)) {
                /* Read from where the client's offset is, as a pipe would be. */
                pos = lseek(fd, 0, SEEK_CUR);
                *ret_known = (uint64_t) MAX(st.st_size - MAX(pos, (off_t) 0), (off_t) 0);
                if (*ret_known % REDBOOK_BLOCK_SIZE != 0)
                        return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                               "The file has %llu bytes to read, not a multiple of %d.",
                                               (unsigned long long) *ret_known, REDBOOK_BLOCK_SIZE);
                return 0;
        }
        /* A socket is not a pipe: its peer may hold it open without end, send ancillary data, or
         * be imapid's own bus. */
        if (!S_ISFIFO(st.st_mode))
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "The file descriptor is %s, neither a regular file nor a pipe.",
                                       S_ISSOCK(st.st_mode) ? "a socket" : S_ISDIR(st.st_mode) ? "a directory" :
                                       "a device or special file");
        *ret_known = UINT64_MAX;
        return 0;
}

static int add_audio(Master *m, const void *data, size_t size, int fd, uint64_t known, core_done_fn done,
                     void *userdata, ImapiError *error) {
        _cleanup_(audio_add_freep) AudioAdd *a = NULL;
        int r;

        r = check_redbook_ready(m, error);
        if (r < 0)
                return r;
        if (!m->redbook.track_open)
                return imapi_error_set(error, IMAPI_E_TRACKNOTOPEN,
                                         "No audio track is open; call CreateAudioTrack first.");

        a = calloc(1, sizeof(AudioAdd));
        if (!a)
                return -ENOMEM;
        a->master = m;
        a->stash = m->stash;
        a->data = data;
        a->size = size;
        a->src_fd = fd;
        a->track_fd = m->redbook.open_fd;
        a->offset = m->redbook.tracks[m->redbook.n - 1].blocks * REDBOOK_BLOCK_SIZE;
        a->max_blocks = redbook_available_blocks(&m->redbook, m->total_blocks, master_audio_gap(m));
        a->total_blocks = known != UINT64_MAX ? known / REDBOOK_BLOCK_SIZE : a->max_blocks;
        if (a->max_blocks == 0 && known != 0)
                return imapi_error_set(error, IMAPI_E_DISCFULL, "The disc is full; nothing was added.");
        /* A source of unknown length may fill the disc. */
        r = quota_check_staging(m->manager, m, MIN(known, a->max_blocks * REDBOOK_BLOCK_SIZE), 0, error);
        if (r < 0)
                return r;

        a->done = done;
        a->userdata = userdata;
        r = sd_event_add_time_relative(m->manager->event, &a->timer, CLOCK_MONOTONIC, 250 * 1000, 0,
                                       on_progress_timer, a);
        if (r < 0)
                return r;
        emit_add_progress(a);
        r = worker_submit(m->manager->worker, audio_add_run, audio_add_done, a);
        if (r < 0)
                return r;
        m->audio_adding = TAKE_PTR(a);
        return 1;
}

int master_add_audio_data(Master *m, const void *data, size_t size, core_done_fn done, void *userdata,
                          ImapiError *error) {
        if (size % REDBOOK_BLOCK_SIZE != 0)
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "%zu bytes are not a whole number of %d-byte audio "
                                       "blocks; nothing was added.", size, REDBOOK_BLOCK_SIZE);
        return add_audio(m, data, size, -1, size, done, userdata, error);
}

int master_add_audio_fd(Master *m, int fd, core_done_fn done, void *userdata, ImapiError *error) {
        uint64_t known = UINT64_MAX;
        int r;

        r = check_source_fd(fd, &known, error);
        if (r < 0)
                return r;
        return add_audio(m, NULL, 0, fd, known, done, userdata, error);
}
