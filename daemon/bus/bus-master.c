/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.imapid.Imapi1.DiscMaster: the D-Bus adapter of a Master. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "bus/bus-client.h"
#include "bus/bus-error.h"
#include "bus/bus-master.h"
#include "bus/bus-objects.h"
#include "bus/bus-util.h"
#include "bus/polkit.h"
#include "core/burn.h"
#include "core/burn-group.h"
#include "core/job.h"
#include "core/master.h"
#include "core/recorder.h"
#include "hresult-bus.h"
#include "macro.h"

int bus_master_check_caller(sd_bus_message *msg, Master *m, Client **ret, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Client *c = NULL;
        int r;

        (void) bus_client_get(bus_daemon_of(m->manager), msg, false, &c, NULL);
        r = master_check_client(m, c, &e);
        if (r < 0)
                return bus_error_set_imapi(error, r, &e);
        if (ret)
                *ret = c;
        return 0;
}

int bus_master_fd_method(sd_bus_message *msg, Master *m, bus_master_fd_fn fn, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        BusPending *p;
        int fd, r;

        r = bus_master_check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "h", &fd);
        if (r < 0)
                return r;
        r = bus_read_options(msg, NULL, NULL, NULL, error);
        if (r < 0)
                return r;
        /* The pending reply keeps the message, and with it the fd. */
        p = bus_pending_new(msg, NULL);
        if (!p)
                return -ENOMEM;
        r = fn(m, fd, bus_pending_done, p, &e);
        return bus_pending_return(p, r, &e, error);
}

/* The caller's, and opened. */
static int check_caller_opened(sd_bus_message *msg, Master *m, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        int r;

        r = bus_master_check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        r = master_check_opened(m, &e);
        return r < 0 ? bus_error_set_imapi(error, r, &e) : 0;
}

/* Open's reply once the stash is made (in a worker); the burn action that polkit granted is kept
 * for the disc master's RecordDisc only if it opened. */
typedef struct OpenReply {
        Master *master;
        BusPending *pending;
} OpenReply;

static void open_done(void *userdata, int r, const ImapiError *e, void *result) {
        OpenReply *o = userdata;

        /* On success the master lives on: only a failed Open may have lost it. */
        if (r >= 0)
                o->master->burn_authorized = true;
        bus_pending_done(o->pending, r, e, result);
        free(o);
}

/* Authorization before work: the burn action is asked for at Open, before the stash is made and
 * anything staged at imapid's cost, and the answer is kept for the disc master's RecordDisc. */
