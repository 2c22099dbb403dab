/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imapictl copy: a data disc or an audio CD copied from one recorder to others. One Image disc master reads
 * the source into imapid's stash (ImageDiscMaster.ReadDisc, a job) and records it to each
 * destination in turn (RecordDisc, with keep until the last, so that the disc is read once).
 * With the source as a destination, the copy waits for its disc to be swapped for a blank one.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <imapi/imapi.h>
#include <systemd/sd-event.h>

#include "copy-audio.h"
#include "ctl.h"
#include "follow.h"
#include "macro.h"
#include "progress.h"
#include "verbs.h"

#define SWAP_POLL_USEC (500 * 1000)

CopyArgs arg_copy = {};

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        job_follow_interrupt(userdata);
        return 0;
}

/* Calls member (a method returning a job) and follows the job to its end on a loop of its own;
 * the exit code. */
static int run_job(sd_bus *bus, Progress *progress, sd_bus_message *call, const char *what) {
        _cleanup_(sd_event_source_unrefp) sd_event_source *sigint = NULL, *sigterm = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(job_follow_freep) JobFollow *follow = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *job;
        int r, code;

        r = sd_event_new(&event);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = job_follow_new(bus, progress, &follow);
        if (r >= 0)
                r = ctl_catch_signals(event, on_signal, follow, &sigint, &sigterm);
        if (r < 0) {
                fprintf(stderr, "imapictl: %s\n", strerror(-r));
                (void) sd_bus_detach_event(bus);
                return CTL_EXIT_FAILED;
        }
        r = sd_bus_call(bus, call, 0, &error, &reply);
        if (r < 0) {
                code = ctl_report_error(what, &error, r);
                sd_bus_error_free(&error);
                (void) sd_bus_detach_event(bus);
                return code;
        }
        r = sd_bus_message_read(reply, "o", &job);
        if (r >= 0)
                r = job_follow_start(follow, job);
        if (r >= 0)
                r = sd_event_loop(event);
        (void) sd_bus_detach_event(bus);
        if (r < 0) {
                fprintf(stderr, "imapictl: %s: %s\n", what, strerror(-r));
                return CTL_EXIT_FAILED;
        }
        return r;
}

static int read_source(sd_bus *bus, Progress *progress, const char *master, const char *source) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, IMAPI_BUS_NAME, master, IMAPI_IMAGE_INTERFACE, "ReadDisc");
        if (r >= 0)
                r = sd_bus_message_append(m, "oa{sv}", source, 0);
        if (r < 0) {
                fprintf(stderr, "imapictl: ReadDisc: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        return run_job(bus, progress, m, "ReadDisc");
}

static int record(sd_bus *bus, Progress *progress, const char *master, bool keep) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, IMAPI_BUS_NAME, master, IMAPI_DISC_MASTER_INTERFACE,
                                           "RecordDisc");
        if (r >= 0)
                r = sd_bus_message_append(m, "bb", arg_burn.simulate, arg_burn.eject);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && keep)
                r = sd_bus_message_append(m, "{sv}", "keep", "b", 1);
        if (r >= 0 && arg_burn.no_verify)
                r = sd_bus_message_append(m, "{sv}", "verify", "b", 0);
        if (r >= 0 && arg_burn.speed > 0)
                r = sd_bus_message_append(m, "{sv}", "write_speed", "i", (int32_t) arg_burn.speed);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0) {
                fprintf(stderr, "imapictl: RecordDisc: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        return run_job(bus, progress, m, "RecordDisc");
}

/* What a recorder still holding the source disc (or none) answers SetActiveDiscRecorder with. */
static bool not_blank_yet(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, "org.imapid.Imapi1.Error.IMAPI_E_MEDIUM_NOTPRESENT",
                                      "org.imapid.Imapi1.Error.IMAPI_E_MEDIUM_INVALIDTYPE",
                                      "org.imapid.Imapi1.Error.IMAPI_E_DISCFULL");
}

/* The destination becomes the active recorder; the source's own recorder first waits until its
 * disc has been swapped for a blank one. */
