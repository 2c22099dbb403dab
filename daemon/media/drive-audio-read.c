/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading an audio CD for a copy: its tracks as the table of contents lists them and the CD-TEXT
 * of its lead-in (READ TOC/PMA/ATIP format 5, MMC-6 6.26.3.7). Its sectors are read with the
 * retries of a data copy (drive-read.c).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "media/drive-internal.h"
#include "macro.h"

#define PACK_BYTES 18

void drive_audio_disc_done(DriveAudioDisc *disc) {
        free(disc->text_packs);
        *disc = (DriveAudioDisc) {};
}

/* The tracks of every session; -ENOMEDIUM unless all are audio. */
static int read_tracks(struct burn_disc *disc, DriveAudioDisc *ret) {
        struct burn_session **sessions;
        int n_sessions = 0;

        sessions = burn_disc_get_sessions(disc, &n_sessions);
        for (int s = 0; s < n_sessions; s++) {
                struct burn_track **tracks;
                int n = 0;

                tracks = burn_session_get_tracks(sessions[s], &n);
                for (int i = 0; i < n; i++) {
                        struct burn_toc_entry toc;
                        DriveAudioDiscTrack *t;

                        if (ret->n >= DRIVE_AUDIO_DISC_TRACKS_MAX)
                                return -E2BIG;
                        burn_track_get_entry(tracks[i], &toc);
                        /* TOC CONTROL bit 2: a data track (Red Book/MMC-6 table 490). */
                        if (toc.control & 4)
                                return -ENOMEDIUM;
                        t = &ret->tracks[ret->n++];
                        t->start = toc.extensions_valid & 1 ? toc.start_lba :
                                   burn_msf_to_lba(toc.pmin, toc.psec, toc.pframe);
                        t->blocks = toc.extensions_valid & 1 && toc.track_blocks > 0 ?
                                    (uint32_t) toc.track_blocks : 0;
                }
        }
        /* Without the track's size from the drive, it runs to the next track. */
        for (size_t i = 0; i + 1 < ret->n; i++)
                if (ret->tracks[i].blocks == 0 && ret->tracks[i + 1].start > ret->tracks[i].start)
                        ret->tracks[i].blocks = (uint32_t) (ret->tracks[i + 1].start - ret->tracks[i].start);
        for (size_t i = 0; i < ret->n; i++)
                if (ret->tracks[i].blocks == 0)
                        return -ENODATA;
        return ret->n > 0 ? 0 : -ENOMEDIUM;
}

int drive_read_audio_disc(Drive *d, DriveAudioDisc *ret) {
        DriveAudioDisc disc = {};
        struct burn_disc *bd;
        unsigned char *packs = NULL;
        int n_packs = 0, r;

        if (!d->grabbed)
                return -EBADFD;
        if (drive_is_lost(d))
                return -ENODEV;
        bd = burn_drive_get_disc(d->info.drive);
        if (!bd)
                return -ENOMEDIUM;
        r = read_tracks(bd, &disc);
        burn_disc_free(bd);
        if (r < 0)
                return r;
        /* A disc without CD-TEXT answers with no packs (or an error, which means the same). */
        if (burn_disc_get_leadin_text(d->info.drive, &packs, &n_packs, 0) > 0 && packs && n_packs > 0) {
                disc.text_packs = malloc((size_t) n_packs * PACK_BYTES);
                if (!disc.text_packs) {
                        free(packs);
                        return -ENOMEM;
                }
                memcpy(disc.text_packs, packs, (size_t) n_packs * PACK_BYTES);
                disc.n_text_packs = (size_t) n_packs;
        }
        free(packs);
        (void) drive_drain_messages(NULL, NULL);
        *ret = disc;
        return 0;
}
