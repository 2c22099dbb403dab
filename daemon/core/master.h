/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A disc master: IDiscMaster and IJolietDiscMaster's state machine for one client. Open takes
 * a stash; a format and a recorder are chosen; content is staged; RecordDisc starts a job.
 * Owned by the client that created it: when the client goes away the master closes, unless a
 * job runs, which then finishes and cleans up after itself.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "core/daemon.h"
#include "media/drive.h"
#include "core/redbook.h"
#include "core/session-plan.h"
#include "core/staging.h"

typedef struct Stash Stash;
typedef struct Recording Recording;
typedef struct AudioAdd AudioAdd;
typedef struct AudioRecording AudioRecording;

typedef enum MasterFormat {
        MASTER_FORMAT_NONE,
        MASTER_FORMAT_JOLIET,
        MASTER_FORMAT_REDBOOK,
} MasterFormat;

/* At most this many (name, fd) entries in one AddData call: a bound on the fds held. */
#define MASTER_ADD_BATCH_MAX 256
/* The Joliet volume descriptor holds 16 UCS-2 characters (the ISO 9660 id is derived). */
#define JOLIET_VOLUME_NAME_MAX 16

typedef struct AddBatch AddBatch;

struct Master {
        Daemon *daemon;
        unsigned id;
        char *path;
        Client *owner;
        bool opened;
        bool closing;           /* closed or owner gone while work was running */
        sd_bus_message *close_call; /* the Close to answer once the stash is removed */

        MasterFormat format;
        Recorder *recorder;     /* the active recorder */
        Stash *stash;

        /* What SetActiveDiscRecorder found the disc could take (session-plan.h). RecordDisc
         * makes the plan again from the disc it finds, and while plan_known it must be the same
         * disc (IMAPI_E_WRONGDISC). Changing the format, ClearFormatContent and a successful
         * burn forget it, as they end IMAPI's multi-session mode. */
        SessionPlan plan;
        bool plan_known;
        bool replace;           /* SetActiveDiscRecorder's replace option */
        uint32_t total_blocks;

        /* Joliet */
        Staging staging;
        char *volume_name;
        AddBatch *adding;       /* an AddData whose copy runs */
        unsigned discarding;    /* staged content being deleted in a worker */

        Recording *recording;   /* a RecordDisc whose job runs (burn-data.c) */

        /* Redbook (master-redbook.c, burn-audio.c) */
        Redbook redbook;
        AudioAdd *audio_adding;                 /* an AddAudioTrackBlocks whose write runs */
        AudioRecording *audio_recording;        /* a RecordDisc of audio whose job runs */
};

/* Staging or a burn runs: the master may not change, and its close waits. */
static inline bool master_busy(const Master *m) {
        return m->adding || m->recording || m->audio_adding || m->audio_recording || m->discarding > 0;
}

int master_new(Daemon *d, Client *owner, Master **ret);
/* Unexports and frees everything, the stash included. No work may be running. */
Master *master_free(Master *m);
/* Closes, or defers the close until running work has stopped. */
void master_close_or_defer(Master *m);
Master *daemon_find_master_by_path(Daemon *d, const char *path);
unsigned daemon_count_masters_of(Daemon *d, Client *c);

int master_open(Master *m, sd_bus_error *error);
/* Returns 1 when the reply to call is sent later (once the stash is removed), 0 when the
 * caller replies now (a running job defers the close). */
int master_close(Master *m, sd_bus_message *call, sd_bus_error *error);
int master_check_opened(Master *m, sd_bus_error *error);
/* Both return 1 when the reply to call is sent later, once the staged files are deleted. */
int master_set_format(Master *m, const char *format, sd_bus_message *call, sd_bus_error *error);
bool master_recorder_supports(const Master *m, const Recorder *r, MasterFormat f);
/* 0 when done, 1 when the call comes back after the drive is read (recorder_prepare()). replace:
 * the burn is to write a new file system over what an overwriteable medium holds. */
int master_set_recorder(Master *m, Recorder *r, bool replace, sd_bus_message *call, sd_bus_error *error);
/* RecordDisc, with the disc in the active recorder just read: what the burn does with it
 * (session-plan.h), the same disc as at SetActiveDiscRecorder, and a test write if asked for
 * one where the medium can take it (IMAPI_E_DEVICE_INVALIDTYPE). */
int master_plan_burn(Master *m, bool replace, bool simulate, SessionPlan *ret, sd_bus_error *error);
int master_clear(Master *m, sd_bus_message *call, sd_bus_error *error);
/* Deletes the stash files of staged content (a master's, or moved out of one) and frees its
 * bookkeeping; any thread. */
void staged_content_delete(Staging *s, Redbook *rb, Stash *stash);
/* Drops the staged content and deletes its stash files, here. */
void master_clear_staging(Master *m);
/* The same, the deleting in a worker (100,000 files take a second): the staging is empty at
 * once; call (if any) is answered when the files are gone, and 1 is returned then. */
int master_discard_staging(Master *m, sd_bus_message *call);
/* Checks that the Joliet format is active (NOACTIVEFORMAT / WRONGFORMAT). */
int master_check_format(Master *m, MasterFormat f, sd_bus_error *error);

uint32_t master_used_blocks(const Master *m);
const char *master_format_to_iid(MasterFormat f);

/* The client vanished. */
void master_client_gone(Master *m, Client *c);
/* Work on the master (AddData, a recording) ended: finish a deferred close. */
void master_work_done(Master *m);

void master_emit_signal(Master *m, const char *member, const char *types, ...);

/* AddData (master-joliet.c): validates the batch in the call, then copies it into the stash in a
 * worker; the reply is sent when the copy ends. Returns 1 when the copy was started, or a
 * negative errno with *error set. */
int master_add_data(Master *m, sd_bus_message *call, sd_bus_error *error);
void master_cancel_adding(Master *m);

/* IRedbookDiscMaster (master-redbook.c). AddAudioTrackBlocks and ...FromFd write in a worker and
 * reply when done: they return 1 once the write was started. */
int master_create_audio_track(Master *m, int32_t blocks, sd_bus_error *error);
int master_add_audio_blocks(Master *m, sd_bus_message *call, bool from_fd, sd_bus_error *error);
int master_close_audio_track(Master *m, sd_bus_error *error);
void master_cancel_audio_adding(Master *m);
/* The recorder's gap, and the Redbook properties. */
unsigned master_audio_gap(const Master *m);
void master_emit_redbook_changed(Master *m);
