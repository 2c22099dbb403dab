/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imapictl copy: a data disc or an audio CD copied from one recorder to others. One Image disc
 * master reads the source into imapid's stash (ImageDiscMaster.ReadDisc, a job; an audio CD
 * becomes Redbook tracks) and records it to the other destinations at once (RecordDiscTo;
 * RecordDisc for one), so that the disc is read once. With the source as a destination too, its
 * recorder comes last (keep until then): the job waits for its disc to be swapped for a blank
 * one (RecordDiscTo's wait_for_medium), and imapictl shows what it waits for.
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
#include "record-many.h"
#include "targets.h"
#include "verbs.h"

/* How long the one-recorder copy waits for the blank disc: imapid's longest wait. */
#define SWAP_WAIT_SEC 3600u

CopyArgs arg_copy = {};

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        job_follow_interrupt(userdata);
        return 0;
}

/* Calls member (a method returning a job) and follows the job to its end on a loop of its own;
 * the exit code. */
static int run_job(sd_bus *bus, Progress *progress, sd_bus_message *call, const char *what,
                   const char *operation) {
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
        /* RecordDiscTo answers with an array of one. */
        if (streq_ptr(sd_bus_message_get_signature(reply, true), "ao"))
                r = sd_bus_message_enter_container(reply, 'a', "o");
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &job);
        if (r >= 0)
                r = job_follow_start(follow, job, operation);
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
        return run_job(bus, progress, m, "ReadDisc", "read");
}

/* RecordDisc's and RecordDiscTo's options of a copy; wait: for the blank disc that replaces the
 * source. */
static int append_options(sd_bus_message *m, bool keep, bool wait) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && keep)
                r = sd_bus_message_append(m, "{sv}", "keep", "b", 1);
        if (r >= 0 && wait)
                r = sd_bus_message_append(m, "{sv}", "wait_for_medium", "u", SWAP_WAIT_SEC);
        if (r >= 0 && arg_burn.no_verify)
                r = sd_bus_message_append(m, "{sv}", "verify", "b", 0);
        if (r >= 0 && arg_burn.speed > 0)
                r = sd_bus_message_append(m, "{sv}", "write_speed", "i", (int32_t) arg_burn.speed);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* RecordDisc on the active recorder, or with swap_on, RecordDiscTo on that recorder, waiting
 * for the blank disc that replaces the source. */
static int record(sd_bus *bus, Progress *progress, const char *master, bool keep, const char *swap_on) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, IMAPI_BUS_NAME, master, IMAPI_DISC_MASTER_INTERFACE,
                                           swap_on ? "RecordDiscTo" : "RecordDisc");
        if (r >= 0 && swap_on)
                r = sd_bus_message_append(m, "ao", 1, swap_on);
        if (r >= 0)
                r = sd_bus_message_append(m, "bb", arg_burn.simulate, arg_burn.eject);
        if (r >= 0)
                r = append_options(m, keep, swap_on != NULL);
        if (r < 0) {
                fprintf(stderr, "imapictl: RecordDisc: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        return run_job(bus, progress, m, "RecordDisc", arg_burn.simulate ? "simulate" : "burn");
}

/* Opens the source's tray for the swap. Eject is the holder's: IMAPI's order, OpenExclusive,
 * Eject, Close. A tray that does not open is no failure: the job says what it waits for. */
static void eject_source(sd_bus *bus, const char *source) {
        if (ctl_call(bus, source, IMAPI_RECORDER_INTERFACE, "OpenExclusive", NULL, "a{sv}", 0) != 0)
                return;
        (void) ctl_call(bus, source, IMAPI_RECORDER_INTERFACE, "Eject", NULL, "a{sv}", 0);
        (void) ctl_call(bus, source, IMAPI_RECORDER_INTERFACE, "Close", NULL, "a{sv}", 0);
}

/* The destination becomes the active recorder. */
static int choose_destination(sd_bus *bus, const char *master, const char *dest) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, IMAPI_BUS_NAME, master, IMAPI_DISC_MASTER_INTERFACE,
                               "SetActiveDiscRecorder", &error, NULL, "oa{sv}", dest, 0);
        if (r >= 0)
                return 0;
        r = ctl_report_error("SetActiveDiscRecorder", &error, r);
        sd_bus_error_free(&error);
        return r;
}

/* The destinations other than the source at once: one RecordDiscTo (keep, when the source's own
 * recorder still follows), its jobs followed side by side and a table of the results. */
static int record_others(sd_bus *bus, Progress *progress, const char *master, char **others, size_t n,
                         bool keep) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(targets_done) Targets targets = {};
        int r;

        r = targets_new(bus, others, n, false, &targets);
        if (r != 0)
                return r;
        r = record_many_call(bus, master, &targets, arg_burn.simulate, arg_burn.eject, &m);
        if (r >= 0)
                r = append_options(m, keep, false);
        if (r < 0) {
                fprintf(stderr, "imapictl: RecordDiscTo: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        return record_many_run(bus, progress, m, &targets, !arg_burn.no_verify, arg_burn.simulate);
}

/* Reads the source, then records the other destinations (one of them: RecordDisc; several: one
 * RecordDiscTo), and last the source's own recorder once its disc has been swapped. */
static int copy(sd_bus *bus, Progress *progress, const char *master, const char *source, char **dests,
                size_t n) {
        char *others[COPY_TO_MAX];
        size_t n_others = 0;
        bool swap = false;
        int r;

        for (size_t i = 0; i < n; i++) {
                if (streq(dests[i], source))
                        swap = true;
                else
                        others[n_others++] = dests[i];
        }
        r = ctl_call(bus, master, IMAPI_DISC_MASTER_INTERFACE, "Open", NULL, "a{sv}", 0);
        if (r == 0)
                r = ctl_call(bus, master, IMAPI_DISC_MASTER_INTERFACE, "SetActiveDiscMasterFormat", NULL,
                             "sa{sv}", "image", 0);
        /* Another recorder is checked before the read: a disc too small is refused at once. */
        if (r == 0 && n_others > 0)
                r = choose_destination(bus, master, others[0]);
        if (r == 0)
                r = read_source(bus, progress, master, source);
        if (r == 0)
                (void) copy_audio_describe(bus, progress, master);
        if (r == 0 && n_others == 1)
                r = record(bus, progress, master, swap, NULL);
        else if (r == 0 && n_others > 1)
                r = record_others(bus, progress, master, others, n_others, swap);
        if (r == 0 && swap) {
                if (!arg_burn.eject)
                        eject_source(bus, source);
                r = record(bus, progress, master, false, source);
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
