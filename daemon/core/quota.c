/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-user limits (quota.h). */

#include <inttypes.h>

#include <imapi/imapierror.h>

#include "core/client.h"
#include "core/config.h"
#include "core/job.h"
#include "core/master.h"
#include "core/quota.h"
#include "macro.h"
#include "media/stash.h"

#define MIB (UINT64_C(1024) * 1024)

static unsigned share(unsigned configured, unsigned global) {
        return MIN(configured, MAX(global / 4, 1u));
}

unsigned quota_clients_per_user(const Manager *m) {
        return share(m->config->max_clients_per_user, m->config->max_clients);
}

unsigned quota_masters_per_user(const Manager *m) {
        return share(m->config->max_masters_per_user, m->limits.max_masters);
}

int quota_check_client(Manager *m, uid_t uid, ImapiError *error) {
        unsigned n = 0, max = quota_clients_per_user(m);

        if (uid == 0)
                return 0;
        for (size_t i = 0; i < m->n_clients; i++)
                n += m->clients[i]->uid == uid;
        if (n >= max)
                return imapi_error_set(error, IMAPI_E_OUTOFMEMORY,
                                       "User %d already has %u clients holding recorders or disc masters "
                                       "(MaxClientsPerUser); end one first.", (int) uid, max);
        return 0;
}

int quota_check_master(Manager *m, uid_t uid, ImapiError *error) {
        unsigned n = 0, max = quota_masters_per_user(m);

        if (uid == 0)
                return 0;
        for (size_t i = 0; i < m->n_masters; i++)
                n += m->masters[i]->owner && m->masters[i]->owner->uid == uid;
        if (n >= max)
                return imapi_error_set(error, IMAPI_E_OUTOFMEMORY,
                                       "User %d already holds %u disc masters (MaxDiscMastersPerUser); "
                                       "close one first.", (int) uid, max);
        return 0;
}

/* What a master holds in its stash: staged copies, audio tracks, and copies still running. */
static uint64_t master_stash_bytes(const Master *m) {
        return m->staging.cost + redbook_used_blocks(&m->redbook) * REDBOOK_BLOCK_SIZE +
               (m->stash ? stash_reserved(m->stash) : 0);
}

int quota_check_staging(Manager *m, const Master *master, uint64_t bytes, uint64_t files, ImapiError *error) {
        const Config *c = m->config;
        uid_t uid = master->owner ? master->owner->uid : 0;
        uint64_t used = 0, staged = 0, max_bytes = c->max_stash_bytes_per_user;

        if (uid == 0)
                return 0;
        for (size_t i = 0; i < m->n_masters; i++) {
                const Master *x = m->masters[i];

                if (x != master && (!x->owner || x->owner->uid != uid))
                        continue;
                used += master_stash_bytes(x);
                staged += staging_count(&x->staging) + (x->staging.boot.copy != 0) + x->redbook.n;
        }
        if (files > c->max_staged_files_per_user || staged > c->max_staged_files_per_user - files)
                return imapi_error_set(error, IMAPI_E_OUTOFMEMORY,
                                       "User %d has %" PRIu64 " files and folders staged; %" PRIu64 " more "
                                       "would pass MaxStagedFilesPerUser=%u.", (int) uid, staged, files,
                                       c->max_staged_files_per_user);
        /* 0: half of the stash's file system, whatever its size. */
        if (max_bytes == 0 && master->stash && stash_get_size(master->stash, &max_bytes) >= 0)
                max_bytes /= 2;
        if (max_bytes > 0 && (bytes > max_bytes || used > max_bytes - bytes))
                return imapi_error_set(error, IMAPI_E_NOTENOUGHDISKFORSTASH,
                                       "User %d has %" PRIu64 " MiB in the stash; %" PRIu64 " MiB more would "
                                       "pass the %" PRIu64 " MiB one user may use (MaxStashBytesPerUser).",
                                       (int) uid, DIV_ROUND_UP(used, MIB), DIV_ROUND_UP(bytes, MIB),
                                       max_bytes / MIB);
        return 0;
}

int quota_reserve_staging(Manager *m, const Master *master, uint64_t bytes, uint64_t files,
                          ImapiError *error) {
        int r;

        r = quota_check_staging(m, master, bytes, files, error);
        if (r < 0)
                return r;
        return stash_reserve(master->stash, bytes, error);
}

int quota_check_jobs(Manager *m, uid_t uid, unsigned more, ImapiError *error) {
        unsigned n = 0;

        if (uid == 0)
                return 0;
        for (size_t i = 0; i < m->n_jobs; i++)
                n += m->jobs[i]->uid == uid;
        if (more == 1 && n >= m->config->max_jobs_per_user)
                return imapi_error_set(error, IMAPI_E_OUTOFMEMORY,
                                       "User %d already runs %u jobs (MaxJobsPerUser); wait for one to end.",
                                       (int) uid, n);
        if (n + more > m->config->max_jobs_per_user)
                return imapi_error_set(error, IMAPI_E_OUTOFMEMORY,
                                       "User %d runs %u jobs and asks for %u more; MaxJobsPerUser is %u.",
                                       (int) uid, n, more, m->config->max_jobs_per_user);
        return 0;
}

int quota_check_job(Manager *m, uid_t uid, ImapiError *error) {
        return quota_check_jobs(m, uid, 1, error);
}
