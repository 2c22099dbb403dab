/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.imapid.Imapi1.Job: the D-Bus adapter of a Job. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "bus/bus-objects.h"
#include "bus/bus-util.h"
#include "hresult.h"
#include "core/job.h"
#include "macro.h"
#include "bus/polkit.h"

static const char *const polkit_options[] = { POLKIT_OPTION_NO_USER_INTERACTION, NULL };

static int method_cancel(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        Client *c = NULL;
        uid_t uid = (uid_t) -1;
        int r;

        r = bus_read_options(m, polkit_options, polkit_option_cb, NULL, error);
        if (r < 0)
                return r;
        (void) daemon_get_client(j->daemon, m, false, &c, NULL);
        (void) bus_message_get_uid(m, &uid);
        /* The client that started the job, or its user, may stop it; anyone else needs
         * manage-other-clients. */
        if (!(c && c == j->owner) && uid != j->uid) {
                r = daemon_authorize(j->daemon, m, IMAPI_ACTION_MANAGE_OTHER_CLIENTS, error);
                if (r < 0)
                        return r;
                if (r == 0)
                        return 1;       /* polkit is asked; the call comes back with the answer */
        }
        r = job_request_cancel(j, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, NULL);
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *j = userdata;

        if (streq(property, "Operation"))
                return sd_bus_message_append(reply, "s", j->operation);
        if (streq(property, "Phase"))
                return sd_bus_message_append(reply, "s", job_phase_to_string(j->phase));
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
        if (streq(property, "Cancelable"))
                return sd_bus_message_append(reply, "b", j->cancelable && !j->completed);
        if (streq(property, "StartedByUID"))
                return sd_bus_message_append(reply, "u", (uint32_t) j->uid);
        if (streq(property, "HResult"))
                return sd_bus_message_append(reply, "u", j->hresult);
        if (streq(property, "Objects")) {
                int r = sd_bus_message_open_container(reply, 'a', "o");
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(j->objects); i++)
                        if (j->objects[i])
                                r = sd_bus_message_append(reply, "o", j->objects[i]);
                return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        return -EINVAL;
}

#define PROP(name, sig) SD_BUS_PROPERTY(name, sig, property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)
#define CONST_PROP(name, sig) SD_BUS_PROPERTY(name, sig, property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST)

const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        CONST_PROP("Operation", "s"),
        CONST_PROP("Objects", "ao"),
        PROP("Phase", "s"),
        PROP("Progress", "d"),
        PROP("ProgressValid", "b"),
        PROP("Bytes", "t"),
        PROP("Rate", "t"),
        CONST_PROP("StartTime", "t"),
        PROP("ExpectedEndTime", "t"),
        PROP("BufferFill", "d"),
        PROP("Cancelable", "b"),
        CONST_PROP("StartedByUID", "u"),
        PROP("HResult", "u"),
        SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT, method_cancel,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Completed", SD_BUS_ARGS("b", success, "s", message), 0),
        SD_BUS_VTABLE_END,
};

int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error) {
        Job *j = daemon_find_job_by_path(userdata, path);

        if (!j)
                return 0;
        *found = j;
        return 1;
}

int job_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Daemon *d = userdata;
        char **l = calloc(d->n_jobs + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_jobs; i++)
                if (!(l[i] = strdup(d->jobs[i]->path))) {
                        strv_free(l);
                        return -ENOMEM;
                }
        *nodes = l;
        return 0;
}
