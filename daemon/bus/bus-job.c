/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.imapid.Imapi1.Job: the D-Bus adapter of a Job. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "bus/bus-client.h"
#include "bus/bus-error.h"
#include "bus/bus-objects.h"
#include "bus/bus-util.h"
#include "bus/polkit.h"
#include "core/job.h"
#include "macro.h"

static const char *const polkit_options[] = { POLKIT_OPTION_NO_USER_INTERACTION, NULL };

static int method_cancel(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Job *j = userdata;
        BusDaemon *d = bus_daemon_of(j->manager);
        Client *c = NULL;
        uid_t uid = (uid_t) -1;
        int r;

        r = bus_read_options(m, polkit_options, polkit_option_cb, NULL, error);
        if (r < 0)
                return r;
        (void) bus_client_get(d, m, false, &c, NULL);
        (void) bus_message_get_uid(m, &uid);
        /* The client that started the job, or its user, may stop it; anyone else needs
         * manage-other-clients. */
        if (!(c && c == j->owner) && uid != j->uid) {
                r = polkit_authorize(d, m, IMAPI_ACTION_MANAGE_OTHER_CLIENTS, error);
                if (r < 0)
                        return r;
                if (r == 0)
                        return 1;       /* polkit is asked; the call comes back with the answer */
        }
        r = job_request_cancel(j, &e);
        if (r < 0)
                return bus_error_set_imapi(error, r, &e);
        return sd_bus_reply_method_return(m, NULL);
}

/* What the job works on: the disc master of a burn, and the recorder. */
static int append_objects(sd_bus_message *reply, const Job *j) {
        _cleanup_free_ char *master = NULL, *recorder = NULL;
        int r;

        if ((j->master_id > 0 && asprintf(&master, IMAPI_MASTERS_PATH "/%u", j->master_id) < 0) ||
            (j->recorder_id && asprintf(&recorder, IMAPI_RECORDERS_PATH "/%s", j->recorder_id) < 0))
                return -ENOMEM;
        r = sd_bus_message_open_container(reply, 'a', "o");
        if (r >= 0 && master)
                r = sd_bus_message_append(reply, "o", master);
        if (r >= 0 && recorder)
                r = sd_bus_message_append(reply, "o", recorder);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *j = userdata;

        if (streq(property, "Operation"))
                return sd_bus_message_append(reply, "s", j->operation);
        if (streq(property, "Phase"))
                return sd_bus_message_append(reply, "s", job_phase_to_string(j->phase));
        if (streq(property, "Status"))
                return sd_bus_message_append(reply, "s", strempty(j->status));
        if (streq(property, "Progress"))
                return sd_bus_message_append(reply, "d", j->progress);
        if (streq(property, "ProgressValid"))
                return sd_bus_message_append(reply, "b", j->progress_valid);
        if (streq(property, "Bytes"))
                return sd_bus_message_append(reply, "t", j->bytes);
        if (streq(property, "Rate"))
                return sd_bus_message_append(reply, "t", j->rate);
        if (streq(property, "StartTime"))
                return sd_bus_message_append(reply, "t", j->start_usec);
        if (streq(property, "ExpectedEndTime"))
                return sd_bus_message_append(reply, "t", j->expected_end_usec);
        if (streq(property, "BufferFill"))
                return sd_bus_message_append(reply, "d", j->buffer_fill);
        if (streq(property, "DriveBufferFill"))
                return sd_bus_message_append(reply, "d", j->drive_buffer_fill);
        if (streq(property, "Cancelable"))
                return sd_bus_message_append(reply, "b", j->cancelable && !j->completed);
        if (streq(property, "StartedByUID"))
                return sd_bus_message_append(reply, "u", (uint32_t) j->uid);
        if (streq(property, "HResult"))
                return sd_bus_message_append(reply, "u", j->hresult);
        if (streq(property, "Objects"))
                return append_objects(reply, j);
        return -EINVAL;
}

#define PROP(name, sig) SD_BUS_PROPERTY(name, sig, property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)
#define CONST_PROP(name, sig) SD_BUS_PROPERTY(name, sig, property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST)

const sd_bus_vtable bus_job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        CONST_PROP("Operation", "s"),
        CONST_PROP("Objects", "ao"),
        PROP("Phase", "s"),
        PROP("Status", "s"),
        PROP("Progress", "d"),
        PROP("ProgressValid", "b"),
        PROP("Bytes", "t"),
        PROP("Rate", "t"),
        CONST_PROP("StartTime", "t"),
        PROP("ExpectedEndTime", "t"),
        PROP("BufferFill", "d"),
        PROP("DriveBufferFill", "d"),
        PROP("Cancelable", "b"),
        CONST_PROP("StartedByUID", "u"),
        PROP("HResult", "u"),
        SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT, method_cancel,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Completed", SD_BUS_ARGS("b", success, "s", message), 0),
        SD_BUS_VTABLE_END,
};

int bus_job_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                 sd_bus_error *error) {
        Job *j = bus_daemon_find_job(userdata, path);

        if (!j)
                return 0;
        *found = j;
        return 1;
}

int bus_job_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = ((BusDaemon *) userdata)->manager;
        char **l = calloc(m->n_jobs + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_jobs; i++)
                if (!(l[i] = bus_job_path(m->jobs[i]))) {
                        strv_free(l);
                        return -ENOMEM;
                }
        *nodes = l;
        return 0;
}
