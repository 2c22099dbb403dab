/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Burning to several recorders with one RecordDiscTo, and the table of results (record-many.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "ctl.h"
#include "follow.h"
#include "hresult.h"
#include "json.h"
#include "macro.h"
#include "record-many.h"

typedef struct Row {
        RecordMany *owner;
        const Target *target;
        JobFollow *follow;
        bool verifying_seen, ended;
        int code;
} Row;

struct RecordMany {
        sd_bus *bus;
        Progress *progress;
        Targets *targets;
        bool verify, simulate;
        Row *rows;
        size_t n, ended;
        unsigned interrupts;
};

int record_many_call(sd_bus *bus, const char *master, const Targets *t, bool simulate, bool eject,
                     sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, IMAPI_BUS_NAME, master, IMAPI_DISC_MASTER_INTERFACE,
                                           "RecordDiscTo");
        if (r >= 0)
                r = targets_append(t, m);
        if (r >= 0)
                r = sd_bus_message_append(m, "bb", simulate, eject);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

RecordMany *record_many_free(RecordMany *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n; i++)
                job_follow_free(r->rows[i].follow);
        free(r->rows);
        sd_bus_unref(r->bus);
        free(r);
        return NULL;
}

static size_t row_index(const Row *row) {
        return (size_t) (row - row->owner->rows);
}

static void on_changed(JobFollow *f, const JobState *s, void *userdata) {
        Row *row = userdata;

        if (streq_ptr(s->phase, "verifying"))
                row->verifying_seen = true;
        if (s->completed)
                progress_row_completed(row->owner->progress, row_index(row), s);
        else
                progress_row(row->owner->progress, row_index(row), s);
}

/* What the table says of a recorder's disc. */
static const char *row_result(const RecordMany *m, const Row *row, const JobState *s) {
        if (row->code == CTL_EXIT_UNAVAILABLE)
                return "unknown";
        if (!s->completed || !s->success)
                return s->hresult == IMAPI_E_USERABORT ? "cancelled" : "failed";
        if (m->simulate)
                return "simulated, nothing written";
        return m->verify && row->verifying_seen ? "verified" : "written, not verified";
}

static void print_table(RecordMany *m) {
        size_t id_w = strlen("RECORDER"), medium_w = strlen("MEDIUM");

        for (size_t i = 0; i < m->targets->n; i++) {
                const Target *t = &m->targets->v[i];

                id_w = MAX(id_w, strlen(t->id));
                medium_w = MAX(medium_w, strlen(t->medium ?: "-"));
        }
        printf("\n%-*s  %-*s  %s\n", (int) id_w, "RECORDER", (int) medium_w, "MEDIUM", "RESULT");
        for (size_t i = 0, k = 0; i < m->targets->n; i++) {
                const Target *t = &m->targets->v[i];
                const char *medium = t->medium && *t->medium ? t->medium : "-";

                if (t->skipped) {
                        printf("%-*s  %-*s  skipped: %s\n", (int) id_w, t->id, (int) medium_w, medium,
                               t->skipped);
                        continue;
                }
                const Row *row = &m->rows[k++];
                const JobState *s = job_follow_state(row->follow);
                const HResultInfo *info = hresult_lookup(s->hresult);
                const char *result = row_result(m, row, s);

                if (row->code == 0)
                        printf("%-*s  %-*s  %s\n", (int) id_w, t->id, (int) medium_w, medium, result);
                else
                        printf("%-*s  %-*s  %s: %s: %s\n", (int) id_w, t->id, (int) medium_w, medium, result,
                               info ? info->constant : "-",
                               row->code == CTL_EXIT_UNAVAILABLE ? "imapid went away during the burn" :
                               strna(ctl_error_message(s->message)));
        }
        fflush(stdout);
}

