/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The core's objects, their lookup, clients, the exit decision, and the observer (manager.h). */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <imapi/imapierror.h>

#include "core/burn.h"
#include "core/client.h"
#include "core/config.h"
#include "core/hotplug.h"
#include "core/job.h"
#include "core/manager.h"
#include "core/master.h"
#include "core/quota.h"
#include "core/recorder.h"
#include "core/worker.h"
#include "hresult.h"
#include "log.h"
#include "macro.h"

int manager_new(sd_event *event, const Config *config, Manager **ret) {
        struct rlimit rl;
        Limits limits;
        Manager *m;
        int r;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        r = limits_derive(config, rl.rlim_cur, &limits);
        if (r < 0)
                return r;
        m = calloc(1, sizeof(Manager));
        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(event);
        m->config = config;
        m->limits = limits;
        r = worker_new(event, &m->worker);
        if (r < 0) {
                sd_event_unref(m->event);
                free(m);
                return r;
        }
        *ret = m;
        return 0;
}

void manager_set_observer(Manager *m, const CoreObserver *o) {
        m->observer = o ? *o : (CoreObserver) {};
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        hotplug_stop(m);
        /* No new work for the workers, which are about to stop. */
        m->exiting = true;
        /* Clients first: releasing what they hold touches the recorders. */
        while (m->n_clients > 0)
                manager_client_gone(m, m->clients[m->n_clients - 1]);
        free(m->clients);
        /* Work still running was cancelled by manager_request_exit(), unless the loop ended for
         * another reason (the bus went away): stop burns synchronously, then wait for the
         * worker threads. */
        for (size_t i = m->n_masters; i > 0; i--)
                if (i - 1 < m->n_masters)
                        burn_abort(m->masters[i - 1]->burn);
        for (size_t i = 0; i < m->n_masters; i++)
                master_cancel_staging(m->masters[i]);
        m->worker = worker_free(m->worker);
        while (m->n_masters > 0)
                master_free(m->masters[m->n_masters - 1]);
        free(m->masters);
        while (m->n_jobs > 0)
                job_free(m->jobs[m->n_jobs - 1]);
        free(m->jobs);
        for (size_t i = 0; i < m->n_recorders; i++)
                recorder_free(m->recorders[i]);
        free(m->recorders);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

static int manager_add_recorder(Manager *m, Drive *drive, const char *id, RecorderReadout *first_look) {
        Recorder **l, *r;
        int k;

        l = realloc(m->recorders, (m->n_recorders + 1) * sizeof(Recorder *));
        if (!l)
                return -ENOMEM;
        m->recorders = l;
        k = recorder_new(m, drive, id, &r);
        if (k < 0)
                return k;
        m->recorders[m->n_recorders++] = r;
        manager_notify_added(m, OBJECT_RECORDER, r);
        /* A first look at profiles, speeds and medium, so clients see them before anyone opens
         * the recorder. Not loading the tray: a drive left open stays open. */
        if (first_look) {
                if (recorder_apply_readout(r, first_look) >= 0)
                        recorder_changed(r);
        } else if (drive_grab(drive, false) >= 0) {
                (void) recorder_refresh_media(r, NULL);
                drive_release(drive, false);
        }
        recorder_log_event(r, LOG_INFO, IMAPI_MESSAGE_RECORDER_ADDED, "Recorder %s: %s %s %s at %s.", r->id,
                           drive_get_vendor(drive), drive_get_product(drive), drive_get_revision(drive),
                           drive_get_address(drive));
        return 0;
}

/* "sr0" for /dev/sr0; "stdioN" or "driveN" otherwise, numbered in configuration order. Ids are
 * letters and digits only: they end the recorders' object paths as they are. */
static int recorder_id_for(Manager *m, const char *address, char **ret) {
        const char *base = strrchr(address, '/');
        unsigned n = 0;
        const char *prefix = strncmp(address, "stdio:", 6) == 0 ? "stdio" : "drive";
        char *id;

        if (strncmp(address, "/dev/", 5) == 0 && base && base[1] && strspn(base + 1,
            "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(base + 1)) {
                id = strdup(base + 1);
                if (!id)
                        return -ENOMEM;
                if (!manager_find_recorder(m, id)) {
                        *ret = id;
                        return 0;
                }
                free(id);
        }
        for (size_t i = 0; i < m->n_recorders; i++)
                if (strncmp(m->recorders[i]->id, prefix, strlen(prefix)) == 0)
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

static bool manager_has_address(Manager *m, const char *address) {
        /* libburn reports stdio: drives by path, without the prefix. */
        const char *a = strncmp(address, "stdio:", 6) == 0 ? address + 6 : address;

        for (size_t i = 0; i < m->n_recorders; i++)
                if (streq(drive_get_address(m->recorders[i]->drive), a))
                        return true;
        return false;
}

int manager_add_address(Manager *m, const char *address) {
        Drive *drive;
        int r;

        if (manager_has_address(m, address)) {
                log_warning("Drive %s is listed twice, ignoring the second.", address);
                return 0;
        }
        r = drive_new_from_address(address, &drive);
        if (r < 0)
                return r;
        r = manager_add_drive(m, address, drive, NULL);
        if (r < 0)
                drive_free(drive);
        return r;
}

int manager_add_drive(Manager *m, const char *address, Drive *drive, RecorderReadout *first_look) {
        _cleanup_free_ char *id = NULL;
        int r;

        r = recorder_id_for(m, address, &id);
        if (r < 0)
                return r;
        return manager_add_recorder(m, drive, id, first_look);
}

int manager_add_recorders(Manager *m) {
        int r;

        if (m->config->scan) {
                _cleanup_free_ Drive **drives = NULL;
                size_t n = 0;

                r = drive_scan(&drives, &n);
                if (r < 0)
                        log_warning_errno(r, "Scanning for drives failed, continuing without: %m");
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *id = NULL;

                        r = recorder_id_for(m, drive_get_address(drives[i]), &id);
                        if (r >= 0)
                                r = manager_add_recorder(m, drives[i], id, NULL);
                        if (r < 0) {
                                drive_free(drives[i]);
                                return r;
                        }
                }
        }

        for (char **a = m->config->drives; a && *a; a++) {
                r = manager_add_address(m, *a);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        log_warning_errno(r, "Drive %s is not usable, ignoring: %m", *a);
        }

        if (m->n_recorders == 0 && m->config->default_drive) {
                log_info("No drive found; offering %s.", m->config->default_drive);
                /* The built-in image file lives in imapid's own state directory. */
                if (streq(m->config->default_drive, CONFIG_DEFAULT_DRIVE))
                        (void) mkdir_parents(CONFIG_DEFAULT_DRIVE + strlen("stdio:"), 0755);
                r = manager_add_address(m, m->config->default_drive);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        log_warning_errno(r, "Default drive %s is not usable, ignoring: %m",
                                          m->config->default_drive);
        }

        if (m->n_recorders == 0)
                log_notice("No recorders available.");
        return 0;
}

Recorder *manager_find_recorder(Manager *m, const char *id) {
        for (size_t i = 0; i < m->n_recorders; i++)
                if (streq(m->recorders[i]->id, id))
                        return m->recorders[i];
        return NULL;
}

Master *manager_find_master(Manager *m, unsigned id) {
        for (size_t i = 0; i < m->n_masters; i++)
                if (m->masters[i]->id == id)
                        return m->masters[i];
        return NULL;
}

Job *manager_find_job(Manager *m, unsigned id) {
        for (size_t i = 0; i < m->n_jobs; i++)
                if (m->jobs[i]->id == id)
                        return m->jobs[i];
        return NULL;
}

int manager_add_client(Manager *m, uid_t uid, const char *description, Client **ret, ImapiError *error) {
        Client **l, *c;
        int r;

        if (m->n_clients >= m->config->max_clients)
                return imapi_error_set(error, IMAPI_E_OUTOFMEMORY,
                                       "imapid serves at most %u clients holding recorders or disc masters.",
                                       m->config->max_clients);
        r = quota_check_client(m, uid, error);
        if (r < 0)
                return r;
        l = realloc(m->clients, (m->n_clients + 1) * sizeof(Client *));
        if (!l)
                return -ENOMEM;
        m->clients = l;
        r = client_new(m, uid, description, &c);
        if (r < 0)
                return r;
        m->clients[m->n_clients++] = c;
        *ret = c;
        return 0;
}

void manager_client_gone(Manager *m, Client *c) {
        for (size_t i = 0; i < m->n_recorders; i++)
                recorder_client_gone(m->recorders[i], c);
        /* Masters may free themselves: walk a snapshot backwards. */
        for (size_t i = m->n_masters; i > 0; i--)
                if (i - 1 < m->n_masters)
                        master_client_gone(m->masters[i - 1], c);
        for (size_t i = 0; i < m->n_jobs; i++)
                if (m->jobs[i]->owner == c)
                        m->jobs[i]->owner = client_unref(m->jobs[i]->owner);

        for (size_t i = 0; i < m->n_clients; i++)
                if (m->clients[i] == c) {
                        memmove(m->clients + i, m->clients + i + 1, (m->n_clients - i - 1) * sizeof(Client *));
                        m->n_clients--;
                        break;
                }
        log_debug("Client %s is gone.", c->description);
        c->gone = true;
        client_unref(c);
        manager_check_exit(m);
}

static unsigned manager_count_masters_of(Manager *m, Client *c) {
        unsigned n = 0;

        for (size_t i = 0; i < m->n_masters; i++)
                n += m->masters[i]->owner == c;
        return n;
}

int manager_hold_call_fds(Manager *m, size_t n, ImapiError *error) {
        if (n > m->limits.max_call_fds - MIN(m->n_call_fds, m->limits.max_call_fds))
                return imapi_error_set(error, IMAPI_E_OUTOFMEMORY,
                                       "Calls in progress hold %zu of the %u file descriptors imapid keeps "
                                       "for them; %zu more do not fit, try again when they are done.",
                                       m->n_call_fds, m->limits.max_call_fds, n);
        m->n_call_fds += n;
        return 0;
}

void manager_release_call_fds(Manager *m, size_t n) {
        m->n_call_fds -= MIN(n, m->n_call_fds);
}

int manager_create_master(Manager *m, Client *c, Master **ret, ImapiError *error) {
        /* A stash still being deleted holds its directory's fd as an open master does. */
        if (m->n_masters + m->n_stashes_leaving >= m->limits.max_masters)
                return imapi_error_set(error, IMAPI_E_OUTOFMEMORY,
                                       "imapid holds %u disc masters, as many as it serves (MaxDiscMasters, "
                                       "within its file descriptor limit); try again when one is closed.",
                                       m->limits.max_masters);
        if (c) {
                int r = quota_check_master(m, c->uid, error);

                if (r < 0)
                        return r;
        }
        if (manager_count_masters_of(m, c) >= m->config->max_masters_per_client)
                return imapi_error_set(error, IMAPI_E_OUTOFMEMORY,
                                       "A client may hold at most %u disc masters; close one first.",
                                       m->config->max_masters_per_client);
        return master_new(m, c, ret);
}

void manager_request_exit(Manager *m) {
        if (!m->exiting) {
                m->exiting = true;
                if (m->n_jobs > 0)
                        log_info("Stopping: cancelling %zu running job(s) first.", m->n_jobs);
                for (size_t i = 0; i < m->n_jobs; i++)
                        (void) job_request_cancel(m->jobs[i], NULL);
                for (size_t i = 0; i < m->n_masters; i++)
                        master_cancel_staging(m->masters[i]);
        }
        manager_check_exit(m);
}

void manager_check_exit(Manager *m) {
        if (!m->exiting || m->n_jobs > 0)
                return;
        for (size_t i = 0; i < m->n_masters; i++)
                if (master_busy(m->masters[i]))
                        return;
        (void) sd_event_exit(m->event, 0);
}

bool manager_is_idle(const Manager *m) {
        if (m->n_clients > 0 || m->n_masters > 0 || m->n_jobs > 0)
                return false;
        for (size_t i = 0; i < m->n_recorders; i++)
                if (m->recorders[i]->owner || recorder_reserved(m->recorders[i]))
                        return false;
        return true;
}

void manager_note_dispatch(Manager *m, const DispatchUsage *u) {
        for (size_t i = 0; i < m->n_jobs; i++)
                if (u->usec > m->jobs[i]->longest_dispatch_usec)
                        m->jobs[i]->longest_dispatch_usec = u->usec;
        /* bench/run reads this line. */
        if (u->usec > MANAGER_SLOW_DISPATCH_USEC)
                log_debug("One dispatch of the event loop took %.2f ms (%.2f ms on the CPU, %" PRIu64 " waits, "
                          "%" PRIu64 " preemptions).", (double) u->usec / 1000.0, (double) u->cpu_usec / 1000.0,
                          u->waits, u->preemptions);
}

void manager_notify_added(Manager *m, ObjectKind kind, void *object) {
        if (m->observer.object_added)
                m->observer.object_added(m->observer.userdata, kind, object);
}

void manager_notify_removed(Manager *m, ObjectKind kind, void *object) {
        if (m->observer.object_removed)
                m->observer.object_removed(m->observer.userdata, kind, object);
}

void manager_notify_recorder(Manager *m, Recorder *r, unsigned changes) {
        if (m->observer.recorder_changed)
                m->observer.recorder_changed(m->observer.userdata, r, changes);
}

void manager_notify_master(Manager *m, Master *master, unsigned changes) {
        if (m->observer.master_changed)
                m->observer.master_changed(m->observer.userdata, master, changes);
}

void manager_notify_job(Manager *m, Job *j, unsigned changes) {
        if (m->observer.job_changed)
                m->observer.job_changed(m->observer.userdata, j, changes);
}

void manager_notify_manager(Manager *m, unsigned changes) {
        if (m->observer.manager_changed)
                m->observer.manager_changed(m->observer.userdata, changes);
}

void manager_notify_event(Manager *m, Master *master, MasterEventKind kind, int32_t a, int32_t b,
                          uint32_t hresult) {
        MasterEvent e = { .kind = kind, .a = a, .b = b, .hresult = hresult };

        if (m->observer.master_event)
                m->observer.master_event(m->observer.userdata, master, &e);
}

void manager_notify_erase_complete(Manager *m, Recorder *r, uint32_t hresult) {
        if (m->observer.erase_complete)
                m->observer.erase_complete(m->observer.userdata, r, hresult);
}

void manager_notify_job_completed(Manager *m, Job *j, bool success, const char *message) {
        if (m->observer.job_completed)
                m->observer.job_completed(m->observer.userdata, j, success, message);
}

void manager_notify_work(Manager *m, bool started, const char *why) {
        if (started && m->observer.work_started)
                m->observer.work_started(m->observer.userdata, why);
        else if (!started && m->observer.work_ended)
                m->observer.work_ended(m->observer.userdata);
}
