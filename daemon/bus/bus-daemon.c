/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bus layer's connections, object registration, paths and emission (bus-daemon.h). */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "bus/bus-client.h"
#include "bus/bus-daemon.h"
#include "bus/bus-emit.h"
#include "bus/bus-objects.h"
#include "bus/bus-sender.h"
#include "bus/inhibitor.h"
#include "bus/p2p.h"
#include "bus/polkit.h"
#include "core/job.h"
#include "core/master.h"
#include "core/recorder.h"
#include "log.h"
#include "macro.h"

int bus_daemon_new(Manager *m, BusDaemon **ret) {
        BusDaemon *d = calloc(1, sizeof(BusDaemon));
        CoreObserver o;

        if (!d)
                return -ENOMEM;
        d->manager = m;
        d->event = m->event;
        bus_emit_observer(d, &o);
        manager_set_observer(m, &o);
        *ret = d;
        return 0;
}

BusDaemon *bus_daemon_free(BusDaemon *d) {
        if (!d)
                return NULL;
        /* Nothing is emitted any more: what follows tears the objects down. */
        manager_set_observer(d->manager, NULL);
        /* Peers go first (they drop their clients), and nothing may answer a query later. */
        p2p_done(d);
        polkit_done(d);
        bus_senders_done(d);
        inhibitor_done(d);
        bus_client_drop_all(d);
        for (size_t i = 0; i < d->n_buses; i++)
                sd_bus_flush_close_unref(d->buses[i]);
        free(d->buses);
        free(d);
        return NULL;
}

char *bus_recorder_path(const Recorder *r) {
        char *p;

        /* Ids are letters and digits: they end the path as they are. */
        return asprintf(&p, IMAPI_RECORDERS_PATH "/%s", r->id) < 0 ? NULL : p;
}

char *bus_master_path(const Master *m) {
        char *p;

        return asprintf(&p, IMAPI_MASTERS_PATH "/%u", m->id) < 0 ? NULL : p;
}

char *bus_job_path(const Job *j) {
        char *p;

        return asprintf(&p, IMAPI_JOBS_PATH "/%u", j->id) < 0 ? NULL : p;
}

/* The last element of path below prefix, or NULL. */
static const char *path_leaf(const char *path, const char *prefix) {
        size_t n = strlen(prefix);

        if (!path || strncmp(path, prefix, n) != 0 || path[n] != '/' || !path[n + 1] || strchr(path + n + 1, '/'))
                return NULL;
        return path + n + 1;
}

/* "1" to "4294967295", without signs, spaces or leading zeros: one path per object. */
static bool parse_id(const char *s, unsigned *ret) {
        unsigned long v;
        char *end;

        if (!s || s[0] < '1' || s[0] > '9')
                return false;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end || v > UINT32_MAX)
                return false;
        *ret = (unsigned) v;
        return true;
}

Recorder *bus_daemon_find_recorder(BusDaemon *d, const char *path) {
        const char *id = path_leaf(path, IMAPI_RECORDERS_PATH);

        return id ? manager_find_recorder(d->manager, id) : NULL;
}

Master *bus_daemon_find_master(BusDaemon *d, const char *path) {
        unsigned id;

        return parse_id(path_leaf(path, IMAPI_MASTERS_PATH), &id) ? manager_find_master(d->manager, id) : NULL;
}

Job *bus_daemon_find_job(BusDaemon *d, const char *path) {
        unsigned id;

        return parse_id(path_leaf(path, IMAPI_JOBS_PATH), &id) ? manager_find_job(d->manager, id) : NULL;
}

/* imapid's object paths are short (IMAPI_ROOT_PATH and an id); sd-bus looks a path up prefix by
 * prefix, so a call on a path of tens of KiB holds the loop for most of a second, for every
 * client. Such a call is answered before the lookup. (At 64 KiB and more sd-bus itself drops the
 * message as invalid, BUS_PATH_SIZE_MAX, before imapid sees it: the caller gets no reply.) */
#define BUS_OBJECT_PATH_MAX 1024

static int filter_long_paths(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *path = sd_bus_message_get_path(m);
        size_t n;

        if (!path || !sd_bus_message_is_method_call(m, NULL, NULL))
                return 0;
        n = strlen(path);
        if (n <= BUS_OBJECT_PATH_MAX)
                return 0;
        (void) sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_OBJECT,
                                          "No object at a path of %zu bytes: imapid's paths are at most %d "
                                          "bytes, under %s.", n, BUS_OBJECT_PATH_MAX, IMAPI_ROOT_PATH);
        return 1;
}

