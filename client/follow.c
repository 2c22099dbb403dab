/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Following a job until it completes (follow.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "ctl.h"
#include "follow.h"
#include "hresult.h"
#include "macro.h"

struct JobFollow {
        sd_bus *bus;
        Progress *progress;
        sd_bus_slot *match_props, *match_completed, *match_removed, *match_owner, *match_disconnected;
        sd_bus_slot *get_all, *cancel;
        JobState state;
        bool following, got_props, ended;
        unsigned interrupts;
        const JobFollowObserver *observer;
        void *observer_data;
};

int exit_code_from_hresult(uint32_t hr) {
        if (IMAPI_HRESULT_SUCCEEDED(hr))
                return CTL_EXIT_OK;
        return hr == IMAPI_E_USERABORT ? CTL_EXIT_CANCELLED : CTL_EXIT_FAILED;
}

void ctl_event_exit(sd_bus *bus, int code) {
        _cleanup_(sd_event_unrefp) sd_event *e = sd_event_ref(sd_bus_get_event(bus));

        /* A connection that closed has let go of the loop already: it is the default one. */
        if (!e && sd_event_default(&e) < 0)
                return;
        /* Detached first: the bus' own exit handler would close the connection, and the verb still
         * has calls to make (Close) after the loop. */
        (void) sd_bus_detach_event(bus);
        (void) sd_event_exit(e, code);
}

static void job_end(JobFollow *f, int code) {
        if (f->ended)
                return;
        f->ended = true;
        if (f->observer)
                f->observer->ended(f, code, f->observer_data);
        else
                ctl_event_exit(f->bus, code);
}

static void job_changed(JobFollow *f) {
        if (f->observer)
                f->observer->changed(f, &f->state, f->observer_data);
        else
                progress_job(f->progress, &f->state);
}

static int set_string(char **field, const char *value) {
        char *s = strdup(value);

        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static int read_objects(sd_bus_message *m, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *p;
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'v', "ao");
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "o");
        while (r >= 0 && (r = sd_bus_message_read(m, "o", &p)) > 0) {
                char **nl = realloc(l, (n + 2) * sizeof(char *));

                if (!nl)
                        return -ENOMEM;
                l = nl;
                l[n] = strdup(p);
                l[n + 1] = NULL;
                if (!l[n++])
                        return -ENOMEM;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

/* Reads an a{sv} of Job properties into the state. */
int job_state_read(sd_bus_message *m, JobState *s) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *str;
                int b;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                if (streq(name, "Phase") || streq(name, "Operation")) {
                        r = sd_bus_message_read(m, "v", "s", &str);
                        if (r >= 0)
                                r = set_string(streq(name, "Phase") ? &s->phase : &s->operation, str);
                } else if (streq(name, "Status")) {
                        r = sd_bus_message_read(m, "v", "s", &str);
                        if (r >= 0 && !streq_ptr(str, s->status)) {
                                r = set_string(&s->status, str);
                                s->status_changed = true;
                        }
                } else if (streq(name, "Progress"))
                        r = sd_bus_message_read(m, "v", "d", &s->progress);
                else if (streq(name, "ProgressValid")) {
                        r = sd_bus_message_read(m, "v", "b", &b);
                        s->progress_valid = b;
                } else if (streq(name, "Bytes"))
                        r = sd_bus_message_read(m, "v", "t", &s->bytes);
                else if (streq(name, "Rate"))
                        r = sd_bus_message_read(m, "v", "t", &s->rate);
                else if (streq(name, "ExpectedEndTime"))
                        r = sd_bus_message_read(m, "v", "t", &s->expected_end);
                else if (streq(name, "BufferFill"))
                        r = sd_bus_message_read(m, "v", "d", &s->buffer_fill);
                else if (streq(name, "DriveBufferFill"))
                        r = sd_bus_message_read(m, "v", "d", &s->drive_buffer_fill);
                else if (streq(name, "HResult"))
                        r = sd_bus_message_read(m, "v", "u", &s->hresult);
                else if (streq(name, "Objects"))
                        r = read_objects(m, &s->objects);
                else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* What the job waits for ("Insert a blank disc into sr0. ..."), once each time it changes. */
static void show_status(JobFollow *f) {
        if (!f->state.status_changed)
                return;
        f->state.status_changed = false;
        if (f->state.status && f->state.status[0])
                progress_note(f->progress, "waiting", f->state.status);
}

static bool is_our_job(JobFollow *f, sd_bus_message *m) {
        return f->following && !f->ended && streq_ptr(sd_bus_message_get_path(m), f->state.path);
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobFollow *f = userdata;
        const char *interface;
        int r;

        if (!is_our_job(f, m))
                return 0;
        r = sd_bus_message_read(m, "s", &interface);
        if (r < 0 || !streq(interface, IMAPI_JOB_INTERFACE))
                return 0;
        r = job_state_read(m, &f->state);
        if (r < 0) {
                fprintf(stderr, "imapictl: bad PropertiesChanged from imapid, ignoring: %s\n", strerror(-r));
                return 0;
        }
        /* Changes that arrive before the GetAll reply are older than it; it shows them all. */
        if (f->got_props) {
                job_changed(f);
                show_status(f);
        }
        return 0;
}

static int on_completed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobFollow *f = userdata;
        const char *message;
        unsigned hr;
        int success, r;

        if (!is_our_job(f, m))
                return 0;
        r = sd_bus_message_read(m, "bs", &success, &message);
        if (r < 0) {
                fprintf(stderr, "imapictl: bad Completed signal from imapid: %s\n", strerror(-r));
                job_end(f, CTL_EXIT_FAILED);
                return 0;
        }
        f->state.completed = true;
        f->state.success = success;
        (void) set_string(&f->state.message, message);
        /* HResult changed just before Completed; the message starts with it too ("0x8004020D: ..."). */
        if (f->state.hresult == 0 && !success && sscanf(message, "0x%8X:", &hr) == 1)
                f->state.hresult = hr;
        if (!success && IMAPI_HRESULT_SUCCEEDED(f->state.hresult))
                f->state.hresult = IMAPI_E_GENERIC;
        if (success)
                f->state.progress = 1.0;
        if (f->observer)
                job_changed(f);
        else {
                /* A job that ended before GetAll's reply (a small disc read in a moment) is still
                 * introduced, with what the caller knows of it; the reply, an error by now, is
                 * ignored. */
                if (!f->got_props)
                        progress_job_started(f->progress, &f->state);
                progress_job_completed(f->progress, &f->state);
        }
        job_end(f, success ? CTL_EXIT_OK : exit_code_from_hresult(f->state.hresult));
        return 0;
}

static int on_interfaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobFollow *f = userdata;
        const char *path;

        if (!f->following || f->ended)
                return 0;
        if (sd_bus_message_read(m, "o", &path) < 0 || !streq(path, f->state.path))
                return 0;
        /* imapid sends Completed before it removes a job; getting here means it was lost. */
        fprintf(stderr, "imapictl: job %s went away without reporting its outcome.\n", path);
        job_end(f, CTL_EXIT_FAILED);
        return 0;
}

