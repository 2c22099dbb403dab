/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ImageDiscMaster.ReadDisc: the data disc in a source recorder read into the disc master's
 * stash as its image, in a job ("read", phase "reading"), so that RecordDisc burns a copy of
 * it. Only what a reader of the disc follows is read: the last session's ISO 9660 volume, from
 * block 0 to its volume space size, which must lie within what the disc recorded. Reading and
 * burning are separate steps, so that one read serves any number of burns.
 */
#pragma once

#include "core/job.h"
#include "core/master.h"
#include "core/recorder.h"

/* Checks what can be checked at once, then reads the source in a worker; done gets the job
 * (async.h: returns 1) or the error. */
int disc_read_start(Master *m, Recorder *source, Client *c, core_done_fn done, void *userdata,
                    ImapiError *error);
/* The read stops at its next chunk; the job ends with IMAPI_E_USERABORT and stages nothing. */
void disc_read_cancel(DiscRead *r);
