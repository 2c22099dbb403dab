/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-master.c as it is, with its option readers named for the fuzzers (fuzz-adapters.h). */

#include "bus/bus-master.c"

#include "fuzz-adapters.h"

int fuzz_record_option(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        return record_option(m, key, userdata, error);
}

int fuzz_bool_option(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        return bool_option(m, key, userdata, error);
}
