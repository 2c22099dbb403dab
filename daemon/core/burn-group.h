/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * RecordDiscTo (burn-group.c): a disc master's staged content burned to several recorders at
 * once, one job per recorder, all of them checked before any writes.
 */
#pragma once

#include <stddef.h>

#include "core/burn.h"
#include "core/recorder.h"

/* The most recorders one call burns on. */
#define BURN_GROUP_MAX 16u

/* Checks every recorder as RecordDisc checks its one (listed twice, another format, held,
 * busy, MaxJobsPerUser for all of them), reads their discs, plans each, and starts one job per
 * recorder (async.h): done gets a NULL-terminated array of the jobs, in the order of recs, that
 * is valid during the call. */
int burn_start_group(Master *m, Client *c, Recorder *const *recs, size_t n, const RecordOptions *o,
                     core_done_fn done, void *userdata, ImapiError *error);
