/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IDiscRecorder::Erase as a job (EraseComplete when done), for every medium that can start over:
 * CD-RW and DVD-RW are blanked (minimally, or fully); DVD+RW, BD-RE, DVD-RAM and DVD-RW in
 * restricted overwrite have their file system made invisible (xorriso's way: the data stays but
 * readers see a blank medium) or are formatted again when full, and are formatted when they
 * never were; an image file is emptied. A DVD-RW can also be turned from sequential recording
 * into restricted overwrite and back (the format option).
 */
#pragma once

#include <stdbool.h>
#include "core/async.h"
#include "core/job.h"
#include "core/recorder.h"
#include "imapi-error.h"

typedef enum EraseFormat {
        ERASE_FORMAT_KEEP,              /* the medium stays what it is */
        ERASE_FORMAT_OVERWRITE,         /* a DVD-RW in restricted overwrite afterwards */
        ERASE_FORMAT_SEQUENTIAL,        /* a DVD-RW in sequential recording afterwards */
} EraseFormat;

/* c must hold r through OpenExclusive. The disc is read in a worker first; done gets the job
 * (async.h: 1, or < 0 with *error), then EraseComplete (the observer's erase_complete) and the
 * job's end follow. */
int erase_start(Recorder *r, Client *c, bool full, EraseFormat format, core_done_fn done, void *userdata,
                ImapiError *error);
