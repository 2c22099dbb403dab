/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Audio CDs through libburn: writing tracks of CD-DA disc-at-once or track-at-once with the
 * gaps IMAPI's AudioGapSize asks for, and reading the written sectors back. libburn's outcome
 * becomes an HRESULT errno here, as in drive-write.c.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapierror.h>

#include "media/drive-internal.h"
#include "hresult.h"
#include "log.h"
#include "macro.h"

#define AUDIO_BLOCK 2352

static bool isempty(const char *s) {
        return !s || !*s;
}

/* libburn wants, once any track or the session has a text of a pack type, that type on all of
 * them: "" where there is none. */
static int set_text(struct burn_session *session, struct burn_track *track, const char *type, const char *text) {
        unsigned char *p = (unsigned char *) (text ? text : "");
        int n = (int) strlen((const char *) p) + 1;

        if (track)
                return burn_track_set_cdtext(track, 0, 0, (char *) type, p, n, 0) > 0 ? 0 : -EINVAL;
        return burn_session_set_cdtext(session, 0, 0, (char *) type, p, n, 0) > 0 ? 0 : -EINVAL;
}

static bool any_text(const DriveAudioTrack *tracks, size_t n, const DriveAudioOptions *o, bool performer) {
        if (!isempty(performer ? o->album_performer : o->album_title))
                return true;
        for (size_t i = 0; i < n; i++)
                if (!isempty(performer ? tracks[i].performer : tracks[i].title))
                        return true;
        return false;
}

/* The CD-TEXT of block 0 (ISO-8859-1, English), on the session and its tracks. */
static int add_text(struct burn_session *session, const DriveAudioTrack *tracks, size_t n,
                    const DriveAudioOptions *o, char **ret_reason) {
        int char_codes[8] = { 0x00, -1, -1, -1, -1, -1, -1, -1 }, copyrights[8] = { 0x00, -1, -1, -1, -1, -1, -1, -1 };
        int languages[8] = { 0x09, -1, -1, -1, -1, -1, -1, -1 };
        struct burn_track **t;
        int n_tracks = 0, r = 0;

        if (!o->cdtext || o->tao)
                return 0;
        t = burn_session_get_tracks(session, &n_tracks);
        if (burn_session_set_cdtext_par(session, char_codes, copyrights, languages, 0) <= 0)
                r = -EINVAL;
        for (int k = 0; k < 2 && r >= 0; k++) {
                const char *type = k == 0 ? "TITLE" : "PERFORMER";

                if (!any_text(tracks, n, o, k == 1))
                        continue;
                r = set_text(session, NULL, type, k == 0 ? o->album_title : o->album_performer);
                for (size_t i = 0; i < n && i < (size_t) n_tracks && r >= 0; i++)
                        r = set_text(session, t[i], type, k == 0 ? tracks[i].title : tracks[i].performer);
        }
        /* A dry run of the packs, so that text libburn would refuse fails here, not in the
         * lead-in. */
        if (r >= 0 && burn_cdtext_from_session(session, NULL, NULL, 1) < 0)
                r = -EINVAL;
        if (r < 0) {
                (void) drive_drain_messages(NULL, NULL);
                *ret_reason = strdup("The CD-TEXT cannot be made into packs.");
                return hresult_to_errno(IMAPI_E_INVALIDARG);
        }
        return 0;
}

bool drive_can_write_cdtext(Drive *d) {
        unsigned char flags = 0, len = 0, *data = NULL;
        bool can;

        if (!d->grabbed || burn_drive_get_feature(d->info.drive, 0x002e, &flags, &len, &data, NULL) <= 0)
                return false;
        /* Byte 4 of the descriptor: BUF, SAO, Raw MS, Raw, Test Write, CD-RW, R-W (bit 0). */
        can = (flags & 1) && len >= 1 && data && (data[0] & 0x01);
        free(data);
        return can;
}

/* The tracks into the session, from their stash files. */
static int add_tracks(Drive *d, struct burn_session *session, const DriveAudioTrack *tracks, size_t n,
                      const DriveAudioOptions *o, char **ret_reason) {
        for (size_t i = 0; i < n; i++) {
                struct burn_track *track = burn_track_create();
                struct burn_source *src;
                /* TAO: libburn writes no pre-gaps, so the gap is silence at the end of the
                 * track before (its "tail"); the next track then starts where SAO starts it. */
                int tail = o->tao && i + 1 < n ? (int) tracks[i + 1].pregap * AUDIO_BLOCK : 0;

                if (!track)
                        return -ENOMEM;
                burn_track_define_data(track, 0, tail, 1, BURN_AUDIO);
                /* SAO: the gap is the next track's index 0. The first track always gets the
                 * 150-block pre-gap of the lead-in; -1 disables a pre-gap on later tracks. */
                if (!o->tao && i > 0)
                        (void) burn_track_set_pregap_size(track, tracks[i].pregap > 0 ? (int) tracks[i].pregap : -1,
                                                          0);
                src = burn_file_source_new(tracks[i].path, NULL);
                if (!src || burn_track_set_source(track, src) != BURN_SOURCE_OK) {
                        if (src)
                                burn_source_free(src);
                        burn_track_free(track);
                        (void) drive_drain_messages(NULL, NULL);
                        if (asprintf(ret_reason, "Track %zu cannot be read from the stash.", i + 1) < 0)
                                *ret_reason = NULL;
                        return hresult_to_errno(IMAPI_E_FILEACCESS);
                }
                burn_source_free(src);  /* the track holds it */
                /* The stash file is exact; a short read would otherwise end the track early. */
                (void) burn_track_set_default_size(track, (off_t) (tracks[i].blocks * AUDIO_BLOCK));
                burn_session_add_track(session, track, BURN_POS_END);
                burn_track_free(track);
        }
        return 0;
}