static int method_open(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        static const char *const allowed[] = { POLKIT_OPTION_NO_USER_INTERACTION, NULL };
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Master *m = userdata;
        OpenReply *o;
        int r;

        r = bus_read_options(msg, allowed, polkit_option_cb, NULL, error);
        if (r < 0)
                return r;
        r = bus_master_check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        r = master_check_not_open(m, &e);
        if (r < 0)
                return bus_error_set_imapi(error, r, &e);
        r = polkit_authorize(bus_daemon_of(m->manager), msg, IMAPI_ACTION_BURN, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* polkit is asked; the call comes back with the answer */
        o = malloc(sizeof(OpenReply));
        if (!o)
                return -ENOMEM;
        *o = (OpenReply) { .master = m, .pending = bus_pending_new(msg, NULL) };
        if (!o->pending) {
                free(o);
                return -ENOMEM;
        }
        /* The stash is made in a worker; the reply follows. */
        r = master_open(m, open_done, o, &e);
        if (r < 0) {
                (void) bus_pending_return(o->pending, r, &e, error);
                free(o);
                return r;
        }
        return 1;
}

/* A call that the core may answer later (async.h): parsed, from the owner. */
typedef int (*master_async_fn)(Master *m, core_done_fn done, void *userdata, ImapiError *error);

static int call_async(sd_bus_message *msg, Master *m, master_async_fn fn, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        BusPending *p;
        int r;

        r = bus_master_check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        p = bus_pending_new(msg, NULL);
        if (!p)
                return -ENOMEM;
        r = fn(m, bus_pending_done, p, &e);
        return bus_pending_return(p, r, &e, error);
}

static int method_close(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        int r;

        r = bus_read_options(msg, NULL, NULL, NULL, error);
        if (r < 0)
                return r;
        /* The reply waits until the stash is removed and unlocked (in a worker: 100,000 staged
         * files take a second); it needs only the message, not the object that goes away. */
        return call_async(msg, userdata, master_close, error);
}

static int method_enum_formats(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        int r;

        r = check_caller_opened(msg, userdata, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "as", 3, master_format_iids[0], master_format_iids[1],
                                          master_format_iids[2]);
}

static int method_get_format(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        const char *iid;
        int r;

        r = bus_master_check_caller(msg, userdata, NULL, error);
        if (r < 0)
                return r;
        r = master_get_format(userdata, &iid, &e);
        if (r < 0)
                return bus_error_set_imapi(error, r, &e);
        return sd_bus_reply_method_return(msg, "s", iid);
}

static int method_set_format(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Master *m = userdata;
        const char *format;
        BusPending *p;
        int r;

        r = sd_bus_message_read(msg, "s", &format);
        if (r < 0)
                return r;
        r = bus_read_options(msg, NULL, NULL, NULL, error);
        if (r < 0)
                return r;
        r = bus_master_check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        p = bus_pending_new(msg, NULL);
        if (!p)
                return -ENOMEM;
        /* Answered once the staged files are deleted. */
        r = master_set_format(m, format, bus_pending_done, p, &e);
        return bus_pending_return(p, r, &e, error);
}

static int method_enum_recorders(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Master *m = userdata;
        Manager *manager = m->manager;
        int r;

        r = check_caller_opened(msg, m, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "o");
        for (size_t i = 0; r >= 0 && i < manager->n_recorders; i++)
                if (master_offers_recorder(m, manager->recorders[i])) {
                        _cleanup_free_ char *path = bus_recorder_path(manager->recorders[i]);

                        r = path ? sd_bus_message_append(reply, "o", path) : -ENOMEM;
                }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_recorder(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        Recorder *rec;
        int r;

        r = bus_master_check_caller(msg, userdata, NULL, error);
        if (r < 0)
                return r;
        r = master_get_recorder(userdata, &rec, &e);
        if (r < 0)
                return bus_error_set_imapi(error, r, &e);
        path = bus_recorder_path(rec);
        if (!path)
                return -ENOMEM;
        return sd_bus_reply_method_return(msg, "o", path);
}

static int bool_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        if (bus_read_bool_variant(msg, userdata) < 0)
                return bus_error_hresult(error, IMAPI_E_INVALIDARG, "Option '%s' takes a boolean.", key);
        return 0;
}

static int method_set_recorder(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        static const char *const allowed[] = { "replace", NULL };
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Master *m = userdata;
        const char *path;
        bool replace = false;
        BusPending *p;
        Recorder *rec;
        int r;

        r = sd_bus_message_read(msg, "o", &path);
        if (r < 0)
                return r;
        r = bus_read_options(msg, allowed, bool_option, &replace, error);
        if (r < 0)
                return r;
        r = bus_master_check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        rec = bus_daemon_find_recorder(bus_daemon_of(m->manager), path);
        if (!rec) {
                r = master_check_opened(m, &e);
                if (r < 0)
                        return bus_error_set_imapi(error, r, &e);
                return bus_error_hresult(error, IMAPI_E_INVALIDARG, "%s is not a recorder.", path);
        }
        p = bus_pending_new(msg, NULL);
        if (!p)
                return -ENOMEM;
        /* The disc is read in a worker; the reply follows. */
        r = master_set_recorder(m, rec, replace, bus_pending_done, p, &e);
        return bus_pending_return(p, r, &e, error);
}

static int method_clear(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        int r;

        r = bus_read_options(msg, NULL, NULL, NULL, error);
        if (r < 0)
                return r;
        /* Answered once the staged files are deleted. */
        return call_async(msg, userdata, master_clear, error);
}

static int record_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        RecordOptions *o = userdata;
        int64_t v;
        bool b;
        int r;

        if (streq(key, POLKIT_OPTION_NO_USER_INTERACTION))
                return polkit_option_cb(msg, key, NULL, error);
        if (streq(key, "verify") || streq(key, "close") || streq(key, "replace") || streq(key, "keep")) {
                r = bool_option(msg, key, &b, error);
                if (r < 0)
                        return r;
                if (streq(key, "verify"))
                        o->verify = b;
                else if (streq(key, "close"))
                        o->close_disc = b;
                else if (streq(key, "keep"))
                        o->keep = b;
                else
                        o->replace = b;
                return 0;
        }
        if (streq(key, "write_mode")) {
                const char *s;

                /* Audio only: disc-at-once (the default) or track-at-once. */
                if (bus_read_string_variant(msg, &s) < 0 || !(streq(s, "sao") || streq(s, "tao")))
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                                                 "write_mode must be \"sao\" or \"tao\".");
                o->tao = streq(s, "tao");
                return 0;
        }
        r = bus_read_integer_variant(msg, &v);
        if (r < 0)
                return bus_error_hresult(error, IMAPI_E_INVALIDARG, "Option '%s' takes an integer.", key);
        if (streq(key, "wait_for_medium")) {
                if (v < 0 || v > BURN_WAIT_MAX)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                                                 "wait_for_medium must be 0 to %u (seconds).", BURN_WAIT_MAX);
                o->wait_for_medium = (unsigned) v;
        } else if (streq(key, "iso_level")) {
                if (v < 1 || v > 3)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG, "iso_level must be 1, 2 or 3.");
                o->iso_level = (int) v;
        } else if (streq(key, "write_speed_kbps")) {
                if (v < 0 || v > 1000000)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                                                 "write_speed_kbps must be 0 to 1000000.");
                o->write_speed_kbps = (int) v;
        } else {
                if (v < 0 || v > 1000)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                                                 "write_speed must be 0 to 1000 (times).");
                o->write_speed = (int) v;
        }
        return 0;
}

