/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The job's state machine in the core, without a bus: phases, progress, cancel and the end, as
 * the observer hears them.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "core/client.h"
#include "core/config.h"
#include "core/job.h"
#include "core/manager.h"
#include "core/recorder.h"
#include "core-harness.h"
#include "macro.h"
#include "tap.h"

static Recording rec;
static unsigned cancels;

static void count_cancel(Job *j, void *userdata) {
        cancels++;
}

static void test_job(Manager *m, Client *c) {
        ImapiError e = IMAPI_ERROR_NULL;
        Recorder r = { .id = (char *) "sr7" };
        Job *j;
        int k;

        recording_clear(&rec);
        k = job_new(m, "burn", c, 4, &r, &j);
        CHECK(k == 0 && j->id == 1 && j->phase == JOB_PHASE_PREPARING && j->master_id == 4 &&
              streq(j->recorder_id, "sr7") && j->uid == 1000 && j->cancelable && j->buffer_fill < 0,
              "a new job: preparing, its objects and its user");
        CHECK(manager_find_job(m, 1) == j && recorded(&rec, "added job") == 1 &&
              recorded(&rec, "manager changed 0x2") == 1, "it is found, and announced with the manager's Jobs");

        recording_clear(&rec);
        job_set_phase(j, JOB_PHASE_WRITING);
        job_set_phase(j, JOB_PHASE_WRITING);
        CHECK(streq(job_phase_to_string(j->phase), "writing") && recorded(&rec, "job 1 changed 0x1") == 1,
              "a phase change is told once");
        job_set_progress(j, 1.7, 4096, 0.5);
        CHECK(j->progress == 1.0 && j->progress_valid && j->buffer_fill == 0.5 &&
              recorded(&rec, "job 1 changed 0x2") == 1, "progress is clamped to 1 and told");
        job_set_progress(j, -3, 0, -1);
        CHECK(j->progress == 0, "and to 0");
        job_set_bytes(j, 1 << 20);
        CHECK(j->bytes == 1 << 20 && recorded(&rec, "job 1 changed 0x4") == 1, "the size of the work");

        j->cancel = count_cancel;
        CHECK(job_request_cancel(j, &e) == 0 && cancels == 1 && j->cancel_requested,
              "Cancel asks the work to stop");
        CHECK(job_request_cancel(j, &e) == 0 && cancels == 1, "asking twice asks once");

        recording_clear(&rec);
        job_complete(j, IMAPI_E_USERABORT, "0x80040001: stopped");
        CHECK(j->completed && j->phase == JOB_PHASE_DONE && j->hresult == IMAPI_E_USERABORT && !j->cancelable,
              "the end: done, with its HRESULT, no longer cancelable");
        CHECK(rec.n == 2 && streq(rec.lines[0], "job 1 changed 0x8") &&
              streq(rec.lines[1], "job 1 completed no 0x80040001: stopped"),
              "the observer hears the result, then that the job completed");
        job_complete(j, IMAPI_S_OK, NULL);
        CHECK(j->hresult == IMAPI_E_USERABORT && rec.n == 2, "a job ends once");
        CHECK(job_request_cancel(j, &e) < 0 && e.hresult == IMAPI_E_GENERIC && e.message &&
              strstr(e.message, "cannot be cancelled any more"), "a completed job cannot be cancelled (%s)",
              strna(e.message));
        imapi_error_done(&e);

        recording_clear(&rec);
        job_free(j);
        CHECK(m->n_jobs == 0 && recorded(&rec, "removed job") == 1 && recorded(&rec, "manager changed 0x2") == 1,
              "freed: removed, and the manager's Jobs change");

        k = job_new(m, "erase", NULL, 0, &r, &j);
        CHECK(k == 0 && j->id == 2 && j->master_id == 0, "ids are not reused; an erase has no disc master");
        job_complete(j, IMAPI_S_OK, NULL);
        CHECK(j->progress == 1.0 && recorded(&rec, "job 2 completed yes") == 1,
              "success completes the progress");
        job_free(j);
}

int main(void) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        ImapiError e = IMAPI_ERROR_NULL;
        Manager *m = NULL;
        Client *c = NULL;
        CoreObserver o;
        Config config;

        config_init(&config);
        config.scan = false;
        if (sd_event_new(&event) < 0 || manager_new(event, &config, &m) < 0) {
                printf("Bail out! no manager\n");
                return 1;
        }
        o = recording_observer(&rec);
        manager_set_observer(m, &o);
        CHECK(manager_add_client(m, 1000, "test (uid 1000)", &c, &e) == 0 && !c->gone, "a client");
        config.max_clients = 1;
        {
                Client *c2 = NULL;

                CHECK(manager_add_client(m, 1001, "two (uid 1001)", &c2,
                                         &e) < 0 && e.hresult == IMAPI_E_OUTOFMEMORY &&
                      !c2, "MaxClients holds (%s)", strna(e.message));
                imapi_error_done(&e);
        }

        test_job(m, c);

        manager_set_observer(m, NULL);
        m = manager_free(m);
        config_done(&config);
        recording_clear(&rec);
        return tap_done();
}
