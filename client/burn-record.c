/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recording step of imapictl burn (burn-record.h). */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <imapi/imapi.h>

#include "burn-record.h"
#include "ctl.h"
#include "macro.h"
#include "verbs.h"

int burn_record_init(BurnRecord *b, sd_bus *bus, Progress *p, JobFollow *follow,
                     int (*append_options)(sd_bus_message *m)) {
        char *paths[BURN_RECORDERS_MAX] = {};
        int r = 0;

        *b = (BurnRecord) { .bus = bus, .progress = p, .follow = follow, .append_options = append_options,
                            .many = arg_burn.all_recorders || arg_burn.n_recorders > 1 };
        if (arg_burn.all_recorders && arg_burn.n_recorders > 0) {
                fprintf(stderr, "imapictl: --all-recorders and --recorder do not go together.\n");
                return CTL_EXIT_USAGE;
        }
        if (!b->many)
                return ctl_resolve_recorder(bus, arg_burn.n_recorders ? arg_burn.recorders[0] : NULL,
                                            &b->recorder);
        for (size_t i = 0; r == 0 && i < arg_burn.n_recorders; i++) {
                r = ctl_resolve_recorder(bus, arg_burn.recorders[i], &paths[i]);
                for (size_t j = 0; r == 0 && j < i; j++)
                        if (streq(paths[i], paths[j])) {
                                fprintf(stderr, "imapictl: --recorder=%s names a recorder twice.\n",
                                        arg_burn.recorders[i]);
                                r = CTL_EXIT_USAGE;
                        }
        }
        if (r == 0)
                r = targets_new(bus, paths, arg_burn.n_recorders, arg_burn.all_recorders, &b->targets);
        for (size_t i = 0; i < arg_burn.n_recorders; i++)
                free(paths[i]);
        return r;
}

void burn_record_done(BurnRecord *b) {
        b->record_many = record_many_free(b->record_many);
        targets_done(&b->targets);
        b->recorder = mfree(b->recorder);
}

int burn_record_prepare(BurnRecord *b, const char *master, bool replace, bool joliet) {
        b->master = master;
        if (b->many)
                return targets_check(&b->targets, b->bus, master, replace, joliet);
        if (replace)
                return ctl_call(b->bus, master, IMAPI_DISC_MASTER_INTERFACE, "SetActiveDiscRecorder", NULL,
                                "oa{sv}", b->recorder, 1, "replace", "b", 1);
        return ctl_call(b->bus, master, IMAPI_DISC_MASTER_INTERFACE, "SetActiveDiscRecorder", NULL,
                        "oa{sv}", b->recorder, 0);
}