/* The write options, and whether the drive takes the disc with them. */
static int set_write_opts(Drive *d, const DriveAudioOptions *o, char **ret_reason) {
        char reasons[BURN_REASONS_LEN] = "";
        const char *failure = NULL;

        d->opts = burn_write_opts_new(d->info.drive);
        if (!d->opts)
                return -ENOMEM;
        burn_write_opts_set_perform_opc(d->opts, 0);
        /* A CD player reads only a closed disc. */
        burn_write_opts_set_multi(d->opts, 0);
        if (burn_write_opts_set_simulate(d->opts, o->write.simulate) <= 0 && o->write.simulate) {
                *ret_reason = strdup("The recorder cannot simulate a write.");
                return hresult_to_errno(IMAPI_E_DEVICE_INVALIDTYPE);
        }
        if (o->write.underrun_proof >= 0)
                (void) burn_write_opts_set_underrun_proof(d->opts, o->write.underrun_proof);
        if (o->tao)
                burn_write_opts_set_write_type(d->opts, BURN_WRITE_TAO, BURN_BLOCK_RAW0);
        else
                burn_write_opts_set_write_type(d->opts, BURN_WRITE_SAO, BURN_BLOCK_SAO);

        /* bit0: check the write type that is set, do not choose another. */
        if (burn_write_opts_auto_write_type(d->opts, d->disc, reasons, 1) == BURN_WRITE_NONE)
                failure = reasons[0] ? reasons : "no suitable write mode";
        else if (burn_precheck_write(d->opts, d->disc, reasons, 1) <= 0)
                failure = reasons[0] ? reasons : "the drive refuses the job";
        if (failure) {
                (void) drive_drain_messages(NULL, NULL);
                if (asprintf(ret_reason, "The recorder cannot write this audio disc %s: %s",
                             o->tao ? "track-at-once" : "disc-at-once", failure) < 0)
                        *ret_reason = NULL;
                return hresult_to_errno(IMAPI_E_MEDIUM_INVALIDTYPE);
        }
        return 0;
}

int drive_write_audio_start(Drive *d, const DriveAudioTrack *tracks, size_t n, const DriveAudioOptions *o,
                            char **ret_reason) {
        struct burn_session *session = NULL;
        int r;

        *ret_reason = NULL;
        if (!d->grabbed || d->disc)
                return -EBUSY;
        if (n == 0 || n > 99)
                return -EINVAL;

        (void) drive_drain_messages(NULL, NULL);
        d->op_seq = drive_message_seq();

        d->disc = burn_disc_create();
        session = burn_session_create();
        if (!d->disc || !session) {
                if (session)
                        burn_session_free(session);
                drive_free_write_state(d);
                return -ENOMEM;
        }
        burn_disc_add_session(d->disc, session, BURN_POS_END);
        /* The disc holds a reference: session stays valid as long as d->disc. */
        burn_session_free(session);

        r = add_tracks(d, session, tracks, n, o, ret_reason);
        if (r >= 0)
                r = add_text(session, tracks, n, o, ret_reason);
        if (r >= 0)
                r = set_write_opts(d, o, ret_reason);
        if (r < 0) {
                drive_free_write_state(d);
                return r;
        }

        burn_drive_set_speed(d->info.drive, 0, o->write.speed_kbps);
        log_debug("Writing %zu audio tracks to %s (%s, gap %u%s%s).", n, d->address, o->tao ? "TAO" : "SAO",
                  o->gap, o->write.simulate ? ", simulated" : "", o->cdtext && !o->tao ? ", CD-TEXT" : "");
        return drive_disc_write(d);
}

int drive_audio_track_starts(Drive *d, int32_t **ret, size_t *ret_n) {
        struct burn_disc *disc;
        struct burn_session **sessions;
        struct burn_track **tracks;
        int n_sessions = 0, n_tracks = 0;
        int32_t *l;

        if (!d->grabbed)
                return -EBADFD;
        disc = burn_drive_get_disc(d->info.drive);
        if (!disc)
                return -ENODATA;
        sessions = burn_disc_get_sessions(disc, &n_sessions);
        if (n_sessions < 1) {
                burn_disc_free(disc);
                return -ENODATA;
        }
        tracks = burn_session_get_tracks(sessions[0], &n_tracks);
        l = calloc((size_t) MAX(n_tracks, 1), sizeof(int32_t));
        if (!l) {
                burn_disc_free(disc);
                return -ENOMEM;
        }
        for (int i = 0; i < n_tracks; i++) {
                struct burn_toc_entry toc;

                burn_track_get_entry(tracks[i], &toc);
                /* CD entries carry an MSF, the extension (when valid) the LBA. */
                l[i] = toc.extensions_valid & 1 ? toc.start_lba :
                       burn_msf_to_lba(toc.pmin, toc.psec, toc.pframe);
        }
        burn_disc_free(disc);
        *ret = l;
        *ret_n = (size_t) MAX(n_tracks, 0);
        return 0;
}

int drive_read_audio(Drive *d, int32_t lba, void *buf, size_t n_blocks) {
        off_t count = 0;
        int r;

        if (!d->grabbed)
                return -EBADFD;
        /* bit1: no message, we report it; bit2: no slow single-block retry. */
        pthread_mutex_lock(&d->io_lock);
        r = burn_read_audio(d->info.drive, lba, buf, (off_t) (n_blocks * AUDIO_BLOCK), &count, 2 | 4);
        pthread_mutex_unlock(&d->io_lock);
        if (r <= 0 || count != (off_t) (n_blocks * AUDIO_BLOCK))
                return -EIO;
        return 0;
}
