/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small sd-bus helpers shared by the D-Bus adapters. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

/* Reads a variant holding any integer type into *ret; -EINVAL for other types. */
int bus_read_integer_variant(sd_bus_message *m, int64_t *ret);
/* Reads a variant holding a boolean (or an integer 0/1) into *ret. */
int bus_read_bool_variant(sd_bus_message *m, bool *ret);
/* Reads a variant holding a string; *ret points into the message. */
int bus_read_string_variant(sd_bus_message *m, const char **ret);

/* Reads an a{sv} of options, checking each key against the allowed list and calling cb for
 * each. Unknown keys are E_INVALIDARG, so that a typo is an error, not a silent default. */
typedef int (*bus_option_cb)(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error);
int bus_read_options(sd_bus_message *m, const char *const *allowed, bus_option_cb cb, void *userdata,
                     sd_bus_error *error);

/* The uid of the sender of m: what the bus said when its first call came (bus-sender.h; -ESRCH
 * once it has gone), or the peer's credentials on a peer-to-peer connection. Never waits. */
int bus_message_get_uid(sd_bus_message *m, uid_t *ret);
/* For connections on which sd-bus' credentials are not the caller's (peer-to-peer ones, which
 * sd-bus reads through p2p-gate.h): 1 and the uid when fn knows bus, 0 when not. */
typedef int (*bus_uid_lookup_fn)(sd_bus *bus, uid_t *ret);
void bus_set_uid_lookup(bus_uid_lookup_fn fn);
/* For senders on a bus: 0 and the uid, or -ESRCH when the sender is not known (bus-sender.h). */
typedef int (*bus_sender_uid_lookup_fn)(sd_bus *bus, const char *sender, uid_t *ret);
void bus_set_sender_uid_lookup(bus_sender_uid_lookup_fn fn);

/* Puts m back at the end of its connection's read queue, rewound, so that it is dispatched again
 * from the filters on (a call held for the answer of another service). */
int bus_message_requeue(sd_bus_message *m);
