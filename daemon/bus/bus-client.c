/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Clients by bus name or peer connection (bus-client.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus/bus-client.h"
#include "bus/bus-error.h"
#include "bus/bus-util.h"
#include "log.h"
#include "macro.h"

struct BusClient {
        BusDaemon *daemon;
        BusClient *next;
        sd_bus *bus;
        char *name;             /* unique bus name; NULL for a peer-to-peer connection */
        Client *client;
};

static BusClient *bus_client_free(BusClient *c) {
        if (!c)
                return NULL;
        sd_bus_unref(c->bus);
        free(c->name);
        client_unref(c->client);
        free(c);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(BusClient *, bus_client_free);

static void bus_client_unlink(BusClient *c) {
        for (BusClient **p = &c->daemon->clients; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        return;
                }
}

/* The client left: the core releases what it held. */
static void bus_client_gone(BusClient *c) {
        bus_client_unlink(c);
        manager_client_gone(c->daemon->manager, c->client);
        bus_client_free(c);
}

static int bus_client_new(BusDaemon *d, sd_bus_message *m, BusClient **ret, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        _cleanup_(bus_client_freep) BusClient *c = NULL;
        const char *sender = sd_bus_message_get_sender(m);
        _cleanup_free_ char *description = NULL;
        Client *client;
        uid_t uid;
        int r;

        /* Known on the bus since its first call came (bus-sender.h), unless it has left since. */
        r = bus_message_get_uid(m, &uid);
        if (r < 0)
                return log_debug_errno(r, "Cannot get the uid of %s: %m", strna(sender));
        if ((sender ? asprintf(&description, "%s (uid %d)", sender, (int) uid) :
                      asprintf(&description, "peer (uid %d)", (int) uid)) < 0)
                return -ENOMEM;
        c = calloc(1, sizeof(BusClient));
        if (!c)
                return -ENOMEM;
        c->daemon = d;
        c->bus = sd_bus_ref(sd_bus_message_get_bus(m));
        /* The client is gone when its name is: bus-sender.c follows NameOwnerChanged and calls
         * bus_client_name_gone(). */
        if (sender) {
                c->name = strdup(sender);
                if (!c->name)
                        return -ENOMEM;
        }
        r = manager_add_client(d->manager, uid, description, &client, &e);
        if (r < 0)
                return bus_error_set_imapi(error, r, &e);
        c->client = client_ref(client);
        *ret = TAKE_PTR(c);
        return 0;
}

int bus_client_get(BusDaemon *d, sd_bus_message *m, bool create, Client **ret, sd_bus_error *error) {
        sd_bus *bus = sd_bus_message_get_bus(m);
        const char *sender = sd_bus_message_get_sender(m);
        BusClient *c;
        int r;

        for (c = d->clients; c; c = c->next)
                if (c->bus == bus && streq_ptr(c->name, sender)) {
                        *ret = c->client;
                        return 0;
                }
        if (!create) {
                *ret = NULL;
                return -ENOENT;
        }
        r = bus_client_new(d, m, &c, error);
        if (r < 0)
                return r;
        c->next = d->clients;
        d->clients = c;
        *ret = c->client;
        return 0;
}

bool bus_client_on_bus(const BusDaemon *d, sd_bus *bus) {
        for (const BusClient *c = d->clients; c; c = c->next)
                if (c->bus == bus)
                        return true;
        return false;
}

void bus_client_peer_gone(BusDaemon *d, sd_bus *bus) {
        for (BusClient *c = d->clients, *next; c; c = next) {
                next = c->next;
                if (c->bus == bus)
                        bus_client_gone(c);
        }
}

void bus_client_name_gone(BusDaemon *d, sd_bus *bus, const char *name) {
        for (BusClient *c = d->clients; c; c = c->next)
                if (c->bus == bus && streq_ptr(c->name, name)) {
                        bus_client_gone(c);
                        return;
                }
}

void bus_client_drop_all(BusDaemon *d) {
        while (d->clients)
                bus_client_gone(d->clients);
}
