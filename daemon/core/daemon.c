/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon object: its connections, recorders and clients, and emitting on all connections. */

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <imapi/imapi.h>

#include "core/burn-audio.h"
#include "bus/bus-objects.h"
#include "bus/bus-util.h"
#include "core/config.h"
#include "core/daemon.h"
#include "core/hotplug.h"
#include "hresult.h"
#include "bus/inhibit.h"
#include "core/job.h"
#include "log.h"
#include "macro.h"
#include "core/master.h"
#include "bus/p2p.h"
#include "bus/polkit.h"
#include "core/recorder.h"
#include "core/burn-data.h"
#include "core/worker.h"

int daemon_new(sd_event *event, const Config *config, Daemon **ret) {
        Daemon *d;
        int r;

        d = calloc(1, sizeof(Daemon));
        if (!d)
                return -ENOMEM;
        d->event = sd_event_ref(event);
        d->config = config;
        r = worker_new(event, &d->worker);
        if (r < 0) {
                sd_event_unref(d->event);
                free(d);
                return r;
        }
        *ret = d;
        return 0;
}

static Client *client_free(Client *c) {
        if (!c)
                return NULL;
        sd_bus_track_unref(c->track);
        sd_bus_unref(c->bus);
        free(c->name);
        free(c->description);
        free(c);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Client *, client_free);

Daemon *daemon_free(Daemon *d) {
        if (!d)
                return NULL;
        hotplug_stop(d);
        /* Peers go first (they drop their clients), and nothing may answer a query later. */
        p2p_done(d);
        polkit_done(d);
        inhibitor_done(d);
        /* Clients first: releasing what they hold touches the recorders. */
        while (d->n_clients > 0)
                daemon_client_gone(d, d->clients[d->n_clients - 1]);
        free(d->clients);
        /* Work still running was cancelled by daemon_request_exit(), unless the loop ended for
         * another reason (the bus went away): stop burns synchronously, then wait for the
         * worker threads. */
        for (size_t i = d->n_masters; i > 0; i--)
                if (i - 1 < d->n_masters)
                        master_abort_recording(d->masters[i - 1]);
        for (size_t i = d->n_masters; i > 0; i--)
                if (i - 1 < d->n_masters)
                        master_abort_audio_recording(d->masters[i - 1]);
        for (size_t i = 0; i < d->n_masters; i++) {
                master_cancel_adding(d->masters[i]);
                master_cancel_audio_adding(d->masters[i]);
        }
        d->worker = worker_free(d->worker);
        while (d->n_masters > 0)
                master_free(d->masters[d->n_masters - 1]);
        free(d->masters);
        while (d->n_jobs > 0)
                job_free(d->jobs[d->n_jobs - 1]);
        free(d->jobs);
        for (size_t i = 0; i < d->n_recorders; i++)
                recorder_free(d->recorders[i]);
        free(d->recorders);
        for (size_t i = 0; i < d->n_buses; i++)
                sd_bus_flush_close_unref(d->buses[i]);
        free(d->buses);
        sd_event_unref(d->event);
        free(d);
        return NULL;
}

static int daemon_add_recorder(Daemon *d, Drive *drive, const char *id) {
        Recorder **l, *r;
        int k;

        l = realloc(d->recorders, (d->n_recorders + 1) * sizeof(Recorder *));
        if (!l)
                return -ENOMEM;
        d->recorders = l;
        k = recorder_new(d, drive, id, &r);
        if (k < 0)
                return k;
        d->recorders[d->n_recorders++] = r;
        /* A first look at profiles, speeds and medium, so clients see them before anyone opens
         * the recorder. Not loading the tray: a drive left open stays open. */
        if (drive_grab(drive, false) >= 0) {
                (void) recorder_refresh_media(r, NULL);
                drive_release(drive, false);
        }
        log_info("Recorder %s: %s %s %s at %s.", r->id, drive_get_vendor(drive), drive_get_product(drive),
                 drive_get_revision(drive), drive_get_address(drive));
        return 0;
}

