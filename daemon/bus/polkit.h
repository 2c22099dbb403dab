/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Authorization per action: polkit's CheckAuthorization for callers on a bus, the peer's
 * credentials on a peer-to-peer connection.
 *
 * The pattern, in a method handler after parsing and validation and before acting (STYLE's
 * handler order):
 *
 *         r = polkit_authorize(d, m, IMAPI_ACTION_ERASE, error);
 *         if (r < 0)
 *                 return r;       (refused: E_ACCESSDENIED naming the action is set in error)
 *         if (r == 0)
 *                 return 1;       (polkit was asked; do not reply, the call comes back)
 *         ...act, emit, reply...
 *
 * polkit is asked asynchronously. When it answers, the same message is rewound and queued
 * again, so the handler runs a second time from the top and polkit_authorize() then returns the
 * answer at once. Hence everything before the call must be repeatable and change nothing. A
 * handler may authorize several actions in turn (say burn, then manage-other-clients when the
 * disc master belongs to someone else); each is asked once per message.
 *
 * Callers on a bus: the subject is the sender's unique name (never a PID). The query may show
 * an authentication dialog when the message carries the allow-interactive-authorization flag,
 * unless the message's trailing a{sv} has "auth.no_user_interaction" set to true (udisks'
 * option; handlers that check their option keys must accept it, see polkit_option_cb). polkit
 * itself grants everything to uid 0. When polkit is not on the bus, only uid 0 is allowed.
 *
 * A message held while polkit answers keeps its fds: each query is counted in the budget of calls
 * in progress (limits.h) as 16 fds, a user's queries at most a quarter of it; past that,
 * polkit_authorize() refuses the call with E_OUTOFMEMORY at once.
 *
 * Peer-to-peer callers (imapid.socket): allowed when root or a member of the socket file's
 * group; the socket's file mode is the first gate.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "bus/bus-daemon.h"

/* Action ids, as in dbus/org.imapid.Imapi1.policy. */
#define IMAPI_ACTION_BURN                       "org.imapid.imapi1.burn"
#define IMAPI_ACTION_OPEN_EXCLUSIVE             "org.imapid.imapi1.open-exclusive"
#define IMAPI_ACTION_ERASE                      "org.imapid.imapi1.erase"
#define IMAPI_ACTION_EJECT                      "org.imapid.imapi1.eject"
#define IMAPI_ACTION_SET_PROPERTIES             "org.imapid.imapi1.set-properties"
#define IMAPI_ACTION_MANAGE_OTHER_CLIENTS       "org.imapid.imapi1.manage-other-clients"

#define POLKIT_OPTION_NO_USER_INTERACTION       "auth.no_user_interaction"

/* 1: authorized; 0: a query is pending, return 1 from the handler without replying; < 0:
 * refused (E_ACCESSDENIED set in error) or failed. */
int polkit_authorize(BusDaemon *d, sd_bus_message *m, const char *action, sd_bus_error *error);

/* A bus_option_cb for POLKIT_OPTION_NO_USER_INTERACTION: checks that the value is a boolean. */
int polkit_option_cb(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error);

/* Queries in flight or answers not yet used: imapid is not idle while there are any. */
size_t polkit_pending(const BusDaemon *d);

/* Drops every query (at exit). */
void polkit_done(BusDaemon *d);
