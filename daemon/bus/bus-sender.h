/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The senders of calls on the bus, by unique name, with the uid the bus has for each: what
 * bus_message_get_uid() answers from. sd-bus would ask the bus synchronously, on the event loop,
 * the first time it sees a sender (SD_BUS_CREDS_AUGMENT: GetConnectionCredentials), and a bus
 * slow to answer then held up every other client and every job. Here a filter holds the calls of
 * a sender not known yet (every method call, in the order they came), asks the bus
 * (GetConnectionUnixUser) without waiting, and puts them back on sd-bus' read queue once the
 * answer is there; they then pass the filter and are dispatched as any other.
 *
 * A sender is known until its name goes (NameOwnerChanged, one match for every name): then its
 * entry, the calls it still has held, and its BusClient (bus_client_name_gone()) go. Peer-to-peer
 * connections have no senders and are not filtered (their uid is the socket's, p2p.h).
 *
 * Held calls are bounded: BUS_SENDER_MAX_HELD per sender, BUS_SENDERS_MAX_HELD in all, and each
 * counts, like a call waiting for polkit, LIMITS_MIN_CALL_FDS in the budget of fds that calls in
 * progress hold (limits.h). A call past a bound is refused at once with E_OUTOFMEMORY.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "bus/bus-daemon.h"

#define BUS_SENDER_MAX_HELD 16u
#define BUS_SENDERS_MAX_HELD 256u

/* Follows the senders of calls on bus, a bus connection (not a peer's): adds the filter and the
 * match on NameOwnerChanged. Before the bus dispatches anything. */
int bus_senders_attach(BusDaemon *d, sd_bus *bus);

/* Calls held until their senders' uids are known: imapid is not idle while there are any. */
size_t bus_senders_held(const BusDaemon *d);

/* Forgets every sender and drops their held calls (at exit). */
void bus_senders_done(BusDaemon *d);
