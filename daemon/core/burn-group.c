/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * RecordDiscTo: one disc master's staged content burned to several recorders at once, one job
 * per recorder. Every recorder is checked and its disc read before any of them writes; then each
 * burn runs as RecordDisc's would (burn.c), with an image generator of its own over the same
 * staged files (nothing is copied per recorder). The staged content stays until the last of them
 * has ended, and goes only if all succeeded (or keep was asked for).
 */

#include <errno.h>
#include <stdlib.h>

#include <imapi/imapierror.h>

#include "core/burn-group.h"
#include "core/burn-ops.h"
#include "core/quota.h"
#include "log.h"
#include "macro.h"

typedef struct BurnGroup {
        Master *master;
        Client *client;
        RecordOptions options;
        core_done_fn done;
        void *userdata;
        size_t n;
        Recorder **recorders;
        bool *grabbed;          /* the recorder's drive is grabbed and its disc read */
        size_t pending;         /* reads not yet done */
        int result;
        ImapiError error;       /* the first failure */
} BurnGroup;

static void group_free(BurnGroup *g) {
        client_unref(g->client);
        imapi_error_done(&g->error);
        free(g->recorders);
        free(g->grabbed);
        free(g);
}

static void group_release(BurnGroup *g) {
        for (size_t i = 0; i < g->n; i++)
                if (g->grabbed[i]) {
                        drive_release(g->recorders[i]->drive, false);
                        g->grabbed[i] = false;
                }
}

/* What RecordDisc checks, for each recorder, with the user's room for n jobs. */
static int group_check(Master *m, Client *c, Recorder *const *recs, size_t n, ImapiError *error) {
        int k;

        for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < i; j++)
                        if (recs[j] == recs[i])
                                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                                       "Recorder %s is listed twice.", recs[i]->id);
                if (!master_offers_recorder(m, recs[i]))
                        return imapi_error_set(error, IMAPI_E_DEVICE_INVALIDTYPE,
                                               "Recorder %s cannot burn disc master %u's format.", recs[i]->id,
                                               m->id);
                k = burn_check_on(m, recs[i], error);
                if (k < 0)
                        return k;
        }
        return c ? quota_check_jobs(m->manager, c->uid, (unsigned) n, error) : 0;
}

/* Every disc is read: the checks again (things may have changed meanwhile), each disc's plan,
 * and only then the jobs. With wait_for_medium, a recorder whose disc will not do gets a job
 * that waits for one (burn-wait.c) while the others write. */
static int group_begin(BurnGroup *g, Job **jobs, ImapiError *error) {
        Master *m = g->master;
        int k;

        k = group_check(m, g->client, g->recorders, g->n, error);
        for (size_t i = 0; k >= 0 && i < g->n; i++) {
                _cleanup_imapi_error_ ImapiError why = IMAPI_ERROR_NULL;
                SessionPlan plan;

                k = master_plan_burn(m, g->recorders[i], g->options.replace, g->options.simulate, &plan, &why);
                if (k < 0 && burn_wait_applies(&g->options, &why))
                        k = 0;
                else if (k < 0)
                        imapi_error_move(error, &why);
        }
        if (k < 0) {
                group_release(g);
                return k;
        }
        for (size_t i = 0; i < g->n; i++) {
                g->grabbed[i] = false;  /* burn_begin_on() owns the drive from here */
                k = burn_begin_on(m, g->recorders[i], g->client, &g->options, &jobs[i], error);
                if (k >= 0)
                        continue;
                /* Rare (memory, a recorder refusing to start): the ones already going stop, so
                 * that the call's error is the whole answer. */
                for (size_t j = 0; j < i; j++)
                        if (jobs[j]->cancel)
                                jobs[j]->cancel(jobs[j], jobs[j]->userdata);
                for (size_t j = i + 1; j < g->n; j++)
                        drive_release(g->recorders[j]->drive, false);
                return k;
        }
        return 0;
}

static void group_prepared(Recorder *r, int k, const ImapiError *prep_error, void *userdata) {
        _cleanup_imapi_error_ ImapiError error = IMAPI_ERROR_NULL;
        BurnGroup *g = userdata;
        Master *m = g->master;
        _cleanup_free_ Job **jobs = NULL;

        for (size_t i = 0; i < g->n; i++)
                if (g->recorders[i] == r)
                        g->grabbed[i] = k >= 0;
        if (k < 0 && g->result >= 0) {
                g->result = k;
                if (prep_error)
                        (void) imapi_error_set(&g->error, prep_error->hresult, "%s", prep_error->message);
        }
        if (--g->pending > 0)
                return;

        m->preparing--;
        k = g->result;
        if (k < 0)
                group_release(g);
        else {
                jobs = calloc(g->n + 1, sizeof(Job *));
                k = jobs ? group_begin(g, jobs, &error) : -ENOMEM;
        }
        if (k < 0 && !imapi_error_is_set(&error) && imapi_error_is_set(&g->error))
                (void) imapi_error_set(&error, g->error.hresult, "%s", g->error.message);
        if (k < 0 && !imapi_error_is_set(&error))
                (void) imapi_error_set_errno(&error, k, NULL);
        g->done(g->userdata, k, k < 0 ? &error : NULL, k < 0 ? NULL : jobs);
        group_free(g);
        master_work_done(m);
}

int burn_start_group(Master *m, Client *c, Recorder *const *recs, size_t n, const RecordOptions *o,
                     core_done_fn done, void *userdata, ImapiError *error) {
        BurnGroup *g;
        int k;

        if (n == 0)
                return imapi_error_set(error, IMAPI_E_INVALIDARG, "No recorder to burn on.");
        if (n > BURN_GROUP_MAX)
                return imapi_error_set(error, IMAPI_E_INVALIDARG, "At most %u recorders at once, not %zu.",
                                       BURN_GROUP_MAX, n);
        k = group_check(m, c, recs, n, error);
        if (k < 0)
                return k;
        g = calloc(1, sizeof(BurnGroup));
        if (!g)
                return -ENOMEM;
        *g = (BurnGroup) { .master = m, .client = client_ref(c), .options = *o, .done = done,
                           .userdata = userdata, .n = n, .error = IMAPI_ERROR_NULL };
        g->recorders = calloc(n, sizeof(Recorder *));
        g->grabbed = calloc(n, sizeof(bool));
        if (!g->recorders || !g->grabbed) {
                group_free(g);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                g->recorders[i] = recs[i];
        for (size_t i = 0; i < n; i++) {
                k = recorder_prepare(recs[i], o->wait_for_medium == 0, group_prepared, g, error);
                if (k >= 0) {
                        g->pending++;
                        continue;
                }
                /* The reads already started end in group_prepared(), which releases them. */
                g->result = k;
                if (g->pending == 0) {
                        group_free(g);
                        return k;
                }
                (void) imapi_error_set(&g->error, error->hresult, "%s", error->message);
                break;
        }
        m->preparing++;
        return 1;
}