/* imapid is gone (it crashed, was killed, or the bus or socket went away): nothing will report
 * the job's end, so there is nothing to wait for. */
static void imapid_gone(JobFollow *f, const char *what) {
        _cleanup_free_ char *text = NULL;

        if (f->ended)
                return;
        /* Several jobs lose imapid at once: their observer says it once. */
        if (f->observer) {
                job_end(f, CTL_EXIT_UNAVAILABLE);
                return;
        }
        if (asprintf(&text, "%s; %s", what, f->following ?
                     "the job's outcome is unknown ('imapictl media' shows what the disc holds)." :
                     "nothing was burned.") < 0)
                text = NULL;
        progress_note(f->progress, "unreachable", text ?: what);
        job_end(f, CTL_EXIT_UNAVAILABLE);
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !streq(name, IMAPI_BUS_NAME) ||
            new_owner[0])
                return 0;
        imapid_gone(userdata, "imapid left the bus");
        return 0;
}

static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        imapid_gone(userdata, "The connection to imapid was lost");
        return 0;
}

static int on_get_all(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobFollow *f = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        int r;

        f->get_all = sd_bus_slot_unref(f->get_all);
        if (f->ended)
                return 0;
        if (e) {
                /* Async calls keep the order of arrival: had the job completed before this reply,
                 * its Completed signal would have been handled already. So it does not exist. */
                if (sd_bus_error_has_names(e, SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_METHOD,
                                           SD_BUS_ERROR_UNKNOWN_INTERFACE)) {
                        fprintf(stderr, "imapictl: there is no job %s (see 'imapictl jobs').\n",
                                f->state.path);
                        job_end(f, CTL_EXIT_NOTFOUND);
                } else
                        job_end(f, ctl_report_error("GetAll", e, -EIO));
                return 0;
        }
        r = job_state_read(m, &f->state);
        if (r < 0) {
                fprintf(stderr, "imapictl: bad reply from imapid: %s\n", strerror(-r));
                job_end(f, CTL_EXIT_FAILED);
                return 0;
        }
        f->got_props = true;
        if (!f->observer)
                progress_job_started(f->progress, &f->state);
        job_changed(f);
        show_status(f);
        return 0;
}

static int on_cancel_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobFollow *f = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        f->cancel = sd_bus_slot_unref(f->cancel);
        /* Not fatal: the job still ends on its own, and we still wait for it. */
        if (e && !f->ended)
                (void) ctl_report_error("Cancel", e, -EIO);
        return 0;
}

