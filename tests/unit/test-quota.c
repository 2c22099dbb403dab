/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-user limits (core/quota.c): each holds by name, for one user and not for others or root. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-event.h>

#include <imapi/imapierror.h>

#include "core-harness.h"
#include "core/client.h"
#include "core/config.h"
#include "core/job.h"
#include "core/manager.h"
#include "core/master.h"
#include "core/quota.h"
#include "macro.h"
#include "tap.h"

static Recording rec;

static bool refused(int r, ImapiError *e, const char *limit) {
        bool ok = r < 0 && e->hresult == IMAPI_E_OUTOFMEMORY && e->message && strstr(e->message, limit);

        imapi_error_done(e);
        return ok;
}

int main(void) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        ImapiError e = IMAPI_ERROR_NULL;
        Client *a1 = NULL, *a2 = NULL, *a3 = NULL, *b = NULL, *root = NULL;
        Master *masters[8] = {};
        Job *jobs[3] = {};
        Manager *m = NULL;
        CoreObserver o;
        Config config;
        int r;

        config_init(&config);
        config.scan = false;
        config.default_drive = mfree(config.default_drive);
        config.max_clients = 8;         /* a quarter: 2 per user */
        config.max_masters = 12;        /* a quarter: 3 per user */
        config.max_jobs_per_user = 2;
        if (sd_event_new(&event) < 0 || manager_new(event, &config, &m) < 0) {
                printf("Bail out! no manager\n");
                return 1;
        }
        o = recording_observer(&rec);
        manager_set_observer(m, &o);

        CHECK(quota_clients_per_user(m) == 2 && quota_masters_per_user(m) == 3,
              "the per-user limits are a quarter of the global ones (%u clients, %u masters)",
              quota_clients_per_user(m), quota_masters_per_user(m));
        CHECK(manager_add_client(m, 1000, "a1", &a1, &e) == 0 &&
              manager_add_client(m, 1000, "a2", &a2, &e) == 0, "user 1000 gets two clients");
        r = manager_add_client(m, 1000, "a3", &a3, &e);
        CHECK(refused(r, &e, "MaxClientsPerUser") && !a3, "a third is refused, naming MaxClientsPerUser");
        CHECK(manager_add_client(m, 1001, "b", &b, &e) == 0, "another user still gets one");
        CHECK(manager_add_client(m, 0, "root", &root, &e) == 0, "and root");

        for (size_t i = 0; i < 3; i++)
                CHECK(manager_create_master(m, a1, &masters[i], &e) == 0, "user 1000's disc master %zu",
                      i + 1);
        r = manager_create_master(m, a2, &masters[3], &e);
        CHECK(refused(r, &e, "MaxDiscMastersPerUser"),
              "a fourth, from the user's other client, is refused, naming MaxDiscMastersPerUser");
        CHECK(manager_create_master(m, b, &masters[4], &e) == 0, "another user's disc master is made");
        for (size_t i = 5; i < 8; i++)
                CHECK(manager_create_master(m, root, &masters[i], &e) == 0, "root's disc master %zu", i - 4);

        CHECK(job_new(m, "burn", a1, 0, NULL, &jobs[0]) == 0 &&
              job_new(m, "erase", a2, 0, NULL, &jobs[1]) == 0, "two jobs of user 1000");
        CHECK(quota_check_job(m, 1000, &e) < 0 && refused(-1, &e, "MaxJobsPerUser"),
              "a third is refused, naming MaxJobsPerUser");
        CHECK(quota_check_job(m, 1001, &e) == 0 && quota_check_job(m, 0, &e) == 0,
              "another user's and root's are not");
        jobs[0] = job_free(jobs[0]);
        CHECK(quota_check_job(m, 1000, &e) == 0, "once a job ends, the user may start another");
        jobs[1] = job_free(jobs[1]);

        manager_set_observer(m, NULL);
        m = manager_free(m);
        config_done(&config);
        recording_clear(&rec);
        return tap_done();
}
