/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-joliet.c as it is, with its dictionary reader named for the fuzzers (fuzz-adapters.h). */

#include "bus/bus-joliet.c"

#include "fuzz-adapters.h"

int fuzz_read_property(sd_bus_message *m, const char **volume, MasterBootChange *boot, bool *ignored,
                       sd_bus_error *error) {
        return read_property(m, volume, boot, ignored, error);
}
