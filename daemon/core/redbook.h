/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The staged tracks of a Redbook (audio) disc master: IRedbookDiscMaster's bookkeeping. Pure
 * arithmetic and state (no I/O): which track is open, how many blocks each holds, what the
 * gaps between tracks take, and what still fits. Each track's PCM is one file of the stash.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cdtext.h"

/* 588 stereo 16-bit frames: 1/75 s of CD-DA. */
#define REDBOOK_BLOCK_SIZE 2352
/* A CD's table of contents numbers tracks 1 to 99. */
#define REDBOOK_MAX_TRACKS 99
/* Red Book: a track lasts at least 4 seconds. */
#define REDBOOK_MIN_TRACK_BLOCKS 300

typedef struct RedbookTrack {
        char *stash_path;       /* raw little-endian PCM, whole blocks */
        uint64_t blocks;
        int32_t hint;           /* CreateAudioTrack's advisory length */
        int32_t pregap;         /* blocks of pre-gap before it (a copied disc's); -1: the recorder's
                                 * AudioGapSize. The first track's is always the lead-in's 150. */
        char *text[_CDTEXT_FIELD_MAX]; /* CD-TEXT, UTF-8 that cdtext_check() accepted; NULL: none */
} RedbookTrack;

typedef struct Redbook {
        RedbookTrack *tracks;   /* the last one is open while track_open */
        size_t n;
        bool track_open;
        int open_fd;            /* the open track's stash file, -1 otherwise */
        char *album[_CDTEXT_FIELD_MAX]; /* the disc's CD-TEXT, likewise */
} Redbook;

void redbook_init(Redbook *rb);
/* Forgets every track and all CD-TEXT; remove_file is called with each stash path (may be NULL). */
void redbook_clear(Redbook *rb, void (*remove_file)(const char *path, void *userdata), void *userdata);

/* Audio blocks of all tracks, the open one included (UsedAudioBlocks). */
uint64_t redbook_used_blocks(const Redbook *rb);
/* Blocks the gaps between the tracks take: before every track but the first (whose pre-gap lies
 * in the lead-in and takes nothing from the disc's capacity), its own pre-gap or else gap. */
uint64_t redbook_gap_blocks(const Redbook *rb, unsigned gap);
/* What must fit on the disc for a burn: audio plus gaps. */
uint64_t redbook_needed_blocks(const Redbook *rb, unsigned gap);
/* Blocks that can still be added to the open track, or, with none open, that a new track could
 * hold (AvailableAudioTrackBlocks); total is what the disc has free. */
uint64_t redbook_available_blocks(const Redbook *rb, uint64_t total, unsigned gap);

/* Whether a track may be created: -EBUSY if one is open, -E2BIG at REDBOOK_MAX_TRACKS. */
int redbook_check_create(const Redbook *rb);
/* Appends an open track, taking ownership of stash_path and fd (on success only). */
int redbook_add_track(Redbook *rb, char *stash_path, int fd, int32_t hint);
/* Records blocks written to the open track. */
void redbook_track_grew(Redbook *rb, uint64_t blocks);
/* Whether the open track may be closed: -ENOENT if none is open, -EMSGSIZE if it is shorter
 * than REDBOOK_MIN_TRACK_BLOCKS (it then stays open). */
int redbook_check_close(const Redbook *rb);
/* The pre-gap before track i (from 0) that a burn writes: 0 for the first. */
unsigned redbook_track_gap(const Redbook *rb, size_t i, unsigned gap);
/* Closes the open track (its fd too). */
void redbook_close_track(Redbook *rb);
/* Sets a CD-TEXT field of the album (track 0) or of track 1..n to a copy of text (NULL or "":
 * none); -ERANGE for another track. */
int redbook_set_text(Redbook *rb, size_t track, CdTextField f, const char *text);
/* The field of track 0 (the album) to n. */
const char *redbook_get_text(const Redbook *rb, size_t track, CdTextField f);