/* "sr0" for /dev/sr0; "stdioN" or "driveN" otherwise, numbered in configuration order. */
static int recorder_id_for(Daemon *d, const char *address, char **ret) {
        const char *base = strrchr(address, '/');
        unsigned n = 0;
        const char *prefix = strncmp(address, "stdio:", 6) == 0 ? "stdio" : "drive";
        char *id;

        if (strncmp(address, "/dev/", 5) == 0 && base && base[1] && strspn(base + 1,
            "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(base + 1)) {
                id = strdup(base + 1);
                if (!id)
                        return -ENOMEM;
                for (size_t i = 0; i < d->n_recorders; i++)
                        if (streq(d->recorders[i]->id, id)) {
                                free(id);
                                goto numbered;
                        }
                *ret = id;
                return 0;
        }
numbered:
        for (size_t i = 0; i < d->n_recorders; i++)
                if (strncmp(d->recorders[i]->id, prefix, strlen(prefix)) == 0)
                        n++;
        if (asprintf(&id, "%s%u", prefix, n) < 0)
                return -ENOMEM;
        *ret = id;
        return 0;
}

static int mkdir_parents(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        return 0;
}

static bool daemon_has_address(Daemon *d, const char *address) {
        /* libburn reports stdio: drives by path, without the prefix. */
        const char *a = strncmp(address, "stdio:", 6) == 0 ? address + 6 : address;

        for (size_t i = 0; i < d->n_recorders; i++)
                if (streq(drive_get_address(d->recorders[i]->drive), a))
                        return true;
        return false;
}

int daemon_add_address(Daemon *d, const char *address) {
        _cleanup_free_ char *id = NULL;
        Drive *drive;
        int r;

        if (daemon_has_address(d, address)) {
                log_warning("Drive %s is listed twice, ignoring the second.", address);
                return 0;
        }
        r = drive_new_from_address(address, &drive);
        if (r < 0)
                return r;
        r = recorder_id_for(d, address, &id);
        if (r < 0) {
                drive_free(drive);
                return r;
        }
        r = daemon_add_recorder(d, drive, id);
        if (r < 0)
                drive_free(drive);
        return r;
}

int daemon_add_recorders(Daemon *d) {
        int r;

        if (d->config->scan) {
                _cleanup_free_ Drive **drives = NULL;
                size_t n = 0;

                r = drive_scan(&drives, &n);
                if (r < 0)
                        log_warning_errno(r, "Scanning for drives failed, continuing without: %m");
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *id = NULL;

                        r = recorder_id_for(d, drive_get_address(drives[i]), &id);
                        if (r >= 0)
                                r = daemon_add_recorder(d, drives[i], id);
                        if (r < 0) {
                                drive_free(drives[i]);
                                return r;
                        }
                }
        }

        for (char **a = d->config->drives; a && *a; a++) {
                r = daemon_add_address(d, *a);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        log_warning_errno(r, "Drive %s is not usable, ignoring: %m", *a);
        }

        if (d->n_recorders == 0 && d->config->default_drive) {
                log_info("No drive found; offering %s.", d->config->default_drive);
                /* The built-in image file lives in imapid's own state directory. */
                if (streq(d->config->default_drive, CONFIG_DEFAULT_DRIVE))
                        (void) mkdir_parents(CONFIG_DEFAULT_DRIVE + strlen("stdio:"), 0755);
                r = daemon_add_address(d, d->config->default_drive);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        log_warning_errno(r, "Default drive %s is not usable, ignoring: %m",
                                          d->config->default_drive);
        }

        if (d->n_recorders == 0)
                log_notice("No recorders available.");
        return 0;
}

Recorder *daemon_find_recorder_by_path(Daemon *d, const char *path) {
        for (size_t i = 0; i < d->n_recorders; i++)
                if (streq(d->recorders[i]->path, path))
                        return d->recorders[i];
        return NULL;
}

