/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The adapters' own readers of a method's dictionary, which are static in their files: each
 * fuzz-adapter-*.c includes one adapter's .c as it is and gives them a name here, so that the
 * fuzzers run the daemon's code and not a copy of it.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "core/burn.h"
#include "core/erase.h"
#include "core/master.h"
#include "core/recorder.h"

/* bus-master.c: RecordDisc's options, SetActiveDiscRecorder's "replace". */
int fuzz_record_option(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error);
int fuzz_bool_option(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error);
/* bus-recorder.c: Erase's options, one entry of SetRecorderProperties. */
int fuzz_erase_option(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error);
int fuzz_read_setting(sd_bus_message *m, Recorder *r, RecorderSettings *s, bool *ignored, sd_bus_error *error);
/* bus-joliet.c: one entry of SetJolietProperties. */
int fuzz_read_property(sd_bus_message *m, const char **volume, MasterBootChange *boot, bool *ignored,
                       sd_bus_error *error);