int bus_master_reply_job(sd_bus_message *reply, void *result) {
        _cleanup_free_ char *path = bus_job_path(result);

        return path ? sd_bus_message_append(reply, "o", path) : -ENOMEM;
}

static const char *const record_allowed[] = { "verify", "close", "replace", "keep", "iso_level", "write_speed",
                                              "write_speed_kbps", "write_mode", "wait_for_medium",
                                              POLKIT_OPTION_NO_USER_INTERACTION,
                                              NULL };

/* RecordDisc's and RecordDiscTo's arguments after the recorders, the caller, and the burn
 * action: 1 with the call kept for its reply, 0 when polkit is asked (the call comes back), or
 * an error. */
static int record_prologue(sd_bus_message *msg, Master *m, RecordOptions *o, bus_reply_fn reply,
                           Client **ret_client, BusPending **ret_pending, sd_bus_error *error) {
        int simulate, eject, r;

        r = sd_bus_message_read(msg, "bb", &simulate, &eject);
        if (r < 0)
                return r;
        r = bus_read_options(msg, record_allowed, record_option, o, error);
        if (r < 0)
                return r;
        o->simulate = simulate;
        o->eject = eject;
        r = bus_master_check_caller(msg, m, ret_client, error);
        if (r < 0)
                return r;
        /* Asked at Open, and the answer kept for this disc master. */
        r = m->burn_authorized ? 1 : polkit_authorize(bus_daemon_of(m->manager), msg, IMAPI_ACTION_BURN, error);
        if (r <= 0)
                return r;
        *ret_pending = bus_pending_new(msg, reply);
        return *ret_pending ? 1 : -ENOMEM;
}

static int method_record_disc(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        RecordOptions o = { .verify = true };
        Master *m = userdata;
        Client *c = NULL;
        BusPending *p;
        int r;

        r = record_prologue(msg, m, &o, bus_master_reply_job, &c, &p, error);
        if (r <= 0)
                return r < 0 ? r : 1;   /* polkit is asked; the call comes back with the answer */
        /* The disc is read in a worker; the reply with the job follows. */
        r = burn_start(m, c, &o, bus_pending_done, p, &e);
        return bus_pending_return(p, r, &e, error);
}

static int reply_jobs(sd_bus_message *reply, void *result) {
        Job **jobs = result;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        for (size_t i = 0; r >= 0 && jobs[i]; i++) {
                _cleanup_free_ char *path = bus_job_path(jobs[i]);

                r = path ? sd_bus_message_append(reply, "o", path) : -ENOMEM;
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* The recorders by object path: each known, at most BURN_GROUP_MAX. */
static int read_recorders(sd_bus_message *msg, Master *m, Recorder **recs, size_t *ret_n, sd_bus_error *error) {
        const char *path;
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "o");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(msg, "o", &path)) > 0) {
                if (n == BURN_GROUP_MAX)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG, "At most %u recorders at once.",
                                                 BURN_GROUP_MAX);
                recs[n] = bus_daemon_find_recorder(bus_daemon_of(m->manager), path);
                if (!recs[n])
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG, "%s is not a recorder.", path);
                n++;
        }
        if (r < 0)
                return r;
        *ret_n = n;
        return sd_bus_message_exit_container(msg);
}