static int choose_destination(sd_bus *bus, Progress *progress, const char *master, const char *dest,
                              bool swap) {
        bool told = false;

        for (;;) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                int r;

                r = sd_bus_call_method(bus, IMAPI_BUS_NAME, master, IMAPI_DISC_MASTER_INTERFACE,
                                       "SetActiveDiscRecorder", &error, NULL, "oa{sv}", dest, 0);
                if (r >= 0)
                        return 0;
                if (!swap || !not_blank_yet(&error)) {
                        r = ctl_report_error("SetActiveDiscRecorder", &error, r);
                        sd_bus_error_free(&error);
                        return r;
                }
                sd_bus_error_free(&error);
                if (!told) {
                        _cleanup_free_ char *text = NULL;

                        if (asprintf(&text, "Insert a blank disc into %s; the copy waits for it.", dest) < 0)
                                return CTL_EXIT_FAILED;
                        progress_note(progress, "insert-blank-disc", text);
                        fflush(stdout);
                        told = true;
                }
                (void) usleep(SWAP_POLL_USEC);
        }
}

/* Reads the source, then records each destination in turn. (Several destinations at once
 * would replace this loop with one call naming them all.) */
static int copy(sd_bus *bus, Progress *progress, const char *master, const char *source, char **dests,
                size_t n) {
        int r;

        r = ctl_call(bus, master, IMAPI_DISC_MASTER_INTERFACE, "Open", NULL, "a{sv}", 0);
        if (r == 0)
                r = ctl_call(bus, master, IMAPI_DISC_MASTER_INTERFACE, "SetActiveDiscMasterFormat", NULL,
                             "sa{sv}", "image", 0);
        /* Another recorder is checked before the read: a disc too small is refused at once. */
        if (r == 0 && !streq(dests[0], source))
                r = choose_destination(bus, progress, master, dests[0], false);
        if (r == 0)
                r = read_source(bus, progress, master, source);
        if (r == 0)
                (void) copy_audio_describe(bus, progress, master);
        for (size_t i = 0; r == 0 && i < n; i++) {
                if (i > 0 || streq(dests[i], source)) {
                        if (streq(dests[i], source) && !arg_burn.eject)
                                (void) ctl_call(bus, source, IMAPI_RECORDER_INTERFACE, "Eject", NULL, "a{sv}", 0);
                        r = choose_destination(bus, progress, master, dests[i], streq(dests[i], source));
                }
                if (r == 0)
                        r = record(bus, progress, master, i + 1 < n);
        }
        return r;
}

int verb_copy(int argc, char *argv[], sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(progress_freep) Progress *progress = NULL;
        _cleanup_free_ char *source = NULL, *master = NULL;
        char *dests[COPY_TO_MAX] = {};
        const char *path;
        int r, k;

        if (!arg_copy.from || arg_copy.n_to == 0) {
                fprintf(stderr, "imapictl: copy needs --from=RECORDER and at least one --to=RECORDER.\n");
                return CTL_EXIT_USAGE;
        }
        r = ctl_resolve_recorder(bus, arg_copy.from, &source);
        for (size_t i = 0; r == 0 && i < arg_copy.n_to; i++) {
                r = ctl_resolve_recorder(bus, arg_copy.to[i], &dests[i]);
                for (size_t j = 0; r == 0 && j < i; j++)
                        if (streq(dests[i], dests[j])) {
                                fprintf(stderr, "imapictl: --to=%s names a recorder twice.\n", arg_copy.to[i]);
                                r = CTL_EXIT_USAGE;
                        }
        }
        progress = r == 0 ? progress_new(arg.json) : NULL;
        if (r == 0 && !progress)
                r = CTL_EXIT_FAILED;
        if (r == 0)
                r = ctl_call(bus, IMAPI_MANAGER_PATH, IMAPI_MANAGER_INTERFACE, "CreateDiscMaster", &reply,
                             "a{sv}", 0);
        if (r == 0 && (sd_bus_message_read(reply, "o", &path) < 0 || !(master = strdup(path)))) {
                fprintf(stderr, "imapictl: bad reply from imapid to CreateDiscMaster.\n");
                r = CTL_EXIT_FAILED;
        }
        if (r == 0) {
                r = copy(bus, progress, master, source, dests, arg_copy.n_to);
                /* Always close: imapid removes the stash, or, while a job still runs, after it ends. */
                k = r == CTL_EXIT_UNAVAILABLE ? 0 :
                        ctl_call(bus, master, IMAPI_DISC_MASTER_INTERFACE, "Close", NULL, "a{sv}", 0);
                r = r != 0 ? r : k;
        }
        for (size_t i = 0; i < arg_copy.n_to; i++)
                free(dests[i]);
        return r;
}
