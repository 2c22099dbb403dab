/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A client of the core (client.h). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/client.h"

int client_new(Manager *m, uid_t uid, const char *description, Client **ret) {
        Client *c = calloc(1, sizeof(Client));

        if (!c)
                return -ENOMEM;
        c->description = strdup(description);
        if (!c->description) {
                free(c);
                return -ENOMEM;
        }
        c->n_ref = 1;
        c->manager = m;
        c->uid = uid;
        *ret = c;
        return 0;
}

Client *client_ref(Client *c) {
        if (c)
                c->n_ref++;
        return c;
}

Client *client_unref(Client *c) {
        if (!c || --c->n_ref > 0)
                return NULL;
        free(c->description);
        free(c);
        return NULL;
}
