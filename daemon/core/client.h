/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A client: a program that holds a recorder (OpenExclusive), a disc master or a job. The bus
 * layer knows it by its bus name or peer connection; here it is a user and a description for
 * logs and for ExclusiveOwner. Counted: work that outlives a call (a drive read for
 * OpenExclusive) keeps it, and finds it gone when it has left.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

typedef struct Manager Manager;

typedef struct Client {
        unsigned n_ref;
        Manager *manager;
        uid_t uid;
        char *description;      /* "name (uid 1000)" or "peer (uid 1000)" */
        bool gone;              /* left; nothing may be given to it any more */
} Client;

int client_new(Manager *m, uid_t uid, const char *description, Client **ret);
Client *client_ref(Client *c);
Client *client_unref(Client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Client *, client_unref);
