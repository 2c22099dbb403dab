/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-recorder.c as it is, with its dictionary readers named for the fuzzers (fuzz-adapters.h). */

#include "bus/bus-recorder.c"

#include "fuzz-adapters.h"

int fuzz_erase_option(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        return erase_option(m, key, userdata, error);
}

int fuzz_read_setting(sd_bus_message *m, Recorder *r, RecorderSettings *s, bool *ignored, sd_bus_error *error) {
        return read_setting(m, r, s, ignored, error);
}