int daemon_attach_bus(Daemon *d, sd_bus *bus) {
        sd_bus **l;
        int r;

        r = sd_bus_add_object_manager(bus, NULL, IMAPI_ROOT_PATH);
        if (r < 0)
                return log_error_errno(r, "Failed to add object manager: %m");
        r = sd_bus_add_object_vtable(bus, NULL, IMAPI_MANAGER_PATH, IMAPI_MANAGER_INTERFACE, manager_vtable, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add manager object: %m");
        r = sd_bus_add_fallback_vtable(bus, NULL, IMAPI_RECORDERS_PATH, IMAPI_RECORDER_INTERFACE, recorder_vtable,
                                       recorder_object_find, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add recorder objects: %m");
        r = sd_bus_add_node_enumerator(bus, NULL, IMAPI_RECORDERS_PATH, recorder_node_enumerator, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add recorder enumerator: %m");
        r = sd_bus_add_fallback_vtable(bus, NULL, IMAPI_MASTERS_PATH, IMAPI_DISC_MASTER_INTERFACE, master_vtable,
                                       master_object_find, d);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, NULL, IMAPI_MASTERS_PATH, IMAPI_JOLIET_INTERFACE, joliet_vtable,
                                               master_object_find, d);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, NULL, IMAPI_MASTERS_PATH, IMAPI_REDBOOK_INTERFACE, redbook_vtable,
                                               master_object_find, d);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(bus, NULL, IMAPI_MASTERS_PATH, master_node_enumerator, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add disc master objects: %m");
        r = sd_bus_add_fallback_vtable(bus, NULL, IMAPI_JOBS_PATH, IMAPI_JOB_INTERFACE, job_vtable, job_object_find,
                                       d);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(bus, NULL, IMAPI_JOBS_PATH, job_node_enumerator, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add job objects: %m");

        l = realloc(d->buses, (d->n_buses + 1) * sizeof(sd_bus *));
        if (!l)
                return log_oom();
        d->buses = l;
        d->buses[d->n_buses++] = sd_bus_ref(bus);
        return 0;
}

void daemon_detach_bus(Daemon *d, sd_bus *bus) {
        for (size_t i = 0; i < d->n_buses; i++)
                if (d->buses[i] == bus) {
                        memmove(d->buses + i, d->buses + i + 1, (d->n_buses - i - 1) * sizeof(sd_bus *));
                        d->n_buses--;
                        sd_bus_unref(bus);
                        return;
                }
}

void daemon_emit_properties_changed(Daemon *d, const char *path, const char *interface, ...) {
        const char *names[64];
        size_t n = 0;
        va_list ap;

        va_start(ap, interface);
        for (const char *s; (s = va_arg(ap, const char *)) && n < ELEMENTSOF(names) - 1;)
                names[n++] = s;
        va_end(ap);
        names[n] = NULL;

        for (size_t i = 0; i < d->n_buses; i++) {
                int r = sd_bus_emit_properties_changed_strv(d->buses[i], path, interface, (char **) names);
                if (r < 0)
                        log_debug_errno(r, "Failed to emit PropertiesChanged on %s, ignoring: %m", path);
        }
}

void daemon_emit_object_added(Daemon *d, const char *path) {
        for (size_t i = 0; i < d->n_buses; i++)
                (void) sd_bus_emit_object_added(d->buses[i], path);
}

void daemon_emit_object_removed(Daemon *d, const char *path) {
        for (size_t i = 0; i < d->n_buses; i++)
                (void) sd_bus_emit_object_removed(d->buses[i], path);
}

static int client_track_handler(sd_bus_track *t, void *userdata) {
        Client *c = userdata;

        daemon_client_gone(c->daemon, c);
        return 0;
}

int daemon_get_client(Daemon *d, sd_bus_message *m, bool create, Client **ret, sd_bus_error *error) {
        sd_bus *bus = sd_bus_message_get_bus(m);
        const char *sender = sd_bus_message_get_sender(m);
        _cleanup_(client_freep) Client *c = NULL;
        Client **l;
        int r;

        for (size_t i = 0; i < d->n_clients; i++)
                if (d->clients[i]->bus == bus && streq_ptr(d->clients[i]->name, sender)) {
                        *ret = d->clients[i];
                        return 0;
                }
        if (!create) {
                *ret = NULL;
                return -ENOENT;
        }
        if (d->n_clients >= d->config->max_clients)
                return bus_error_hresult(error, IMAPI_E_OUTOFMEMORY,
                                         "imapid serves at most %u clients holding recorders or disc masters.",
                                         d->config->max_clients);

        c = calloc(1, sizeof(Client));
        if (!c)
                return -ENOMEM;
        c->daemon = d;
        c->bus = sd_bus_ref(bus);
        if (bus_message_get_uid(m, &c->uid) < 0)
                c->uid = (uid_t) -1;
        if (sender) {
                c->name = strdup(sender);
                if (!c->name)
                        return -ENOMEM;
                /* The client is gone when its name is: sd_bus_track follows NameOwnerChanged. */
                r = sd_bus_track_new(bus, &c->track, client_track_handler, c);
                if (r < 0)
                        return r;
                r = sd_bus_track_add_name(c->track, sender);
                if (r < 0)
                        return r;
                r = asprintf(&c->description, "%s (uid %d)", sender, (int) c->uid);
        } else
                r = asprintf(&c->description, "peer (uid %d)", (int) c->uid);
        if (r < 0)
                return -ENOMEM;

        l = realloc(d->clients, (d->n_clients + 1) * sizeof(Client *));
        if (!l)
                return -ENOMEM;
        d->clients = l;
        d->clients[d->n_clients++] = c;
        *ret = TAKE_PTR(c);
        return 0;
}

void daemon_client_gone(Daemon *d, Client *c) {
        for (size_t i = 0; i < d->n_recorders; i++)
                recorder_client_gone(d->recorders[i], c);
        /* Masters may free themselves: walk a snapshot backwards. */
        for (size_t i = d->n_masters; i > 0; i--)
                if (i - 1 < d->n_masters)
                        master_client_gone(d->masters[i - 1], c);
        for (size_t i = 0; i < d->n_jobs; i++)
                if (d->jobs[i]->owner == c)
                        d->jobs[i]->owner = NULL;

        for (size_t i = 0; i < d->n_clients; i++)
                if (d->clients[i] == c) {
                        memmove(d->clients + i, d->clients + i + 1, (d->n_clients - i - 1) * sizeof(Client *));
                        d->n_clients--;
                        break;
                }
        log_debug("Client %s is gone.", c->description);
        client_free(c);
}

void daemon_peer_gone(Daemon *d, sd_bus *bus) {
        for (size_t i = d->n_clients; i > 0; i--)
                if (d->clients[i - 1]->bus == bus)
                        daemon_client_gone(d, d->clients[i - 1]);
}

void daemon_request_exit(Daemon *d) {
        if (!d->exiting) {
                d->exiting = true;
                if (d->n_jobs > 0)
                        log_info("Stopping: cancelling %zu running job(s) first.", d->n_jobs);
                for (size_t i = 0; i < d->n_jobs; i++)
                        (void) job_request_cancel(d->jobs[i], NULL);
                for (size_t i = 0; i < d->n_masters; i++) {
                        master_cancel_adding(d->masters[i]);
                        master_cancel_audio_adding(d->masters[i]);
                }
        }
        daemon_check_exit(d);
}

void daemon_check_exit(Daemon *d) {
        if (!d->exiting || d->n_jobs > 0)
                return;
        for (size_t i = 0; i < d->n_masters; i++)
                if (master_busy(d->masters[i]))
                        return;
        (void) sd_event_exit(d->event, 0);
}