/* The call of this burn, with its options; keep for --keep. */
static int make_call(BurnRecord *b, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        if (b->many)
                r = record_many_call(b->bus, b->master, &b->targets, arg_burn.simulate, arg_burn.eject, &m);
        else {
                r = sd_bus_message_new_method_call(b->bus, &m, IMAPI_BUS_NAME, b->master,
                                                   IMAPI_DISC_MASTER_INTERFACE, "RecordDisc");
                if (r >= 0)
                        r = sd_bus_message_append(m, "bb", arg_burn.simulate, arg_burn.eject);
        }
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = b->append_options(m);
        if (r >= 0 && arg_burn.keep)
                r = sd_bus_message_append(m, "{sv}", "keep", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0) {
                fprintf(stderr, "imapictl: %s: %s\n", b->many ? "RecordDiscTo" : "RecordDisc", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

static void quiet_changed(JobFollow *f, const JobState *s, void *userdata) {
}

static void quiet_ended(JobFollow *f, int code, void *userdata) {
}

/* The verb's follower, which watched for imapid going away while staging, follows no job when
 * the jobs are RecordDiscTo's: their own followers tell what happens from here. */
static const JobFollowObserver quiet = {
        .changed = quiet_changed,
        .ended = quiet_ended,
};

int burn_record_start(BurnRecord *b) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *job;
        int r;

        if (b->many) {
                r = targets_recheck(&b->targets, b->bus, b->master, arg_burn.replace);
                if (r == 0)
                        r = make_call(b, &m);
                if (r == 0)
                        r = record_many_start(b->bus, b->progress, m, &b->targets, !arg_burn.no_verify,
                                              arg_burn.simulate, &b->record_many);
                if (r == 0 && b->follow)
                        job_follow_set_observer(b->follow, &quiet, NULL);
                return r;
        }
        r = make_call(b, &m);
        if (r != 0)
                return r;
        r = sd_bus_call(b->bus, m, 0, &error, &reply);
        if (r < 0)
                return ctl_report_error("RecordDisc", &error, r);
        r = sd_bus_message_read(reply, "o", &job);
        if (r >= 0)
                r = job_follow_start(b->follow, job, arg_burn.simulate ? "simulate" : "burn");
        if (r < 0) {
                fprintf(stderr, "imapictl: RecordDisc: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        return 0;
}

void burn_record_interrupt(BurnRecord *b) {
        if (b->record_many)
                record_many_interrupt(b->record_many);
        else
                job_follow_interrupt(b->follow);
}

/* Waits for a line on stdin: 1 for one, 0 at its end or on Ctrl-C/SIGTERM (blocked since
 * ctl_catch_signals(), so read from a signalfd here). */
static int wait_for_enter(void) {
        _cleanup_close_ int sfd = -1;
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        for (;;) {
                struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
                                         { .fd = sfd, .events = POLLIN } };
                char c;
                ssize_t k;

                if (poll(fds, sfd >= 0 ? 2 : 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return 0;
                }
                if (sfd >= 0 && fds[1].revents)
                        return 0;
                k = read(STDIN_FILENO, &c, 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return 0;
                if (c == '\n')
                        return 1;
        }
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        burn_record_interrupt(userdata);
        return 0;
}

/* One more burn of what is staged, RecordDisc's on a loop of its own. */
static int record_once(BurnRecord *b) {
        _cleanup_(sd_event_source_unrefp) sd_event_source *sigint = NULL, *sigterm = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        if (b->many) {
                r = targets_recheck(&b->targets, b->bus, b->master, arg_burn.replace);
                if (r == 0)
                        r = make_call(b, &m);
                return r != 0 ? r : record_many_run(b->bus, b->progress, m, &b->targets, !arg_burn.no_verify,
                                                    arg_burn.simulate);
        }
        r = sd_event_new(&event);
        if (r >= 0)
                r = sd_bus_attach_event(b->bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = job_follow_new(b->bus, b->progress, &b->follow);
        if (r >= 0)
                r = ctl_catch_signals(event, on_signal, b, &sigint, &sigterm);
        if (r < 0) {
                fprintf(stderr, "imapictl: %s\n", strerror(-r));
                r = CTL_EXIT_FAILED;
        } else {
                r = burn_record_start(b);
                if (r == 0)
                        r = sd_event_loop(event);
                if (r < 0)
                        r = CTL_EXIT_FAILED;
        }
        (void) sd_bus_detach_event(b->bus);
        b->follow = job_follow_free(b->follow);
        return r;
}

int burn_record_again(BurnRecord *b) {
        _cleanup_free_ char *text = NULL, *list = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&list, &len);

        if (!f)
                return CTL_EXIT_FAILED;
        if (!b->many)
                fputs("the recorder", f);
        for (size_t i = 0, k = 0; b->many && i < b->targets.n; i++)
                if (!b->targets.v[i].skipped)
                        fprintf(f, "%s%s", k++ > 0 ? ", " : "", b->targets.v[i].id);
        if (fclose(f) != 0 || asprintf(&text, "Insert new discs into %s and press Enter to burn another "
                                       "copy; end of input (Ctrl-D) stops and frees what is staged.", list) < 0)
                return CTL_EXIT_FAILED;
        for (;;) {
                int r;

                progress_note(b->progress, "insert-discs", text);
                if (wait_for_enter() <= 0)
                        return 0;
                r = record_once(b);
                if (r != 0)
                        return r;
        }
}