static void print_json(RecordMany *m) {
        for (size_t i = 0, k = 0; i < m->targets->n; i++) {
                const Target *t = &m->targets->v[i];
                JsonWriter w = { .f = stdout };

                json_begin_object(&w, NULL);
                json_string(&w, "event", "result");
                json_string(&w, "recorder", t->id);
                json_string(&w, "medium", strempty(t->medium));
                if (t->skipped) {
                        json_string(&w, "result", "skipped");
                        json_string(&w, "message", t->skipped);
                } else {
                        const Row *row = &m->rows[k++];
                        const JobState *s = job_follow_state(row->follow);
                        const HResultInfo *info = hresult_lookup(s->hresult);

                        json_string(&w, "result", row_result(m, row, s));
                        json_string(&w, "job", s->path);
                        json_bool(&w, "success", row->code == 0);
                        json_uint(&w, "hresult", s->hresult);
                        json_string(&w, "hresult_name", info ? info->constant : "");
                        if (row->code != 0 && info && info->dbus_name)
                                json_string(&w, "error_name", info->dbus_name);
                        else
                                json_null(&w, "error_name");
                        json_string(&w, "message", strempty(ctl_error_message(s->message)));
                }
                json_end_object(&w);
                json_finish(&w);
        }
}

/* Every recorder succeeded: 0. Some did: CTL_EXIT_SOME_FAILED. None: what they share (all
 * cancelled, imapid gone), else CTL_EXIT_FAILED. */
static int overall_code(const RecordMany *m) {
        size_t good = 0;
        int first = -1;
        bool same = true;

        for (size_t i = 0; i < m->n; i++) {
                good += m->rows[i].code == 0;
                if (first < 0)
                        first = m->rows[i].code;
                same = same && m->rows[i].code == first;
        }
        if (good == m->n)
                return CTL_EXIT_OK;
        if (good > 0)
                return CTL_EXIT_SOME_FAILED;
        return same ? first : CTL_EXIT_FAILED;
}

static void all_ended(RecordMany *m) {
        size_t failed = 0;
        int code = overall_code(m);

        progress_rows_end(m->progress);
        /* What the burn found in each drive, for the table. */
        for (size_t i = 0; i < m->targets->n; i++) {
                Target *t = &m->targets->v[i];

                if (!t->skipped && !t->medium)
                        (void) sd_bus_get_property_string(m->bus, IMAPI_BUS_NAME, t->path,
                                                          IMAPI_RECORDER_INTERFACE, "CurrentProfileName", NULL,
                                                          &t->medium);
        }
        if (code == CTL_EXIT_UNAVAILABLE || (code == CTL_EXIT_CANCELLED && m->interrupts > 1))
                progress_note(m->progress, code == CTL_EXIT_UNAVAILABLE ? "unreachable" : "interrupted",
                              code == CTL_EXIT_UNAVAILABLE ?
                              "imapid cannot be reached; the outcome is unknown ('imapictl media' shows what "
                              "each disc holds)." :
                              "Not waiting any longer; imapid finishes stopping the jobs and cleans up by "
                              "itself.");
        if (arg.json)
                print_json(m);
        else
                print_table(m);
        for (size_t i = 0; i < m->n; i++)
                failed += m->rows[i].code != 0;
        if (failed > 0 && failed < m->n)
                fprintf(stderr, "imapictl: %zu of %zu recorders failed; the discs marked verified are good.\n",
                        failed, m->n);
        else if (failed > 0 && code == CTL_EXIT_CANCELLED)
                fprintf(stderr, "imapictl: the burn was cancelled on every recorder.\n");
        else if (failed > 0)
                fprintf(stderr, "imapictl: the burn failed on every recorder.\n");
        ctl_event_exit(m->bus, code);
}

static void on_ended(JobFollow *f, int code, void *userdata) {
        Row *row = userdata;
        RecordMany *m = row->owner;

        if (row->ended)
                return;
        row->ended = true;
        row->code = code;
        if (++m->ended == m->n)
                all_ended(m);
}

