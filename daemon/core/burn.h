/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IDiscMaster::RecordDisc: the burn job of a disc master, data or audio. One skeleton (checks,
 * the drive read, prepare, write, close, verify, end) runs both; what differs is a small table of
 * operations (burn-ops.h) that burn-data.c and burn-audio.c fill in.
 */
#pragma once

#include <stdbool.h>

#include "core/async.h"
#include "core/client.h"
#include "imapi-error.h"

typedef struct Burn Burn;
typedef struct Job Job;
typedef struct Master Master;

typedef struct RecordOptions {
        bool simulate;
        bool eject;
        bool verify;            /* read back and compare; on unless asked otherwise */
        bool close_disc;        /* finalize; otherwise the disc stays appendable where it can */
        int iso_level;          /* 0: 2, or 3 when a file needs it */
        int write_speed;        /* IMAPI "X"; 0: the recorder's WriteSpeed property */
        int write_speed_kbps;   /* exact, in kB/s; overrides write_speed (image files too) */
        bool tao;               /* audio track-at-once; disc-at-once otherwise */
        bool replace;           /* a new file system over what an overwriteable medium holds */
        bool keep;              /* the staged content stays after a success (for another copy) */
        unsigned wait_for_medium; /* seconds to wait for a usable disc (burn-wait.c); 0: fail at once */
} RecordOptions;

/* The longest wait_for_medium: an hour. */
#define BURN_WAIT_MAX 3600u

/* Checks IMAPI's rules, reads the disc in the active recorder and starts the job (async.h):
 * done gets the Job as its result. */
int burn_start(Master *m, Client *c, const RecordOptions *o, core_done_fn done, void *userdata,
               ImapiError *error);

Job *burn_job(const Burn *b);

/* At exit, with the event loop stopped: cancels the burn and, if libburn is writing, waits for
 * it to stop and finishes the job. NULL is fine. */
void burn_abort(Burn *b);
