/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The end of a burn job, data or audio. What touches the drive or the disk runs in a worker,
 * so that the bus keeps answering while it happens: the drive is given back (ejecting after a
 * success if asked) and grabbed again to read the disc as it now is; the job's image file and,
 * after a real success, every staged file are deleted (IMAPI clears the stash after the first
 * successful burn; 100,000 staged files take a second to unlink). Then, on the event loop, the
 * recorder shows the new disc, the outcome is logged, and BurnComplete and the job's Completed
 * are sent: a client that sees them finds the drive released and the stash clean.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/job.h"
#include "core/master.h"

typedef struct BurnEndParams {
        uint32_t hr;
        const char *message;    /* why it failed, or NULL for the HRESULT's own message */
        bool eject;             /* after a success */
        bool simulate;          /* a simulation keeps the staged content */
        char *remove_path;      /* a stash file to delete (the image); taken */
        int close_fd;           /* its fd, closed after the delete (-1: none); taken */
        uint64_t reserved;      /* stash reservation to return once it is deleted */
} BurnEndParams;

/* The job's owner, called on the loop before the job is freed: it detaches its state from the
 * master (m->recording = NULL) and frees it. The master's work is then done
 * (master_work_done()). Until then the master and the recorder stay busy. */
typedef void (*burn_end_fn)(Master *m, void *userdata);

void master_end_burn(Master *m, Recorder *rec, Job *j, const BurnEndParams *p, burn_end_fn ended,
                     void *userdata);