static const JobFollowObserver observer = {
        .changed = on_changed,
        .ended = on_ended,
};

/* The rows, named after the usable targets in their order (RecordDiscTo's jobs come in it). */
static int make_rows(RecordMany *m) {
        _cleanup_free_ char **names = NULL;
        size_t k = 0;
        int r;

        m->n = targets_usable(m->targets);
        m->rows = calloc(m->n, sizeof(Row));
        names = calloc(m->n, sizeof(char *));
        if (!m->rows || !names)
                return -ENOMEM;
        for (size_t i = 0; i < m->targets->n; i++) {
                if (m->targets->v[i].skipped)
                        continue;
                m->rows[k] = (Row) { .owner = m, .target = &m->targets->v[i] };
                names[k] = m->targets->v[i].id;
                r = job_follow_new(m->bus, m->progress, &m->rows[k].follow);
                if (r < 0)
                        return r;
                job_follow_set_observer(m->rows[k].follow, &observer, &m->rows[k]);
                k++;
        }
        return progress_rows_begin(m->progress, names, m->n);
}

int record_many_start(sd_bus *bus, Progress *p, sd_bus_message *call, Targets *t, bool verify,
                      bool simulate, RecordMany **ret) {
        _cleanup_(record_many_freep) RecordMany *m = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *job;
        size_t k = 0;
        int r;

        m = calloc(1, sizeof(RecordMany));
        if (!m)
                return CTL_EXIT_FAILED;
        *m = (RecordMany) { .bus = sd_bus_ref(bus), .progress = p, .targets = t, .verify = verify,
                            .simulate = simulate };
        /* The followers first: they subscribe to the jobs' signals before the jobs exist. */
        r = make_rows(m);
        if (r < 0) {
                fprintf(stderr, "imapictl: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        r = sd_bus_call(bus, call, 0, &error, &reply);
        if (r < 0)
                return ctl_report_error("RecordDiscTo", &error, r);
        r = sd_bus_message_enter_container(reply, 'a', "o");
        while (r >= 0 && (r = sd_bus_message_read(reply, "o", &job)) > 0 && k < m->n)
                r = job_follow_start(m->rows[k++].follow, job, m->simulate ? "simulate" : "burn");
        if (r >= 0 && k != m->n)
                r = -EBADMSG;
        if (r < 0) {
                fprintf(stderr, "imapictl: RecordDiscTo: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

void record_many_interrupt(RecordMany *m) {
        if (++m->interrupts == 1)
                progress_note(m->progress, "cancelling",
                              "Cancelling the jobs (press Ctrl-C again to stop waiting)...");
        for (size_t i = 0; i < m->n; i++)
                if (!m->rows[i].ended)
                        job_follow_interrupt(m->rows[i].follow);
}

static int on_run_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        RecordMany **m = userdata;

        if (*m)
                record_many_interrupt(*m);
        return 0;
}

int record_many_run(sd_bus *bus, Progress *p, sd_bus_message *call, Targets *t, bool verify, bool simulate) {
        _cleanup_(sd_event_source_unrefp) sd_event_source *sigint = NULL, *sigterm = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(record_many_freep) RecordMany *m = NULL;
        int r;

        r = sd_event_new(&event);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = ctl_catch_signals(event, on_run_signal, &m, &sigint, &sigterm);
        if (r < 0) {
                fprintf(stderr, "imapictl: %s\n", strerror(-r));
                (void) sd_bus_detach_event(bus);
                return CTL_EXIT_FAILED;
        }
        r = record_many_start(bus, p, call, t, verify, simulate, &m);
        if (r == 0) {
                r = sd_event_loop(event);
                if (r < 0) {
                        fprintf(stderr, "imapictl: RecordDiscTo: %s\n", strerror(-r));
                        r = CTL_EXIT_FAILED;
                }
        }
        (void) sd_bus_detach_event(bus);
        return r;
}
