/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-joliet.c as it is, with its dictionary reader named for the fuzzers (fuzz-adapters.h). */

#include <stdlib.h>

#include "bus/bus-joliet.c"

#include "fuzz-adapters.h"

int fuzz_read_property(sd_bus_message *m, const char **volume, MasterBootChange *boot, bool *ignored,
                       sd_bus_error *error) {
        int strict = -1, r;

        r = read_property(m, volume, &strict, boot, ignored, error);
        /* A boolean was read, or nothing was set. */
        if (r >= 0 && strict != -1 && strict != 0 && strict != 1)
                abort();
        return r;
}