static int method_record_disc_to(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        RecordOptions o = { .verify = true };
        Recorder *recs[BURN_GROUP_MAX];
        Master *m = userdata;
        Client *c = NULL;
        BusPending *p;
        size_t n = 0;
        int r;

        r = master_check_opened(m, &e);
        if (r < 0)
                return bus_error_set_imapi(error, r, &e);
        r = read_recorders(msg, m, recs, &n, error);
        if (r < 0)
                return r;
        r = record_prologue(msg, m, &o, reply_jobs, &c, &p, error);
        if (r <= 0)
                return r < 0 ? r : 1;   /* polkit is asked; the call comes back with the answer */
        /* Every disc is read in a worker; the reply with the jobs follows. */
        r = burn_start_group(m, c, recs, n, &o, bus_pending_done, p, &e);
        return bus_pending_return(p, r, &e, error);
}

static int property_get_master(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *object = NULL;
        Master *m = userdata;
        Job *j;

        if (streq(property, "Owner"))
                return sd_bus_message_append(reply, "s", m->owner ? m->owner->description : "");
        if (streq(property, "Opened"))
                return sd_bus_message_append(reply, "b", m->opened && !m->closing);
        if (streq(property, "ActiveFormat"))
                return sd_bus_message_append(reply, "s", master_format_to_iid(m->format));
        if (streq(property, "ActiveRecorder"))
                object = m->recorder ? bus_recorder_path(m->recorder) : strdup("/");
        else if (streq(property, "Job"))
                object = (j = master_job(m)) ? bus_job_path(j) : strdup("/");
        else
                return -EINVAL;
        if (!object)
                return -ENOMEM;
        return sd_bus_message_append(reply, "o", object);
}

const sd_bus_vtable bus_master_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Owner", "s", property_get_master, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Opened", "b", property_get_master, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ActiveFormat", "s", property_get_master, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ActiveRecorder", "o", property_get_master, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Job", "o", property_get_master, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Open", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT, method_open,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Close", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT, method_close,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("EnumDiscMasterFormats", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", formats),
                                method_enum_formats, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetActiveDiscMasterFormat", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", format),
                                method_get_format, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetActiveDiscMasterFormat", SD_BUS_ARGS("s", format, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_set_format, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("EnumDiscRecorders", SD_BUS_NO_ARGS, SD_BUS_RESULT("ao", recorders),
                                method_enum_recorders, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetActiveDiscRecorder", SD_BUS_NO_ARGS, SD_BUS_RESULT("o", recorder),
                                method_get_recorder, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetActiveDiscRecorder", SD_BUS_ARGS("o", recorder, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_set_recorder, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ClearFormatContent", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT,
                                method_clear, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RecordDisc", SD_BUS_ARGS("b", simulate, "b", eject_after, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_record_disc, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RecordDiscTo", SD_BUS_ARGS("ao", recorders, "b", simulate, "b", eject_after,
                                                            "a{sv}", options),
                                SD_BUS_RESULT("ao", jobs), method_record_disc_to, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL("PnPActivity", NULL, 0),
        SD_BUS_SIGNAL_WITH_ARGS("AddProgress", SD_BUS_ARGS("i", completed, "i", total), 0),
        SD_BUS_SIGNAL_WITH_ARGS("BlockProgress", SD_BUS_ARGS("i", completed, "i", total), 0),
        SD_BUS_SIGNAL_WITH_ARGS("TrackProgress", SD_BUS_ARGS("i", current_track, "i", total_tracks), 0),
        SD_BUS_SIGNAL_WITH_ARGS("PreparingBurn", SD_BUS_ARGS("i", estimated_seconds), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ClosingDisc", SD_BUS_ARGS("i", estimated_seconds), 0),
        SD_BUS_SIGNAL_WITH_ARGS("BurnComplete", SD_BUS_ARGS("u", hresult), 0),
        SD_BUS_VTABLE_END,
};

int bus_master_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error) {
        Master *m = bus_daemon_find_master(userdata, path);

        /* A closed master is gone for its clients, even while its burn finishes. */
        if (!m || m->closing)
                return 0;
        *found = m;
        return 1;
}

int bus_master_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *manager = ((BusDaemon *) userdata)->manager;
        char **l = calloc(manager->n_masters + 1, sizeof(char *));
        size_t k = 0;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < manager->n_masters; i++) {
                if (manager->masters[i]->closing)
                        continue;
                if (!(l[k++] = bus_master_path(manager->masters[i]))) {
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        *nodes = l;
        return 0;
}
