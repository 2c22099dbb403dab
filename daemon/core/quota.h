/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What one user (uid) may hold of imapid, so that no user can take what others need: clients,
 * disc masters, bytes and files staged in the stash, and running jobs. The global limits
 * (MaxClients, MaxDiscMasters) bound imapid; these bound each user's share of them, a quarter
 * by default, and lower with the global limits when the fd budget lowers those (limits.h).
 * root, who administers imapid, is held to the global limits only. Each refusal is
 * IMAPI_E_OUTOFMEMORY (as the global limits are) naming the limit, or for the
 * stash IMAPI_E_NOTENOUGHDISKFORSTASH, which is what a client already handles for a full stash.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "core/manager.h"
#include "imapi-error.h"

typedef struct Master Master;

/* The per-user limits in force: the configured ones, at most a quarter of the global ones. */
unsigned quota_clients_per_user(const Manager *m);
unsigned quota_masters_per_user(const Manager *m);

/* A new client of uid. */
int quota_check_client(Manager *m, uid_t uid, ImapiError *error);
/* A new disc master of uid. */
int quota_check_master(Manager *m, uid_t uid, ImapiError *error);
/* Staging bytes and files more into master (of its owner's uid). */
int quota_check_staging(Manager *m, const Master *master, uint64_t bytes, uint64_t files, ImapiError *error);
/* quota_check_staging(), then the bytes reserved in master's stash (stash_reserve()): the error of
 * the first that refuses, with nothing reserved. */
int quota_reserve_staging(Manager *m, const Master *master, uint64_t bytes, uint64_t files,
                          ImapiError *error);
/* A new job of uid. */
int quota_check_job(Manager *m, uid_t uid, ImapiError *error);
/* Room for more jobs of uid at once (RecordDiscTo: one per recorder). */
int quota_check_jobs(Manager *m, uid_t uid, unsigned more, ImapiError *error);
