/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a burn does with the disc in a recorder, decided in one place for SetActiveDiscRecorder
 * and RecordDisc, data and audio: where the new session goes, whether it grows the file system
 * that is there, and otherwise the IMAPI error that says why the disc cannot take it.
 *
 * Nothing a disc holds is lost without an explicit request. A data burn adds a session on every
 * medium that can take one: on write-once media after the last one, on overwriteable media and
 * image files by growing the ISO 9660 file system (isohead.h). Writing a new file system over
 * what an overwriteable medium holds (replace) must be asked for, and is refused on write-once
 * media; a disc whose last session imapid cannot add to (not ISO 9660, damaged, unreadable) is
 * refused unless it is to be replaced.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/recorder.h"

typedef enum SessionMode {
        SESSION_NEW,            /* a blank medium: the first file system */
        SESSION_APPEND,         /* a new session that imports the last one and grows it */
        SESSION_REPLACE,        /* random-access media: a new file system over what was there */
} SessionMode;

typedef struct SessionPlan {
        SessionMode mode;
        bool random_access;     /* written at start_lba, the head at block 0 last (isohead.h) */
        uint32_t import_lba;    /* SESSION_APPEND: where the imported volume starts */
        uint32_t start_lba;     /* where the new session goes */
        uint32_t room;          /* blocks from start_lba to the end of the medium */
} SessionPlan;

/* A data disc on the medium as the recorder last read it. */
int session_plan_data(const Recorder *rec, bool replace, SessionPlan *ret, ImapiError *error);
/* An audio CD: it needs a blank CD-R or CD-RW. */
int session_plan_audio(const Recorder *rec, SessionPlan *ret, ImapiError *error);
/* A disc image burned as it is: from block 0 of a blank medium, or, with replace, over what an
 * overwriteable medium or image file holds. Its addresses start at block 0, so it cannot be a
 * later session. */
int session_plan_image(const Recorder *rec, bool replace, SessionPlan *ret, ImapiError *error);
/* A bootable data disc (El Torito): its boot record and catalog are found through the volume
 * descriptors of the first session, so the new file system must be the medium's first
 * (IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC for a session appended after others). */
int session_plan_check_boot(const Recorder *rec, const SessionPlan *p, ImapiError *error);
/* RecordDisc made plan `now` for what SetActiveDiscRecorder planned as `then`: the same disc
 * must still be there (IMAPI_E_WRONGDISC), unless the burn now replaces what it holds. */
int session_plan_check_same(const Recorder *rec, const SessionPlan *then, const SessionPlan *now,
                            ImapiError *error);

const char *session_mode_to_string(SessionMode m);
