/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QueryMediaType, QueryMediaInfo and Eject for the client that holds a recorder: the drive is
 * read (or its tray opened, then read) in a worker, since a real drive that spins up after a
 * disc was loaded takes seconds over its first READ DISC INFORMATION, and nothing else may wait
 * for that. Queries that come while one runs share its answer; the holder's Close, the holder
 * leaving or the drive going away meanwhile only take effect on the drive when the worker is
 * done with it. A drive that is back after it was gone, or was lost to another program, is set
 * up again and read the same way.
 */

#include <errno.h>
#include <stdlib.h>

#include <imapi/imapierror.h>

#include "core/recorder.h"
#include "core/worker.h"
#include "log.h"
#include "macro.h"

typedef struct QueryCaller QueryCaller;
struct QueryCaller {
        QueryCaller *next;
        bool need_medium;
        core_done_fn done;
        void *userdata;
};

struct RecorderQuery {
        Recorder *recorder;
        bool release;           /* Close: the drive is only let go */
        bool revive;            /* with release: a new libburn object first, if it needs one */
        bool read;              /* with revive: its disc read too */
        bool eject;
        int eject_result;
        RecorderReadout readout;
        QueryCaller *callers;   /* first first */
        QueryCaller **tail;
        unsigned n_callers;
};

static void query_run(void *userdata) {
        RecorderQuery *q = userdata;
        Drive *drive = q->recorder->drive;

        if (q->revive) {
                if (drive_revive(drive) >= 0 && q->read)
                        recorder_look(drive, &q->readout);
                return;
        }
        if (q->release) {
                drive_release(drive, false);
                return;
        }
        if (q->eject)
                q->eject_result = drive_eject(drive);
        if (q->eject_result >= 0)
                (void) recorder_readout(drive, &q->readout);
}

/* What the work came to, for every caller: 0, or < 0 with *error set. */
static int query_result(RecorderQuery *q, ImapiError *error) {
        Recorder *r = q->recorder;
        int k;

        if (q->eject && q->eject_result < 0) {
                /* The drive is gone from under us: give the claim up rather than pretend. */
                k = recorder_grab_error(r, q->eject_result, error);
                if (r->owner)
                        recorder_release(r);
                return k;
        }
        if (!r->present)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTPRESENT, "Recorder %s has been removed.",
                                       r->id);
        k = recorder_apply_readout(r, &q->readout);
        if (k < 0 && !q->eject)
                return recorder_read_error(r, k, error);
        if (q->eject)
                log_info("Recorder %s ejected by %s.", r->id, r->owner ? r->owner->description : "a client");
        recorder_changed(r);
        return 0;
}

static void query_done(void *userdata) {
        _cleanup_free_ RecorderQuery *q = userdata;
        _cleanup_imapi_error_ ImapiError error = IMAPI_ERROR_NULL;
        Recorder *r = q->recorder;
        int k;

        r->query = NULL;
        if (q->release) {
                if (q->read && !r->manager->exiting)
                        (void) recorder_apply_readout(r, &q->readout);
                recorder_readout_done(&q->readout);
                /* Whoever waits to open the drive may now. */
                if (!r->manager->exiting)
                        recorder_prepare_resume(r);
                recorder_changed(r);
                manager_check_exit(r->manager);
                return;
        }
        k = query_result(q, &error);
        recorder_readout_done(&q->readout);
        /* The holder closed, left, or the drive went away while the worker had it. */
        if (!r->owner && r->busy == 0)
                recorder_release_drive(r);
        while (q->callers) {
                _cleanup_imapi_error_ ImapiError medium = IMAPI_ERROR_NULL;
                QueryCaller *c = q->callers;
                int kc = k;

                q->callers = c->next;
                if (kc >= 0 && c->need_medium)
                        kc = recorder_check_medium(r, &medium);
                c->done(c->userdata, kc, k < 0 ? &error : kc < 0 ? &medium : NULL, r);
                free(c);
        }
        manager_check_exit(r->manager);
}

static int query_join(RecorderQuery *q, bool need_medium, core_done_fn done, void *userdata,
                      ImapiError *error) {
        QueryCaller *c;

        if (q->n_callers > RECORDER_WAITING_MAX)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is being read for %u calls already; try again.",
                                       q->recorder->id, q->n_callers);
        c = malloc(sizeof(QueryCaller));
        if (!c)
                return -ENOMEM;
        *c = (QueryCaller) { .need_medium = need_medium, .done = done, .userdata = userdata };
        *q->tail = c;
        q->tail = &c->next;
        q->n_callers++;
        return 1;
}

static int query_submit(Recorder *r, RecorderQuery *q) {
        int k;

        k = worker_submit(r->manager->worker, query_run, query_done, q);
        if (k < 0)
                return k;
        r->query = q;
        return 1;
}

static RecorderQuery *query_new(Recorder *r) {
        RecorderQuery *q = calloc(1, sizeof(RecorderQuery));

        if (!q)
                return NULL;
        *q = (RecorderQuery) { .recorder = r, .readout.error = -ENODATA };
        q->tail = &q->callers;
        return q;
}

static int query_start(Recorder *r, bool eject, bool need_medium, core_done_fn done, void *userdata,
                       ImapiError *error) {
        RecorderQuery *q;
        int k;

        q = query_new(r);
        if (!q)
                return -ENOMEM;
        q->eject = eject;
        k = query_join(q, need_medium, done, userdata, error);
        if (k >= 0)
                k = query_submit(r, q);
        if (k < 0) {
                free(q->callers);
                free(q);
        }
        return k;
}

int recorder_query_media(Recorder *r, Client *c, bool need_medium, core_done_fn done, void *userdata,
                         ImapiError *error) {
        int k;

        k = recorder_check_owner(r, c, error);
        if (k < 0)
                return k;
        /* A job (or the end of one, in a worker) has the drive: what it last read stands. */
        if (r->busy > 0)
                return need_medium ? recorder_check_medium(r, error) : 0;
        /* A read (or an eject, which reads after it) is under way: its answer is this one's. */
        if (r->query)
                return query_join(r->query, need_medium, done, userdata, error);
        return query_start(r, false, need_medium, done, userdata, error);
}

int recorder_eject(Recorder *r, Client *c, core_done_fn done, void *userdata, ImapiError *error) {
        int k;

        k = recorder_check_owner(r, c, error);
        if (k < 0)
                return k;
        if (r->busy > 0)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is erasing; the tray opens when the job ends.", r->id);
        if (r->query)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is being read for another call; try again.", r->id);
        return query_start(r, true, false, done, userdata, error);
}

void recorder_release_drive(Recorder *r) {
        RecorderQuery *q;

        /* A real drive's release (unlocking the tray, the cache flushed) takes as long as a
         * read: in a worker, unless imapid is stopping and the workers with it. */
        if (!r->manager->exiting && drive_is_grabbed(r->drive)) {
                q = query_new(r);
                if (q) {
                        q->release = true;
                        if (query_submit(r, q) > 0)
                                return;
                        free(q);
                }
        }
        drive_release(r->drive, false);
}

void recorder_revive(Recorder *r, bool read) {
        RecorderQuery *q = query_new(r);

        if (!q) {
                log_oom();
                return;
        }
        q->release = q->revive = true;
        q->read = read;
        if (query_submit(r, q) < 0)
                free(q);        /* tried again at the next check */
}

bool recorder_releasing(const Recorder *r) {
        return r->query && r->query->release;
}