int job_follow_new(sd_bus *bus, Progress *p, JobFollow **ret) {
        _cleanup_(job_follow_freep) JobFollow *f = NULL;
        /* A peer-to-peer connection has no bus to stamp a sender on messages. */
        const char *sender = sd_bus_is_bus_client(bus) > 0 ? IMAPI_BUS_NAME : NULL;
        _cleanup_free_ char *props = NULL, *completed = NULL;
        int r;

        f = calloc(1, sizeof(JobFollow));
        if (!f)
                return -ENOMEM;
        f->bus = sd_bus_ref(bus);
        f->progress = p;
        f->state.buffer_fill = f->state.drive_buffer_fill = -1;

        if (asprintf(&props, "type='signal',%s%s%sinterface='org.freedesktop.DBus.Properties',"
                     "member='PropertiesChanged',path_namespace='" IMAPI_JOBS_PATH "',"
                     "arg0='" IMAPI_JOB_INTERFACE "'",
                     sender ? "sender='" : "", sender ?: "", sender ? "'," : "") < 0 ||
            asprintf(&completed, "type='signal',%s%s%sinterface='" IMAPI_JOB_INTERFACE "',"
                     "member='Completed',"
                     "path_namespace='" IMAPI_JOBS_PATH "'", sender ? "sender='" : "", sender ?: "",
                     sender ? "'," : "") < 0)
                return -ENOMEM;
        r = sd_bus_add_match_async(bus, &f->match_props, props, on_properties_changed, NULL, f);
        if (r < 0)
                return r;
        r = sd_bus_add_match_async(bus, &f->match_completed, completed, on_completed, NULL, f);
        if (r < 0)
                return r;
        r = sd_bus_match_signal_async(bus, &f->match_removed, sender, IMAPI_ROOT_PATH,
                                      "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
                                      on_interfaces_removed, NULL, f);
        if (r < 0)
                return r;
        /* The connection closing (the socket's peer, or the bus, gone) arrives as a message of
         * sd-bus' own; imapid leaving the bus as the bus' NameOwnerChanged. */
        r = sd_bus_match_signal_async(bus, &f->match_disconnected, "org.freedesktop.DBus.Local", NULL,
                                      "org.freedesktop.DBus.Local", "Disconnected", on_disconnected, NULL, f);
        if (r >= 0 && sender)
                r = sd_bus_add_match_async(bus, &f->match_owner,
                                           "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                           "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                                           "arg0='" IMAPI_BUS_NAME "'", on_name_owner_changed, NULL, f);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(f);
        return 0;
}

JobFollow *job_follow_free(JobFollow *f) {
        if (!f)
                return NULL;
        sd_bus_slot_unref(f->match_props);
        sd_bus_slot_unref(f->match_completed);
        sd_bus_slot_unref(f->match_removed);
        sd_bus_slot_unref(f->match_owner);
        sd_bus_slot_unref(f->match_disconnected);
        sd_bus_slot_unref(f->get_all);
        sd_bus_slot_unref(f->cancel);
        sd_bus_unref(f->bus);
        job_state_done(&f->state);
        free(f);
        return NULL;
}

int job_follow_start(JobFollow *f, const char *path, const char *operation) {
        int r;

        r = set_string(&f->state.path, path);
        if (r >= 0 && operation)
                r = set_string(&f->state.operation, operation);
        if (r < 0)
                return r;
        f->following = true;
        return sd_bus_call_method_async(f->bus, &f->get_all, IMAPI_BUS_NAME, path,
                                        "org.freedesktop.DBus.Properties", "GetAll", on_get_all, f, "s",
                                        IMAPI_JOB_INTERFACE);
}

void job_follow_interrupt(JobFollow *f) {
        int r;

        if (f->ended)
                return;
        if (++f->interrupts > 1 || !f->following) {
                if (!f->observer)
                        progress_note(f->progress, "interrupted",
                                      "Not waiting any longer; imapid finishes stopping the job and cleans up "
                                      "by itself.");
                job_end(f, CTL_EXIT_CANCELLED);
                return;
        }
        if (!f->observer)
                progress_note(f->progress, "cancelling",
                              "Cancelling the job (press Ctrl-C again to stop waiting)...");
        r = sd_bus_call_method_async(f->bus, &f->cancel, IMAPI_BUS_NAME, f->state.path, IMAPI_JOB_INTERFACE,
                                     "Cancel", on_cancel_reply, f, "a{sv}", 0);
        if (r < 0) {
                /* The connection is gone: there is nobody to wait for. */
                fprintf(stderr, "imapictl: cannot ask imapid to cancel: %s\n", strerror(-r));
                imapid_gone(f, "imapid cannot be reached");
        }
}

void job_follow_set_observer(JobFollow *f, const JobFollowObserver *o, void *userdata) {
        f->observer = o;
        f->observer_data = userdata;
}

const JobState *job_follow_state(const JobFollow *f) {
        return &f->state;
}
