/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The event loop with exit on idle (systemd's bus_event_loop_with_idle(), reimplemented): once
 * imapid has had nothing to do for the configured time, it tells systemd it is stopping,
 * releases its bus name, serves what was queued before the release, and exits.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "bus/bus-daemon.h"

/* No clients, disc masters, jobs, held or busy recorders, polkit queries or peer connections. */
bool idle_nothing_to_do(const BusDaemon *d);

/* Runs the loop until sd_event_exit(), or, with idle_timeout_usec > 0, until imapid has been
 * idle that long. bus is the connection that holds the bus name, or NULL. Returns the exit code
 * given to sd_event_exit(), or a negative errno. */
int idle_run(BusDaemon *d, sd_bus *bus, uint64_t idle_timeout_usec);
