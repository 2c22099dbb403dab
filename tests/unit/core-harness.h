/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * For unit tests of the daemon's core without a bus: an observer that writes down what the core
 * reports, one line per call ("added master 1", "master 1 changed 0x1", ...), and a done
 * callback (async.h) that the test waits for on the event loop.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "core/job.h"
#include "core/manager.h"
#include "core/master.h"
#include "core/recorder.h"
#include "imapi-error.h"

#define RECORD_MAX 4096

typedef struct Recording {
        char *lines[RECORD_MAX];
        size_t n;
} Recording;

static inline void record(Recording *rec, const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (s && rec->n < RECORD_MAX)
                rec->lines[rec->n++] = s;
        else
                free(s);
}

static inline void recording_clear(Recording *rec) {
        for (size_t i = 0; i < rec->n; i++)
                free(rec->lines[i]);
        rec->n = 0;
}

/* How many lines start with prefix. */
static inline size_t recorded(const Recording *rec, const char *prefix) {
        size_t n = 0;

        for (size_t i = 0; i < rec->n; i++)
                n += strncmp(rec->lines[i], prefix, strlen(prefix)) == 0;
        return n;
}

static inline const char *object_kind_name(ObjectKind k) {
        return k == OBJECT_RECORDER ? "recorder" : k == OBJECT_MASTER ? "master" : "job";
}

static inline void on_added(void *u, ObjectKind k, void *o) {
        record(u, "added %s %s", object_kind_name(k), k == OBJECT_RECORDER ? ((Recorder *) o)->id : "");
}

static inline void on_removed(void *u, ObjectKind k, void *o) {
        record(u, "removed %s", object_kind_name(k));
}

static inline void on_recorder(void *u, Recorder *r, unsigned changes) {
        record(u, "recorder %s changed 0x%x", r->id, changes);
}

static inline void on_master(void *u, Master *m, unsigned changes) {
        record(u, "master %u changed 0x%x", m->id, changes);
}

static inline void on_job(void *u, Job *j, unsigned changes) {
        record(u, "job %u changed 0x%x", j->id, changes);
}

static inline void on_manager(void *u, unsigned changes) {
        record(u, "manager changed 0x%x", changes);
}

static inline void on_event(void *u, Master *m, const MasterEvent *e) {
        record(u, "event %u %d %d %d 0x%08x", m->id, (int) e->kind, e->a, e->b, e->hresult);
}

static inline void on_erase_complete(void *u, Recorder *r, uint32_t hr) {
        record(u, "erase complete %s 0x%08x", r->id, hr);
}

static inline void on_job_completed(void *u, Job *j, bool success, const char *message) {
        record(u, "job %u completed %s %s", j->id, success ? "yes" : "no", message);
}

static inline void on_work_started(void *u, const char *why) {
        record(u, "work started %s", why);
}

static inline void on_work_ended(void *u) {
        record(u, "work ended");
}

static inline CoreObserver recording_observer(Recording *rec) {
        return (CoreObserver) {
                .object_added = on_added,
                .object_removed = on_removed,
                .recorder_changed = on_recorder,
                .master_changed = on_master,
                .job_changed = on_job,
                .manager_changed = on_manager,
                .master_event = on_event,
                .erase_complete = on_erase_complete,
                .job_completed = on_job_completed,
                .work_started = on_work_started,
                .work_ended = on_work_ended,
                .userdata = rec,
        };
}

/* What a done callback got. */
typedef struct Done {
        bool called;
        unsigned calls;
        int r;
        uint32_t hresult;
        char message[512];
        void *result;
} Done;

static inline void done_cb(void *userdata, int r, const ImapiError *e, void *result) {
        Done *d = userdata;

        d->called = true;
        d->calls++;
        d->r = r;
        d->hresult = e ? e->hresult : 0;
        snprintf(d->message, sizeof d->message, "%s", e && e->message ? e->message : "");
        d->result = result;
}

/* Runs the loop until d was called (for at most 30 s: a bound, not a timing assertion). */
static inline bool wait_done(Manager *m, Done *d) {
        for (unsigned i = 0; i < 3000 && !d->called; i++)
                (void) sd_event_run(m->event, 10 * 1000);
        return d->called;
}

/* Runs the loop for what is already queued. */
static inline void settle(Manager *m) {
        for (unsigned i = 0; i < 50; i++)
                (void) sd_event_run(m->event, 1000);
}
