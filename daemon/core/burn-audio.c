/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An audio burn (the Redbook format's part of burn-ops.h): the staged tracks go to the disc from
 * their stash files, disc-at-once or track-at-once, with TrackProgress as tracks start and end;
 * then every track is read back as raw CD-DA sectors and compared with its stash file. The
 * tracks stay staged unless the burn succeeded, as in IMAPI.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <imapi/imapierror.h>

#include "core/burn-ops.h"
#include "core/cdtext.h"
#include "log.h"
#include "macro.h"

/* READ CD transfers of 24 sectors: 56 KiB, within every drive's transfer length. */
#define VERIFY_CHUNK_BLOCKS 24

typedef struct BurnAudio {
        DriveAudioTrack *tracks;        /* paths owned by the master's Redbook, which is frozen */
        size_t n;
        unsigned gap;
        uint64_t *base;                 /* blocks (audio and gaps) before each track */
        int32_t *starts;                /* the tracks' addresses on the written disc */
        size_t n_starts;
        size_t tracks_done;             /* as announced with TrackProgress */
        char **text;                    /* ISO-8859-1 CD-TEXT: the album's fields, then each track's */
        char *note;                     /* for the Completed message: why there is no CD-TEXT */
} BurnAudio;

static BurnAudio *audio_of(Burn *b) {
        return b->format;
}

static void burn_audio_free(void *p) {
        BurnAudio *a = p;

        if (a->text)
                for (size_t i = 0; i < (a->n + 1) * _CDTEXT_FIELD_MAX; i++)
                        free(a->text[i]);
        free(a->text);
        free(a->note);
        free(a->tracks);
        free(a->base);
        free(a->starts);
        free(a);
}

static int burn_audio_check(Master *m, ImapiError *error) {
        if (m->redbook.track_open)
                return imapi_error_set(error, IMAPI_E_TRACKOPEN,
                                       "Track %zu is still open; close it with CloseAudioTrack before burning.",
                                       m->redbook.n);
        if (m->redbook.n == 0)
                return imapi_error_set(error, IMAPI_E_INVALIDIMAGE,
                                       "No audio track is staged on disc master %u.", m->id);
        return 0;
}

/* The tracks as they go to the disc, with the recorder's gap between them (a copied disc's
 * tracks keep their own pre-gaps). */
static int burn_audio_setup(Burn *b, ImapiError *error) {
        const Redbook *rb = &b->master->redbook;
        BurnAudio *a;

        a = calloc(1, sizeof(BurnAudio));
        if (!a)
                return -ENOMEM;
        b->format = a;
        a->gap = master_audio_gap(b->master);
        a->tracks = calloc(rb->n, sizeof(DriveAudioTrack));
        a->base = calloc(rb->n, sizeof(uint64_t));
        if (!a->tracks || !a->base)
                return -ENOMEM;
        a->text = calloc((rb->n + 1) * _CDTEXT_FIELD_MAX, sizeof(char *));
        if (!a->text)
                return -ENOMEM;
        a->n = rb->n;
        /* The album is track 0. */
        for (size_t i = 0; i <= rb->n; i++)
                for (CdTextField f = 0; f < _CDTEXT_FIELD_MAX; f++) {
                        const char *t = redbook_get_text(rb, i, f);

                        if (t && !(a->text[i * _CDTEXT_FIELD_MAX + f] = cdtext_to_latin1(t)))
                                return -ENOMEM;
                }
        for (size_t i = 0; i < rb->n; i++) {
                a->tracks[i] = (DriveAudioTrack) {
                        .path = rb->tracks[i].stash_path,
                        .blocks = rb->tracks[i].blocks,
                        .title = a->text[(i + 1) * _CDTEXT_FIELD_MAX + CDTEXT_TITLE],
                        .performer = a->text[(i + 1) * _CDTEXT_FIELD_MAX + CDTEXT_PERFORMER],
                        .pregap = redbook_track_gap(rb, i, a->gap),
                };
                b->write_blocks += a->tracks[i].pregap;
                a->base[i] = b->write_blocks;
                b->write_blocks += rb->tracks[i].blocks;
        }
        if (b->write_blocks > b->plan.room)
                return imapi_error_set(error, IMAPI_E_DISCFULL,
                                       "The disc cannot hold the tracks (%llu blocks with their gaps, %u free).",
                                       (unsigned long long) b->write_blocks, b->plan.room);
        return 0;
}

static void burn_audio_started(Burn *b) {
        burn_notify(b, MASTER_EVENT_TRACK_PROGRESS, 0, (int32_t) audio_of(b)->n);
}

/* CD-TEXT goes where it can; where it cannot, the burn goes on without it and says so. */
static bool want_text(Burn *b) {
        BurnAudio *a = audio_of(b);
        const char *why = NULL;

        if (!cdtext_any(&b->master->redbook))
                return false;
        if (b->options.tao)
                why = "CD-TEXT is written only disc-at-once (write_mode \"sao\"), not track-at-once";
        else if (!drive_can_write_cdtext(b->recorder->drive))
                why = "the recorder cannot write CD-TEXT (no R-W sub-channel in disc-at-once)";
        if (!why)
                return true;
        log_warning("Job %u: burning without CD-TEXT: %s.", burn_job(b)->id, why);
        free(a->note);
        if (asprintf(&a->note, "Written without CD-TEXT: %s.", why) < 0)
                a->note = NULL;
        return false;
}

static int burn_audio_write_start(Burn *b, const DriveWriteOptions *common, char **ret_reason) {
        BurnAudio *a = audio_of(b);
        DriveAudioOptions ao = {
                .write = *common,
                .tao = b->options.tao,
                .gap = a->gap,
                .album_title = a->text[CDTEXT_TITLE],
                .album_performer = a->text[CDTEXT_PERFORMER],
        };

        ao.write.multi = false;
        ao.cdtext = want_text(b);
        return drive_write_audio_start(b->recorder->drive, a->tracks, a->n, &ao, ret_reason);
}

static void announce_tracks(Burn *b, size_t done) {
        BurnAudio *a = audio_of(b);

        /* IMAPI: TrackProgress(tracks completely burned, tracks) as each track starts or ends. */
        while (a->tracks_done < MIN(done, a->n)) {
                a->tracks_done++;
                burn_notify(b, MASTER_EVENT_TRACK_PROGRESS, (int32_t) a->tracks_done, (int32_t) a->n);
        }
}

static bool burn_audio_write_progress(Burn *b, const DriveProgress *p) {
        BurnAudio *a = audio_of(b);
        bool known = p->sectors_total > 0 && p->track >= 0 && (size_t) p->track < a->n;

        if (known) {
                announce_tracks(b, (size_t) p->track);
                atomic_store(&b->blocks_done, MIN(a->base[p->track] + p->sectors_done, b->write_blocks));
        }
        /* Lead-in, TOC and lead-out of a CD: some seconds. */
        if (p->closing && (size_t) p->track + 1 >= a->n)
                burn_announce_closing(b, 5);
        return known;
}

static void burn_audio_written(Burn *b) {
        announce_tracks(b, audio_of(b)->n);
        /* A fast drive closes the session between two polls; it was closed all the same, and
         * IMAPI's clients expect the notification. */
        burn_announce_closing(b, 5);
}

static int burn_audio_verify_setup(Burn *b, ImapiError *error) {
        BurnAudio *a = audio_of(b);
        int k;

        k = drive_audio_track_starts(b->recorder->drive, &a->starts, &a->n_starts);
        if (k < 0 || a->n_starts != a->n)
                return imapi_error_set(error, IMAPI_E_DISCINFO,
                                       "Verification failed: the disc lists %zu tracks, %zu were written.",
                                       k < 0 ? 0 : a->n_starts, a->n);
        return 0;
}

static uint64_t burn_audio_verify_blocks(Burn *b) {
        return b->write_blocks;
}

/* A drive may refuse the last two sectors of a track written track-at-once as audio (they can
 * carry the run-out; libburn.h, burn_read_audio()). If the failed chunk holds them, read it
 * sector by sector and leave those two, if unreadable, out of the comparison. */
static int read_track_end(Burn *b, size_t t, uint64_t first, size_t n, const uint8_t *want, uint8_t *got) {
        BurnAudio *a = audio_of(b);
        uint64_t blocks = a->tracks[t].blocks;

        if (!b->options.tao || first + n + 2 < blocks)
                return -EIO;
        for (size_t k = 0; k < n; k++) {
                uint8_t *p = got + k * REDBOOK_BLOCK_SIZE;

                if (drive_read_audio(b->recorder->drive, a->starts[t] + (int32_t) (first + k), p, 1) >= 0)
                        continue;
                if (first + k + 2 < blocks)
                        return -EIO;
                memcpy(p, want + k * REDBOOK_BLOCK_SIZE, REDBOOK_BLOCK_SIZE);
        }
        return 0;
}

/* One track's sectors against its stash file. */
static int verify_track(Burn *b, size_t t, uint8_t *want, uint8_t *got) {
        BurnAudio *a = audio_of(b);
        _cleanup_close_ int fd = open(a->tracks[t].path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return burn_fail(b, IMAPI_E_FILEACCESS,
                                 "Cannot read track %zu in the stash for verification.", t + 1);
        for (uint64_t i = 0; i < a->tracks[t].blocks; i += VERIFY_CHUNK_BLOCKS) {
                size_t n = (size_t) MIN((uint64_t) VERIFY_CHUNK_BLOCKS, a->tracks[t].blocks - i);
                int32_t lba = a->starts[t] + (int32_t) i;

                if (b->cancel)
                        return -ECANCELED;
                if (pread(fd, want, n * REDBOOK_BLOCK_SIZE, (off_t) (i * REDBOOK_BLOCK_SIZE)) !=
                    (ssize_t) (n * REDBOOK_BLOCK_SIZE))
                        return burn_fail(b, IMAPI_E_FILEACCESS, "Cannot read track %zu in the stash for "
                                         "verification.", t + 1);
                if (drive_read_audio(b->recorder->drive, lba, got, n) < 0 && read_track_end(b, t, i, n, want, got) < 0)
                        return burn_fail(b, IMAPI_E_DISCINFO,
                                         "Verification failed: sector %d of track %zu cannot "
                                         "be read back.", lba, t + 1);
                if (memcmp(want, got, n * REDBOOK_BLOCK_SIZE) != 0)
                        return burn_fail(b, IMAPI_E_CANNOT_WRITE_TO_MEDIA,
                                         "Verification failed: track %zu differs "
                                         "from what was written near sector %d.", t + 1, lba);
                atomic_fetch_add(&b->blocks_done, n);
        }
        return 0;
}

/* Worker: every track. */
static void burn_audio_verify(Burn *b) {
        size_t bytes = VERIFY_CHUNK_BLOCKS * REDBOOK_BLOCK_SIZE;
        _cleanup_free_ uint8_t *want = malloc(bytes), *got = malloc(bytes);
        int r = 0;

        if (!want || !got) {
                b->result = -ENOMEM;
                return;
        }
        for (size_t t = 0; t < audio_of(b)->n && r >= 0; t++)
                r = verify_track(b, t, want, got);
        b->result = r;
}

static char *burn_audio_note(Burn *b) {
        BurnAudio *a = audio_of(b);

        return a->note ? strdup(a->note) : NULL;
}

const BurnOps burn_audio_ops = {
        .activity = "Burning an audio CD",
        .block_size = REDBOOK_BLOCK_SIZE,
        .verify_share = 0.3,
        .check = burn_audio_check,
        .setup = burn_audio_setup,
        .started = burn_audio_started,
        .write_start = burn_audio_write_start,
        .write_progress = burn_audio_write_progress,
        .written = burn_audio_written,
        .verify_setup = burn_audio_verify_setup,
        .verify_blocks = burn_audio_verify_blocks,
        .verify_run = burn_audio_verify,
        .success_note = burn_audio_note,
        .free = burn_audio_free,
};
