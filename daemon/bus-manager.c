/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.imapid.Imapi1.Manager: the entry point, at /org/imapid/Imapi1/Manager. */

#include <errno.h>
#include <stdlib.h>

#include <imapi/imapi.h>

#include "bus-objects.h"
#include "config.h"
#include "daemon.h"
#include "macro.h"
#include "recorder.h"

static int append_recorder_paths(sd_bus_message *reply, Daemon *d) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->n_recorders; i++) {
                r = sd_bus_message_append(reply, "o", d->recorders[i]->path);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int method_get_recorders(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = append_recorder_paths(reply, userdata);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int property_get_recorders(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return append_recorder_paths(reply, userdata);
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int property_get_stash_dir(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;

        return sd_bus_message_append(reply, "s", d->config->stash_dir);
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Recorders", "ao", property_get_recorders, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StashDirectory", "s", property_get_stash_dir, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("GetRecorders", SD_BUS_NO_ARGS, SD_BUS_RESULT("ao", recorders),
                                method_get_recorders, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
