/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IDiscRecorder::Erase: blanking a rewritable disc as a job (EraseComplete when done). */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "daemon.h"

/* c must hold r through OpenExclusive. Returns the job's path in *ret_job. */
int recorder_erase(Recorder *r, Client *c, bool full, const char **ret_job, sd_bus_error *error);
