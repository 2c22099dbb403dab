/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* imapictl jobs | cancel | watch | erase: the verbs about jobs, started here or elsewhere. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>
#include <systemd/sd-event.h>

#include "ctl.h"
#include "follow.h"
#include "json.h"
#include "macro.h"
#include "progress.h"
#include "verbs.h"

/* JOB is a job's object path or its number, as 'imapictl jobs' shows it. */
static int job_path_from_arg(const char *s, char **ret) {
        size_t prefix = strlen(IMAPI_JOBS_PATH "/");
        const char *num = s;

        if (strncmp(s, IMAPI_JOBS_PATH "/", prefix) == 0)
                num = s + prefix;
        if (!*num || strlen(num) > 10 || strspn(num, "0123456789") != strlen(num)) {
                fprintf(stderr, "imapictl: '%s' is not a job (a number or %s/N; see 'imapictl jobs').\n", s,
                        IMAPI_JOBS_PATH);
                return CTL_EXIT_USAGE;
        }
        if (asprintf(ret, IMAPI_JOBS_PATH "/%s", num) < 0)
                return CTL_EXIT_FAILED;
        return 0;
}

static const char *job_number(const char *path) {
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}

/* An sd-event loop with the bus attached; the verbs that follow a job run in it. */
static int attach_event(sd_bus *bus, sd_event **ret) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        int r;

        r = sd_event_default(&e);
        if (r >= 0)
                r = sd_bus_attach_event(bus, e, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                fprintf(stderr, "imapictl: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        *ret = TAKE_PTR(e);
        return 0;
}

static int run_loop(sd_event *e) {
        int r = sd_event_loop(e);

        if (r < 0) {
                fprintf(stderr, "imapictl: event loop: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        return r;
}

int verb_jobs(int argc, char *argv[], sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        JsonWriter w = { .f = stdout };
        const char *path;
        size_t shown = 0;
        int r;

        r = ctl_call(bus, IMAPI_MANAGER_PATH, IMAPI_MANAGER_INTERFACE, "GetJobs", &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "o");
        if (r < 0)
                goto bad;
        if (arg.json)
                json_begin_array(&w, NULL);
        while ((r = sd_bus_message_read(reply, "o", &path)) > 0) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *props = NULL;
                sd_bus_error error = SD_BUS_ERROR_NULL;
                JobState s = { .buffer_fill = -1, .drive_buffer_fill = -1 };
                char objects[512] = "";

                r = sd_bus_call_method(bus, IMAPI_BUS_NAME, path, "org.freedesktop.DBus.Properties",
                                       "GetAll", &error, &props, "s", IMAPI_JOB_INTERFACE);
                if (r < 0) {
                        /* A job that ended since GetJobs is simply not listed. */
                        bool gone = sd_bus_error_has_names(&error, SD_BUS_ERROR_UNKNOWN_OBJECT,
                                                           SD_BUS_ERROR_UNKNOWN_INTERFACE);
                        if (!gone)
                                r = ctl_report_error("GetAll", &error, r);
                        sd_bus_error_free(&error);
                        if (gone)
                                continue;
                        return r;
                }
                r = job_state_read(props, &s);
                if (r < 0) {
                        job_state_done(&s);
                        goto bad;
                }
                if (arg.json) {
                        json_begin_object(&w, NULL);
                        json_string(&w, "job", path);
                        json_string(&w, "id", job_number(path));
                        json_string(&w, "operation", s.operation);
                        json_string(&w, "phase", s.phase);
                        json_double(&w, "progress", s.progress);
                        json_bool(&w, "progress_valid", s.progress_valid);
                        json_uint(&w, "bytes", s.bytes);
                        json_uint(&w, "rate", s.rate);
                        json_uint(&w, "expected_end_time", s.expected_end);
                        json_double(&w, "buffer_fill", s.buffer_fill);
                        json_double(&w, "drive_buffer_fill", s.drive_buffer_fill);
                        json_begin_array(&w, "objects");
                        for (char **o = s.objects; o && *o; o++)
                                json_string(&w, NULL, *o);
                        json_end_array(&w);
                        json_end_object(&w);
                } else {
                        char pct[16];

                        if (shown == 0)
                                printf("%-5s %-10s %-10s %-8s %s\n", "JOB", "OPERATION", "PHASE", "PROGRESS",
                                       "OBJECTS");
                        for (char **o = s.objects; o && *o; o++) {
                                size_t n = strlen(objects);
                                snprintf(objects + n, sizeof objects - n, "%s%s", n ? " " : "", *o);
                        }
                        if (s.progress_valid)
                                snprintf(pct, sizeof pct, "%.1f%%", s.progress * 100.0);
                        else
                                snprintf(pct, sizeof pct, "-");
                        printf("%-5s %-10s %-10s %-8s %s\n", job_number(path), strna(s.operation),
                               strna(s.phase), pct, objects);
                }
                shown++;
                job_state_done(&s);
        }
        if (r < 0)
                goto bad;
        if (arg.json) {
                json_end_array(&w);
                json_finish(&w);
        } else if (shown == 0)
                printf("No jobs.\n");
        return 0;
bad:
        fprintf(stderr, "imapictl: bad reply from imapid: %s\n", strerror(-r));
        return CTL_EXIT_FAILED;
}

int verb_cancel(int argc, char *argv[], sd_bus *bus) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = job_path_from_arg(argv[1], &path);
        if (r != 0)
                return r;
        return ctl_call(bus, path, IMAPI_JOB_INTERFACE, "Cancel", NULL, "a{sv}", 0);
}

int verb_watch(int argc, char *argv[], sd_bus *bus) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(progress_freep) Progress *progress = NULL;
        _cleanup_(job_follow_freep) JobFollow *follow = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        r = job_path_from_arg(argv[1], &path);
        if (r != 0)
                return r;
        r = attach_event(bus, &event);
        if (r != 0)
                return r;
        /* Watching does not own the job: Ctrl-C ends imapictl and leaves the job running. */
        progress = progress_new(arg.json);
        r = progress ? job_follow_new(bus, progress, &follow) : -ENOMEM;
        if (r >= 0)
                r = job_follow_start(follow, path, NULL);
        if (r < 0) {
                fprintf(stderr, "imapictl: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        return run_loop(event);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        job_follow_interrupt(userdata);
        return 0;
}

int verb_erase(int argc, char *argv[], sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_event_source_unrefp) sd_event_source *sigint = NULL, *sigterm = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(progress_freep) Progress *progress = NULL;
        _cleanup_(job_follow_freep) JobFollow *follow = NULL;
        _cleanup_free_ char *recorder = NULL;
        const char *job;
        int r, k;

        r = ctl_resolve_recorder(bus, argc > 1 ? argv[1] : NULL, &recorder);
        if (r != 0)
                return r;
        r = attach_event(bus, &event);
        if (r != 0)
                return r;
        progress = progress_new(arg.json);
        r = progress ? job_follow_new(bus, progress, &follow) : -ENOMEM;
        if (r < 0) {
                fprintf(stderr, "imapictl: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }

        /* IMAPI's order: OpenExclusive, Erase, Close; Close whatever happens in between. */
        r = ctl_call(bus, recorder, IMAPI_RECORDER_INTERFACE, "OpenExclusive", NULL, "a{sv}", 0);
        if (r != 0)
                return r;
        r = arg_burn.format ?
                ctl_call(bus, recorder, IMAPI_RECORDER_INTERFACE, "Erase", &reply, "ba{sv}", arg_burn.full, 1,
                         "format", "s", arg_burn.format) :
                ctl_call(bus, recorder, IMAPI_RECORDER_INTERFACE, "Erase", &reply, "ba{sv}", arg_burn.full, 0);
        if (r == 0 && sd_bus_message_read(reply, "o", &job) < 0) {
                fprintf(stderr, "imapictl: bad reply from imapid to Erase.\n");
                r = CTL_EXIT_FAILED;
        }
        if (r == 0) {
                /* imapid cannot stop a blank once the drive started it; Ctrl-C asks anyway and says
                 * so, a second one stops waiting. */
                k = ctl_catch_signals(event, on_signal, follow, &sigint, &sigterm);
                if (k >= 0)
                        k = job_follow_start(follow, job, "erase");
                if (k < 0) {
                        fprintf(stderr, "imapictl: %s\n", strerror(-k));
                        r = CTL_EXIT_FAILED;
                } else
                        r = run_loop(event);
        }
        /* imapid is gone, and with it what it held for us. */
        if (r == CTL_EXIT_UNAVAILABLE)
                return r;
        k = ctl_call(bus, recorder, IMAPI_RECORDER_INTERFACE, "Close", NULL, "a{sv}", 0);
        return r != 0 ? r : k;
}
