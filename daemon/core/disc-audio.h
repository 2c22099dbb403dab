/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The audio CD half of ReadDisc (disc-read.h): an audio CD (every track audio) is copied track
 * for track into Redbook staging, each track's raw CD-DA in a stash file of its own, with the
 * pre-gap before each track as the table of contents gives it (the track's start minus the end of
 * the track before) and the CD-TEXT of the lead-in. Committing makes Redbook the disc master's
 * active format; until then nothing is staged, and a failed read removes its files.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/master.h"
#include "media/drive.h"

typedef struct DiscAudio {
        DriveAudioDisc disc;
        char *paths[DRIVE_AUDIO_DISC_TRACKS_MAX];       /* the tracks' stash files, once made */
        int fds[DRIVE_AUDIO_DISC_TRACKS_MAX];
        uint64_t blocks;                                /* audio blocks of all tracks */
} DiscAudio;

/* Worker: the disc's tracks and CD-TEXT (drive_read_audio_disc()'s errors). */
int disc_audio_probe(Drive *d, DiscAudio *ret);
/* Blocks before track i (from 0) that are not in the track before: its pre-gap on the source. */
uint32_t disc_audio_gap(const DiscAudio *a, size_t i);
/* What the copy takes on a disc: the tracks and the gaps between them. */
uint64_t disc_audio_needed_blocks(const DiscAudio *a);
/* On the loop: a stash file per track. */
int disc_audio_create_files(DiscAudio *a, Stash *stash);
/* Worker: every track's sectors into its file; blocks_done counts them. A sector that cannot be
 * read is named in *ret_bad_lba (-EIO); a write to the stash that fails returns its errno. */
int disc_audio_run(DiscAudio *a, Drive *d, const volatile bool *cancel, _Atomic uint32_t *blocks_done,
                   int32_t *ret_bad_lba);
/* On the loop: the tracks become m's Redbook staging (the files change owner) and Redbook its
 * active format; a recorder that cannot write audio stops being active. */
int disc_audio_commit(DiscAudio *a, Master *m);
/* Removes what was not committed and frees it all. */
void disc_audio_done(DiscAudio *a, Stash *stash);
/* "3 tracks, 12:04, with CD-TEXT" */
void disc_audio_describe(const DiscAudio *a, char *buf, size_t size);
