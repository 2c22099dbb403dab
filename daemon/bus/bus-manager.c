/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.imapid.Imapi1.Manager: the entry point, at /org/imapid/Imapi1/Manager. */

#include <errno.h>
#include <stdlib.h>

#include <imapi/imapi.h>

#include "bus/bus-client.h"
#include "bus/bus-error.h"
#include "bus/bus-objects.h"
#include "bus/bus-util.h"
#include "core/config.h"
#include "core/job.h"
#include "core/master.h"
#include "core/recorder.h"
#include "macro.h"

static int append_recorder_paths(sd_bus_message *reply, BusDaemon *d) {
        Manager *m = d->manager;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_recorders; i++) {
                _cleanup_free_ char *path = NULL;

                if (!m->recorders[i]->present)
                        continue;
                path = bus_recorder_path(m->recorders[i]);
                if (!path)
                        return -ENOMEM;
                r = sd_bus_message_append(reply, "o", path);
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

static int append_job_paths(sd_bus_message *reply, BusDaemon *d) {
        Manager *m = d->manager;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        for (size_t i = 0; r >= 0 && i < m->n_jobs; i++) {
                _cleanup_free_ char *path = bus_job_path(m->jobs[i]);

                r = path ? sd_bus_message_append(reply, "o", path) : -ENOMEM;
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int method_get_jobs(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = append_job_paths(reply, userdata);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int property_get_jobs(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return append_job_paths(reply, userdata);
}

static int method_create_disc_master(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        BusDaemon *d = userdata;
        Master *master;
        Client *c;
        int r;

        r = bus_read_options(m, NULL, NULL, NULL, error);
        if (r < 0)
                return r;
        r = bus_client_get(d, m, true, &c, error);
        if (r < 0)
                return r;
        r = manager_create_master(d->manager, c, &master, &e);
        if (r < 0)
                return bus_error_set_imapi(error, r, &e);
        path = bus_master_path(master);
        if (!path)
                return -ENOMEM;
        return sd_bus_reply_method_return(m, "o", path);
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
        BusDaemon *d = userdata;

        return sd_bus_message_append(reply, "s", d->manager->config->stash_dir);
}

const sd_bus_vtable bus_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Recorders", "ao", property_get_recorders, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Jobs", "ao", property_get_jobs, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StashDirectory", "s", property_get_stash_dir, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("CreateDiscMaster", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("o", master),
                                method_create_disc_master, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetJobs", SD_BUS_NO_ARGS, SD_BUS_RESULT("ao", jobs), method_get_jobs,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetRecorders", SD_BUS_NO_ARGS, SD_BUS_RESULT("ao", recorders),
                                method_get_recorders, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
