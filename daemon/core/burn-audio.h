/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IDiscMaster::RecordDisc with the Redbook format: the audio burn job of a disc master. */
#pragma once

#include <systemd/sd-bus.h>

#include "core/master.h"
#include "core/burn-data.h"

/* Called by master_record_disc() once the checks common to both formats passed: checks the
 * tracks and the medium, takes the drive and starts the job; its path in *ret_job. */
int master_record_audio(Master *m, Client *c, sd_bus_message *call, const RecordOptions *o, const char **ret_job,
                        sd_bus_error *error);

const char *audio_recording_job_path(const AudioRecording *r);
/* At exit, with the event loop gone: stops a running audio burn and waits for libburn. */
void master_abort_audio_recording(Master *m);