static int add_objects(BusDaemon *d, sd_bus *bus) {
        int r;

        r = sd_bus_add_filter(bus, NULL, filter_long_paths, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add the object path filter: %m");
        r = sd_bus_add_object_manager(bus, NULL, IMAPI_ROOT_PATH);
        if (r < 0)
                return log_error_errno(r, "Failed to add object manager: %m");
        r = sd_bus_add_object_vtable(bus, NULL, IMAPI_MANAGER_PATH, IMAPI_MANAGER_INTERFACE,
                                     bus_manager_vtable, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add manager object: %m");
        r = sd_bus_add_fallback_vtable(bus, NULL, IMAPI_RECORDERS_PATH, IMAPI_RECORDER_INTERFACE,
                                       bus_recorder_vtable, bus_recorder_find, d);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(bus, NULL, IMAPI_RECORDERS_PATH, bus_recorder_enumerate, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add recorder objects: %m");
        r = sd_bus_add_fallback_vtable(bus, NULL, IMAPI_MASTERS_PATH, IMAPI_DISC_MASTER_INTERFACE,
                                       bus_master_vtable, bus_master_find, d);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, NULL, IMAPI_MASTERS_PATH, IMAPI_JOLIET_INTERFACE,
                                               bus_joliet_vtable, bus_master_find, d);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, NULL, IMAPI_MASTERS_PATH, IMAPI_REDBOOK_INTERFACE,
                                               bus_redbook_vtable, bus_master_find, d);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, NULL, IMAPI_MASTERS_PATH, IMAPI_IMAGE_INTERFACE,
                                               bus_image_vtable, bus_master_find, d);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(bus, NULL, IMAPI_MASTERS_PATH, bus_master_enumerate, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add disc master objects: %m");
        r = sd_bus_add_fallback_vtable(bus, NULL, IMAPI_JOBS_PATH, IMAPI_JOB_INTERFACE, bus_job_vtable,
                                       bus_job_find, d);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(bus, NULL, IMAPI_JOBS_PATH, bus_job_enumerate, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add job objects: %m");
        return 0;
}

int bus_daemon_attach(BusDaemon *d, sd_bus *bus) {
        sd_bus **l;
        int r;

        r = add_objects(d, bus);
        if (r < 0)
                return r;
        /* A bus, not a peer: its senders' uids are asked without waiting. */
        if (sd_bus_is_bus_client(bus) > 0) {
                r = bus_senders_attach(d, bus);
                if (r < 0)
                        return r;
        }
        l = realloc(d->buses, (d->n_buses + 1) * sizeof(sd_bus *));
        if (!l)
                return log_oom();
        d->buses = l;
        d->buses[d->n_buses++] = sd_bus_ref(bus);
        return 0;
}

void bus_daemon_detach(BusDaemon *d, sd_bus *bus) {
        for (size_t i = 0; i < d->n_buses; i++)
                if (d->buses[i] == bus) {
                        memmove(d->buses + i, d->buses + i + 1, (d->n_buses - i - 1) * sizeof(sd_bus *));
                        d->n_buses--;
                        sd_bus_unref(bus);
                        return;
                }
}

void bus_daemon_emit_properties_changed(BusDaemon *d, const char *path, const char *interface,
                                        const char *const *names) {
        for (size_t i = 0; path && i < d->n_buses; i++) {
                int r = sd_bus_emit_properties_changed_strv(d->buses[i], path, interface, (char **) names);
                if (r < 0)
                        log_debug_errno(r, "Failed to emit PropertiesChanged on %s, ignoring: %m", path);
        }
}

void bus_daemon_emit_signal(BusDaemon *d, const char *path, const char *interface, const char *member,
                            const char *types, ...) {
        for (size_t i = 0; path && i < d->n_buses; i++) {
                va_list ap;
                int r;

                va_start(ap, types);
                r = sd_bus_emit_signalv(d->buses[i], path, interface, member, types, ap);
                va_end(ap);
                if (r < 0)
                        log_debug_errno(r, "Failed to emit %s on %s, ignoring: %m", member, path);
        }
}
