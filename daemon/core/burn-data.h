/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IDiscMaster::RecordDisc: the burn job of a Joliet disc master. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "core/master.h"

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
} RecordOptions;

/* Checks IMAPI's rules, takes the drive and starts the job; returns 0 and the job's path in
 * *ret_job, or 1 when the call comes back after the drive is read (recorder_prepare()). */
int master_record_disc(Master *m, Client *c, sd_bus_message *call, const RecordOptions *o, const char **ret_job,
                       sd_bus_error *error);

/* At exit, with the event loop stopped: cancels m's burn and, if libburn is writing, waits
 * for it to stop and finishes the job. */
void master_abort_recording(Master *m);

/* The object path of the running burn job of m (m->recording must be set). */
const char *master_recording_job_path(const Master *m);
