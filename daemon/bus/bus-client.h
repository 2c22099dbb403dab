/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core's clients as the bus knows them: a unique name on a bus, until the name goes away
 * (bus-sender.h follows the names), or a peer-to-peer connection, until it closes. Each has a Client of the
 * core (client.h), created when it first holds something.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "bus/bus-daemon.h"
#include "core/client.h"

/* The client that sent m, or NULL (and -ENOENT) when it holds nothing; created when create is
 * set (IMAPI_E_OUTOFMEMORY past MaxClients). */
int bus_client_get(BusDaemon *d, sd_bus_message *m, bool create, Client **ret, sd_bus_error *error);
/* Whether a client on this connection holds something (a recorder, a disc master, a job). */
bool bus_client_on_bus(const BusDaemon *d, sd_bus *bus);
/* The clients of a closed connection (a peer's, or the bus) are gone. */
void bus_client_peer_gone(BusDaemon *d, sd_bus *bus);
/* The client of a unique name that has left the bus is gone. */
void bus_client_name_gone(BusDaemon *d, sd_bus *bus, const char *name);
/* Every client is gone (at exit). */
void bus_client_drop_all(BusDaemon *d);
