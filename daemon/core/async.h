/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core's one convention for work that may outlast the call that asks for it (a drive that
 * must be read, files that must be copied or deleted): the function returns
 *
 *      0       done: nothing more will happen, done is not called;
 *      1       started: done will be called exactly once, on the event loop;
 *      < 0     failed: *error says why, done is not called.
 *
 * done gets 0, or a negative errno with the error that says why; result is what the work made
 * (the job of RecordDisc), else NULL.
 */
#pragma once

#include "imapi-error.h"

typedef void (*core_done_fn)(void *userdata, int r, const ImapiError *error, void *result);
